/**
 * daystrom local model scanner: public entry.
 *
 * `scanPath(target)` walks a file or directory, identifies every file by content, analyses it
 * statically (nothing is ever unpickled, imported or executed) and returns the service's
 * `ScanDetails` plus notes. Files are scanned in a pool of worker threads (pool.ts: one file per
 * worker at a time, `os.availableParallelism()` workers by default, each with a heap limit and a
 * per-file time budget; findings are streamed out as they are made, so a worker that dies keeps them);
 * each file is read once, front to back, with sha256 computed in the same pass (see io.ts). Records
 * and notes come out in path order whatever the number of workers.
 *
 * More than MAX_SCAN_DETAILS_FILES (1000) files: the service's schema caps `files` at 1000. We keep,
 * in this order, every file with issues, every ERROR file, then SCANNED model files, then SKIPPED
 * files (path order within each group) up to 1000; `total_files_scanned`, `total_files_skipped`,
 * `model_formats` and `model_size_bytes` still count every file; `truncated` is true and `notes`
 * say how many files of each status were left out. A finding is never dropped to make room.
 *
 * Formats (identified by content; `formats` uses the service's identifiers):
 *  - analysed: pickle (protocols 0-5, stacked; FRAME disagreements read both ways; pickles or Python code
 *    hidden as hex/base64/zlib/gzip strings, up to 3 layers), joblib (inline arrays skipped, zlib/gzip-compressed,
 *    the old `ZF` container), pytorch_v1_13 (zip, any member name, relaxed CRC, header consistency),
 *    pytorch_v0_1_10 (legacy, all pickles), pytorch_v0_1_1 (tar), pytorch_torch_script (pickles + code/),
 *    numpy / numpy_zip (object arrays as pickles, size check), zip (every central-directory entry, whatever
 *    the end record claims; members with a clear-text "encrypted" bit) / tar / gzip / zlib / bzip2 / xz / lzma /
 *    7z (Copy, LZMA, LZMA2, Deflate, BZip2 folders; sevenzip.ts) — nested up to 10 deep, with byte, ratio and
 *    time budgets, slip and bomb checks; bzip2 through the pure-JS `seek-bzip` package, xz/lzma through our
 *    own LZMA/LZMA2 decoder in xz.ts, both on inputs up to 128 MB; zip methods 0/8/12/14/95), keras3
 *    (config.json), keras_legacy_h5 (root-group model_config attribute read by the bounded HDF5 reader in
 *    hdf5.ts: superblock v0-3, v1/v2 object headers, fixed or variable-length strings; falls back to a
 *    linear search for the JSON in the bytes, e.g. for dense attribute storage), keras_metadata, tensorflow
 *    (SavedModel/GraphDef op set), litert (TFLite operator codes: custom / Flex ops; MediaPipe's own custom
 *    ops are known, vendor-ops.ts), onnx (identified by its ModelProto content; custom domains other than the
 *    known vendor ones, external data), safetensors (strict header; metadata strings checked for code),
 *    gguf (header/tensor validation, chat-template injection with linear-time matching; metadata strings),
 *    json / yaml (Keras configs, Hydra `_target_`), safetensors_index.
 *  - SKIPPED with the reason: lz4, zstd, xz with BCJ/delta filters, 7z folders with other coders or chains
 *    (no decoder; zip members using those methods make the archive "partially scanned"), bzip2/xz/lzma
 *    streams over 128 MB or with a dictionary over 64 MB, safetensors headers over 32 MB, an .h5 whose
 *    model_config neither the HDF5 reader nor the byte search can read (the reason names the step that
 *    failed), JSON over 64 MB, data formats recognised by content (IDL save, MATLAB 5 and 7.3, netCDF,
 *    plain HDF5 without a Keras model) and non-model files ('not a model file').
 *  - Not implemented (no finding is ever produced for them): TF-300 unknown-op detection (needs the full
 *    TF op registry), ONNX-200/TF-200 architectural backdoors, LMAFL/TMT/EXDIR formats.
 *  - Issues with `threat: null` (routed by the service/sandbox to Suspicious Model Components): archive
 *    bombs and header tricks, corrupt safetensors/GGUF/npy headers, ONNX custom-op domains and
 *    external-data escapes, dangerous Hydra targets, archives nested beyond the depth budget, zip
 *    directory/size/encryption disagreements, and resource exhaustion (a pickle whose memo/DUP/tuple
 *    expansion would exhaust the loader: a load-time denial of service) — problems that have no PAIT code
 *    of their own.
 *  - Findings survive what follows them: a parse error, a budget, a timeout or a worker crash after a
 *    finding ends the file's analysis but never removes the finding (the status and error_message say what
 *    went wrong after it).
 */
import {lstat, readdir, realpath, stat} from 'node:fs/promises'
import {basename, dirname, join, relative, sep} from 'node:path'
import type {FileScanData, ScanDetails} from '../airs/types.js'
import {MAX_SCAN_DETAILS_FILES} from '../airs/schemas.js'
import {clip, type FileResult, type FileTask} from './file-result.js'
import {compileGlob, matchesAny} from './glob.js'
import {ScanAborted} from './io.js'
import {DEFAULT_WORKER_HEAP_MB, defaultConcurrency, MAX_CONCURRENCY, MAX_WORKER_HEAP_MB, MIN_WORKER_HEAP_MB, scanFiles, type WorkerMode} from './pool.js'

export {THREATS, ruleForThreat, type ThreatInfo} from './threats.js'
export {classifyGlobal} from './policy.js'

export const SCANNER_VERSION = 'daystrom-scanner/0.1.0'

export interface ScanProgress { filesDone: number; filesTotal: number; bytesDone: number; bytesTotal: number; currentFile?: string }
export interface ScanOptions {
  allowPatterns?: string[]
  ignorePatterns?: string[]
  /** Files scanned at once, each in its own worker thread: 1 to 64, default os.availableParallelism(). */
  concurrency?: number
  /**
   * Where files are analysed: 'auto' (default) in worker threads, except scans whose files total at most
   * 1 MiB, which run in the calling thread (a worker would cost more than the scan); 'always' every
   * file in a worker (hard per-file memory and time limits for every file); 'never' all in-thread.
   */
  workers?: WorkerMode
  /** Heap limit of each scan worker in MB (16 to 16384, default 256); a file that needs more is stopped and reported. */
  workerHeapMb?: number
  /** Time budget per file in ms (default 15 s plus 1 s per 8 MB of the file); a file that overruns it is stopped and reported. */
  fileTimeoutMs?: number
  onProgress?: (p: ScanProgress) => void
  signal?: AbortSignal
}
export {DEFAULT_WORKER_HEAP_MB, IN_THREAD_MAX_BYTES, MAX_CONCURRENCY, closeIdleWorkers, defaultFileTimeoutMs, type WorkerMode} from './pool.js'
export interface ScanReport { scanDetails: ScanDetails; root: string; truncated: boolean; notes: string[] }

interface WalkItem { rel: string; abs: string; size: number; skip?: string }

function toPosix(p: string): string { return sep === '/' ? p : p.split(sep).join('/') }

function intOption(name: string, v: number | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`scan option ${name} must be an integer from ${min} to ${max} (got ${String(v)})`)
  return v
}

async function walk(rootReal: string, options: ScanOptions, notes: string[]): Promise<WalkItem[]> {
  const allow = (options.allowPatterns ?? []).filter((p) => p.trim()).map(compileGlob)
  const ignore = (options.ignorePatterns ?? []).filter((p) => p.trim()).map(compileGlob)
  const out: WalkItem[] = []
  const stack: string[] = ['']
  while (stack.length) {
    if (options.signal?.aborted) throw new ScanAborted()
    const relDir = stack.pop() as string
    const absDir = join(rootReal, relDir)
    let ents
    try {
      ents = await readdir(absDir, {withFileTypes: true})
    } catch (e) {
      notes.push(`directory ${relDir || '.'} could not be read: ${(e as Error).message}`)
      continue
    }
    ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const subdirs: string[] = []
    for (const d of ents) {
      const rel = relDir ? `${relDir}/${d.name}` : d.name
      const abs = join(absDir, d.name)
      if (ignore.length && matchesAny(ignore, rel)) continue
      if (d.isDirectory()) { subdirs.push(rel); continue }
      if (allow.length && !matchesAny(allow, rel)) continue
      if (d.isSymbolicLink()) {
        let target: string
        try { target = await realpath(abs) } catch {
          out.push({rel, abs, size: 0, skip: 'broken symbolic link (not followed)'}); continue
        }
        const inside = relative(rootReal, target)
        if (inside.startsWith('..') || inside === '' || /^[A-Za-z]:/.test(inside) || inside.startsWith('/')) {
          out.push({rel, abs, size: 0, skip: `symbolic link to ${target}, outside the scanned directory (not followed)`})
          notes.push(`symlink ${rel} points outside the scanned directory and was not followed`)
          continue
        }
        const st = await stat(target).catch(() => null)
        out.push({rel, abs, size: 0, skip: `symbolic link to ${toPosix(inside)}${st?.isDirectory() ? ' (a directory inside the tree, walked at its own path)' : ' (scanned at its own path)'}`})
        continue
      }
      if (!d.isFile()) { out.push({rel, abs, size: 0, skip: 'not a regular file'}); continue }
      let size = 0
      try { size = (await lstat(abs)).size } catch { /* reported at scan time */ }
      out.push({rel, abs, size})
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i])
  }
  out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
  return out
}

/** Scan a file or directory. Rejects with ScanAborted when `signal` aborts. */
export async function scanPath(target: string, options: ScanOptions = {}): Promise<ScanReport> {
  const concurrency = intOption('concurrency', options.concurrency, 1, MAX_CONCURRENCY) ?? defaultConcurrency()
  const heapMb = intOption('workerHeapMb', options.workerHeapMb, MIN_WORKER_HEAP_MB, MAX_WORKER_HEAP_MB) ?? DEFAULT_WORKER_HEAP_MB
  const fileTimeoutMs = intOption('fileTimeoutMs', options.fileTimeoutMs, 1, 2 ** 31 - 1)
  const mode = options.workers ?? 'auto'
  if (!['auto', 'always', 'never'].includes(mode)) throw new RangeError(`scan option workers must be auto, always or never (got ${mode})`)
  const started = new Date()
  const t0 = performance.now()
  const notes: string[] = []
  const st = await stat(target) // follows a symlink given explicitly as the target
  const real = await realpath(target)
  let rootReal: string
  let items: WalkItem[]
  if (st.isDirectory()) {
    rootReal = real
    items = await walk(rootReal, options, notes)
  } else if (st.isFile()) {
    rootReal = dirname(real)
    items = [{rel: basename(target) || basename(real), abs: real, size: st.size}]
  } else {
    throw new Error(`${target} is neither a file nor a directory`)
  }
  const bytesTotal = items.reduce((a, b) => a + b.size, 0)
  const progress: ScanProgress = {filesDone: 0, filesTotal: items.length, bytesDone: 0, bytesTotal}
  const report = (current?: string): void => {
    if (!options.onProgress) return
    try { options.onProgress({...progress, currentFile: current}) } catch { /* a progress callback must not break the scan */ }
  }
  report()

  // files the walk already decided about (symlinks, special files) need no worker
  const perFile: Array<FileResult | undefined> = new Array<FileResult | undefined>(items.length)
  const tasks: FileTask[] = []
  const taskItem: number[] = []
  items.forEach((it, i) => {
    if (it.skip === undefined) { tasks.push({rel: it.rel, abs: it.abs, size: it.size, rootReal}); taskItem.push(i); return }
    perFile[i] = {data: {file_path: clip(it.rel, 1024), modelscan_status: 'SKIPPED', blob_id: '', sha256: null, size_bytes: it.size,
      error_message: clip(it.skip, 1024), formats: [], issues_detected: []}, notes: []}
    progress.filesDone++
  })
  if (progress.filesDone) report()
  const pool = await scanFiles(tasks, {size: concurrency, mode, heapMb, fileTimeoutMs, signal: options.signal}, {
    onStart: (t) => report(tasks[t].rel),
    onBytes: (t, n) => { progress.bytesDone += n; report(tasks[t].rel) },
    onDone: (t) => { progress.filesDone++; report(tasks[t].rel) },
  })
  pool.results.forEach((r, t) => { perFile[taskItem[t]] = r })
  const results = perFile as FileResult[]
  for (const r of results) for (const x of r.notes) if (notes.length < 1000) notes.push(x)
  for (const x of pool.notes) notes.push(x)

  const all = results.map((r) => r.data)
  const formats = new Set<string>()
  let scanned = 0
  let skipped = 0
  let errors = 0
  let size = 0
  for (const f of all) {
    if (f.modelscan_status === 'SCANNED') scanned++
    else if (f.modelscan_status === 'SKIPPED') skipped++
    else errors++
    size += f.size_bytes ?? 0
    for (const fm of f.formats ?? []) if (fm !== 'not_model') formats.add(fm)
  }
  let files = all
  let truncated = false
  if (all.length > MAX_SCAN_DETAILS_FILES) {
    truncated = true
    const rank = (f: FileScanData): number => ((f.issues_detected?.length ?? 0) > 0 ? 0 : f.modelscan_status === 'ERROR' ? 1
      : f.modelscan_status === 'SCANNED' && !(f.formats ?? []).includes('not_model') ? 2 : 3)
    const order = all.map((f, i) => [rank(f), i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1])
    const keep = new Set(order.slice(0, MAX_SCAN_DETAILS_FILES).map(([, i]) => i))
    files = all.filter((_f, i) => keep.has(i))
    const dropped = all.filter((_f, i) => !keep.has(i))
    const by = (s: string): number => dropped.filter((f) => f.modelscan_status === s).length
    const droppedWithIssues = dropped.filter((f) => (f.issues_detected?.length ?? 0) > 0).length
    notes.unshift(`scan_details lists ${files.length} of ${all.length} files (the service accepts at most ${MAX_SCAN_DETAILS_FILES}): `
      + `kept files with issues first, then errors, then scanned model files, then skipped files; left out ${dropped.length} `
      + `(${by('SCANNED')} SCANNED, ${by('SKIPPED')} SKIPPED, ${by('ERROR')} ERROR, ${droppedWithIssues} with issues). Totals count every file.`)
  }
  if (errors) notes.push(`${errors} file(s) could not be scanned (ERROR)`)
  const scanDetails: ScanDetails = {
    scanner_version: SCANNER_VERSION,
    time_started: started.toISOString(),
    files,
    total_files_scanned: scanned,
    total_files_skipped: skipped,
    model_formats: [...formats].sort().slice(0, 100),
    model_size_bytes: size,
    scan_duration_ms: Math.round(performance.now() - t0),
  }
  return {scanDetails, root: rootReal, truncated, notes}
}

export {ScanAborted} from './io.js'
