import {Args, Flags} from '@oclif/core'

import type {Scan} from '../../../lib/airs/types.js'
import {failedBlockingRules, finishGate, gateExit, parseFailOn} from '../../../lib/command/gate.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {requireUuid, scanColumns, scanDetail} from '../../../lib/command/scan-views.js'

export default class ScansGet extends ModelSecurityCommand<typeof ScansGet> {
  static summary = 'Show one scan: its outcome first and, for BLOCKED or ERROR, why.'
  static examples = [
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 --fail-on blocked,error  # gate on a finished scan',
  ]

  static args = {scan: Args.string({description: 'Scan UUID.', required: true})}

  static flags = {
    'fail-on': Flags.string({summary: 'Gate on the current outcome: exit 8 BLOCKED / 9 ERROR / 11 PENDING for the outcomes listed (blocked, error or never).'}),
  }

  async run(): Promise<Scan> {
    const uuid = requireUuid(this.args.scan, 'scan')
    const failOn = this.flags['fail-on'] === undefined ? undefined : parseFailOn(this.flags['fail-on'])
    const client = await this.client()
    const scan = await client.getScan(uuid)
    const failed = this.format() === 'table' ? await failedBlockingRules(client, scan) : []
    await this.emitObject(scan, s => scanDetail(s, failed), scanColumns)
    return failOn ? finishGate(this, scan, gateExit([scan], failOn, scan.eval_outcome === 'PENDING'), j => this.logJson(j)) : scan
  }
}
