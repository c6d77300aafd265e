/**
 * Per-file analysis: identify by content (extension only breaks ties), dispatch to the format
 * analysers, recurse into containers within budgets, and map findings onto PAIT threat codes.
 */
import {basename, dirname, extname, isAbsolute, relative, resolve} from 'node:path'
import {realpath} from 'node:fs/promises'
import type {ThreatCategory} from '../airs/enums.js'
import {ArchiveError, BlockCacheReader, BombError, type Budget, crc32Of, type Decompressed, decompress, decompressBzip2, decompressZipLzma, DecoderLimit, isTarHeader,
  iterTar, linkEscapes, pace, readZipDirectory, slipReason, type StreamCodec, type TarEntry, TimeBudgetError, type ZipEntry, zipMemberReader} from './archive.js'
import {analyzeGguf, analyzeKerasConfig, extractJsonObjects, findH5ModelConfig, GGUF_TEMPLATE_MAX, HOSTILE_BYTES, isMatlab73Header,
  isOnnxModel, liteRtOps, looksOnnx, looksSafetensors, NPY_NUMPY_MAX_HEADER, onnxInfo, parseJoblibZf, readNpyHeader, type RawIssue, sniffDataFormat,
  TF_EXEC_OPS, TF_READ_OPS, tfOps, validateSafetensors, type ZfHeader} from './formats.js'
import {BufferReader, Cursor, type Reader, ScanAborted, SliceReader, Truncated} from './io.js'
import {findHdf5Superblock, Hdf5Error, readHdf5RootAttributes} from './hdf5.js'
import {analyzePickleStream, type PickleBudget, type PickleFinding, newPickleBudget, type PickleResult} from './pickle.js'
import {classifyGlobal} from './policy.js'
import {decodeHidden, findCode, HIDDEN_MAX, looksLikePickle, pickleShape, textBytes} from './hidden.js'
import {decode7zFolder, read7zDirectory, SEVENZIP_SIG, type SevenZipEntry} from './sevenzip.js'
import {ONNX_OP_NOTES, TFLITE_KNOWN_CUSTOM_OPS} from './vendor-ops.js'

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
  /** Nesting of archives, compressed streams and embedded pickles; content deeper than this is an issue. */
  maxDepth: 10,
  maxEntries: 100_000,
  /** Bytes decompression may produce for one top-level file (beyond at a low ratio: not analysed, noted). */
  maxExpandedBytes: 8 * 1024 ** 3,
  /** Expansion ratio, per stream and for the whole file, once 64 MB were produced. */
  maxRatio: 200,
  ratioFloor: 64 << 20,
  /** Expansion ratio for the whole file once 1 GB was produced. */
  maxRatioLarge: 20,
  largeFloor: 1 << 30,
  /** Decoding time per file (pure-JS decoders, small synchronous inflates): 15 s plus 1 s per 20 MB of input. */
  decodeMsBase: 15_000,
  decodeMsPerMB: 50,
  maxJsonBytes: 64 << 20,
}

export interface FileCtx {
  findings: Finding[]
  formats: string[]
  /** Parts that could not be analysed (first 50 kept; incompleteTotal counts all). */
  incomplete: string[]
  incompleteTotal: number
  /** Decompression bombs (or an exhausted time budget) so far: after the first, nothing else in the file is decompressed. */
  bombs: number
  /** Why decompression stopped for the rest of the file (set with the first bomb / exhausted budget). */
  stopReason?: string
  /** Parts not analysed because they nest deeper than LIMITS.maxDepth (reported once as an issue). */
  tooDeep: number
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
    findings: [], formats: [], incomplete: [], incompleteTotal: 0, bombs: 0, tooDeep: 0, notes: [], entries: 0, absPath, rootDir, signal,
    budget: {remainingBytes: LIMITS.maxExpandedBytes, maxRatio: LIMITS.maxRatio, ratioFloor: LIMITS.ratioFloor, maxRatioLarge: LIMITS.maxRatioLarge,
      largeFloor: LIMITS.largeFloor, expanded: 0, decodeMs: 0, signal},
  }
}

interface AOpts {
  family?: Family; addFormat?: boolean; storage?: boolean; topLevel?: boolean
  /** Decoded hidden payloads: findings count only when the bytes parse as a complete pickle. */
  requireComplete?: boolean
}

const PICKLE_EXT = new Set(['.pkl', '.pickle', '.joblib', '.dill', '.pt', '.pth', '.ckpt', '.p', '.sav', '.pck', '.pcl'])
const PROTO01_START = new Set([0x28, 0x63, 0x5d, 0x7d, 0x29, 0x4e, 0x49, 0x4b, 0x4a, 0x53, 0x56, 0x58, 0x55, 0x69, 0x46, 0x4c, 0x47, 0x54])
/**
 * Opcodes a pickle program can start with (everything that does not need an existing stack, mark or memo
 * entry). A file of another format whose first byte is one of these can also be a pickle that pickle.load
 * runs (a tar whose first member name is a pickle, a GGUF whose header bytes continue a BINFLOAT, ...).
 */
const PICKLE_START = new Set([...Buffer.from('()]}NIJKLMFGSTUVXBCc', 'latin1'), 0x8f, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x96, 0x80, 0x95])
const TORCH_LEGACY_MAGIC = Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19])

export function addIncomplete(fx: FileCtx, msg: string): void {
  fx.incompleteTotal++
  if (fx.incomplete.length < 50) fx.incomplete.push(msg)
}

/**
 * Content nested deeper than LIMITS.maxDepth is not analysed. Nothing legitimate nests archives that
 * deep, and a payload hidden below the limit must not pass as merely "partially scanned": the first
 * such part makes one issue for the file, every part is listed as not analysed.
 */
function tooDeep(fx: FileCtx, src: string): void {
  addIncomplete(fx, `${src}: nesting deeper than ${LIMITS.maxDepth} levels not followed`)
  if (fx.tooDeep++ === 0) {
    fx.findings.push({threat: null, source: src, module: 'archive', operator: 'nesting_depth',
      description: `content nested more than ${LIMITS.maxDepth} levels deep (archives, compressed streams, embedded pickles) was not analysed; ` +
        'nothing legitimate nests this deep, and a payload below the limit would be missed'})
  }
}

/**
 * Formats identified by their magic can still be read by pickle.load when their first bytes are a pickle
 * program: run a tentative pickle parse over them and report a polyglot when it finds anything.
 */
async function pickleSideCheck(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts, b0: number): Promise<void> {
  if (o.storage || !PICKLE_START.has(b0)) return
  const before = fx.findings.length
  await scanPickle(r, src, name, depth, fx, {...o, addFormat: false}, undefined, false)
  if (fx.findings.length > before) {
    fx.findings.push({threat: null, source: src, module: 'pickle', operator: 'polyglot',
      description: 'file is also a pickle that pickle.load would run (polyglot): different loaders read different contents'})
  }
}

/** Record a decompression failure: bombs and exhausted budgets become findings (and stop further decompression). */
function decodeFailure(e: unknown, fx: FileCtx, src: string, module: string): {handled: true} | {handled: false; message: string; limit: boolean} {
  if (e instanceof ScanAborted || fx.signal?.aborted) throw e
  if (e instanceof BombError) {
    fx.bombs++
    fx.stopReason ??= e instanceof TimeBudgetError ? 'the decoding time budget of this file was exhausted' : 'a decompression bomb was already found in this file'
    const what = e instanceof TimeBudgetError ? 'resource exhaustion: decompression stopped' : 'decompression bomb not followed'
    fx.findings.push({threat: null, source: src, module, operator: 'decompression', description: `${what}: ${e.message}`})
    return {handled: true}
  }
  return {handled: false, message: (e as Error).message || String(e), limit: e instanceof DecoderLimit}
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

/** Record a finding at once (nothing that happens later in the file can drop it). */
function push(fx: FileCtx, source: string, i: RawIssue): void {
  fx.findings.push({threat: i.threat, description: i.description, source, module: i.module ?? null, operator: i.operator ?? null})
}

/** Per-file pickle state (value accountant, hidden-content budget), shared by the file's nested pickles. */
const pickleBudgets = new WeakMap<Budget, PickleBudget>()
function pickleBudget(fx: FileCtx): PickleBudget {
  let b = pickleBudgets.get(fx.budget)
  if (!b) { b = newPickleBudget(); pickleBudgets.set(fx.budget, b) }
  return b
}
/** Nesting depth of the analysis in progress per file (for hooks called from depth-less format scanners). */
const currentDepth = new WeakMap<FileCtx, number>()

function lowerExt(name: string): string { return extname(name).toLowerCase() }

/** Analyse a member/nested stream and record what could not be scanned. */
async function analyzeChild(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts): Promise<void> {
  if (depth > LIMITS.maxDepth) { tooDeep(fx, src); return }
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

/**
 * What an exception from a format analyser means for the file. Findings the analyser already pushed stay in
 * `fx.findings` (the file is then reported SCANNED with this message, so its issues still produce violations);
 * the message says what went wrong after them.
 */
function errorOutcome(e: unknown, src: string, fx: FileCtx, found = 0): Outcome {
  if (e instanceof BombError) {
    fx.findings.push({threat: null, source: src, module: 'archive', operator: 'decompression',
      description: `decompression bomb not followed: ${e.message}`})
    return {status: 'scanned'}
  }
  const err = e instanceof Error ? e : null
  let message = err?.message || String(e)
  if (err instanceof RangeError && /call stack/i.test(message)) message = 'analysis stopped: structure nested too deeply'
  else if (e instanceof Truncated) message = `truncated: ${message}`
  else if (err && !(err instanceof ArchiveError) && !(err instanceof Hdf5Error)) message = `analysis failed: ${message}`
  if (found > 0) message += ` (after ${found} finding(s), which are reported)`
  return {status: 'error', message}
}

const H5_EXTS = new Set(['.h5', '.hdf5', '.he5', '.hdf', '.mat', '.nc', '.nc4', '.cdf'])

/**
 * Analyse one stream. Never throws for content reasons: an exception from any format analyser becomes an
 * error outcome and the findings it made before are kept (only an aborted scan propagates).
 */
export async function analyze(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts = {}): Promise<Outcome> {
  const before = fx.findings.length
  const outer = currentDepth.get(fx)
  currentDepth.set(fx, depth)
  try {
    return await dispatch(r, src, name, depth, fx, o)
  } catch (e) {
    if (fx.signal?.aborted || e instanceof ScanAborted) throw e
    return errorOutcome(e, src, fx, fx.findings.length - before)
  } finally {
    if (outer === undefined) currentDepth.delete(fx)
    else currentDepth.set(fx, outer)
  }
}

async function dispatch(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts): Promise<Outcome> {
  const fmtOn = o.addFormat !== false
  if (r.size === 0) return {status: 'skipped', reason: 'empty file', notModel: true}
  const bud = fx.budget
  if ((o.topLevel || depth === 0) && !bud.inputSize) {
    // the file the attacker ships: cumulative expansion and decoding time are measured against it
    bud.inputSize = r.size
    bud.maxDecodeMs = LIMITS.decodeMsBase + (r.size / (1 << 20)) * LIMITS.decodeMsPerMB
  }
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
  if (head.length >= 6 && head.subarray(0, 6).equals(SEVENZIP_SIG)) return scan7z(r, src, depth, fx, o)
  if (b0 === 0x5d && b1 === 0 && head[2] === 0 && (ext === '.lzma' || ext === '.xz' || ext === '.joblib')) {
    return scanCompressed(r, src, name, depth, fx, o, 'lzma', 'lzma')
  }
  const zf = parseJoblibZf(head)
  if (zf) return scanJoblibZf(r, src, name, depth, fx, o, zf)
  if (isTarHeader(head.length >= 512 ? head.subarray(0, 512) : Buffer.alloc(0))) {
    const out = await scanTar(r, src, name, depth, fx, o)
    await pickleSideCheck(r, src, name, depth, fx, o, b0)
    return out
  }

  // ---- pure-data / model formats with magic
  if (head.length >= 6 && head.subarray(0, 6).toString('latin1') === '\x93NUMPY') return scanNpy(r, src, name, depth, fx, o)
  if (head.length >= 8 && head.subarray(0, 4).toString('latin1') === 'GGUF') {
    const out = await scanGguf(r, src, fx, fmtOn)
    await pickleSideCheck(r, src, name, depth, fx, o, b0)
    return out
  }
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))) return scanH5(r, src, fx, fmtOn, head)
  const data = sniffDataFormat(head)
  if (data) {
    // netCDF's "CDF" begins a valid pickle (SHORT_BINBYTES): data, unless pickle.load finds a program in it
    const before = fx.findings.length
    await pickleSideCheck(r, src, name, depth, fx, o, b0)
    if (fx.findings.length > before) return {status: 'scanned'}
    return {status: 'skipped', reason: data.reason, notModel: true}
  }
  // an HDF5 file with a user block: the superblock sits at 512, 1024, 2048, ... (h5py/Keras open it there;
  // MATLAB v7.3 files are built this way)
  if ((H5_EXTS.has(ext) || isMatlab73Header(head)) && r.size >= 520 && (await findHdf5Superblock(r)) > 0) {
    const out = await scanH5(r, src, fx, fmtOn, head)
    // the user block is free-form: if it also reads as a protocol 0/1 pickle, pickle.load would run it
    if (PROTO01_START.has(b0) && !o.storage) {
      const before = fx.findings.length
      const pk = await scanPickle(r, src, name, depth, fx, {...o, addFormat: false}, undefined, false)
      if (fx.findings.length > before && pk.status !== 'skipped') return {status: 'scanned'}
    }
    return out
  }
  if (head.length >= 8 && head.subarray(4, 8).toString('latin1') === 'TFL3') {
    const out = await scanLiteRt(r, src, fx, fmtOn)
    await pickleSideCheck(r, src, name, depth, fx, o, b0)
    return out
  }
  if (b0 === 0x80 && b1 >= 2 && b1 <= 5) {
    const legacy = head.length >= TORCH_LEGACY_MAGIC.length && head.subarray(0, TORCH_LEGACY_MAGIC.length).equals(TORCH_LEGACY_MAGIC)
    const out = await scanPickle(r, src, name, depth, fx, {...o, family: legacy ? 'pytorch' : o.family}, legacy ? 'pytorch_v0_1_10' : undefined, true)
    if (!o.storage) await scanPolyglotZip(r, src, name, depth, fx, o)
    return out
  }
  if (b0 === 0x78 && (b0 * 256 + b1) % 31 === 0 && [0x01, 0x5e, 0x9c, 0xda].includes(b1)) {
    return scanCompressed(r, src, name, depth, fx, o, 'zlib', 'zlib')
  }
  if (looksSafetensors(head, r.size) || (ext === '.safetensors' && head.length >= 9 && head[8] === 0x7b)) return scanSafetensors(r, src, fx, fmtOn)
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
  const toFinding = (f: PickleFinding): Finding => ({
    threat: f.kind === 'resource' ? null : codeFor(family, f.malicious), source: src, module: f.module, operator: f.operator,
    description: `${f.description} [${f.severity}; offset ${f.offset}]`,
  })
  // findings go into the file's record the moment they are made (unless they must wait for a complete parse),
  // and so does the format, on the first finding: a record kept after a crash says what was being analysed
  const mirror = new Map<PickleFinding, Finding>()
  const fmtOn = o.addFormat !== false
  let early: string | undefined
  let res: PickleResult | undefined
  try {
    res = await analyzePickleStream(new Cursor(r, start), {
      budget: pickleBudget(fx),
      signal: fx.signal,
      onFinding: (f, isNew) => {
        if (o.requireComplete) return
        if (isNew) {
          if (early === undefined && fmtOn) { early = format ?? (family === 'joblib' ? 'joblib' : 'pickle'); addFormat(fx, early) }
          const x = toFinding(f)
          mirror.set(f, x)
          fx.findings.push(x)
        } else {
          const x = mirror.get(f)
          if (x) Object.assign(x, toFinding(f))
        }
      },
      onNested: async (nr, label) => {
        await analyzeChild(nr, `${src}:${label}`, label, depth + 1, fx, {family, addFormat: false})
      },
      onHidden: async (data, label) => {
        await scanHiddenPayload(data, src, label, depth + 1, fx, family)
      },
    })
  } finally {
    if (res && !o.family && res.sawJoblib) family = 'joblib'
    for (const [f, x] of mirror) Object.assign(x, toFinding(f))
  }
  if (o.requireComplete) {
    if (res.pickles === 0) return {status: 'skipped', reason: 'not a complete pickle', notModel: true}
    for (const f of res.findings) fx.findings.push(toFinding(f))
  }
  const pickleName = PICKLE_EXT.has(ext) || /(^|\/)(data|constants)\.pkl$/.test(name)
  if (res.findings.length === 0 && res.pickles === 0 && (o.storage || !(strongMagic || pickleName))) {
    return {status: 'skipped', reason: 'not a model file', notModel: true}
  }
  if (!strongMagic && start === 0 && res.error && res.findings.length === 0 && res.pickles === 0) {
    const text = await textNotPickle(r)
    if (text) return {status: 'skipped', reason: `not a model file (${text})`, notModel: true}
  }
  const final = format ?? (family === 'joblib' ? 'joblib' : 'pickle')
  const at = early === undefined ? -1 : fx.formats.indexOf(early)
  if (at >= 0 && early !== final) fx.formats.splice(at, 1) // the early guess was pickle; the stream turned out joblib
  addFormat(fx, final, fmtOn)
  for (const n of res.notes) fx.notes.push(`${src}: ${n}`)
  if (res.error) {
    return {status: 'error', message: res.findings.length ? `${res.error} (after ${res.findings.length} finding(s), which are reported)` : res.error}
  }
  return {status: 'scanned'}
}

/** A Python dotted name: what GLOBAL/INST must name for pickle.load to import anything. */
const DOTTED_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/

/**
 * A text file that a tentative protocol-0 parse failed on at once, and that pickle.load would reject before
 * importing anything: its first line is a GLOBAL/INST opcode whose module is not a Python dotted name (e.g. a
 * site `.pth` file's `import sys, os; ...` line, which reads as INST of module "mport sys, os; ..."). Returns the
 * reason, or null when the file could still be a pickle.
 */
async function textNotPickle(r: Reader): Promise<string | null> {
  const head = await r.read(0, Math.min(r.size, 4096))
  // printable text only: tabs, newlines and printable ASCII/UTF-8 (no control bytes a binary pickle would carry)
  for (const b of head) if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return null
  const nl = head.indexOf(0x0a)
  const first = (nl === -1 ? head : head.subarray(0, nl)).toString('utf8').replace(/\r$/, '')
  if ((first[0] !== 'c' && first[0] !== 'i') || DOTTED_NAME.test(first.slice(1))) return null
  return first.startsWith('import ') || first.startsWith('import\t') ? 'Python statements, e.g. a site .pth file' : 'text, not a pickle'
}

/**
 * A payload decoded from a string or bytes value (hex/base64/zlib layers): scanned as a nested pickle, and
 * counted only if it parses as one (at least one complete pickle), so data that merely decodes to a
 * pickle-like prefix adds nothing.
 */
async function scanHiddenPayload(data: Buffer, src: string, label: string, depth: number, fx: FileCtx, family: Family): Promise<void> {
  const hsrc = `${src}:${label}`
  if (depth > LIMITS.maxDepth) { addIncomplete(fx, `${hsrc}: nesting deeper than ${LIMITS.maxDepth} levels not followed`); return }
  const sub: FileCtx = {...fx, findings: [], notes: [], incomplete: [], incompleteTotal: 0, formats: []}
  let out: Outcome
  try {
    out = await scanPickle(new BufferReader(data), hsrc, label, depth, sub, {family, addFormat: false, storage: true, requireComplete: true}, undefined, true)
  } catch (e) {
    if (fx.signal?.aborted || e instanceof ScanAborted) throw e
    out = {status: 'skipped', reason: 'not a complete pickle', notModel: true}
  }
  fx.bombs = Math.max(fx.bombs, sub.bombs)
  fx.entries = Math.max(fx.entries, sub.entries)
  if (out.status === 'skipped' && out.notModel) return
  fx.notes.push(`${hsrc}: an encoded pickle (${label.replace(/@\d+$/, '')}) was decoded and scanned`)
  fx.findings.push(...sub.findings)
  fx.notes.push(...sub.notes)
  for (const i of sub.incomplete) addIncomplete(fx, i)
  if (out.status === 'error') addIncomplete(fx, `${hsrc}: ${out.message}`)
}

/**
 * Strings of format metadata (safetensors `__metadata__` values, GGUF string values): plainly Python code
 * calling exec/eval/os/subprocess/__import__ is reported (threat null: suspicious component), and values that
 * decode (hex/base64/zlib) to a pickle are scanned as nested pickles. Linear, capped, budgeted per file.
 */
export async function scanHiddenStrings(entries: Array<[string, string]>, src: string, fx: FileCtx, format: string): Promise<void> {
  const hb = pickleBudget(fx).hidden
  const depth = currentDepth.get(fx) ?? 0
  let reported = 0
  for (const [key, value] of entries.slice(0, 4096)) {
    if (hb.exhausted) { fx.notes.push(`${src}: hidden-content budget spent (${hb.exhausted}); later ${format} metadata not examined`); break }
    if (value.length > HIDDEN_MAX) continue
    const code = findCode(value, hb)
    if (code && reported++ < 20) {
      push(fx, src, {threat: null, module: format, operator: key,
        description: `${format} metadata value ${JSON.stringify(clipText(key, 100))} is Python code calling ${code.marker}…: ${JSON.stringify(clipText(code.excerpt, 160))}`})
    }
    const bytes = textBytes(value)
    const hit = looksLikePickle(bytes) && pickleShape(bytes) ? {encoding: 'text', data: bytes} : decodeHidden(bytes, hb)
    if (hit) await scanHiddenPayload(hit.data, src, `${format}:${clipText(key, 100)}:${hit.encoding}`, depth + 1, fx, 'pickle')
  }
}

/**
 * A pickle can also be a valid zip (end-of-central-directory near the end): loaders that use Python's
 * zipfile (is_zipfile looks anywhere) would open it as an archive, so its members are scanned too.
 */
async function scanPolyglotZip(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts): Promise<void> {
  if (r.size < 22) return
  const tailLen = Math.min(r.size, 65557)
  const tail = await r.read(r.size - tailLen, tailLen)
  if (tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])) < 0) return
  try { await readZipDirectory(r, LIMITS.maxEntries - fx.entries, fx.budget) } catch (e) {
    if (e instanceof ScanAborted) throw e
    return
  }
  if (depth >= LIMITS.maxDepth) { tooDeep(fx, `${src} (zip side of a pickle/zip polyglot)`); return }
  fx.notes.push(`${src}: also a valid zip archive (polyglot); its members were scanned too`)
  fx.findings.push({threat: null, source: src, module: 'zip', operator: 'polyglot',
    description: 'file is both a pickle and a zip archive (polyglot): different loaders read different contents'})
  await scanZip(r, src, name, depth, fx, {...o, addFormat: false})
}

/** Before decompressing: content too deep is noted (scanned), and nothing more is decompressed once a bomb was found (skipped); null to go on. */
function notToDecompress(fx: FileCtx, src: string, depth: number): Outcome | null {
  if (depth >= LIMITS.maxDepth) { tooDeep(fx, src); return {status: 'scanned'} }
  if (fx.bombs > 0) return {status: 'skipped', reason: `not decompressed: ${fx.stopReason ?? 'a decompression bomb was already found in this file'}`}
  return null
}

async function scanCompressed(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts, codec: StreamCodec, format: string): Promise<Outcome> {
  const stop = notToDecompress(fx, src, depth)
  if (stop) {
    addFormat(fx, format, o.addFormat !== false)
    return stop
  }
  let d
  try {
    d = await decompress(r, codec, fx.budget, fx.signal)
  } catch (e) {
    addFormat(fx, format, o.addFormat !== false)
    const f = decodeFailure(e, fx, src, format)
    if (f.handled) return {status: 'scanned'}
    if (f.limit) return {status: 'skipped', reason: f.message}
    if (e instanceof ArchiveError) {
      if (codec === 'zlib' && !o.topLevel) return {status: 'skipped', reason: 'not a model file', notModel: true}
      return {status: 'error', message: f.message}
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

const ZIP_METHOD_NAMES: Record<number, string> = {9: 'deflate64', 12: 'bzip2', 14: 'lzma', 93: 'zstd', 95: 'xz', 98: 'ppmd', 99: 'AES'}

/**
 * Open a zip member's data: stored members are slices of the archive (covering the longer of the two
 * declared sizes when they disagree), compressed ones are decoded within the budget *whatever size the
 * directory declares* (a lie cannot make the scanner skip a member). Returns null when the member could
 * not be opened (already recorded as a finding or a part not analysed).
 */
async function openZipMember(r: Reader, e: ZipEntry, msrc: string, fx: FileCtx, quietFailure: boolean): Promise<{reader: Reader; cleanup: (() => Promise<void>) | null; actual: number} | null> {
  if (e.method === 0) {
    const len = Math.min(Math.max(e.compSize, e.size), r.size - e.dataOffset)
    return {reader: new SliceReader(r, e.dataOffset, len), cleanup: null, actual: Math.min(e.compSize, r.size - e.dataOffset)}
  }
  if (e.method === 8 || e.method === 12 || e.method === 14 || e.method === 95) {
    if (fx.bombs > 0) { addIncomplete(fx, `${msrc}: not decompressed (${fx.stopReason ?? 'a decompression bomb was already found in this file'})`); return null }
    try {
      const src = zipMemberReader(r, e)
      let d: Decompressed & {extra?: number}
      if (e.method === 14) d = await decompressZipLzma(src, e.size, (e.flags & 2) !== 0, fx.budget)
      else if (e.method === 12) d = await decompressBzip2(src, fx.budget)
      else d = await decompress(src, e.method === 95 ? 'xz' : 'deflate-raw', fx.budget, fx.signal)
      return {reader: d.reader, cleanup: d.cleanup, actual: d.size}
    } catch (err) {
      const f = decodeFailure(err, fx, msrc, 'zip')
      if (!f.handled && !quietFailure) addIncomplete(fx, `${msrc}: ${f.message}`)
      return null
    }
  }
  addIncomplete(fx, `${msrc}: decoder unavailable: zip method ${e.method}${ZIP_METHOD_NAMES[e.method] ? ` (${ZIP_METHOD_NAMES[e.method]})` : ''}`)
  return null
}

async function scanZip(rIn: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts): Promise<Outcome> {
  const fmtOn = o.addFormat !== false
  const r = rIn instanceof BufferReader ? rIn : new BlockCacheReader(rIn)
  let listing
  try {
    listing = await readZipDirectory(r, LIMITS.maxEntries - fx.entries, fx.budget)
  } catch (e) {
    if (e instanceof ScanAborted) {
      addFormat(fx, 'zip', fmtOn) // identified by its magic already; stopped while reading the directory
      throw e
    }
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
  // Python's zipfile lists every central-directory entry whatever the end record says; a reader (or a
  // scanner) that trusts the record's count or directory size misses the rest
  const found = entries.length
  const declared = listing.declaredCount
  // a 16-bit count that an old writer wrapped or saturated (more than 65535 entries without a ZIP64 record)
  const wrapped = found > 0xffff && (found % 0x10000 === declared % 0x10000 || declared === 0xffff)
  if ((found > declared && !wrapped) || listing.beyondDeclaredSize > 0) {
    fx.findings.push({threat: null, source: src, module: 'zip', operator: 'entry_count_mismatch',
      description: `zip end record declares ${declared} entries but the central directory holds ${found}` +
        `${listing.beyondDeclaredSize ? ` (${listing.beyondDeclaredSize} of them past the directory size it declares)` : ''}: ` +
        `readers that trust the end record miss entries that Python's zipfile loads; all ${found} were scanned`})
  } else if (found !== declared) fx.notes.push(`${src}: end record declares ${declared} entries, central directory holds ${found}`)

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
    await pace(fx.budget)
    if (e.name.endsWith('/') || e.dataOffset < 0) continue
    const msrc = `${src}:${e.name}`
    const encrypted = (e.flags & 1) !== 0
    if (encrypted && e.aes) { addIncomplete(fx, `${msrc}: encrypted member (AES) not scanned`); continue }
    if (encrypted && e.method === 0 && e.compSize !== e.size && (await crc32Of(new SliceReader(r, e.dataOffset, e.size), fx.budget)) !== e.crc) {
      // traditional PKWARE encryption: a 12-byte header before the data (so the sizes differ) and bytes
      // that do not match the CRC of the plaintext
      addIncomplete(fx, `${msrc}: encrypted member not scanned`)
      continue
    }
    const storage = (family === 'pytorch' || family === 'torchscript') && /(^|\/)data\/[^/]+$/.test(e.name)
    const opened = await openZipMember(r, e, msrc, fx, encrypted)
    if (!opened) {
      if (encrypted) addIncomplete(fx, `${msrc}: encrypted member not scanned`)
      continue
    }
    if (encrypted) {
      // the flag says encrypted, the data is in clear: readers that ignore the flag load it, scanners that honour it skip it
      fx.findings.push({threat: null, source: msrc, module: 'zip', operator: 'encryption_flag',
        description: `zip entry ${JSON.stringify(e.name)} has the encryption flag set but its data is not encrypted (a scanner-evasion technique); it was scanned`})
    }
    if (e.method !== 0 && opened.actual !== e.size) {
      fx.findings.push({threat: null, source: msrc, module: 'zip', operator: 'size_mismatch',
        description: `central directory declares ${e.size} uncompressed bytes for ${JSON.stringify(e.name)} but its data expands to ${opened.actual}: ` +
          'readers that trust the declared size see a different member; the real data was scanned'})
    } else if (e.method === 0 && e.compSize !== e.size) {
      fx.findings.push({threat: null, source: msrc, module: 'zip', operator: 'size_mismatch',
        description: `stored zip entry ${JSON.stringify(e.name)} declares ${e.compSize} stored but ${e.size} uncompressed bytes: readers disagree on its content; ` +
          `the longer reading (${Math.max(e.compSize, e.size)} bytes) was scanned`})
    }
    try {
      if (isKeras && e.name === 'config.json') {
        await scanKerasJson(opened.reader, msrc, fx)
      } else if (family === 'torchscript' && /(^|\/)code\/.*\.py$/.test(e.name)) {
        await scanTorchScriptCode(opened.reader, msrc, fx)
      } else {
        await analyzeChild(opened.reader, msrc, e.name, depth + 1, fx, {family, addFormat: childFormats, storage})
      }
    } finally {
      if (opened.cleanup) await opened.cleanup()
    }
  }
  return {status: 'scanned'}
}

async function scanTar(rIn: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts): Promise<Outcome> {
  const fmtOn = o.addFormat !== false
  const r = rIn instanceof BufferReader ? rIn : new BlockCacheReader(rIn)
  const entries: TarEntry[] = []
  try {
    for await (const e of iterTar(r, LIMITS.maxEntries - fx.entries)) {
      entries.push(e)
      if (entries.length % 1024 === 0) await pace(fx.budget)
    }
  } catch (e) {
    if (e instanceof ScanAborted || fx.signal?.aborted) throw e
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
    await pace(fx.budget)
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

/**
 * 7z: the directory (plain or encoded header) is read within the file's budgets, each folder whose
 * coder is Copy/LZMA/LZMA2/Deflate/BZip2 is decoded once and its files are analysed as slices of it.
 * Folders with other coders (BCJ/Delta filter chains, PPMd, AES, ...) are named in the parts not
 * analysed; an archive with nothing decodable is SKIPPED with that reason.
 */
async function scan7z(r: Reader, src: string, depth: number, fx: FileCtx, o: AOpts): Promise<Outcome> {
  const fmtOn = o.addFormat !== false
  addFormat(fx, '7_zip', fmtOn)
  const stop = notToDecompress(fx, src, depth)
  if (stop) return stop
  let listing
  try {
    listing = await read7zDirectory(r, fx.budget, LIMITS.maxEntries - fx.entries)
  } catch (e) {
    const f = decodeFailure(e, fx, src, '7z')
    if (f.handled) return {status: 'scanned'}
    if (f.limit || /decoder unavailable/.test(f.message)) return {status: 'skipped', reason: f.message}
    if (e instanceof ArchiveError) return {status: 'error', message: `unreadable 7z: ${f.message}`}
    throw e
  }
  fx.entries += listing.entries.length
  for (const p of listing.problems) fx.notes.push(`${src}: ${p}`)
  if (listing.headerEncoded) fx.notes.push(`${src}: 7z header was packed (encoded header decoded)`)
  const byFolder = new Map<number, SevenZipEntry[]>()
  for (const e of listing.entries) {
    const slip = slipReason(e.name)
    if (slip) {
      fx.findings.push({threat: 'PAIT-ARV-100', source: `${src}:${e.name}`, module: '7z', operator: 'path_traversal',
        description: `7z entry ${JSON.stringify(e.name)} ${slip} and would be written outside the extraction directory`})
    }
    if (e.folder < 0 || e.isDir || e.anti) continue
    const list = byFolder.get(e.folder) ?? []
    list.push(e)
    byFolder.set(e.folder, list)
  }
  let decoded = 0
  const unsupported: string[] = []
  for (const [fi, files] of byFolder) {
    await pace(fx.budget)
    const folder = listing.folders[fi]
    if (!folder || folder.unsupported) {
      const why = folder?.unsupported ?? 'folder missing'
      unsupported.push(why)
      for (const f of files) addIncomplete(fx, `${src}:${f.name}: ${why}`)
      continue
    }
    if (fx.bombs > 0) { for (const f of files) addIncomplete(fx, `${src}:${f.name}: not decompressed (${fx.stopReason ?? 'a decompression bomb was already found in this file'})`); continue }
    let d: Decompressed & {extra?: number}
    try {
      d = await decode7zFolder(r, folder, fx.budget)
    } catch (e) {
      const f = decodeFailure(e, fx, `${src}:${files[0].name}`, '7z')
      if (!f.handled) for (const x of files) addIncomplete(fx, `${src}:${x.name}: ${f.message}`)
      continue
    }
    decoded++
    try {
      if (d.size !== folder.unpackSize) {
        fx.findings.push({threat: null, source: src, module: '7z', operator: 'size_mismatch',
          description: `7z folder ${fi} declares ${folder.unpackSize} unpacked bytes but its data decodes to ${d.size}: readers that trust the declared size see different files; the real data was scanned`})
      }
      for (const f of files) {
        await analyzeChild(new SliceReader(d.reader, f.offset, f.size), `${src}:${f.name}`, f.name, depth + 1, fx, {family: o.family, addFormat: fmtOn})
      }
      if (d.size > folder.unpackSize) {
        await analyzeChild(new SliceReader(d.reader, folder.unpackSize, d.size - folder.unpackSize), `${src}:<folder ${fi} past its declared size>`,
          '<extra>', depth + 1, fx, {family: o.family, addFormat: false})
      }
    } finally {
      await d.cleanup()
    }
  }
  if (decoded === 0 && unsupported.length) return {status: 'skipped', reason: [...new Set(unsupported)].slice(0, 3).join('; ')}
  return {status: 'scanned'}
}

/** joblib's old zlib container ("ZF" + length + zlib): decompressed and analysed as a joblib pickle. */
async function scanJoblibZf(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts, zf: ZfHeader): Promise<Outcome> {
  const fmtOn = o.addFormat !== false
  addFormat(fx, 'zlib', fmtOn)
  const stop = notToDecompress(fx, src, depth)
  if (stop) return stop
  let d
  try {
    d = await decompress(new SliceReader(r, zf.dataOffset, r.size - zf.dataOffset), 'zlib', fx.budget, fx.signal)
  } catch (e) {
    const f = decodeFailure(e, fx, src, 'joblib')
    if (f.handled) return {status: 'scanned'}
    if (f.limit) return {status: 'skipped', reason: f.message}
    return {status: 'error', message: `joblib ZF container: ${f.message}`}
  }
  try {
    if (d.size !== zf.declaredLength) fx.notes.push(`${src}: joblib ZF header declares ${zf.declaredLength} bytes, the zlib stream holds ${d.size} (joblib refuses the file)`)
    const stripped = name.replace(/\.z$/i, '')
    const inner = /\.npy$/i.test(stripped) ? stripped : `${stripped}.pkl`
    const out = await analyze(d.reader, src, inner, depth + 1, fx, {...o, family: 'joblib', topLevel: false})
    if (out.status === 'skipped' && out.notModel) return {status: 'skipped', reason: 'joblib ZF container holds no pickle', notModel: true}
    return out
  } finally {
    await d.cleanup()
  }
}

/** Item size of the simple numpy type strings np.save writes ('<f4', '|u1', '<U8', '<M8[ns]', '|b1'). */
function npyItemSize(t: string): number | undefined {
  const m = /^[<>|=]?([biufcSV])(\d+)$/.exec(t)
  if (m) return Number(m[2])
  const u = /^[<>|=]?U(\d+)$/.exec(t)
  if (u) return 4 * Number(u[1])
  if (/^[<>|=]?[Mm]8(\[\w+\])?$/.test(t)) return 8
  return undefined
}

async function scanNpy(r: Reader, src: string, name: string, depth: number, fx: FileCtx, o: AOpts): Promise<Outcome> {
  addFormat(fx, 'numpy', o.addFormat !== false)
  const h = await readNpyHeader(r)
  if (h.headerLength > NPY_NUMPY_MAX_HEADER) {
    fx.notes.push(`${src}: npy header of ${h.headerLength} bytes: numpy loads it only with allow_pickle=True (its default limit is ${NPY_NUMPY_MAX_HEADER})`)
  }
  if (h.object || h.maybeObject) {
    const out = await scanPickle(r, src, name, depth, fx, {...o, addFormat: false, family: o.family ?? 'pickle'}, undefined, h.object, h.dataOffset)
    if (h.object) return out.status === 'skipped' ? {status: 'error', message: 'object array data is not a readable pickle'} : out
    // an unrecognised dtype or header: the data was examined as a possible pickle
    if (out.status !== 'skipped') return out
    if (h.error) return {status: 'error', message: `invalid npy header: ${h.error}`}
    fx.notes.push(`${src}: dtype ${clipText(JSON.stringify(h.descr), 80)} not recognised; its data is not a pickle`)
    return {status: 'scanned'}
  }
  if (h.error) return {status: 'error', message: `invalid npy header: ${h.error}`}
  const item = h.simple ? npyItemSize(h.simple) : undefined
  if (item !== undefined && h.shape) {
    let want = BigInt(item)
    for (const d of h.shape) want *= BigInt(d)
    const have = BigInt(r.size - h.dataOffset)
    if (want > BigInt(HOSTILE_BYTES)) {
      fx.findings.push({threat: null, source: src, module: 'numpy', operator: 'header',
        description: `npy header describes ${want} data bytes (${h.simple}, shape (${h.shape.join(', ')})) for a ${r.size}-byte file: a loader that trusts it over-allocates`})
    } else if (want > have) {
      return {status: 'error', message: `truncated: npy header describes ${want} data bytes (${h.simple}, shape (${h.shape.join(', ')})) but the file holds ${have}`}
    } else if (want < have) fx.notes.push(`${src}: ${have - want} bytes after the array data (numpy ignores them)`)
  }
  return {status: 'scanned'}
}

async function scanGguf(r: Reader, src: string, fx: FileCtx, fmtOn: boolean): Promise<Outcome> {
  addFormat(fx, 'gguf', fmtOn)
  const g = await analyzeGguf(r, () => pace(fx.budget))
  if (g.hostile.length) {
    fx.findings.push({threat: null, source: src, module: 'gguf', operator: 'header',
      description: clipText(`GGUF header would make a loader over-allocate or read out of bounds (a loader-crash / heap-overflow vector): ${g.hostile.slice(0, 8).join('; ')}`)})
  }
  for (const n of g.notes.slice(0, 10)) fx.notes.push(`${src}: ${n}`)
  for (const t of g.templates) {
    const hit = t.hit
    if (hit) {
      fx.findings.push({threat: hit.threat, source: src, module: 'gguf', operator: t.key,
        description: `chat template ${t.key} ${hit.threat === 'PAIT-GGUF-101' ? 'reaches Python internals (template injection)' : 'contains suspicious constructs'}: ${hit.markers.join(', ')}`})
    }
    if (t.size > GGUF_TEMPLATE_MAX) {
      fx.findings.push({threat: 'PAIT-GGUF-100', source: src, module: 'gguf', operator: t.key,
        description: `chat template ${t.key} is ${t.size} bytes long (only the first ${GGUF_TEMPLATE_MAX} were analysed); no real chat template is this large`})
    }
  }
  await scanHiddenStrings(g.strings.map((x) => [x.key, x.text]), src, fx, 'gguf')
  if (g.malformed.length) return {status: 'error', message: clipText(`malformed GGUF (not loadable): ${g.malformed.slice(0, 5).join('; ')}`, 1000)}
  return {status: 'scanned'}
}

async function scanSafetensors(r: Reader, src: string, fx: FileCtx, fmtOn: boolean): Promise<Outcome> {
  addFormat(fx, 'safetensors', fmtOn)
  const hl = await r.read(0, 8)
  const n = hl.readUInt32LE(0) + hl.readUInt32LE(4) * 0x100000000
  if (n > 32 << 20 && n <= 100_000_000 && n <= r.size - 8) {
    // valid per the format, but parsing it would cost hundreds of MB: say so instead of guessing
    return {status: 'skipped', reason: `safetensors header of ${n} bytes (over 32 MB) not validated`}
  }
  const metadata: Array<[string, string]> = []
  const v = await validateSafetensors(r, metadata)
  if (v.hostile.length) {
    fx.findings.push({threat: null, source: src, module: 'safetensors', operator: 'header',
      description: clipText(`safetensors header would make a loader over-allocate or read out of bounds: ${v.hostile.slice(0, 8).join('; ')}`)})
  }
  await scanHiddenStrings(metadata, src, fx, 'safetensors')
  if (v.malformed.length) return {status: 'error', message: clipText(`malformed safetensors (not loadable): ${v.malformed.slice(0, 5).join('; ')}`, 1000)}
  return {status: 'scanned'}
}

const KERAS_ROOT_MARKERS = new Set(['model_config', 'keras_version', 'layer_names', 'training_config'])
const KERAS_BACKENDS = new Set(['tensorflow', 'theano', 'cntk', 'jax', 'torch', 'numpy'])

/**
 * HDF5: Keras legacy models (root attribute model_config) are analysed; Keras weights files are
 * SCANNED as keras_weights; every other HDF5 file (netCDF-4, MATLAB v7.3, plain scientific data) is
 * SKIPPED as data with what it is: no Keras loader would take it for a model.
 */
async function scanH5(r: Reader, src: string, fx: FileCtx, fmtOn: boolean, head: Buffer): Promise<Outcome> {
  // 1. the HDF5 reader: the root group's model_config attribute, i.e. what Keras actually loads
  let readerFailure: string
  let rootNames: string[] | null = null
  let backend: string | null = null
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
      const bk = info.attributes.find((a) => a.name === 'backend')?.value
      fx.notes.push(`${src}: model_config read from the HDF5 root group attributes (superblock v${info.superblockVersion}, object header v${info.objectHeaderVersion}` +
        `${ver ? `, keras_version ${clipText(ver, 40)}` : ''}${bk ? `, backend ${clipText(bk, 40)}` : ''})`)
      if (cfgAttrs.length > 1) fx.notes.push(`${src}: ${cfgAttrs.length} model_config attributes on the root group; all were analysed`)
      for (const p of info.problems) fx.notes.push(`${src}: HDF5: ${p}`)
      if (bad.length) {
        // another model_config attribute could not be read: add whatever the byte search finds as well
        fx.notes.push(`${src}: a model_config attribute could not be read (${bad[0]}); byte search results added`)
        docs.push(...(await findH5ModelConfig(r, undefined, () => pace(fx.budget))).configs)
      }
      analyzeH5Configs(docs, src, fx)
      return {status: 'scanned'}
    }
    if (bad.length) readerFailure = `HDF5 reader: model_config attribute ${bad[0]}`
    else if (info.denseAttributes) readerFailure = 'HDF5 reader: unsupported: dense attribute storage (fractal heap)'
    else if (info.problems.length) readerFailure = `HDF5 reader: no model_config attribute on the root group (${info.problems[0]})`
    else {
      // The root group was read completely and has no model_config. The byte search still runs below in
      // case the reader missed something, but only to add findings.
      readerFailure = ''
      rootNames = info.attributes.map((a) => a.name)
      backend = info.attributes.find((a) => a.name === 'backend')?.value ?? null
    }
  } catch (e) {
    if (!(e instanceof Hdf5Error)) throw e
    readerFailure = `HDF5 reader failed at ${e.message}`
  }

  // 2. fallback: search the bytes for contiguous model_config JSON
  const search = await findH5ModelConfig(r, undefined, () => pace(fx.budget))
  if (search.configs.length) {
    addFormat(fx, 'keras_legacy_h5', fmtOn)
    fx.notes.push(`${src}: ${readerFailure || 'HDF5 reader: no model_config attribute on the root group'}; model_config JSON located by byte search instead`)
    if (search.exhausted) fx.notes.push(`${src}: the byte search stopped at its budget; configs after that point were not examined`)
    analyzeH5Configs(search.configs, src, fx)
    return {status: 'scanned'}
  }
  if (search.mentioned) {
    addFormat(fx, 'keras_legacy_h5', fmtOn)
    return {status: 'skipped', reason: `HDF5 model_config could not be read: ${readerFailure || 'HDF5 reader: no model_config attribute on the root group'}; ` +
      `byte search found no contiguous model_config JSON${search.exhausted ? ' (search budget exhausted)' : ''}`}
  }
  // 3. no model anywhere: a Keras weights file, or HDF5 data
  const kerasWeights = rootNames
    ? rootNames.some((n) => KERAS_ROOT_MARKERS.has(n)) || (backend !== null && KERAS_BACKENDS.has(backend))
    : search.markers.has('keras_version') || search.markers.has('layer_names')
  if (kerasWeights) {
    if (readerFailure) fx.notes.push(`${src}: ${readerFailure}; Keras markers found, treated as weights`)
    addFormat(fx, 'keras_weights', fmtOn)
    return {status: 'scanned'}
  }
  const netcdf = rootNames ? rootNames.includes('_NCProperties') : search.markers.has('_NCProperties')
  const what = isMatlab73Header(head) ? 'MATLAB v7.3 MAT-file (HDF5)' : netcdf ? 'netCDF-4 file (HDF5)' : 'HDF5 file without Keras model markers'
  return {status: 'skipped', reason: `${what}: data, not a model${readerFailure ? ` (${readerFailure})` : ''}`, notModel: true}
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
  for (const {match, json} of extractJsonObjects(text, /\{"class_name":\s*"(Lambda|TFOpLambda)"/)) {
    for (const i of analyzeKerasConfig(json ?? {class_name: match[1], config: {}})) push(fx, src, i)
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
    } else if (!name.startsWith('Flex') && !TFLITE_KNOWN_CUSTOM_OPS.has(name)) {
      fx.findings.push({threat: 'PAIT-LITERT-300', source: src, module: 'litert', operator: name,
        description: `model uses the custom operator ${name}, which is not a LiteRT builtin and needs native code from the loading environment`})
    }
  }
  return {status: 'scanned'}
}

async function scanTf(r: Reader, src: string, fx: FileCtx, fmtOn: boolean, graphDefOnly: boolean): Promise<Outcome> {
  let ops: Set<string>
  try {
    ops = await tfOps(r, false, () => pace(fx.budget))
    if (ops.size === 0 && graphDefOnly) ops = await tfOps(r, true, () => pace(fx.budget))
  } catch (e) {
    if (e instanceof ScanAborted) throw e
    if (graphDefOnly) {
      try { ops = await tfOps(r, true, () => pace(fx.budget)) } catch (e2) {
        if (e2 instanceof ScanAborted) throw e2
        return {status: 'skipped', reason: 'not a model file', notModel: true}
      }
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
  try { info = await onnxInfo(r, () => pace(fx.budget)) } catch (e) {
    if (e instanceof ScanAborted) throw e
    if (!byExt) return null
    addFormat(fx, 'onnx', fmtOn)
    return {status: 'error', message: `invalid ONNX protobuf: ${(e as Error).message}`}
  }
  if (!byExt && !isOnnxModel(info)) return null
  addFormat(fx, 'onnx', fmtOn)
  for (const op of info.customOps.slice(0, 50)) {
    fx.findings.push({threat: null, source: src, module: op.domain, operator: op.op,
      description: (op.vendorDomain
        ? `node ${op.op} is not a known operator of the runtime domain ${JSON.stringify(op.domain)}: it needs a custom-op library (native code) from outside the runtime`
        : `node ${op.op} uses the custom operator domain ${JSON.stringify(op.domain)}, which needs a native custom-op library`) +
        (ONNX_OP_NOTES.has(op.op) ? ` (${ONNX_OP_NOTES.get(op.op)})` : '')})
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
