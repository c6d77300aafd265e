/**
 * Per-file analysis: identify by content (extension only breaks ties), dispatch to the format
 * analysers, recurse into containers within budgets, and map findings onto PAIT threat codes.
 */
import {basename, dirname, extname, isAbsolute, relative, resolve} from 'node:path'
import {realpath} from 'node:fs/promises'
import type {ThreatCategory} from '../airs/enums.js'
import {ArchiveError, BombError, type Budget, decompress, decompressZipLzma, DecoderLimit, isTarHeader, iterTar, linkEscapes, readZipDirectory, slipReason,
  type StreamCodec, type TarEntry, zipMemberReader} from './archive.js'
import {analyzeGguf, analyzeKerasConfig, checkTemplate, findH5ModelConfig, liteRtOps, looksOnnx, looksSafetensors, onnxInfo,
  readNpyHeader, type RawIssue, TF_EXEC_OPS, TF_READ_OPS, tfOps, validateSafetensors} from './formats.js'
import {Cursor, type Reader, SliceReader, Truncated} from './io.js'
import {findHdf5Superblock, Hdf5Error, readHdf5RootAttributes} from './hdf5.js'
import {analyzePickleStream, dtypeItemSize, type PickleResult} from './pickle.js'
import {classifyGlobal} from './policy.js'

export interface Finding {
  threat: ThreatCategory | null
  description: string
  source: string
  module?: string | null
  operator?: string | null
}

export type Family = 'pickle' | 'pytorch' | 'joblib' | 'torchscript'

export type Outcome =
  | {status: 'scanned'}
  | {status: 'skipped'; reason: string; notModel?: boolean}
  | {status: 'error'; message: string}

export const LIMITS = {
  maxDepth: 6,
  maxEntries: 100_000,
  maxExpandedBytes: 8 * 1024 ** 3,
  maxRatio: 200,
  ratioFloor: 64 << 20,
  maxJsonBytes: 64 << 20,
}

export interface FileCtx {
  findings: Finding[]
  formats: string[]
  /** Parts that could not be analysed (first 50 kept; incompleteTotal counts all). */
  incomplete: string[]
  incompleteTotal: number
  /** Decompression bombs found so far: after the first, nothing else in the file is decompressed. */
  bombs: number
  notes: string[]
  budget: Budget
  entries: number
  /** Absolute path of the top-level file (for ONNX external-data checks) and the scan root. */
  absPath: string
  rootDir: string
  signal?: AbortSignal
}

export function newFileCtx(absPath: string, rootDir: string, signal?: AbortSignal): FileCtx {
  return {
    findings: [], formats: [], incomplete: [], incompleteTotal: 0, bombs: 0, notes: [], entries: 0, absPath, rootDir, signal,
    budget: {remainingBytes: LIMITS.maxExpandedBytes, maxRatio: LIMITS.maxRatio, ratioFloor: LIMITS.ratioFloor},
  }
}

interface AOpts { family?: Family; addFormat?: boolean; storage?: boolean; topLevel?: boolean }

const PICKLE_EXT = new Set(['.pkl', '.pickle', '.joblib', '.dill', '.pt', '.pth', '.ckpt', '.p', '.sav', '.pck', '.pcl'])
const PROTO01_START = new Set([0x28, 0x63, 0x5d, 0x7d, 0x29, 0x4e, 0x49, 0x4b, 0x4a, 0x53, 0x56, 0x58, 0x55, 0x69, 0x46, 0x4c, 0x47, 0x54])
const TORCH_LEGACY_MAGIC = Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19])

export function addIncomplete(fx: FileCtx, msg: string): void {
  fx.incompleteTotal++
  if (fx.incomplete.length < 50) fx.incomplete.push(msg)
}

function addFormat(fx: FileCtx, f: string, on = true): void {
  if (on && !fx.formats.includes(f) && fx.formats.length < 20) fx.formats.push(f)
}

function codeFor(family: Family, malicious: boolean): ThreatCategory {
  switch (family) {
    case 'pytorch': return malicious ? 'PAIT-PYTCH-100' : 'PAIT-PYTCH-101'
    case 'joblib': return malicious ? 'PAIT-JOBLIB-100' : 'PAIT-JOBLIB-101'
    case 'torchscript': return malicious ? 'PAIT-TCHST-300' : 'PAIT-TCHST-301'
    default: return malicious ? 'PAIT-PKL-100' : 'PAIT-PKL-101'
  }
}

function push(fx: FileCtx, source: string, i: RawIssue): void {
  fx.findings.push({threat: i.threat, description: i.description, source, module: i.module ?? null, operator: i.operator ?? null})
}

function lowerExt(name: string): string { return extname(name).toLowerCase() }

/** Analyse a member/nested stream and record what could not be scanned. */
async function analyzeChild(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts): Promise<void> {
  if (depth > LIMITS.maxDepth) { addIncomplete(fx, `${src}: nesting deeper than ${LIMITS.maxDepth} levels not followed`); return }
  let out: Outcome
  try {
    out = await analyze(r, src, name, depth, fx, o)
  } catch (e) {
    if (fx.signal?.aborted) throw e
    out = errorOutcome(e, src, fx)
  }
  if (out.status === 'skipped' && !out.notModel) addIncomplete(fx, `${src}: ${out.reason}`)
  if (out.status === 'error') addIncomplete(fx, `${src}: ${out.message}`)
}

function errorOutcome(e: unknown, src: string, fx: FileCtx): Outcome {
  if (e instanceof BombError) {
    fx.findings.push({threat: null, source: src, module: 'archive', operator: 'decompression',
      description: `decompression bomb not followed: ${e.message}`})
    return {status: 'scanned'}
  }
  return {status: 'error', message: (e as Error).message || String(e)}
}

export async function analyze(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts = {}): Promise<Outcome> {
  const fmtOn = o.addFormat !== false
  if (r.size === 0) return {status: 'skipped', reason: 'empty file', notModel: true}
  const head = Buffer.from(await r.read(0, Math.min(r.size, 1024)))
  const ext = lowerExt(name)
  const base = basename(name).toLowerCase()
  const b0 = head[0]
  const b1 = head.length > 1 ? head[1] : -1

  // ---- archives and compressed streams
  if (b0 === 0x50 && b1 === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))) {
    return scanZip(r, src, name, depth, fx, o)
  }
  if (b0 === 0x1f && b1 === 0x8b) return scanCompressed(r, src, name, depth, fx, o, 'gzip', 'gzip')
  if (head.length >= 10 && head.subarray(0, 3).toString('latin1') === 'BZh' && head.subarray(4, 10).equals(Buffer.from([0x31, 0x41, 0x59, 0x26, 0x53, 0x59]))) {
    return scanCompressed(r, src, name, depth, fx, o, 'bzip2', 'bzip2')
  }
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    return scanCompressed(r, src, name, depth, fx, o, 'xz', 'xz')
  }
  if (head.length >= 4 && head.readUInt32LE(0) === 0x184d2204) {
    addFormat(fx, 'lz4', fmtOn)
    return {status: 'skipped', reason: 'decoder unavailable: lz4'}
  }
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]))) {
    addFormat(fx, '7_zip', fmtOn)
    return {status: 'skipped', reason: 'decoder unavailable: 7z'}
  }
  if (b0 === 0x5d && b1 === 0 && head[2] === 0 && (ext === '.lzma' || ext === '.xz' || ext === '.joblib')) {
    return scanCompressed(r, src, name, depth, fx, o, 'lzma', 'lzma')
  }
  if (isTarHeader(head.length >= 512 ? head.subarray(0, 512) : Buffer.alloc(0))) return scanTar(r, src, name, depth, fx, o)

  // ---- pure-data / model formats with magic
  if (head.length >= 6 && head.subarray(0, 6).toString('latin1') === '\x93NUMPY') return scanNpy(r, src, name, depth, fx, o)
  if (head.length >= 8 && head.subarray(0, 4).toString('latin1') === 'GGUF') return scanGguf(r, src, fx, fmtOn)
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))) return scanH5(r, src, fx, fmtOn)
  // an HDF5 file with a user block: the superblock sits at 512, 1024, 2048, ... (h5py/Keras open it there)
  if ((ext === '.h5' || ext === '.hdf5' || ext === '.he5') && r.size >= 520 && (await findHdf5Superblock(r)) > 0) return scanH5(r, src, fx, fmtOn)
  if (head.length >= 8 && head.subarray(4, 8).toString('latin1') === 'TFL3') return scanLiteRt(r, src, fx, fmtOn)
  if (b0 === 0x80 && b1 >= 2 && b1 <= 5) {
    const legacy = head.length >= TORCH_LEGACY_MAGIC.length && head.subarray(0, TORCH_LEGACY_MAGIC.length).equals(TORCH_LEGACY_MAGIC)
    const out = await scanPickle(r, src, name, depth, fx, {...o, family: legacy ? 'pytorch' : o.family}, legacy ? 'pytorch_v0_1_10' : undefined, true)
    if (!o.storage) await scanPolyglotZip(r, src, name, depth, fx, o)
    return out
  }
  if (b0 === 0x78 && (b0 * 256 + b1) % 31 === 0 && [0x01, 0x5e, 0x9c, 0xda].includes(b1)) {
    return scanCompressed(r, src, name, depth, fx, o, 'zlib', 'zlib')
  }
  if (looksSafetensors(head, r.size)) return scanSafetensors(r, src, fx, fmtOn)
  if (ext === '.onnx' || (looksOnnx(head) && !o.storage)) {
    const out = await scanOnnx(r, src, fx, fmtOn, ext === '.onnx')
    if (out) return out
  }
  if (base === 'saved_model.pb' || ext === '.pb' || ext === '.pbtxt') {
    if (base === 'keras_metadata.pb') return scanKerasMetadata(r, src, fx, fmtOn)
    if (ext !== '.pbtxt') return scanTf(r, src, fx, fmtOn, base !== 'saved_model.pb')
  }

  // ---- text formats
  const firstNonWs = head.toString('latin1').trimStart()[0]
  if (firstNonWs === '{' || (firstNonWs === '[' && ext === '.json') || ext === '.json') {
    const out = await scanJson(r, src, name, fx, fmtOn)
    if (out) return out
  }
  if (ext === '.yaml' || ext === '.yml') {
    addFormat(fx, 'yaml', fmtOn)
    if (r.size <= LIMITS.maxJsonBytes) checkHydraTargets((await r.read(0, r.size)).toString('utf8'), src, fx)
    else addIncomplete(fx, `${src}: YAML larger than ${LIMITS.maxJsonBytes} bytes not examined`)
    return {status: 'scanned'}
  }

  // ---- protocol 0/1 pickles have no magic: a tentative parse decides
  if (PROTO01_START.has(b0)) {
    return scanPickle(r, src, name, depth, fx, o, undefined, false)
  }
  return {status: 'skipped', reason: 'not a model file', notModel: true}
}

async function scanPickle(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts, format: string | undefined,
  strongMagic: boolean, start = 0): Promise<Outcome> {
  const ext = lowerExt(name)
  let family: Family = o.family ?? (ext === '.joblib' ? 'joblib' : 'pickle')
  const res: PickleResult = await analyzePickleStream(new Cursor(r, start), {
    onNested: async (nr, label) => {
      await analyzeChild(nr, `${src}:${label}`, label, depth + 1, fx, {family, addFormat: false})
    },
  })
  if (!o.family && res.sawJoblib) family = 'joblib'
  const pickleName = PICKLE_EXT.has(ext) || /(^|\/)(data|constants)\.pkl$/.test(name)
  if (res.findings.length === 0 && res.pickles === 0 && (o.storage || !(strongMagic || pickleName))) {
    return {status: 'skipped', reason: 'not a model file', notModel: true}
  }
  addFormat(fx, format ?? (family === 'joblib' ? 'joblib' : 'pickle'), o.addFormat !== false)
  for (const f of res.findings) {
    fx.findings.push({
      threat: codeFor(family, f.malicious), source: src, module: f.module, operator: f.operator,
      description: `${f.description} [${f.severity}; offset ${f.offset}]`,
    })
  }
  for (const n of res.notes) fx.notes.push(`${src}: ${n}`)
  if (res.error && res.findings.length === 0) {
    return {status: 'error', message: res.error}
  }
  if (res.error) fx.notes.push(`${src}: ${res.error}`)
  return {status: 'scanned'}
}

/**
 * A pickle can also be a valid zip (end-of-central-directory near the end): loaders that use Python's
 * zipfile (is_zipfile looks anywhere) would open it as an archive, so its members are scanned too.
 */
async function scanPolyglotZip(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts): Promise<void> {
  if (r.size < 22 || depth >= LIMITS.maxDepth) return
  const tailLen = Math.min(r.size, 65557)
  const tail = await r.read(r.size - tailLen, tailLen)
  if (tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])) < 0) return
  try { await readZipDirectory(r, 16) } catch { return }
  fx.notes.push(`${src}: also a valid zip archive (polyglot); its members were scanned too`)
  fx.findings.push({threat: null, source: src, module: 'zip', operator: 'polyglot',
    description: 'file is both a pickle and a zip archive (polyglot): different loaders read different contents'})
  await scanZip(r, src, name, depth, fx, {...o, addFormat: false})
}

async function scanCompressed(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts, codec: StreamCodec, format: string): Promise<Outcome> {
  if (depth >= LIMITS.maxDepth) return {status: 'skipped', reason: `nesting deeper than ${LIMITS.maxDepth} levels not followed`}
  if (fx.bombs > 0) {
    addFormat(fx, format, o.addFormat !== false)
    return {status: 'skipped', reason: 'not decompressed: a decompression bomb was already found in this file'}
  }
  let d
  try {
    d = await decompress(r, codec, fx.budget, fx.signal)
  } catch (e) {
    if (e instanceof BombError) {
      fx.bombs++
      addFormat(fx, format, o.addFormat !== false)
      fx.findings.push({threat: null, source: src, module: format, operator: 'decompression', description: `decompression bomb not followed: ${e.message}`})
      return {status: 'scanned'}
    }
    if (e instanceof DecoderLimit) {
      addFormat(fx, format, o.addFormat !== false)
      return {status: 'skipped', reason: e.message}
    }
    if (e instanceof ArchiveError) {
      if (codec === 'zlib' && !o.topLevel) return {status: 'skipped', reason: 'not a model file', notModel: true}
      return {status: 'error', message: e.message}
    }
    throw e
  }
  addFormat(fx, format, o.addFormat !== false)
  try {
    let inner = name.replace(/\.(gz|gzip|z|zlib|tgz|bz2|tbz2?|xz|txz|lzma)$/i, (m) => (/^\.t/i.test(m) ? '.tar' : ''))
    if (inner === name) inner = name + '.inner'
    const famHint: AOpts = {...o, topLevel: false}
    if (lowerExt(name) === '.joblib' || /\.joblib\./i.test(name)) famHint.family = 'joblib'
    const out = await analyze(d.reader, src, inner, depth + 1, fx, famHint)
    if (out.status === 'skipped' && out.notModel) return {status: 'skipped', reason: `${format} stream holds no model file`, notModel: true}
    return out
  } finally {
    await d.cleanup()
  }
}

async function scanZip(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts): Promise<Outcome> {
  const fmtOn = o.addFormat !== false
  let listing
  try {
    listing = await readZipDirectory(r, LIMITS.maxEntries - fx.entries)
  } catch (e) {
    if (e instanceof BombError) {
      addFormat(fx, 'zip', fmtOn)
      fx.findings.push({threat: null, source: src, module: 'zip', operator: 'entries', description: `zip bomb not followed: ${e.message}`})
      return {status: 'scanned'}
    }
    return {status: 'error', message: `unreadable zip: ${(e as Error).message}`}
  }
  const entries = listing.entries
  fx.entries += entries.length
  const names = entries.map((e) => e.name)
  const isKeras = names.includes('config.json') && (names.includes('metadata.json') || names.includes('model.weights.h5'))
  const isTorchScript = names.some((n) => /(^|\/)code\/.*\.py$/.test(n) || /(^|\/)constants\.pkl$/.test(n))
  const isTorch = !isTorchScript && names.some((n) => /(^|\/)data\.pkl$/.test(n) || (/(^|\/)version$/.test(n) && names.some((m) => /(^|\/)data\/[^/]+$/.test(m))))
  const isNpz = entries.length > 0 && names.every((n) => n.endsWith('.npy') || n.endsWith('/'))
  let family: Family | undefined = o.family
  let fmt = 'zip'
  if (isKeras) fmt = 'keras3'
  else if (isTorchScript) { fmt = 'pytorch_torch_script'; family = 'torchscript' } else if (isTorch) { fmt = 'pytorch_v1_13'; family = 'pytorch' } else if (isNpz) fmt = 'numpy_zip'
  if (fmt === 'zip' && lowerExt(name) === '.nemo') fmt = 'nemo'
  addFormat(fx, fmt, fmtOn)
  const childFormats = fmt === 'zip' || fmt === 'nemo' ? fmtOn : false

  for (const p of listing.problems) fx.notes.push(`${src}: ${p}`)
  const headerProblems: string[] = []
  const seenNames = new Map<string, number>()
  const seenData = new Map<number, string>()
  for (const e of entries) {
    const slip = slipReason(e.name)
    if (slip) {
      fx.findings.push({threat: 'PAIT-ARV-100', source: `${src}:${e.name}`, module: 'zip', operator: 'path_traversal',
        description: `zip entry ${JSON.stringify(e.name)} ${slip} and would be written outside the extraction directory`})
    }
    seenNames.set(e.name, (seenNames.get(e.name) ?? 0) + 1)
    if (e.problems.length) headerProblems.push(`${e.name}: ${e.problems.join('; ')}`)
    if (e.dataOffset >= 0 && e.compSize > 0) {
      const prev = seenData.get(e.dataOffset)
      if (prev !== undefined) {
        fx.findings.push({threat: null, source: `${src}:${e.name}`, module: 'zip', operator: 'overlapping_entries',
          description: `zip entry ${JSON.stringify(e.name)} reuses the compressed data of ${JSON.stringify(prev)} (overlapping entries, a non-recursive zip bomb technique); not followed`})
        e.dataOffset = -2
      } else seenData.set(e.dataOffset, e.name)
    }
  }
  const dups = [...seenNames].filter(([, n]) => n > 1).map(([k]) => k)
  if (dups.length) {
    fx.findings.push({threat: null, source: src, module: 'zip', operator: 'duplicate_entries',
      description: `zip has duplicate entry names (${dups.slice(0, 5).map((d) => JSON.stringify(d)).join(', ')}); different readers load different members. All copies were scanned`})
  }
  if (headerProblems.length) {
    fx.findings.push({threat: null, source: src, module: 'zip', operator: 'header_mismatch',
      description: clipText(`local and central zip headers disagree (a scanner-evasion technique): ${headerProblems.slice(0, 5).join(' | ')}`)})
  }

  for (const e of entries) {
    if (fx.signal?.aborted) throw new Error('scan aborted')
    if (e.name.endsWith('/') || e.dataOffset < 0) continue
    const msrc = `${src}:${e.name}`
    if (e.flags & 1) { addIncomplete(fx, `${msrc}: encrypted member not scanned`); continue }
    const storage = (family === 'pytorch' || family === 'torchscript') && /(^|\/)data\/[^/]+$/.test(e.name)
    let mr: Reader
    let cleanup: (() => Promise<void>) | null = null
    if (e.method === 0) {
      mr = zipMemberReader(r, e)
    } else if (e.method === 8 || e.method === 12 || e.method === 14 || e.method === 95) {
      if (e.size > fx.budget.remainingBytes) {
        fx.findings.push({threat: null, source: msrc, module: 'zip', operator: 'decompression',
          description: `zip member declares ${e.size} bytes, beyond the remaining expansion budget; not followed`})
        continue
      }
      if (fx.bombs > 0) { addIncomplete(fx, `${msrc}: not decompressed (a decompression bomb was already found in this file)`); continue }
      try {
        const d = e.method === 14 ? await decompressZipLzma(zipMemberReader(r, e), e.size, (e.flags & 2) !== 0, fx.budget)
          : await decompress(zipMemberReader(r, e), e.method === 12 ? 'bzip2' : e.method === 95 ? 'xz' : 'deflate-raw', fx.budget, fx.signal)
        mr = d.reader; cleanup = d.cleanup
      } catch (err) {
        if (err instanceof BombError) {
          fx.bombs++
          fx.findings.push({threat: null, source: msrc, module: 'zip', operator: 'decompression', description: `zip bomb member not followed: ${err.message}`})
        } else addIncomplete(fx, `${msrc}: ${(err as Error).message}`)
        continue
      }
    } else {
      const names: Record<number, string> = {9: 'deflate64', 12: 'bzip2', 14: 'lzma', 93: 'zstd', 95: 'xz', 98: 'ppmd'}
      addIncomplete(fx, `${msrc}: decoder unavailable: zip method ${e.method}${names[e.method] ? ` (${names[e.method]})` : ''}`)
      continue
    }
    try {
      if (isKeras && e.name === 'config.json') {
        await scanKerasJson(mr, msrc, fx)
      } else if (family === 'torchscript' && /(^|\/)code\/.*\.py$/.test(e.name)) {
        await scanTorchScriptCode(mr, msrc, fx)
      } else {
        await analyzeChild(mr, msrc, e.name, depth + 1, fx, {family, addFormat: childFormats, storage})
      }
    } finally {
      if (cleanup) await cleanup()
    }
  }
  return {status: 'scanned'}
}

async function scanTar(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts): Promise<Outcome> {
  const fmtOn = o.addFormat !== false
  const entries: TarEntry[] = []
  try {
    for await (const e of iterTar(r, LIMITS.maxEntries - fx.entries)) entries.push(e)
  } catch (e) {
    if (e instanceof BombError) {
      addFormat(fx, 'tar', fmtOn)
      fx.findings.push({threat: null, source: src, module: 'tar', operator: 'entries', description: `tar bomb not followed: ${e.message}`})
      return {status: 'scanned'}
    }
    if (!entries.length) return {status: 'error', message: `unreadable tar: ${(e as Error).message}`}
    fx.notes.push(`${src}: ${(e as Error).message}`)
    addIncomplete(fx, `${src}: tar is damaged after ${entries.length} entries (${(e as Error).message})`)
  }
  fx.entries += entries.length
  const names = new Set(entries.map((e) => e.name.replace(/^\.\//, '')))
  const legacyTorch = names.has('pickle') && names.has('storages') && names.has('sys_info')
  addFormat(fx, legacyTorch ? 'pytorch_v0_1_1' : 'tar', fmtOn)
  const family: Family | undefined = legacyTorch ? 'pytorch' : o.family
  for (const e of entries) {
    const msrc = `${src}:${e.name}`
    const slip = slipReason(e.name)
    if (slip) {
      fx.findings.push({threat: 'PAIT-ARV-100', source: msrc, module: 'tar', operator: 'path_traversal',
        description: `tar entry ${JSON.stringify(e.name)} ${slip} and would be written outside the extraction directory`})
    }
    if (e.type === '1' || e.type === '2') {
      if (linkEscapes(e.name, e.linkname)) {
        fx.findings.push({threat: 'PAIT-ARV-100', source: msrc, module: 'tar', operator: e.type === '2' ? 'symlink' : 'hardlink',
          description: `tar ${e.type === '2' ? 'symlink' : 'hard link'} ${JSON.stringify(e.name)} points outside the extraction directory (${JSON.stringify(e.linkname)})`})
      }
      continue
    }
    if (e.type === '3' || e.type === '4' || e.type === '6') {
      fx.findings.push({threat: 'PAIT-ARV-100', source: msrc, module: 'tar', operator: 'device',
        description: `tar entry ${JSON.stringify(e.name)} is a device or FIFO node`})
      continue
    }
    if (!(e.type === '0' || e.type === '7' || e.type === '\0')) continue
    await analyzeChild(new SliceReader(r, e.dataOffset, e.size), msrc, e.name, depth + 1, fx,
      {family, addFormat: legacyTorch ? false : fmtOn, storage: legacyTorch && e.name.replace(/^\.\//, '') === 'storages'})
  }
  return {status: 'scanned'}
}

async function scanNpy(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts): Promise<Outcome> {
  addFormat(fx, 'numpy', o.addFormat !== false)
  let h
  try { h = await readNpyHeader(r) } catch (e) { return {status: 'error', message: `invalid npy header: ${(e as Error).message}`} }
  if (h.object) {
    const out = await scanPickle(r, src, name, depth, fx, {...o, addFormat: false, family: o.family ?? 'pickle'}, undefined, true, h.dataOffset)
    return out.status === 'skipped' ? {status: 'error', message: 'object array data is not a readable pickle'} : out
  }
  const simple = /^'([<>|=]?[a-zA-Z]\d*)'$/.exec(h.descr)
  if (simple && h.shape && h.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    const item = dtypeItemSize(simple[1])
    if (item !== undefined && item > 0) {
      const want = h.shape.reduce((a, b) => a * b, 1) * item
      const have = r.size - h.dataOffset
      if (want !== have) {
        fx.findings.push({threat: null, source: src, module: 'numpy', operator: 'header',
          description: `npy header describes ${want} data bytes (${h.descr}, shape (${h.shape.join(', ')})) but the file holds ${have}`})
      }
    }
  }
  return {status: 'scanned'}
}

async function scanGguf(r: Reader, src: string, fx: FileCtx, fmtOn: boolean): Promise<Outcome> {
  addFormat(fx, 'gguf', fmtOn)
  const g = await analyzeGguf(r)
  if (g.problems.length) {
    fx.findings.push({threat: null, source: src, module: 'gguf', operator: 'header',
      description: clipText(`GGUF structure is invalid (a loader-crash / heap-overflow vector): ${g.problems.slice(0, 8).join('; ')}`)})
  }
  for (const t of g.templates) {
    const hit = checkTemplate(t.text)
    if (hit) {
      fx.findings.push({threat: hit.threat, source: src, module: 'gguf', operator: t.key,
        description: `chat template ${t.key} ${hit.threat === 'PAIT-GGUF-101' ? 'reaches Python internals (template injection)' : 'contains suspicious constructs'}: ${hit.markers.join(', ')}`})
    }
  }
  return {status: 'scanned'}
}

async function scanSafetensors(r: Reader, src: string, fx: FileCtx, fmtOn: boolean): Promise<Outcome> {
  addFormat(fx, 'safetensors', fmtOn)
  const hl = await r.read(0, 8)
  const n = hl.readUInt32LE(0) + hl.readUInt32LE(4) * 0x100000000
  if (n > 32 << 20 && n <= 100_000_000) {
    // valid per the format, but parsing it would cost hundreds of MB: say so instead of guessing
    return {status: 'skipped', reason: `safetensors header of ${n} bytes (over 32 MB) not validated`}
  }
  const problems = await validateSafetensors(r)
  if (problems.length) {
    fx.findings.push({threat: null, source: src, module: 'safetensors', operator: 'header',
      description: clipText(`safetensors header is invalid: ${problems.slice(0, 8).join('; ')}`)})
  }
  return {status: 'scanned'}
}

async function scanH5(r: Reader, src: string, fx: FileCtx, fmtOn: boolean): Promise<Outcome> {
  // 1. the HDF5 reader: the root group's model_config attribute, i.e. what Keras actually loads
  let readerFailure: string
  try {
    const info = await readHdf5RootAttributes(r, {maxValueBytes: LIMITS.maxJsonBytes})
    const cfgAttrs = info.attributes.filter((a) => a.name === 'model_config')
    const docs: unknown[] = []
    const bad: string[] = []
    for (const a of cfgAttrs) {
      if (a.value === null) { bad.push(a.problem ?? 'value not readable'); continue }
      try { docs.push(JSON.parse(a.value)) } catch (e) { bad.push(`value is not valid JSON (${(e as Error).message})`) }
    }
    if (docs.length) {
      addFormat(fx, 'keras_legacy_h5', fmtOn)
      const ver = info.attributes.find((a) => a.name === 'keras_version')?.value
      const backend = info.attributes.find((a) => a.name === 'backend')?.value
      fx.notes.push(`${src}: model_config read from the HDF5 root group attributes (superblock v${info.superblockVersion}, object header v${info.objectHeaderVersion}` +
        `${ver ? `, keras_version ${clipText(ver, 40)}` : ''}${backend ? `, backend ${clipText(backend, 40)}` : ''})`)
      if (cfgAttrs.length > 1) fx.notes.push(`${src}: ${cfgAttrs.length} model_config attributes on the root group; all were analysed`)
      for (const p of info.problems) fx.notes.push(`${src}: HDF5: ${p}`)
      if (bad.length) {
        // another model_config attribute could not be read: add whatever the byte search finds as well
        fx.notes.push(`${src}: a model_config attribute could not be read (${bad[0]}); byte search results added`)
        docs.push(...(await findH5ModelConfig(r)).configs)
      }
      analyzeH5Configs(docs, src, fx)
      return {status: 'scanned'}
    }
    if (bad.length) readerFailure = `HDF5 reader: model_config attribute ${bad[0]}`
    else if (info.denseAttributes) readerFailure = 'HDF5 reader: unsupported: dense attribute storage (fractal heap)'
    else if (info.problems.length) readerFailure = `HDF5 reader: no model_config attribute on the root group (${info.problems[0]})`
    else {
      // The root group was read completely and has no model_config: a weights-only file. The byte
      // search still runs below in case the reader missed something, but only to add findings.
      readerFailure = ''
    }
  } catch (e) {
    if (!(e instanceof Hdf5Error)) throw e
    readerFailure = `HDF5 reader failed at ${e.message}`
  }

  // 2. fallback: search the bytes for contiguous model_config JSON
  const {configs, mentioned} = await findH5ModelConfig(r)
  if (configs.length) {
    addFormat(fx, 'keras_legacy_h5', fmtOn)
    fx.notes.push(`${src}: ${readerFailure || 'HDF5 reader: no model_config attribute on the root group'}; model_config JSON located by byte search instead`)
    analyzeH5Configs(configs, src, fx)
    return {status: 'scanned'}
  }
  if (mentioned) {
    addFormat(fx, 'keras_legacy_h5', fmtOn)
    return {status: 'skipped', reason: `HDF5 model_config could not be read: ${readerFailure || 'HDF5 reader: no model_config attribute on the root group'}; byte search found no contiguous model_config JSON`}
  }
  if (readerFailure) fx.notes.push(`${src}: ${readerFailure}; the file does not mention model_config, treated as weights`)
  addFormat(fx, 'keras_weights', fmtOn)
  return {status: 'scanned'}
}

function analyzeH5Configs(configs: unknown[], src: string, fx: FileCtx): void {
  const seen = new Set<string>()
  for (const config of configs) {
    for (const i of analyzeKerasConfig(config)) {
      const k = `${i.threat}|${i.operator}|${i.description}`
      if (!seen.has(k)) { seen.add(k); push(fx, src, i) }
    }
  }
}

async function scanKerasJson(r: Reader, src: string, fx: FileCtx): Promise<void> {
  if (r.size > LIMITS.maxJsonBytes) { addIncomplete(fx, `${src}: config larger than ${LIMITS.maxJsonBytes} bytes not parsed`); return }
  let doc: unknown
  try { doc = JSON.parse((await r.read(0, r.size)).toString('utf8')) } catch (e) { addIncomplete(fx, `${src}: invalid JSON (${(e as Error).message})`); return }
  for (const i of analyzeKerasConfig(doc)) push(fx, src, i)
}

async function scanKerasMetadata(r: Reader, src: string, fx: FileCtx, fmtOn: boolean): Promise<Outcome> {
  addFormat(fx, 'keras_metadata', fmtOn)
  if (r.size > LIMITS.maxJsonBytes) return {status: 'skipped', reason: 'keras_metadata.pb larger than 64 MB not parsed'}
  const text = (await r.read(0, r.size)).toString('latin1')
  const re = /\{"class_name":\s*"(Lambda|TFOpLambda)"/g
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let json: unknown = null
    let depth = 0
    for (let i = m.index; i < text.length && i < m.index + (8 << 20); i++) {
      const ch = text[i]
      if (ch === '{') depth++
      else if (ch === '}') { depth--; if (depth === 0) { try { json = JSON.parse(text.slice(m.index, i + 1)) } catch { /* */ } break } }
      else if (ch === '"') { i++; while (i < text.length && text[i] !== '"') { if (text[i] === '\\') i++; i++ } }
    }
    for (const i of analyzeKerasConfig(json ?? {class_name: m[1], config: {}})) push(fx, src, i)
  }
  return {status: 'scanned'}
}

/** TFLite builtin code 32 = CUSTOM; Flex ops carry a TensorFlow op name ("FlexReadFile"). */
async function scanLiteRt(r: Reader, src: string, fx: FileCtx, fmtOn: boolean): Promise<Outcome> {
  addFormat(fx, 'litert', fmtOn)
  let ops
  try { ops = await liteRtOps(r) } catch (e) { return {status: 'error', message: `invalid LiteRT flatbuffer: ${(e as Error).message}`} }
  const seen = new Set<string>()
  for (const op of ops) {
    if (op.builtin !== 32 && op.custom === null) continue
    const name = op.custom ?? '<unnamed custom op>'
    if (seen.has(name)) continue
    seen.add(name)
    const tfName = name.startsWith('Flex') ? name.slice(4) : name
    if (TF_EXEC_OPS.has(tfName)) {
      fx.findings.push({threat: 'PAIT-LITERT-301', source: src, module: 'litert', operator: name,
        description: `model uses the operator ${name}, which ${tfName === 'WriteFile' ? 'writes arbitrary files' : 'runs host code'} at inference`})
    } else if (TF_READ_OPS.has(tfName)) {
      fx.findings.push({threat: 'PAIT-LITERT-302', source: src, module: 'litert', operator: name,
        description: `model uses the file-reading operator ${name}`})
    } else if (!name.startsWith('Flex')) {
      fx.findings.push({threat: 'PAIT-LITERT-300', source: src, module: 'litert', operator: name,
        description: `model uses the custom operator ${name}, which is not a LiteRT builtin and needs native code from the loading environment`})
    }
  }
  return {status: 'scanned'}
}

async function scanTf(r: Reader, src: string, fx: FileCtx, fmtOn: boolean, graphDefOnly: boolean): Promise<Outcome> {
  let ops: Set<string>
  try {
    ops = await tfOps(r, false)
    if (ops.size === 0 && graphDefOnly) ops = await tfOps(r, true)
  } catch (e) {
    if (graphDefOnly) {
      try { ops = await tfOps(r, true) } catch { return {status: 'skipped', reason: 'not a model file', notModel: true} }
    } else return {status: 'error', message: `invalid SavedModel protobuf: ${(e as Error).message}`}
  }
  if (graphDefOnly && ops.size === 0) return {status: 'skipped', reason: 'not a model file', notModel: true}
  addFormat(fx, 'tensorflow', fmtOn)
  for (const op of ops) {
    if (TF_EXEC_OPS.has(op)) {
      fx.findings.push({threat: 'PAIT-TF-301', source: src, module: 'tensorflow', operator: op,
        description: `graph uses the operator ${op}, which ${op === 'WriteFile' ? 'writes arbitrary files' : 'runs host code'} when the model executes`})
    } else if (TF_READ_OPS.has(op)) {
      fx.findings.push({threat: 'PAIT-TF-302', source: src, module: 'tensorflow', operator: op,
        description: `graph uses the file-reading operator ${op}`})
    }
  }
  return {status: 'scanned'}
}

async function scanOnnx(r: Reader, src: string, fx: FileCtx, fmtOn: boolean, byExt: boolean): Promise<Outcome | null> {
  let info
  try { info = await onnxInfo(r) } catch (e) {
    if (!byExt) return null
    addFormat(fx, 'onnx', fmtOn)
    return {status: 'error', message: `invalid ONNX protobuf: ${(e as Error).message}`}
  }
  if (!byExt && !info.hasGraph) return null
  addFormat(fx, 'onnx', fmtOn)
  for (const op of info.customOps.slice(0, 50)) {
    fx.findings.push({threat: null, source: src, module: op.domain, operator: op.op,
      description: `node ${op.op} uses the custom operator domain ${JSON.stringify(op.domain)}, which needs a native custom-op library${op.op === 'PyOp' ? ' (PyOp runs Python code)' : ''}`})
  }
  const escapes = new Set<string>()
  for (const loc of info.externalLocations) {
    if (escapes.has(loc)) continue
    let why = slipReason(loc)
    if (!why && src === relative(fx.rootDir, fx.absPath).split('\\').join('/')) {
      const target = resolve(dirname(fx.absPath), loc)
      const rel = relative(fx.rootDir, target)
      if (rel.startsWith('..') || isAbsolute(rel)) why = 'resolves outside the scanned directory'
      else {
        try {
          const real = await realpath(target)
          const rr = relative(await realpath(fx.rootDir), real)
          if (rr.startsWith('..') || isAbsolute(rr)) why = `is a symlink to ${real}, outside the scanned directory`
        } catch { fx.notes.push(`${src}: external data file ${loc} not found`) }
      }
    }
    if (why) {
      escapes.add(loc)
      fx.findings.push({threat: null, source: src, module: 'onnx', operator: 'external_data',
        description: `tensor external-data location ${JSON.stringify(loc)} ${why} (arbitrary file read at load)`})
    }
    if (escapes.size > 20) break
  }
  return {status: 'scanned'}
}

async function scanJson(r: Reader, src: string, name: string, fx: FileCtx, fmtOn: boolean): Promise<Outcome | null> {
  const isIndex = /\.safetensors\.index\.json$/i.test(name)
  if (r.size > LIMITS.maxJsonBytes) {
    if (lowerExt(name) !== '.json') return null
    addFormat(fx, isIndex ? 'safetensors_index' : 'json', fmtOn)
    return {status: 'skipped', reason: `JSON larger than ${LIMITS.maxJsonBytes} bytes not parsed`}
  }
  let doc: unknown
  let text = ''
  try {
    text = (await r.read(0, r.size)).toString('utf8')
    doc = JSON.parse(text)
  } catch (e) {
    if (lowerExt(name) !== '.json') return null
    addFormat(fx, 'json', fmtOn)
    return {status: 'skipped', reason: `not parsed: invalid JSON (${(e as Error).message})`}
  }
  addFormat(fx, isIndex ? 'safetensors_index' : 'json', fmtOn)
  checkHydraTargets(text, src, fx)
  if (doc && typeof doc === 'object' && !Array.isArray(doc) && 'class_name' in doc) {
    for (const i of analyzeKerasConfig(doc)) push(fx, src, i)
  }
  if (isIndex && doc && typeof doc === 'object') {
    const wm = (doc as {weight_map?: Record<string, unknown>}).weight_map
    if (wm && typeof wm === 'object') {
      for (const v of new Set(Object.values(wm))) {
        if (typeof v === 'string' && slipReason(v)) {
          fx.findings.push({threat: null, source: src, module: 'safetensors_index', operator: 'weight_map',
            description: `weight_map points outside the model directory: ${JSON.stringify(v)}`})
        }
      }
    }
  }
  return {status: 'scanned'}
}

/**
 * Hydra/OmegaConf `_target_` entries name a callable that `hydra.utils.instantiate` imports and calls
 * (NeMo and many training configs). Deny-listed targets are reported; others are ordinary classes.
 */
function checkHydraTargets(text: string, src: string, fx: FileCtx): void {
  if (!text.includes('_target_')) return
  const re = /["']?_target_["']?\s*[:=]\s*["']?([A-Za-z_][A-Za-z0-9_.]*)/g
  const seen = new Set<string>()
  for (let m = re.exec(text); m && seen.size < 200; m = re.exec(text)) {
    const target = m[1]
    if (seen.has(target)) continue
    seen.add(target)
    const dot = target.lastIndexOf('.')
    if (dot <= 0) continue
    const v = classifyGlobal(target.slice(0, dot), target.slice(dot + 1))
    if (v.tier === 'deny' && (v.severity === 'critical' || v.severity === 'high')) {
      fx.findings.push({threat: null, source: src, module: target.slice(0, dot), operator: target.slice(dot + 1),
        description: `config _target_ ${target} is instantiated (imported and called) when the config is loaded with Hydra (${v.reason})`})
    }
  }
}

const TS_MAL = /\b(os\s*\.\s*(system|popen|exec\w*|spawn\w*)|subprocess|__import__|builtins\s*\.|eval\s*\(|exec\s*\(|socket\s*\.|urllib|requests\s*\.|open\s*\(\s*["']\/)/
const TS_SUS = /\btorch\s*\.\s*ops\s*\.\s*(?!aten\b|prim\b|quantized\b|_caffe2\b|profiler\b|image\b|torchvision\b|_quantized\b)([A-Za-z_]\w*)/

async function scanTorchScriptCode(r: Reader, src: string, fx: FileCtx): Promise<void> {
  if (r.size > 16 << 20) { addIncomplete(fx, `${src}: TorchScript source larger than 16 MB not examined`); return }
  const text = (await r.read(0, r.size)).toString('utf8')
  const m = TS_MAL.exec(text)
  if (m) {
    fx.findings.push({threat: 'PAIT-TCHST-300', source: src, module: 'torchscript', operator: m[0].replace(/\s+/g, '').slice(0, 100),
      description: `TorchScript code calls ${JSON.stringify(m[0])}, which reaches the host when the model runs`})
    return
  }
  const s = TS_SUS.exec(text)
  if (s) {
    fx.findings.push({threat: 'PAIT-TCHST-301', source: src, module: 'torchscript', operator: `torch.ops.${s[1]}`,
      description: `TorchScript code calls the custom operator namespace torch.ops.${s[1]} (native code from the loading environment)`})
  }
}

function clipText(s: string, n = 4000): string { return s.length > n ? s.slice(0, n - 1) + '…' : s }

export {Truncated}
