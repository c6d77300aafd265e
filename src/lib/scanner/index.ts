/**
 * daystrom local model scanner: public entry.
 *
 * `scanPath(target)` walks a file or directory, identifies every file by content, analyses it
 * statically (nothing is ever unpickled, imported or executed) and returns the service's
 * `ScanDetails` plus notes. Files are scanned concurrently by an async pool; each file is read once,
 * front to back, with sha256 computed in the same pass (see io.ts).
 *
 * More than MAX_SCAN_DETAILS_FILES (1000) files: the service's schema caps `files` at 1000. We keep,
 * in this order, every file with issues, every ERROR file, then SCANNED model files, then SKIPPED
 * files (path order within each group) up to 1000; `total_files_scanned`, `total_files_skipped`,
 * `model_formats` and `model_size_bytes` still count every file; `truncated` is true and `notes`
 * say how many files of each status were left out. A finding is never dropped to make room.
 *
 * Formats (identified by content; `formats` uses the service's identifiers):
 *  - analysed: pickle (protocols 0-5, stacked), joblib (inline arrays skipped, zlib/gzip-compressed),
 *    pytorch_v1_13 (zip, any member name, relaxed CRC, header consistency), pytorch_v0_1_10 (legacy, all
 *    pickles), pytorch_v0_1_1 (tar), pytorch_torch_script (pickles + code/), numpy / numpy_zip (object
 *    arrays as pickles, size check), zip / tar / gzip / zlib / bzip2 / xz / lzma (nested, budgets,
 *    slip, bombs; bzip2 through the pure-JS `seek-bzip` package, xz/lzma through our own LZMA/LZMA2
 *    decoder in xz.ts, both on inputs up to 128 MB; zip methods 0/8/12/14/95), keras3 (config.json),
 *    keras_legacy_h5 (root-group model_config attribute read by the bounded HDF5 reader in hdf5.ts:
 *    superblock v0-3, v1/v2 object headers, fixed or variable-length strings; falls back to locating the
 *    JSON in the bytes, e.g. for dense attribute storage), keras_metadata, tensorflow
 *    (SavedModel/GraphDef op set), litert (TFLite operator codes: custom / Flex ops), onnx (custom
 *    domains, external data), safetensors (strict header), gguf (header/tensor validation,
 *    chat-template injection), json / yaml (Keras configs, Hydra `_target_`), safetensors_index.
 *  - SKIPPED with the reason: lz4, 7z, zstd, xz with BCJ/delta filters (no decoder; zip members using
 *    those methods make the archive "partially scanned"), bzip2/xz/lzma streams over 128 MB or with a
 *    dictionary over 64 MB, safetensors headers over 32 MB, an
 *    .h5 whose model_config neither the HDF5 reader nor the byte search can read (the reason names the
 *    step that failed), JSON over 64 MB, and non-model files
 *    ('not a model file').
 *  - Not implemented (no finding is ever produced for them): TF-300 unknown-op detection (needs the full
 *    TF op registry), ONNX-200/TF-200 architectural backdoors, LMAFL/TMT/EXDIR formats.
 *  - Issues with `threat: null` (routed by the service/sandbox to Suspicious Model Components): archive
 *    bombs and header tricks, corrupt safetensors/GGUF/npy headers, ONNX custom-op domains and
 *    external-data escapes, dangerous Hydra targets — problems that have no PAIT code of their own.
 */
import {availableParallelism} from 'node:os'
import {lstat, readdir, realpath, stat} from 'node:fs/promises'
import {basename, dirname, join, relative, sep} from 'node:path'
import type {FileScanData, ModelScanIssue, ScanDetails} from '../airs/types.js'
import {MAX_SCAN_DETAILS_FILES} from '../airs/schemas.js'
import {analyze, type Finding, newFileCtx, type Outcome} from './engine.js'
import {compileGlob, matchesAny} from './glob.js'
import {HashingFileReader, ScanAborted} from './io.js'

export {THREATS, ruleForThreat, type ThreatInfo} from './threats.js'
export {classifyGlobal} from './policy.js'

export const SCANNER_VERSION = 'daystrom-scanner/0.1.0'

export interface ScanProgress { filesDone: number; filesTotal: number; bytesDone: number; bytesTotal: number; currentFile?: string }
export interface ScanOptions {
  allowPatterns?: string[]
  ignorePatterns?: string[]
  concurrency?: number
  onProgress?: (p: ScanProgress) => void
  signal?: AbortSignal
}
export interface ScanReport { scanDetails: ScanDetails; root: string; truncated: boolean; notes: string[] }

interface WalkItem { rel: string; abs: string; size: number; skip?: string }

const MAX_ISSUES_PER_FILE = 500

function toPosix(p: string): string { return sep === '/' ? p : p.split(sep).join('/') }
function clip(s: string, n: number): string { return s.length > n ? s.slice(0, n - 1) + '…' : s }

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

function toIssues(findings: Finding[]): ModelScanIssue[] {
  const seen = new Set<string>()
  const out: ModelScanIssue[] = []
  for (const f of findings) {
    const key = `${f.source}\u0000${f.threat}\u0000${f.module}\u0000${f.operator}\u0000${f.description}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({
      description: clip(f.description, 4096), source: clip(f.source, 1024), threat: f.threat ?? null,
      module: f.module == null ? null : clip(f.module, 256), operator: f.operator == null ? null : clip(f.operator, 256),
    })
  }
  return out
}

async function scanFile(item: WalkItem, rootReal: string, options: ScanOptions, onBytes: (n: number) => void): Promise<{data: FileScanData; notes: string[]}> {
  const base: FileScanData = {file_path: clip(item.rel, 1024), modelscan_status: 'SKIPPED', blob_id: '', sha256: null, size_bytes: item.size}
  if (item.skip) return {data: {...base, error_message: clip(item.skip, 1024), formats: [], issues_detected: []}, notes: []}
  let reader: HashingFileReader
  try {
    reader = await HashingFileReader.open(item.abs, onBytes, options.signal)
  } catch (e) {
    return {data: {...base, modelscan_status: 'ERROR', error_message: clip(`cannot open: ${(e as Error).message}`, 1024), formats: [], issues_detected: []}, notes: []}
  }
  const fx = newFileCtx(item.abs, rootReal, options.signal)
  let out: Outcome
  let sha: string | null = null
  try {
    try {
      out = await analyze(reader, item.rel, basename(item.rel), 0, fx, {topLevel: true})
    } catch (e) {
      if (options.signal?.aborted || e instanceof ScanAborted) throw new ScanAborted()
      out = {status: 'error', message: `scanner failure: ${(e as Error).message}`}
    }
    try { sha = await reader.finish() } catch (e) {
      if (options.signal?.aborted) throw new ScanAborted()
      out = {status: 'error', message: `read error: ${(e as Error).message}`}
    }
  } finally {
    await reader.close().catch(() => {})
  }
  let issues = toIssues(fx.findings)
  const notes = fx.notes.map((n) => n)
  if (issues.length > MAX_ISSUES_PER_FILE) {
    notes.push(`${item.rel}: ${issues.length} issues, first ${MAX_ISSUES_PER_FILE} listed`)
    issues = issues.slice(0, MAX_ISSUES_PER_FILE)
  }
  const formats = fx.formats.length ? fx.formats : out.status === 'skipped' && out.notModel ? ['not_model'] : []
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
  for (const inc of fx.incomplete.slice(0, 10)) notes.push(`${item.rel}: not analysed: ${inc}`)
  if (fx.incompleteTotal > 10) notes.push(`${item.rel}: ${fx.incompleteTotal - 10} more part(s) not analysed`)
  return {data, notes}
}

/** Scan a file or directory. Rejects with ScanAborted when `signal` aborts. */
export async function scanPath(target: string, options: ScanOptions = {}): Promise<ScanReport> {
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

  const results = new Array<FileScanData | undefined>(items.length)
  const conc = Math.max(1, Math.min(options.concurrency ?? Math.min(8, Math.max(2, availableParallelism() * 2)), 64))
  let next = 0
  const worker = async (): Promise<void> => {
    for (;;) {
      if (options.signal?.aborted) throw new ScanAborted()
      const i = next++
      if (i >= items.length) return
      const it = items[i]
      report(it.rel)
      const {data, notes: n} = await scanFile(it, rootReal, options, (b) => { progress.bytesDone += b; report(it.rel) })
      results[i] = data
      for (const x of n) if (notes.length < 1000) notes.push(x)
      progress.filesDone++
      report(it.rel)
    }
  }
  await Promise.all(Array.from({length: Math.min(conc, Math.max(1, items.length))}, worker))

  const all = results as FileScanData[]
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
