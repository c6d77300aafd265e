import {Args} from '@oclif/core'

import type {Scan} from '../../../lib/airs/types.js'
import {failedBlockingRules, makeReporter, parseWaitFlags, waitFlags, waitForScans} from '../../../lib/command/gate.js'
import {daystromVersion, ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {parseReportFlags, REPORT_FORMAT_NAMES, reportFlags} from '../../../lib/command/report-formats.js'
import {requireUuid, scanColumns, scanDetail} from '../../../lib/command/scan-views.js'
import {deliverVerdict} from '../../../lib/command/verdict.js'

export default class ScansWait extends ModelSecurityCommand<typeof ScansWait> {
  static summary = 'Wait for scans to finish; the exit code is the gate.'
  static description = `Polls each scan until it leaves PENDING: at once, then after 0.5s, the pause doubling up to --interval. Exit codes: 0 ALLOWED, 8 BLOCKED, 9 ERROR, 11 still PENDING at --timeout. With several scans the worst outcome decides (timeout, then ERROR, then BLOCKED). --fail-on lists the outcomes that fail the gate (default blocked,error; "never" always exits 0 unless the wait times out).

--report FORMAT=PATH writes CI reports after the verdict (${REPORT_FORMAT_NAMES.join(', ')}; - is stdout; markdown appends, e.g. to $GITHUB_STEP_SUMMARY). With several scans one report covers them all: one SARIF run, a JUnit testsuite per scan, a markdown section per scan, a JSON array. The exit code stays the gate's; a report that cannot be written exits 7 after the others are written.`
  static examples = [
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 7c6f1d0e-2b3a-4c5d-8e9f-0a1b2c3d4e5f --timeout 30m --json',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 --fail-on error',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 7c6f1d0e-2b3a-4c5d-8e9f-0a1b2c3d4e5f --report sarif=models.sarif --report markdown="$GITHUB_STEP_SUMMARY"',
  ]

  static strict = false
  static args = {scan: Args.string({description: 'Scan UUID(s) to wait for.', required: true})}
  static flags = {...waitFlags, ...reportFlags}

  async run(): Promise<Scan | Scan[]> {
    const {argv} = await this.parse(ScansWait)
    const uuids = [...new Set((argv as string[]).map((u, i) => requireUuid(u, `scan ${argv.length > 1 ? `#${i + 1}` : ''}`.trim())))]
    const settings = parseWaitFlags(this.flags)
    const {reports, artifactRoot} = parseReportFlags(this.flags, this.jsonEnabled())
    const client = await this.client()
    const reporter = await makeReporter(this.jsonEnabled(), this.pagingNote)
    const {scans, timedOut} = await waitForScans(client, uuids, settings, reporter, {note: this.pagingNote})
    return deliverVerdict({
      client, scans, timedOut, failOn: settings.failOn, result: scans.length === 1 ? scans[0] : scans, reports, artifactRoot,
      toolVersion: daystromVersion(),
      emit: async () => {
        if (scans.length > 1) return this.emitList(scans, scanColumns)
        const failed = this.format() === 'table' ? await failedBlockingRules(client, scans[0]).catch(() => []) : []
        return this.emitObject(scans[0], s => scanDetail(s, failed), scanColumns)
      },
      cmd: this, log: t => this.log(t), logJson: j => this.logJson(j), note: l => this.note(l),
    })
  }
}
