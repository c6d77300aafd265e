import {Flags} from '@oclif/core'

import {SOURCE_TYPES} from '../../../lib/airs/enums.js'
import type {Rule} from '../../../lib/airs/types.js'
import {boundedString, pagingFlags} from '../../../lib/command/flags.js'
import {fetchList} from '../../../lib/command/list.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {ruleColumns} from '../../../lib/command/views.js'

export default class RulesList extends ModelSecurityCommand<typeof RulesList> {
  static summary = 'List the built-in security rules (read-only catalog).'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --source-type HUGGING_FACE --all', '<%= config.bin %> <%= command.id %> --search License']
  static columns = ruleColumns
  static flags = {
    'source-type': Flags.option({summary: 'Only rules compatible with this source type.', options: [...SOURCE_TYPES]})(),
    search: boundedString(3, 1000)({summary: 'Match rule name or UUID (3-1000 characters).'}),
    ...pagingFlags(10),
  }

  async run(): Promise<Rule[]> {
    const f = this.flags
    const client = await this.client()
    const items = await fetchList(client, q => client.listSecurityRules({...q, source_type: f['source-type'], search_query: f.search}), f, this.pagingNote)
    return this.emitList(items)
  }
}
