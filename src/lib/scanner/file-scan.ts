/**
 * One file, start to finish: open it, analyse it (engine.ts) while hashing it in the same front-to-back
 * pass (io.ts), and turn the file context into its `scan_details` record. Runs inside a scan worker
 * (worker.ts); in the main thread only when worker threads cannot be started (pool.ts).
 *
 * Streaming: every finding and format is reported through the hooks the moment it lands in the file
 * context (the arrays' push is observed, so whichever analyser makes a finding, and however it adds
 * it, it is reported before anything else happens), which is how findings survive a worker that dies
 * later in the file.
 */
import {basename} from 'node:path'
import type {FileScanData, ModelScanIssue} from '../airs/types.js'
import {analyze, type Finding, newFileCtx, type Outcome} from './engine.js'
import {clip, type FileResult, type FileTask, IssueCollector, issueCapNote, MAX_NOTES_PER_FILE, stoppedRecord} from './file-result.js'
import {HashingFileReader, ScanAborted} from './io.js'

export interface FileScanHooks {
  /** Bytes read (and hashed) from the file, as they are read. */
  onBytes?: (n: number) => void
  /** Each distinct issue as soon as its finding is made (at most MAX_ISSUES_PER_FILE). */
  onIssue?: (issue: ModelScanIssue) => void
  /** The count of distinct issues beyond the cap, when it grows. */
  onIssuesDropped?: (count: number) => void
  onFormat?: (format: string) => void
  signal?: AbortSignal
  /**
   * A cooperative time budget (in-thread scans; a worker is stopped by the pool instead): when it
   * passes, the analysers stop at their next abort check (between archive members, nested streams,
   * decoder chunks) and the file gets the same record as a worker stopped by the watchdog.
   */
  timeoutMs?: number
}

/** Make `arr.push` call `cb` for each item after storing it (the array stays a plain array otherwise). */
function observePush<T>(arr: T[], cb: (item: T) => void): void {
  const push = Array.prototype.push
  Object.defineProperty(arr, 'push', {
    configurable: true, enumerable: false, writable: true,
    value(this: T[], ...items: T[]): number {
      const n = push.apply(this, items)
      for (const item of items) cb(item)
      return n
    },
  })
}

/** AbortSignal's own `aborted` getter, read for a given signal. */
const baseAborted = (signal: AbortSignal): boolean => Reflect.get(AbortSignal.prototype, 'aborted', signal)

/**
 * The analysis signal of an in-thread file with a time budget: aborted when the scan is, and also as
 * soon as it is read after the deadline. Analysers poll `signal.aborted` between steps, often in a
 * chain of microtasks during which no timer could fire; reading the clock there is what makes the
 * budget hold. `expired()` tells the budget apart from the scan's own abort.
 */
export function deadlineSignal(ms: number, parent?: AbortSignal): {signal: AbortSignal; expired: () => boolean; dispose: () => void} {
  const ac = new AbortController()
  const signal = ac.signal
  const deadline = performance.now() + ms
  let expired = false
  const onParent = (): void => ac.abort(parent?.reason)
  if (parent?.aborted) onParent()
  else parent?.addEventListener('abort', onParent, {once: true})
  const timer = setTimeout(() => { expired = true; ac.abort(new Error('time budget exceeded')) }, ms)
  timer.unref()
  Object.defineProperty(signal, 'aborted', {
    configurable: true,
    get: (): boolean => {
      if (!expired && performance.now() >= deadline && !baseAborted(signal)) { expired = true; ac.abort(new Error('time budget exceeded')) }
      return baseAborted(signal)
    },
  })
  return {signal, expired: () => expired, dispose: () => { clearTimeout(timer); parent?.removeEventListener('abort', onParent) }}
}

export async function scanFileTask(task: FileTask, hooks: FileScanHooks = {}): Promise<FileResult> {
  const base: FileScanData = {file_path: clip(task.rel, 1024), modelscan_status: 'SKIPPED', blob_id: '', sha256: null, size_bytes: task.size}
  const budget = hooks.timeoutMs === undefined ? undefined : deadlineSignal(hooks.timeoutMs, hooks.signal)
  const analysisSignal = budget?.signal ?? hooks.signal
  let bytesRead = 0
  let reader: HashingFileReader
  try {
    // hashing only stops for the scan's own abort: a file over its budget still gets its sha256
    reader = await HashingFileReader.open(task.abs, (n) => { bytesRead += n; hooks.onBytes?.(n) }, hooks.signal)
  } catch (e) {
    return {data: {...base, modelscan_status: 'ERROR', error_message: clip(`cannot open: ${(e as Error).message}`, 1024), formats: [], issues_detected: []}, notes: []}
  }
  const fx = newFileCtx(task.abs, task.rootReal, analysisSignal)
  if (hooks.onIssue || hooks.onIssuesDropped) {
    const streamed = new IssueCollector()
    observePush<Finding>(fx.findings, (f) => {
      const extraBefore = streamed.extra
      const issue = streamed.add(f)
      if (issue) hooks.onIssue?.(issue)
      else if (streamed.extra !== extraBefore) hooks.onIssuesDropped?.(streamed.extra)
    })
  }
  if (hooks.onFormat) observePush<string>(fx.formats, hooks.onFormat)
  let out: Outcome
  let sha: string | null = null
  let stoppedAt = -1
  try {
    try {
      out = await analyze(reader, task.rel, basename(task.rel), 0, fx, {topLevel: true})
    } catch (e) {
      if (hooks.signal?.aborted || (e instanceof ScanAborted && !budget?.expired())) throw new ScanAborted()
      out = {status: 'error', message: `scanner failure: ${(e as Error).message}`}
    }
    if (budget?.expired()) stoppedAt = bytesRead
    try { sha = await reader.finish() } catch (e) {
      if (hooks.signal?.aborted) throw new ScanAborted()
      out = {status: 'error', message: `read error: ${(e as Error).message}`}
    }
  } finally {
    budget?.dispose()
    await reader.close().catch(() => {})
  }
  // the file context is the truth: issues are computed from it afresh, not from what was streamed
  const collector = new IssueCollector()
  for (const f of fx.findings) collector.add(f)
  const issues = collector.issues
  const notes = fx.notes.slice(0, MAX_NOTES_PER_FILE)
  if (stoppedAt >= 0) {
    // over budget: whatever the analysis returned, part of the file was not analysed
    const stopped = stoppedRecord({task: {...task, size: reader.size}, reason: {kind: 'timeout', budgetMs: hooks.timeoutMs ?? 0}, bytesRead: stoppedAt,
      issues, issuesDropped: collector.extra, formats: [...fx.formats], sha256: sha})
    return {data: stopped.data, notes: [...notes, ...stopped.notes]}
  }
  if (collector.extra) notes.push(issueCapNote(task.rel, issues.length + collector.extra))
  const formats = fx.formats.length ? [...fx.formats] : out.status === 'skipped' && out.notModel ? ['not_model'] : []
  const data: FileScanData = {...base, blob_id: sha ?? '', sha256: sha, size_bytes: reader.size, formats, issues_detected: issues}
  if (out.status === 'scanned') {
    data.modelscan_status = 'SCANNED'
    if (fx.incompleteTotal) {
      data.error_message = clip(`partially scanned: ${fx.incompleteTotal} part(s) not analysed: ${fx.incomplete.slice(0, 5).join(' | ')}`, 1024)
    }
  } else if (out.status === 'skipped') {
    data.modelscan_status = issues.length ? 'SCANNED' : 'SKIPPED'
    data.error_message = clip(out.reason, 1024)
  } else {
    // findings made before an error are still reported on a SCANNED record
    data.modelscan_status = issues.length ? 'SCANNED' : 'ERROR'
    data.error_message = clip(out.message, 1024)
  }
  for (const inc of fx.incomplete.slice(0, 10)) notes.push(`${task.rel}: not analysed: ${inc}`)
  if (fx.incompleteTotal > 10) notes.push(`${task.rel}: ${fx.incompleteTotal - 10} more part(s) not analysed`)
  return {data, notes}
}
