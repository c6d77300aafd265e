import {Flags} from '@oclif/core'

import {EVAL_OUTCOMES, GROUP_SOURCE_TYPES, SORT_DATE_FIELDS, SORT_DIRECTIONS} from '../../../lib/airs/enums.js'
import {usageError} from '../../../lib/airs/errors.js'
import type {Model} from '../../../lib/airs/types.js'
import {boundedString, pagingFlags, timeFlag} from '../../../lib/command/flags.js'
import {fetchList} from '../../../lib/command/list.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {modelColumns} from '../../../lib/command/scan-views.js'

export default class ModelsList extends ModelSecurityCommand<typeof ModelsList> {
  static summary = 'List models (derived from scans), with the outcome of their latest version.'
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --latest-outcome BLOCKED --latest-source-type HUGGING_FACE --since 7d',
    '<%= config.bin %> <%= command.id %> --latest-format pickle --latest-format pytorch_v0_1_10 --all --json',
  ]

  static columns = modelColumns
  static flags = {
    search: boundedString(0, 256)({summary: 'Match model name or UUID (at most 256 characters).'}),
    'latest-outcome': Flags.option({summary: 'Latest version has this outcome (repeatable).', options: [...EVAL_OUTCOMES], multiple: true})(),
    'latest-format': Flags.string({summary: 'Latest version contains this format, e.g. pickle (repeatable; any matches).', multiple: true}),
    'latest-source-type': Flags.option({summary: 'Latest version has this source type (repeatable; any matches).', options: [...GROUP_SOURCE_TYPES], multiple: true})(),
    'scanned-before': timeFlag({summary: 'Latest version scanned before: ISO time or a duration ago (30d).'}),
    since: timeFlag({summary: 'Created at or after: ISO time or a duration ago (24h, 7d).'}),
    until: timeFlag({summary: 'Created at or before: ISO time or a duration ago.'}),
    'sort-field': Flags.option({summary: 'Sort by this timestamp.', options: [...SORT_DATE_FIELDS]})(),
    'sort-order': Flags.option({summary: 'Sort direction.', options: [...SORT_DIRECTIONS]})(),
    ...pagingFlags(10),
  }

  async run(): Promise<Model[]> {
    const f = this.flags
    const bad = (f['latest-format'] ?? []).find(x => x.trim() === '')
    if (bad !== undefined) throw usageError('--latest-format: empty format name')
    if (f.since && f.until && f.since > f.until) throw usageError(`--since (${f.since}) is after --until (${f.until})`)
    const client = await this.client()
    const items = await fetchList(client, q => client.listModels({
      ...q, search_query: f.search, latest_version_outcomes: f['latest-outcome'], latest_version_formats: f['latest-format'],
      latest_version_source_types: f['latest-source-type'], latest_version_scan_time_before: f['scanned-before'],
      start_time: f.since, end_time: f.until, sort_field: f['sort-field'], sort_order: f['sort-order'],
    }), f, this.pagingNote)
    return this.emitList(items)
  }
}
