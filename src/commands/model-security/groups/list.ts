import {Flags} from '@oclif/core'

import {GROUP_SOURCE_TYPES, SORT_DATE_FIELDS, SORT_DIRECTIONS} from '../../../lib/airs/enums.js'
import type {SecurityGroup} from '../../../lib/airs/types.js'
import {boundedString, pagingFlags} from '../../../lib/command/flags.js'
import {fetchList} from '../../../lib/command/list.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {resolveRuleUuid} from '../../../lib/command/resolve.js'
import {groupColumns} from '../../../lib/command/views.js'

export default class GroupsList extends ModelSecurityCommand<typeof GroupsList> {
  static summary = 'List security groups.'
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --source-type S3 --source-type GCS --sort-field updated_at',
    '<%= config.bin %> <%= command.id %> --enabled-rule "Load Time Code Execution Check" --all --json',
  ]

  static columns = groupColumns

  static flags = {
    'source-type': Flags.option({summary: 'Only groups of this source type (repeatable).', options: [...GROUP_SOURCE_TYPES], multiple: true})(),
    search: boundedString(3, 1000)({summary: 'Match group name or UUID (3-1000 characters).'}),
    'enabled-rule': Flags.string({summary: 'Only groups where this rule (name or UUID) is ALLOWING or BLOCKING (repeatable).', multiple: true}),
    'sort-field': Flags.option({summary: 'Sort by this timestamp.', options: [...SORT_DATE_FIELDS]})(),
    'sort-dir': Flags.option({summary: 'Sort direction.', options: [...SORT_DIRECTIONS]})(),
    ...pagingFlags(50),
  }

  async run(): Promise<SecurityGroup[]> {
    const f = this.flags
    const client = await this.client()
    const enabledRules = f['enabled-rule'] ? await Promise.all(f['enabled-rule'].map(r => resolveRuleUuid(client, r))) : undefined
    const items = await fetchList(client, q => client.listSecurityGroups({
      ...q, source_types: f['source-type'], search_query: f.search, enabled_rules: enabledRules,
      sort_field: f['sort-field'], sort_dir: f['sort-dir'],
    }), f, this.pagingNote)
    return this.emitList(items)
  }
}
