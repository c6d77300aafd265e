/**
 * The scan worker pool: files are scanned in `worker_threads` workers (worker.ts), one file per worker at
 * a time, up to `size` files at once (default os.availableParallelism()), so hashing and analysis of
 * different files use all cores while the main thread only walks, dispatches and collects.
 *
 * Per file, a worker is bounded twice: its V8 heap (resourceLimits: `heapMb`, default 256 MB) and a
 * wall-time budget (`fileTimeoutMs`, default 15 s plus 1 s per 8 MB: any file up to 100 MB is stopped
 * within 30 s). A worker that runs out of memory, overruns its budget, throws an uncaught exception or
 * exits is replaced; the file's record keeps every issue the worker streamed before it stopped, says
 * what stopped it, and, for memory or time exhaustion, carries a `resource_exhaustion` issue (see
 * stoppedRecord). Its sha256 comes from a second, hash-only read. Aborting the scan terminates the
 * workers at once, whatever they are doing.
 *
 * Small scans stay in the calling thread: with `workers: 'auto'` (the default), a scan whose files
 * total at most IN_THREAD_MAX_BYTES (1 MiB) is analysed in-thread, because starting a worker costs more
 * than the scan (measured under dist: about 75 ms of CPU and 40-60 ms of wall time on an idle 2-core
 * machine, several times that on a loaded one; from the TypeScript sources 350-700 ms), and one file
 * gains nothing from parallelism. Those files rely on the analysers' own bounds (budgets, caps) and
 * get the same time budget, checked cooperatively (between archive members, nested streams, decoder
 * chunks: a synchronous loop cannot be interrupted in-thread); `workers: 'always'` puts every file in a
 * worker, `'never'` none.
 *
 * Workers start lazily (no more than there are files) and are kept for IDLE_MS after a scan, unreferenced
 * (they never keep the process alive), so back-to-back scans in one process (tests, the sandbox
 * server) do not pay the start-up again. If workers cannot start at all (the entry file is missing from
 * a bundled install, threads unavailable), files are scanned in the main thread and a note says so.
 *
 * The worker entry is found relative to this module (import.meta.url), so it works from dist, from an
 * installed package and from a plugin inside another oclif CLI; from the TypeScript sources (tests,
 * bin/dev.js) a small bootstrap registers tsx inside the worker first, because on Node 20 the
 * parent's `--import tsx` does not install its loader in worker threads.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import {availableParallelism, tmpdir} from 'node:os'
import {join} from 'node:path'
import {Worker} from 'node:worker_threads'
import type {ModelScanIssue} from '../airs/types.js'
import {type FileResult, type FileTask, type InjectedFault, MAX_ISSUES_PER_FILE, type StopReason, stoppedRecord, type TaskMessage,
  type WorkerMessage} from './file-result.js'
import {scanFileTask} from './file-scan.js'
import {ScanAborted} from './io.js'

const FROM_SOURCES = import.meta.url.endsWith('.ts')
export const WORKER_URL = new URL(FROM_SOURCES ? './worker-tsx.mjs' : './worker.js', import.meta.url)

export const MAX_CONCURRENCY = 64
export const DEFAULT_WORKER_HEAP_MB = 256
export const MIN_WORKER_HEAP_MB = 16
export const MAX_WORKER_HEAP_MB = 16384
/** With workers: 'auto', scans whose files total at most this many bytes run in the calling thread. */
export const IN_THREAD_MAX_BYTES = 1 << 20
/** How long an idle worker is kept for the next scan in this process. */
const IDLE_MS = 2000
/** Idle workers kept at most (each holds its isolate's memory until IDLE_MS passes). */
const MAX_IDLE = Math.max(2, availableParallelism())
/** A worker that has not loaded its entry after this long is given up on (not a file's fault). */
const BOOT_MS = 60_000

export function defaultConcurrency(): number { return Math.max(1, Math.min(availableParallelism(), MAX_CONCURRENCY)) }

/** The default time budget for one file: 15 s plus 1 s per 8 MB (100 MB: 28 s). */
export function defaultFileTimeoutMs(sizeBytes: number): number {
  return 15_000 + Math.ceil(Math.max(0, sizeBytes) / (8 << 20)) * 1000
}

/**
 * Test-only hooks. Nothing outside the tests sets them; in particular no file content, option or
 * environment variable can inject a fault.
 */
export const testHooks: {
  fault?: InjectedFault
  /** Called with the worker's threadId each time a scan leases a worker. */
  onLease?: (threadId: number) => void
  /** Replaces the worker entry (to test the fallback when workers cannot start). */
  workerUrl?: URL
} = {}

export type WorkerMode = 'auto' | 'always' | 'never'

export interface PoolOptions {
  /** Files scanned at once (one worker each). */
  size: number
  /** auto: in-thread when the files total at most IN_THREAD_MAX_BYTES; always / never: every file in a worker / in-thread. */
  mode: WorkerMode
  /** Heap limit of each worker in MB. */
  heapMb: number
  /** A fixed time budget per file; default defaultFileTimeoutMs(size). */
  fileTimeoutMs?: number
  signal?: AbortSignal
}

export interface PoolEvents {
  onStart?: (i: number) => void
  onBytes?: (i: number, n: number) => void
  onDone?: (i: number) => void
}

type StopKind = 'oom' | 'timeout' | 'crash' | 'aborted' | 'startup'
type FinalMessage = Extract<WorkerMessage, {t: 'done' | 'hashed' | 'failed'}>
type JobEnd = {kind: 'message'; msg: FinalMessage} | {kind: 'stopped'; reason: StopKind; message: string}

interface Job {
  id: number
  budgetMs: number
  onMessage: (m: WorkerMessage) => void
  finish: (end: JobEnd) => void
  timer?: NodeJS.Timeout
}

let nextId = 1
const idle: ScanWorker[] = []
const live = new Set<ScanWorker>()
let exitHookInstalled = false

class ScanWorker {
  readonly worker: Worker
  readonly tmpDir: string
  private ready = false
  private exited = false
  private error: (Error & {code?: string}) | undefined
  private stopping: 'timeout' | 'aborted' | 'boot' | undefined
  private job: Job | undefined
  private idleTimer: NodeJS.Timeout | undefined
  private bootTimer: NodeJS.Timeout | undefined
  /** Settles once the worker has exited and its temp directory is gone. */
  removed: Promise<void> = new Promise<void>(() => {})

  constructor(readonly heapMb: number) {
    this.tmpDir = mkdtempSync(join(tmpdir(), 'daystrom-worker-'))
    try {
      this.worker = new Worker(testHooks.workerUrl ?? WORKER_URL, {
        workerData: {tmpDir: this.tmpDir},
        resourceLimits: {maxOldGenerationSizeMb: heapMb},
        // none of the parent's Node options (--input-type, --eval, loaders, inspector ports: some are invalid in a worker)
        execArgv: [],
        // no credentials in the worker's environment (tsx, from the sources, needs the parent's)
        ...(FROM_SOURCES ? {} : {env: {}}),
      })
    } catch (e) {
      rmSync(this.tmpDir, {recursive: true, force: true})
      throw e
    }
    this.worker.on('message', (m: WorkerMessage) => this.onMessage(m))
    this.worker.on('error', (e: Error) => { this.error ??= e })
    this.worker.on('exit', (code: number) => this.onExit(code))
    this.bootTimer = setTimeout(() => { this.stopping ??= 'boot'; void this.worker.terminate() }, BOOT_MS)
    this.bootTimer.unref()
    live.add(this)
    if (!exitHookInstalled) {
      exitHookInstalled = true
      process.on('exit', () => { for (const w of live) rmSync(w.tmpDir, {recursive: true, force: true}) })
    }
  }

  get usable(): boolean { return !this.exited && !this.stopping && !this.job }

  /** Run one task; resolves when the worker answers or stops (never rejects). */
  run(msg: TaskMessage, budgetMs: number, onMessage: (m: WorkerMessage) => void): Promise<JobEnd> {
    if (this.exited) return Promise.resolve({kind: 'stopped', reason: 'crash', message: 'worker had already exited'})
    return new Promise<JobEnd>((resolve) => {
      const job: Job = {id: msg.id, budgetMs, onMessage, finish: resolve}
      this.job = job
      if (this.ready) this.startWatchdog(job)
      this.worker.postMessage(msg)
    })
  }

  /** Stop at once (scan aborted or failed elsewhere). */
  abort(): void {
    if (this.exited) return
    this.stopping ??= 'aborted'
    void this.worker.terminate()
  }

  leased(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer)
    this.idleTimer = undefined
    this.worker.ref()
  }

  parked(): void {
    this.worker.unref()
    this.idleTimer = setTimeout(() => {
      const k = idle.indexOf(this)
      if (k >= 0) idle.splice(k, 1)
      void this.worker.terminate()
    }, IDLE_MS)
    this.idleTimer.unref()
  }

  private startWatchdog(job: Job): void {
    job.timer = setTimeout(() => {
      if (this.job !== job) return
      this.stopping ??= 'timeout'
      void this.worker.terminate()
    }, job.budgetMs)
  }

  private onMessage(m: WorkerMessage): void {
    if (m.t === 'ready') {
      this.ready = true
      if (this.bootTimer) clearTimeout(this.bootTimer)
      if (this.job && !this.job.timer) this.startWatchdog(this.job)
      return
    }
    const job = this.job
    if (!job || m.id !== job.id) return
    if (m.t === 'done' || m.t === 'hashed' || m.t === 'failed') this.endJob({kind: 'message', msg: m})
    else job.onMessage(m)
  }

  /** Node drains the worker's port before 'exit': every message it sent has been handled by now. */
  private onExit(code: number): void {
    this.exited = true
    live.delete(this)
    const k = idle.indexOf(this)
    if (k >= 0) idle.splice(k, 1)
    if (this.idleTimer) clearTimeout(this.idleTimer)
    if (this.bootTimer) clearTimeout(this.bootTimer)
    // whatever the worker left in its temp directory goes before its file's record is made
    this.removed = rm(this.tmpDir, {recursive: true, force: true}).catch(() => {})
    if (!this.job) return
    let reason: StopKind
    let message = this.error?.message ?? `worker exited with code ${code}`
    if (this.stopping === 'aborted' || this.stopping === 'timeout') reason = this.stopping
    else if (this.stopping === 'boot') { reason = 'startup'; message = `the worker did not start within ${BOOT_MS / 1000} s` }
    else if (this.error?.code === 'ERR_WORKER_OUT_OF_MEMORY') reason = 'oom'
    else if (!this.ready) reason = 'startup'
    else reason = 'crash'
    void this.removed.then(() => this.endJob({kind: 'stopped', reason, message}))
  }

  private endJob(end: JobEnd): void {
    const job = this.job
    if (!job) return
    if (job.timer) clearTimeout(job.timer)
    this.job = undefined
    job.finish(end)
  }
}

function lease(heapMb: number): ScanWorker {
  const k = idle.findIndex((w) => w.heapMb === heapMb && w.usable)
  const w = k >= 0 ? idle.splice(k, 1)[0] : new ScanWorker(heapMb)
  w.leased()
  testHooks.onLease?.(w.worker.threadId)
  return w
}

function release(w: ScanWorker): void {
  if (!w.usable) { w.abort(); return }
  if (idle.length >= MAX_IDLE) { void w.worker.terminate(); return }
  w.parked()
  idle.push(w)
}

/** Terminate the workers kept idle between scans (tests; a host process that wants its memory back now). */
export async function closeIdleWorkers(): Promise<void> {
  const ws = idle.splice(0, idle.length)
  await Promise.all(ws.map(async (w) => { await w.worker.terminate(); await w.removed }))
}

/** Workers alive in this process and how many of them are idle (tests). */
export function poolStats(): {live: number; idle: number} { return {live: live.size, idle: idle.length} }

// A static import: the in-thread path must share the engine module with its callers (a dynamic import would give
// a second engine instance wherever the caller was loaded as CommonJS, e.g. tests under tsx's require hook).
async function scanInThread(task: FileTask, onBytes: (n: number) => void, timeoutMs: number, signal?: AbortSignal): Promise<FileResult> {
  return scanFileTask(task, {onBytes, signal, timeoutMs})
}

interface Streamed { bytes: number; issues: ModelScanIssue[]; dropped: number; formats: string[] }

/**
 * Scan `tasks` and return their records in the same order, plus notes about the pool itself.
 * Rejects with ScanAborted when `signal` aborts (after the workers have stopped).
 */
export async function scanFiles(tasks: FileTask[], o: PoolOptions, ev: PoolEvents = {}): Promise<{results: FileResult[]; notes: string[]}> {
  const results: FileResult[] = new Array<FileResult>(tasks.length)
  const active = new Set<ScanWorker>()
  const total = tasks.reduce((a, t) => a + t.size, 0)
  const inThread = o.mode === 'never' || (o.mode === 'auto' && total <= IN_THREAD_MAX_BYTES)
  // shared by the lanes: why workers could not be started (when they could not); whether a lane failed
  const state: {unavailable: string | null; failed: boolean} = {unavailable: null, failed: false}
  let next = 0
  const budget = (size: number): number => o.fileTimeoutMs ?? defaultFileTimeoutMs(size)
  const stopAll = (): void => { for (const w of active) w.abort() }
  o.signal?.addEventListener('abort', stopAll)

  const lane = async (): Promise<void> => {
    let w: ScanWorker | null = null
    const drop = (): void => { if (w) active.delete(w); w = null }
    /** This lane's worker (leased on first use); null when scanning in-thread. */
    const take = (): ScanWorker | null => {
      if (!w && !inThread && state.unavailable === null) {
        try { w = lease(o.heapMb) } catch (e) { state.unavailable = (e as Error).message || String(e); return null }
        active.add(w)
      }
      return w
    }

    /** A fresh, hash-only read of a file whose analysis was stopped (null when that fails too). */
    const hash = async (task: FileTask): Promise<string | null> => {
      const worker = take()
      if (!worker) return null
      const end = await worker.run({t: 'hash', id: nextId++, abs: task.abs}, budget(task.size), () => {})
      if (end.kind === 'message' && end.msg.t === 'hashed') return end.msg.sha256
      drop()
      if (end.kind === 'stopped' && end.reason === 'aborted') throw new ScanAborted()
      return null
    }

    const scanOne = async (i: number): Promise<FileResult> => {
      const task = tasks[i]
      const onBytes = (n: number): void => ev.onBytes?.(i, n)
      for (;;) {
        const worker = take()
        if (!worker) return scanInThread(task, onBytes, budget(task.size), o.signal)
        const s: Streamed = {bytes: 0, issues: [], dropped: 0, formats: []}
        const fault = testHooks.fault && (testHooks.fault.file === '*' || testHooks.fault.file === task.rel) ? testHooks.fault : undefined
        const progress = (bytes: number, formats: string[]): void => {
          if (bytes) { s.bytes += bytes; onBytes(bytes) }
          for (const f of formats) if (s.formats.length < 20 && !s.formats.includes(f)) s.formats.push(f)
        }
        const end = await worker.run({t: 'scan', id: nextId++, task, fault}, budget(task.size), (m) => {
          if (m.t === 'progress') progress(m.bytes, m.formats)
          else if (m.t === 'issue' && s.issues.length < MAX_ISSUES_PER_FILE) s.issues.push(m.issue)
          else if (m.t === 'sync') { s.issues = m.issues.slice(0, MAX_ISSUES_PER_FILE); s.formats = [...m.formats] }
          else if (m.t === 'issues-dropped') s.dropped = Math.max(s.dropped, m.count)
        })
        if (end.kind === 'message' && (end.msg.t === 'done' || end.msg.t === 'failed')) progress(end.msg.bytes, end.msg.formats)
        if (end.kind === 'message' && end.msg.t === 'done') return end.msg.result
        let reason: StopReason
        if (end.kind === 'message') {
          reason = {kind: 'crash', message: end.msg.t === 'failed' ? `scanner failure: ${end.msg.message}` : 'unexpected answer from the worker'}
        } else {
          drop()
          if (end.reason === 'aborted') throw new ScanAborted()
          if (end.reason === 'startup') { state.unavailable ??= end.message; continue }
          reason = end.reason === 'oom' ? {kind: 'oom', heapMb: o.heapMb}
            : end.reason === 'timeout' ? {kind: 'timeout', budgetMs: budget(task.size)}
            : {kind: 'crash', message: end.message}
        }
        const sha256 = await hash(task)
        return stoppedRecord({task, reason, bytesRead: s.bytes, issues: s.issues, issuesDropped: s.dropped, formats: s.formats, sha256})
      }
    }

    try {
      for (;;) {
        if (o.signal?.aborted) throw new ScanAborted()
        if (state.failed) return
        const i = next++
        if (i >= tasks.length) return
        ev.onStart?.(i)
        results[i] = await scanOne(i)
        ev.onDone?.(i)
      }
    } catch (e) {
      state.failed = true
      stopAll()
      throw e
    } finally {
      if (w) { active.delete(w); release(w) }
    }
  }

  let settled: Array<PromiseSettledResult<void>>
  try {
    settled = await Promise.allSettled(Array.from({length: Math.min(o.size, tasks.length)}, lane))
  } finally {
    o.signal?.removeEventListener('abort', stopAll)
  }
  const rejected = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown)
  if (rejected.length) throw o.signal?.aborted ? new ScanAborted() : rejected.find((e) => !(e instanceof ScanAborted)) ?? rejected[0]
  const notes: string[] = []
  if (state.unavailable !== null) {
    notes.push(`worker threads unavailable (${state.unavailable}): files were scanned in the main thread, without the per-file memory limit `
      + 'and with the time budget checked only between analysis steps')
  }
  return {results, notes}
}
