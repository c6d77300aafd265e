/**
 * The end of a gating command (`scans create --wait`, `scans wait`): print the result, write the `--report`s,
 * then exit with the gate's code (conventions §6.3). Reports never change that code, except that a report
 * which could not be written is an error (exit 7), raised after every other report was written.
 */
import type {Scan, ScanDetails} from '../airs/types.js'
import {type FailOn, finishGate, gateExit} from './gate.js'
import {collectReportData, type ReportClient, type ReportTarget, reportNeeds, reportWriteError, toStdout, writeReports} from './report-formats.js'

export interface VerdictContext<R> {
  client: ReportClient
  scans: Scan[]
  timedOut: boolean
  failOn: FailOn
  /** What the command returns (and prints in --json mode). */
  result: R
  reports: ReportTarget[]
  toolVersion: string
  artifactRoot?: string
  /** The local scanner's scan_details of a scan made on this machine (exact hashes and sizes for the BOM). */
  details?: {scanUuid: string; details: ScanDetails}
  /** Print the result view; skipped when a report goes to stdout (stdout then carries that report only). */
  emit(): Promise<unknown>
  /** The command's plumbing. */
  cmd: {jsonEnabled(): boolean; exit(code?: number): never}
  log(text: string): void
  logJson(json: unknown): void
  note(line: string): void
}

export async function deliverVerdict<R>(c: VerdictContext<R>): Promise<R> {
  if (!toStdout(c.reports)) await c.emit()
  const code = gateExit(c.scans, c.failOn, c.timedOut)
  if (c.reports.length > 0) {
    const pending = c.scans.filter(s => s.eval_outcome === 'PENDING')
    if (pending.length > 0) c.note(`note: ${pending.map(s => `scan ${s.uuid}`).join(', ')} still PENDING: the reports show ${pending.length === 1 ? 'it' : 'them'} without results`)
    const data = await collectReportData(c.client, c.scans, reportNeeds(c.reports.map(r => r.format)))
    for (const d of data) if (c.details && d.scan.uuid === c.details.scanUuid) d.details = c.details.details
    const failures = await writeReports(c.reports, data, {toolVersion: c.toolVersion, artifactRoot: c.artifactRoot}, {stdout: t => c.log(t), note: l => c.note(l)})
    if (failures.length > 0) {
      if (c.cmd.jsonEnabled()) c.logJson(c.result)
      throw reportWriteError(failures, code)
    }
  }
  return finishGate(c.cmd, c.result, code, j => c.logJson(j))
}
