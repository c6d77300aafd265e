import {Args, Flags} from '@oclif/core'

import {EVALUATION_RESULTS, SORT_DATE_FIELDS, SORT_DIRECTIONS} from '../../../lib/airs/enums.js'
import type {Evaluation} from '../../../lib/airs/types.js'
import {pagingFlags} from '../../../lib/command/flags.js'
import {fetchList} from '../../../lib/command/list.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {evaluationColumns, requireUuid} from '../../../lib/command/scan-views.js'

export default class ScansEvaluations extends ModelSecurityCommand<typeof ScansEvaluations> {
  static summary = 'List the rule evaluations of a scan (one per evaluated rule instance).'
  static examples = [
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 --result FAILED --all --json',
  ]

  static columns = evaluationColumns
  static args = {scan: Args.string({description: 'Scan UUID.', required: true})}
  static flags = {
    result: Flags.option({summary: 'Only evaluations with this result.', options: [...EVALUATION_RESULTS]})(),
    'rule-instance': Flags.string({summary: 'Only the evaluation of this rule instance (UUID).'}),
    'sort-field': Flags.option({summary: 'Sort by this timestamp.', options: [...SORT_DATE_FIELDS]})(),
    'sort-order': Flags.option({summary: 'Sort direction.', options: [...SORT_DIRECTIONS]})(),
    ...pagingFlags(10),
  }

  async run(): Promise<Evaluation[]> {
    const f = this.flags
    const scan = requireUuid(this.args.scan, 'scan')
    const instance = f['rule-instance'] === undefined ? undefined : requireUuid(f['rule-instance'], '--rule-instance', 'see `daystrom model-security rule-instances list <group>`')
    const client = await this.client()
    const items = await fetchList(client, q => client.listScanEvaluations(scan, {
      ...q, result: f.result, rule_instance_uuid: instance, sort_field: f['sort-field'], sort_order: f['sort-order'],
    }), f, this.pagingNote)
    return this.emitList(items)
  }
}
