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
import {clip, type FileResult, type FileTask, IssueCollector, issueCapNote, MAX_NOTES_PER_FILE} from './file-result.js'
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

export async function scanFileTask(task: FileTask, hooks: FileScanHooks = {}): Promise<FileResult> {
  const base: FileScanData = {file_path: clip(task.rel, 1024), modelscan_status: 'SKIPPED', blob_id: '', sha256: null, size_bytes: task.size}
  let reader: HashingFileReader
  try {
    reader = await HashingFileReader.open(task.abs, hooks.onBytes, hooks.signal)
  } catch (e) {
    return {data: {...base, modelscan_status: 'ERROR', error_message: clip(`cannot open: ${(e as Error).message}`, 1024), formats: [], issues_detected: []}, notes: []}
  }
  const fx = newFileCtx(task.abs, task.rootReal, hooks.signal)
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
  try {
    try {
      out = await analyze(reader, task.rel, basename(task.rel), 0, fx, {topLevel: true})
    } catch (e) {
      if (hooks.signal?.aborted || e instanceof ScanAborted) throw new ScanAborted()
      out = {status: 'error', message: `scanner failure: ${(e as Error).message}`}
    }
    try { sha = await reader.finish() } catch (e) {
      if (hooks.signal?.aborted) throw new ScanAborted()
      out = {status: 'error', message: `read error: ${(e as Error).message}`}
    }
  } finally {
    await reader.close().catch(() => {})
  }
  // the file context is the truth: issues are computed from it afresh, not from what was streamed
  const collector = new IssueCollector()
  for (const f of fx.findings) collector.add(f)
  const issues = collector.issues
  const notes = fx.notes.slice(0, MAX_NOTES_PER_FILE)
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
