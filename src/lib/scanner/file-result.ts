/**
 * What one file's scan produces, shared by the main thread and the scan workers: the task and message
 * shapes of the worker protocol, the finding -> issue conversion (dedupe, clipping) used both for a
 * finished file and for the findings a worker streamed before it died, and the record of a file whose
 * analysis was stopped. Types and pure functions only: importing this module loads no analyser.
 */
import type {FileScanData, ModelScanIssue} from '../airs/types.js'
import type {Finding} from './engine.js'

export const MAX_ISSUES_PER_FILE = 500
/** Notes kept per file (the scan keeps at most 1000 in all). */
export const MAX_NOTES_PER_FILE = 1000

export function clip(s: string, n: number): string { return s.length > n ? s.slice(0, n - 1) + '…' : s }

/** One file handed to a worker (or scanned in-thread). */
export interface FileTask { rel: string; abs: string; size: number; rootReal: string }

export interface FileResult { data: FileScanData; notes: string[] }

/**
 * Test-only fault injection (set through `testHooks` in pool.ts, never from file content or the CLI):
 * the worker scanning `file` misbehaves at the given point.
 */
export interface InjectedFault {
  /** The file's path relative to the scan root, or '*' for every file. */
  file: string
  /** oom: exhaust the heap; hang: spin forever; throw: uncaught exception; exit: process.exit in the worker;
   *  fail: report failure instead of the result (the worker lives on). */
  kind: 'oom' | 'hang' | 'throw' | 'exit' | 'fail'
  /** start: before analysis; finding: right after the first finding was streamed; end: after analysis, before the result is sent. */
  at: 'start' | 'finding' | 'end'
}

/** main -> worker */
export type TaskMessage =
  | {t: 'scan'; id: number; task: FileTask; fault?: InjectedFault}
  | {t: 'hash'; id: number; abs: string}

/** worker -> main */
export type WorkerMessage =
  | {t: 'ready'}
  /** Bytes read and formats found since the last report (batched: see worker.ts). */
  | {t: 'progress'; id: number; bytes: number; formats: string[]}
  | {t: 'issue'; id: number; issue: ModelScanIssue}
  /** The analysis is over: the file's issues and formats as they ended (analysers may refine a finding after streaming it). */
  | {t: 'sync'; id: number; issues: ModelScanIssue[]; formats: string[]}
  | {t: 'issues-dropped'; id: number; count: number}
  | {t: 'done'; id: number; result: FileResult; bytes: number; formats: string[]}
  | {t: 'hashed'; id: number; sha256: string | null; error?: string}
  | {t: 'failed'; id: number; message: string; bytes: number; formats: string[]}

/**
 * Findings -> issues: the first occurrence of each (source, threat, module, operator, description) in
 * order, with fields clipped to the service's limits. Incremental, so a worker can stream each new
 * issue as it is made and the main thread gets the same list as the finished file would have had.
 */
export class IssueCollector {
  readonly issues: ModelScanIssue[] = []
  /** Distinct issues beyond MAX_ISSUES_PER_FILE (counted, not kept). */
  extra = 0
  private readonly seen = new Set<string>()

  /** The issue when the finding is new and within the cap, otherwise null. */
  add(f: Finding): ModelScanIssue | null {
    const issue: ModelScanIssue = {
      description: clip(f.description, 4096), source: clip(f.source, 1024), threat: f.threat ?? null,
      module: f.module == null ? null : clip(f.module, 256), operator: f.operator == null ? null : clip(f.operator, 256),
    }
    const key = `${issue.source}\u0000${issue.threat}\u0000${issue.module}\u0000${issue.operator}\u0000${issue.description}`
    if (this.seen.has(key)) return null
    // keys are remembered up to SEEN_LIMIT (bounded memory); past it every further finding is counted
    if (this.seen.size < SEEN_LIMIT) this.seen.add(key)
    if (this.issues.length >= MAX_ISSUES_PER_FILE) { this.extra++; return null }
    this.issues.push(issue)
    return issue
  }
}

const SEEN_LIMIT = 10 * MAX_ISSUES_PER_FILE

/** The note that says how many issues a file had beyond the cap (the same text on every path). */
export function issueCapNote(rel: string, total: number): string {
  return `${rel}: ${total} issues, first ${MAX_ISSUES_PER_FILE} listed`
}

export type StopReason =
  | {kind: 'oom'; heapMb: number}
  | {kind: 'timeout'; budgetMs: number}
  | {kind: 'crash'; message: string}

export interface StoppedFile {
  task: FileTask
  reason: StopReason
  /** Bytes of the file read (and hashed) before the worker stopped. */
  bytesRead: number
  issues: ModelScanIssue[]
  issuesDropped: number
  formats: string[]
  sha256: string | null
}

function amount(n: number): string { return n < 1 << 20 ? `${n} bytes` : `${(n / (1 << 20)).toFixed(1)} MB` }
function duration(ms: number): string { return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s` }

/**
 * The record of a file whose worker died or was stopped: the issues streamed before, plus a
 * resource-exhaustion issue when the file exhausted memory or time (a load-time DoS against the
 * victim's loader is itself suspicious; an issue with `threat: null` is routed to Suspicious Model
 * Components). A crash of the worker for any other reason is our failure, not the file's: ERROR, or
 * SCANNED with the message when issues were found before it.
 */
export function stoppedRecord(s: StoppedFile): FileResult {
  const {task, reason, bytesRead} = s
  const where = `after ${amount(bytesRead)} of ${amount(task.size)} read`
  let message: string
  let exhaustion: string | null = null
  if (reason.kind === 'oom') {
    message = `analysis stopped: worker ran out of memory (heap limit ${reason.heapMb} MB) ${where}`
    exhaustion = `analysing the file exhausted the scanner's memory (heap limit ${reason.heapMb} MB, ${where}): a file that makes a loader `
      + 'allocate without bound is a denial-of-service vector; the rest of the file was not analysed'
  } else if (reason.kind === 'timeout') {
    message = `analysis stopped: time budget of ${duration(reason.budgetMs)} exceeded ${where}`
    exhaustion = `analysing the file exceeded the scanner's time budget (${duration(reason.budgetMs)}, ${where}): a file that makes `
      + 'a parser run this long is a denial-of-service vector; the rest of the file was not analysed'
  } else {
    message = `analysis stopped: scanner worker failed ${where}: ${reason.message}`
  }
  const issues = [...s.issues]
  let dropped = s.issuesDropped
  if (exhaustion) {
    const issue: ModelScanIssue = {description: exhaustion, source: clip(task.rel, 1024), threat: null, module: 'scanner', operator: 'resource_exhaustion'}
    if (issues.length < MAX_ISSUES_PER_FILE) issues.push(issue)
    else { issues[issues.length - 1] = issue; dropped++ }
  }
  const notes = [`${task.rel}: ${message}`]
  if (dropped) notes.push(issueCapNote(task.rel, issues.length + dropped))
  const data: FileScanData = {
    file_path: clip(task.rel, 1024), modelscan_status: issues.length ? 'SCANNED' : 'ERROR', blob_id: s.sha256 ?? '', sha256: s.sha256,
    size_bytes: task.size, formats: s.formats, issues_detected: issues, error_message: clip(message, 1024),
  }
  return {data, notes}
}
