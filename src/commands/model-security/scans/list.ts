import {Flags} from '@oclif/core'

import {EVAL_OUTCOMES, GROUP_SOURCE_TYPES, SORT_DIRECTIONS} from '../../../lib/airs/enums.js'
import {usageError} from '../../../lib/airs/errors.js'
import type {Scan} from '../../../lib/airs/types.js'
import {boundedString, pagingFlags, timeFlag} from '../../../lib/command/flags.js'
import {fetchList} from '../../../lib/command/list.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {resolveGroupUuid} from '../../../lib/command/resolve.js'
import {requireUuid, scanColumns} from '../../../lib/command/scan-views.js'

export default class ScansList extends ModelSecurityCommand<typeof ScansList> {
  static summary = 'List scans.'
  static description = 'Newest first by default. Filters combine (AND); repeat --source-type and --eval-outcome to match any of several values.'
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --eval-outcome BLOCKED --eval-outcome ERROR --since 24h',
    '<%= config.bin %> <%= command.id %> --group "Default HUGGING_FACE" --labels-query "env=prod" --all --json',
  ]

  static columns = scanColumns

  static flags = {
    group: Flags.string({summary: 'Only scans of this security group (name or UUID).'}),
    'source-type': Flags.option({summary: 'Only scans of this source type (repeatable).', options: [...GROUP_SOURCE_TYPES], multiple: true})(),
    'eval-outcome': Flags.option({summary: 'Only scans with this outcome (repeatable).', options: [...EVAL_OUTCOMES], multiple: true})(),
    search: boundedString(0, 256)({summary: 'Match model URI or scan UUID (at most 256 characters).'}),
    since: timeFlag({summary: 'Created at or after: ISO time or a duration ago (24h, 7d).'}),
    until: timeFlag({summary: 'Created at or before: ISO time or a duration ago.'}),
    'labels-query': boundedString(0, 4096)({summary: 'Label query, e.g. "env=prod AND team=ml" (at most 4096 characters).'}),
    'model-version': Flags.string({summary: 'Only scans of this model version (UUID).'}),
    'sort-order': Flags.option({summary: 'Order by creation time.', options: [...SORT_DIRECTIONS]})(),
    ...pagingFlags(10),
  }

  async run(): Promise<Scan[]> {
    const f = this.flags
    if (f['model-version'] !== undefined) requireUuid(f['model-version'], '--model-version', 'model version UUIDs come from `daystrom model-security models versions <model>`')
    if (f.since && f.until && f.since > f.until) throw usageError(`--since (${f.since}) is after --until (${f.until})`)
    const client = await this.client()
    const group = f.group === undefined ? undefined : await resolveGroupUuid(client, f.group)
    const items = await fetchList(client, q => client.listScans({
      ...q, security_group_uuid: group, source_types: f['source-type'], eval_outcomes: f['eval-outcome'],
      search_query: f.search, start_time: f.since, end_time: f.until, labels_query: f['labels-query'],
      model_version_uuid: f['model-version'], sort_order: f['sort-order'],
    }), f, this.pagingNote)
    return this.emitList(items)
  }
}
