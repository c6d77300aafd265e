/**
 * Scan worker entry (a `worker_threads` worker started by pool.ts): scans one file at a time and streams
 * what it learns to the main thread as it learns it: bytes read, each issue, each format, then the
 * finished record. It parses bytes only: nothing in here (or in the analysers it loads statically)
 * evaluates, imports or executes anything taken from a scanned file.
 *
 * The worker's process.env holds only its own temp directory (no credentials of the parent); archive
 * members decompressed to disk go under it, so the main thread can remove whatever a worker that was
 * stopped mid-file left behind.
 */
import {parentPort, workerData} from 'node:worker_threads'
import type {InjectedFault, TaskMessage, WorkerMessage} from './file-result.js'
import {scanFileTask} from './file-scan.js'
import {HashingFileReader} from './io.js'

const port = parentPort
if (!port) throw new Error('worker.ts is a worker_threads entry, not a module to import')

const {tmpDir} = (workerData ?? {}) as {tmpDir?: string}
if (tmpDir) for (const k of ['TMPDIR', 'TMP', 'TEMP']) process.env[k] = tmpDir

/** Set by an injected fault: nothing more is sent (the worker is about to die). */
let halted = false
function post(m: WorkerMessage): void { if (!halted) port!.postMessage(m) }

/** Test-only faults (requested by the main thread's test hook, never by file content). */
function inject(f: InjectedFault): void {
  switch (f.kind) {
    case 'oom': {
      const hog: number[][] = []
      for (;;) hog.push(new Array<number>(1 << 16).fill(hog.length))
    }
    case 'hang': {
      const spin = (): number => Date.now()
      for (;;) spin()
    }
    case 'throw':
      halted = true
      setImmediate(() => { throw new Error('injected fault: uncaught exception in the scan worker') })
      return
    case 'fail':
      throw new Error('injected fault: result withheld')
    case 'exit':
      halted = true
      process.exit(70)
  }
}

/**
 * Bytes read and formats found are not worth a message each (a small file would cost twice the
 * messages): they are batched and sent with the next issue (so a finding always arrives with the
 * formats known when it was made), at most PROGRESS_MS later, or with the file's final message.
 */
const PROGRESS_MS = 100
const pending = {id: 0, bytes: 0, formats: [] as string[], timer: undefined as NodeJS.Timeout | undefined}

function take(): {bytes: number; formats: string[]} {
  const out = {bytes: pending.bytes, formats: pending.formats}
  pending.bytes = 0
  pending.formats = []
  if (pending.timer) clearTimeout(pending.timer)
  pending.timer = undefined
  return out
}

function flush(): void {
  if (!pending.bytes && !pending.formats.length) return
  const id = pending.id
  post({t: 'progress', id, ...take()})
}

function note(id: number, bytes: number, format?: string): void {
  if (pending.id !== id) { take(); pending.id = id }
  pending.bytes += bytes
  if (format !== undefined) pending.formats.push(format)
  pending.timer ??= setTimeout(flush, PROGRESS_MS)
}

async function handle(m: TaskMessage): Promise<void> {
  if (m.t === 'hash') {
    let reader: HashingFileReader | undefined
    try {
      reader = await HashingFileReader.open(m.abs)
      post({t: 'hashed', id: m.id, sha256: await reader.finish()})
    } catch (e) {
      post({t: 'hashed', id: m.id, sha256: null, error: (e as Error).message})
    } finally {
      await reader?.close().catch(() => {})
    }
    return
  }
  const {id, task, fault} = m
  try {
    if (fault?.at === 'start') inject(fault)
    let faulted = false
    const result = await scanFileTask(task, {
      onBytes: (n) => note(id, n),
      onIssue: (issue) => {
        flush()
        post({t: 'issue', id, issue})
        if (fault?.at === 'finding' && !faulted) { faulted = true; inject(fault) }
      },
      onIssuesDropped: (count) => { if (count === 1 || count % 1000 === 0) post({t: 'issues-dropped', id, count}) },
      onFormat: (format) => note(id, 0, format),
    })
    post({t: 'sync', id, issues: result.data.issues_detected ?? [], formats: (result.data.formats ?? []).filter((f) => f !== 'not_model')})
    if (fault?.at === 'end') inject(fault)
    post({t: 'done', id, result, ...take()})
  } catch (e) {
    post({t: 'failed', id, message: (e as Error).message || String(e), ...take()})
  }
}

port.on('message', (m: TaskMessage) => { void handle(m) })
post({t: 'ready'})
