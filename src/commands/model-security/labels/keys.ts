import {Flags} from '@oclif/core'

import {validateLabelKey} from '../../../lib/command/labels.js'
import {pagingFlags} from '../../../lib/command/flags.js'
import {fetchList} from '../../../lib/command/list.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {labelKeyColumns} from '../../../lib/command/scan-views.js'

export default class LabelsKeys extends ModelSecurityCommand<typeof LabelsKeys> {
  static summary = 'List the label keys used on scans.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --search env --json']
  static columns = labelKeyColumns
  static flags = {
    search: Flags.string({summary: 'Keys starting with this prefix (1-128 characters: letters, digits, _ and -).'}),
    ...pagingFlags(10),
  }

  async run(): Promise<string[]> {
    const f = this.flags
    if (f.search !== undefined) validateLabelKey(f.search, '--search')
    const client = await this.client()
    const items = await fetchList(client, q => client.listLabelKeys({...q, search: f.search}), f, this.pagingNote)
    return this.emitList(items)
  }
}
