import {Args} from '@oclif/core'

import type {Violation} from '../../../lib/airs/types.js'
import {pagingFlags} from '../../../lib/command/flags.js'
import {fetchList} from '../../../lib/command/list.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {requireUuid, violationColumns} from '../../../lib/command/scan-views.js'

export default class ScansViolations extends ModelSecurityCommand<typeof ScansViolations> {
  static summary = 'List the rule violations found by a scan.'
  static examples = [
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 --all -o csv',
  ]

  static columns = violationColumns
  static args = {scan: Args.string({description: 'Scan UUID.', required: true})}
  static flags = {...pagingFlags(10)}

  async run(): Promise<Violation[]> {
    const scan = requireUuid(this.args.scan, 'scan')
    const client = await this.client()
    const items = await fetchList(client, q => client.listScanViolations(scan, q), this.flags, this.pagingNote)
    return this.emitList(items)
  }
}
