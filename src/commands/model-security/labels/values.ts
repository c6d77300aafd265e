import {Args, Flags} from '@oclif/core'

import {validateLabelKey, validateLabelValue} from '../../../lib/command/labels.js'
import {pagingFlags} from '../../../lib/command/flags.js'
import {fetchList} from '../../../lib/command/list.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {labelValueColumns} from '../../../lib/command/scan-views.js'

export default class LabelsValues extends ModelSecurityCommand<typeof LabelsValues> {
  static summary = 'List the values used with a label key.'
  static examples = ['<%= config.bin %> <%= command.id %> env', '<%= config.bin %> <%= command.id %> env --search prod --json']
  static columns = labelValueColumns
  static args = {key: Args.string({description: 'Label key.', required: true})}
  static flags = {
    search: Flags.string({summary: 'Values starting with this prefix (1-256 characters: letters, digits, _ and -).'}),
    ...pagingFlags(10),
  }

  async run(): Promise<string[]> {
    const f = this.flags
    const key = validateLabelKey(this.args.key, 'key')
    if (f.search !== undefined) validateLabelValue(f.search, key, '--search')
    const client = await this.client()
    const items = await fetchList(client, q => client.listLabelValues(key, {...q, search: f.search}), f, this.pagingNote)
    return this.emitList(items)
  }
}
