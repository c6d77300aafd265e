import {Args} from '@oclif/core'

import type {Scan} from '../../../lib/airs/types.js'
import {failedBlockingRules, finishGate, gateExit, makeReporter, parseWaitFlags, waitFlags, waitForScans} from '../../../lib/command/gate.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {requireUuid, scanColumns, scanDetail} from '../../../lib/command/scan-views.js'

export default class ScansWait extends ModelSecurityCommand<typeof ScansWait> {
  static summary = 'Wait for scans to finish; the exit code is the gate.'
  static description = `Polls each scan with backoff until it leaves PENDING. Exit codes: 0 ALLOWED, 8 BLOCKED, 9 ERROR, 11 still PENDING at --timeout. With several scans the worst outcome decides (timeout, then ERROR, then BLOCKED). --fail-on lists the outcomes that fail the gate (default blocked,error; "never" always exits 0 unless the wait times out).`
  static examples = [
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 7c6f1d0e-2b3a-4c5d-8e9f-0a1b2c3d4e5f --timeout 30m --json',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 --fail-on error',
  ]

  static strict = false
  static args = {scan: Args.string({description: 'Scan UUID(s) to wait for.', required: true})}
  static flags = {...waitFlags}

  async run(): Promise<Scan | Scan[]> {
    const {argv} = await this.parse(ScansWait)
    const uuids = [...new Set((argv as string[]).map((u, i) => requireUuid(u, `scan ${argv.length > 1 ? `#${i + 1}` : ''}`.trim())))]
    const settings = parseWaitFlags(this.flags)
    const client = await this.client()
    const reporter = await makeReporter(this.jsonEnabled(), this.pagingNote)
    const {scans, timedOut} = await waitForScans(client, uuids, settings, reporter, {note: this.pagingNote})
    const result = scans.length === 1 ? scans[0] : scans
    if (scans.length === 1) {
      const failed = this.format() === 'table' ? await failedBlockingRules(client, scans[0]).catch(() => []) : []
      await this.emitObject(scans[0], s => scanDetail(s, failed), scanColumns)
    }
    else await this.emitList(scans, scanColumns)
    return finishGate(this, result, gateExit(scans, settings.failOn, timedOut), j => this.logJson(j))
  }
}
