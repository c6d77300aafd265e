/**
 * Streaming symbolic executor for Python pickles (protocols 0-5). Nothing is ever unpickled: the
 * executor keeps an abstract value stack, CPython's mark stack and a memo keyed exactly like CPython's
 * (explicit index for PUT/BINPUT/LONG_BINPUT, `len(memo)` for MEMOIZE), and records
 *  - every import (GLOBAL, STACK_GLOBAL, INST, EXT1/2/4) with its policy verdict,
 *  - every call reachable from it (REDUCE, OBJ, INST, NEWOBJ, NEWOBJ_EX; BUILD on imported objects),
 *    judged by what it does: argument-less or plain-data reconstruction (NEWOBJ, `copyreg.__newobj__`,
 *    `copyreg._reconstructor`, Cython `__pyx_unpickle_*`, argument-less INST/OBJ) is how libraries pickle
 *    their own objects and gets the same (clean) verdict whichever path the pickler took; an unknown
 *    callable called with arguments is suspicious; code-like or encoded content flowing into it escalates,
 *  - STACK_GLOBAL operands that are not literal strings (import target computed at load time),
 *  - FRAMEs whose declared length disagrees with the opcodes (the C and pure-Python unpicklers then run
 *    different bytes): flagged, and the stream is analysed under both readings,
 *  - strings and bytes that hide a pickle (hex/base64/zlib layers, see hidden.ts) or plainly are Python
 *    code calling exec/eval/os/subprocess/__import__,
 *  - memo/DUP expansion ("billion laughs", quadratic blow-up) of the value graph.
 *
 * Findings are handed to `onFinding` the moment they are made, so nothing that happens later in the
 * stream (parse error, invalid code point, a frame or length running past the end, a budget trip) can
 * drop them; `analyzePickleStream` itself never throws except for an aborted scan.
 *
 * Bounded by construction, whatever the input:
 *  - no recursion whose depth the input controls (value rendering is depth- and length-capped, nested
 *    joblib object arrays are capped and flagged beyond 32, nested containers are scanned by the engine
 *    within its depth budget);
 *  - strings are never copied by memo reads: memoised strings live in a per-stream byte arena off the
 *    GC heap (short ones are decoded on read, longer ones are read through one shared reference);
 *  - containers keep at most 16 (tuples, call arguments) or 32 (dicts) items and a bounded retained
 *    weight; everything else is summarised into flags and a logical size;
 *  - a per-file accountant measures what the executors (a file's nested pickles included) actually keep
 *    alive, by a mark walk from the stacks and memos whenever allocations since the last walk exceed the
 *    last live size; above LIVE_LIMIT it sheds retained detail (a note, not an issue: big benign pickles
 *    get there), so memory stays bounded and time stays linear;
 *  - stack and mark stack beyond 1M entries are compacted (oldest entries summarised), not an error;
 *  - hidden-content decoding and code scanning are charged to a per-file budget.
 * A "resource exhaustion" finding (threat routed like other unclassified issues) is made when the value
 * graph expands far beyond the input (exponential or quadratic memo/DUP reuse), or when a hard budget
 * trips (memo indices spread beyond what any pickler writes, joblib nesting, cold memo reads).
 * Imports and calls after a trip are still tracked: only retained values are summarised.
 */
import {Cursor, type Reader, SliceReader, Truncated} from './io.js'
import {classifyGlobal, isDottedIdentifier, isMaliciousSeverity, reachesMachinery, reconstructionKind, type Severity, type Verdict} from './policy.js'
import {decodeHidden, findCode, HIDDEN_MAX, HIDDEN_MIN, looksLikePickle, maybeHiddenText, newHiddenBudget, pickleShape, textBytes, type HiddenBudget} from './hidden.js'

export class Malformed extends Error {}

export interface PickleFinding {
  severity: Severity
  malicious: boolean
  module: string
  operator: string
  description: string
  offset: number
  /** Resource exhaustion and similar findings that are not code execution (routed without a PAIT code). */
  kind?: 'resource'
}

/** Per-file state shared by every pickle stream of the file (nested pickles included). */
export interface PickleBudget {
  /** Estimated bytes allocated since the last walk, and when to walk next. */
  charged: number
  next: number
  /** Live retained bytes measured by the last walk. */
  live: number
  epoch: number
  sheds: number
  walks: number
  roots: Set<Roots>
  arenaBytes: number
  coldReads: number
  hidden: HiddenBudget
  notes: string[]
  /** Resource findings already made for this file (one of each kind). */
  raised: Set<string>
  /** Interned call summaries that replace memoised calls when detail is shed. */
  callSummaries: Map<string, O>
}

export function newPickleBudget(): PickleBudget {
  return {charged: 0, next: CHECK_MIN, live: 0, epoch: 1, sheds: 0, walks: 0, roots: new Set(), arenaBytes: 0, coldReads: 0,
    hidden: newHiddenBudget(), notes: [], raised: new Set(), callSummaries: new Map()}
}

export interface PickleOptions {
  /** Bytes/str arguments that look like a pickle, zip or compressed stream (a slice of the same reader). */
  onNested?: (reader: Reader, label: string) => Promise<void>
  /** Decoded hidden payloads (hex/base64/zlib of a pickle): analysed as pickles, counted only if they parse. */
  onHidden?: (data: Buffer, label: string) => Promise<void>
  /** Called when a finding is made (`isNew`) and each time it is upgraded later. */
  onFinding?: (f: PickleFinding, isNew: boolean) => void
  /** Stop after this many pickles in one stream (default 64). */
  maxPickles?: number
  budget?: PickleBudget
  signal?: AbortSignal
}

export interface PickleResult {
  findings: PickleFinding[]
  pickles: number
  opcodes: number
  globals: string[]
  /** Parse error of the first pickle (malformed/truncated), with its offset. */
  error?: string
  errorOffset?: number
  /** Notes about later pickles, trailing data, summarised values. */
  notes: string[]
  endOffset: number
  sawJoblib: boolean
  sawTorch: boolean
  unsafeCalls: number
}

// ------------------------------------------------------------------ limits

const SHORT_STR = 1024 // longer str values are summarised (their content is examined, not kept)
const AREF_MIN = 64 // memoised strings longer than this are read through one shared reference
const TUPLE_KEEP = 16
const DICT_KEEP = 8
/** Dict entries the analysis reads back (joblib NumpyArrayWrapper state; key lengths 5 and 27 are tested first). */
const KEPT_KEYS = new Set(['shape', 'dtype', 'numpy_array_alignment_bytes'])
const W_MAX = 32
const MAX_STACK = 1 << 20
const MAX_MARKS = 1 << 20
const MAX_MEMO = 4_000_000
const SPARSE_MAX = 262_144
const STR_BUDGET = 24 << 20
const ARENA_CHUNK = 1 << 20
const RETAIN_MAX = 128 << 20
const COLD_MAX = 4_000_000
const CHECK_MIN = 32 << 20
/** Memoised objects between two memo compactions (small enough that completed containers die young). */
const YOUNG_MEMO = 32_768
const LIVE_LIMIT = 48 << 20
const PROTECT_TOP = 64
const MAX_JOBLIB_NESTING = 32
const MAX_CODE_FINDINGS = 20
const MAX_ALT_READINGS = 8
/** Expansion: logical size (value slots; a string counts 1 per 64 bytes, up to 1 KiB) vs input bytes. */
const EXPANSION_UNITS = 2 ** 30
const EXPANSION_RATIO = 1024
/** Estimated bytes of one value object (V8: header + 7 fields) and of an array's fixed part. */
const SZ_OBJ = 80
const SZ_ARR = 32

// value flags
const F_CODE = 1 // holds a string that is Python code calling exec/eval/os/subprocess/__import__
const F_ENC = 2 // holds an encoded payload (a pickle behind hex/base64/zlib, or pickle bytes carried as str)

// ------------------------------------------------------------------ values

interface Base { f: number; n: number; w: number; e: number }
interface Glob extends Base { t: 'glob'; module: string; name: string; verdict: Verdict; key: string }
interface Call extends Base { t: 'call'; fn: V; args: V[] | null; cls: Glob | null }
interface Tup extends Base { t: 'tuple'; items: V[] | null; len: number }
interface Lst extends Base { t: 'list' }
/** Dicts keep only the entries the analysis reads back (joblib's array state), as key/value pairs. */
interface Dct extends Base { t: 'dict'; items: V[] | null | undefined }
interface St extends Base { t: 'set' }
interface Byt extends Base { t: 'bytes'; len: number }
/** A str carried as an object: too long to keep (s null), flagged, or a long memoised string in the arena. */
interface Str extends Base { t: 'str'; s: string | null; ar: StrStore | null; off: number; len: number }
interface Atom extends Base { t: 'unk' | 'dropped' | 'pers' }
type O = Glob | Call | Tup | Lst | Dct | St | Byt | Str | Atom
type V = number | boolean | null | string | O

const atom = (t: Atom['t']): Atom => ({t, f: 0, n: 1, w: 0, e: 0})
const UNK = atom('unk')
const DROPPED = atom('dropped')
const PERS = atom('pers')
/** Memo marker: "a str at a file position that must be read again" (see loadFstr). */
const FSTR = atom('unk')

/* Summaries that replace memo containers when retained detail is shed. n is NaN so that appends to a
 * shared summary never accumulate (reads use `n || 1`). One per (type, flags). */
const shedOf = (t: 'tuple' | 'list' | 'dict' | 'set' | 'bytes', f: number): O => {
  switch (t) {
    case 'tuple': return {t, items: null, len: 0, f, n: NaN, w: 1, e: 0}
    case 'dict': return {t, items: null, f, n: NaN, w: 1, e: 0}
    case 'bytes': return {t, len: 0, f, n: NaN, w: 0, e: 0}
    default: return {t, f, n: NaN, w: 1, e: 0}
  }
}
const SHED: Record<string, O[]> = {}
for (const t of ['tuple', 'list', 'dict', 'set', 'bytes'] as const) SHED[t] = Array.from({length: 8}, (_v, f) => shedOf(t, f))

function isObj(v: V): v is O { return typeof v === 'object' && v !== null }
function isContainer(o: O): o is Tup | Lst | Dct | St { return o.t === 'tuple' || o.t === 'list' || o.t === 'dict' || o.t === 'set' }

/** Logical size of a value in slots (a string is one slot plus one per 64 bytes, capped at 1 KiB). */
function valN(v: V): number {
  if (typeof v === 'object' && v !== null) return v.n || 1
  if (typeof v === 'string') return 1 + (Math.min(v.length, 1024) >> 6)
  return 1
}

/**
 * Where memoised strings live, off the GC heap. A str read straight from the input is kept as its file
 * position: when the cursor's window moves on, a window holding many memoised strings is retained as it
 * is (no copy), one holding few has those strings copied into an arena. Strings that did not come
 * straight from the input are copied into the arena. Both are charged to the per-file `arenaBytes`
 * (RETAIN_MAX); past it, positions are resolved by reading the file again (COLD_MAX reads per file).
 */
class StrStore {
  private chunks: Buffer[] = []
  private used = ARENA_CHUNK
  private segStart: number[] = []
  private segEnd: number[] = []
  private segBuf: Buffer[] = []
  private held = new Set<ArrayBufferLike>()
  private mine = 0
  constructor(private readonly budget: PickleBudget) {}
  private room(n: number): boolean {
    if (this.used + n <= ARENA_CHUNK) return true
    if (this.budget.arenaBytes + ARENA_CHUNK > RETAIN_MAX) return false
    this.budget.arenaBytes += ARENA_CHUNK
    this.mine += ARENA_CHUNK
    this.chunks.push(Buffer.allocUnsafe(ARENA_CHUNK))
    this.used = 0
    return true
  }
  /** Copy bytes into the arena; the arena offset, or -1 when the per-file budget is spent. */
  putBytes(src: Buffer, s: number, e: number): number {
    const n = e - s
    if (!this.room(n)) return -1
    const off = (this.chunks.length - 1) * ARENA_CHUNK + this.used
    src.copy(this.chunks[this.chunks.length - 1], this.used, s, e)
    this.used += n
    return off
  }
  putStr(str: string): [number, number] {
    const b = Buffer.from(str, 'utf8')
    return [this.putBytes(b, 0, b.length), b.length]
  }
  arenaGet(off: number, len: number): string {
    const s = off % ARENA_CHUNK
    return utf8(this.chunks[Math.floor(off / ARENA_CHUNK)], s, s + len)
  }
  /** Keep a stream window (file bytes [start, end)) so positions inside it stay readable. */
  retain(buf: Buffer, start: number, end: number): boolean {
    const ab = buf.buffer
    if (!this.held.has(ab)) {
      if (this.budget.arenaBytes + ab.byteLength > RETAIN_MAX) return false
      this.budget.arenaBytes += ab.byteLength
      this.mine += ab.byteLength
      this.held.add(ab)
    }
    // windows mostly advance: keep the table sorted by start (insertion from the end)
    let i = this.segStart.length
    while (i > 0 && this.segStart[i - 1] > start) i--
    this.segStart.splice(i, 0, start); this.segEnd.splice(i, 0, end); this.segBuf.splice(i, 0, buf)
    return true
  }
  /** A str at a file position from a retained window; null when it must be read from the file. */
  fileGet(off: number, len: number): string | null {
    let lo = 0
    let hi = this.segStart.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (this.segStart[mid] <= off) lo = mid + 1
      else hi = mid - 1
    }
    for (let i = hi; i >= 0 && i > hi - 4; i--) {
      if (off >= this.segStart[i] && off + len <= this.segEnd[i]) {
        const s = off - this.segStart[i]
        return utf8(this.segBuf[i], s, s + len)
      }
    }
    return null
  }
  release(): void {
    this.budget.arenaBytes -= this.mine
    this.mine = 0
    this.chunks = []
    this.segBuf = []
    this.held.clear()
  }
}

/** What the accountant walks from: one per running executor. */
interface Roots {
  stack: V[]; objs: V[]; sparse: Map<number, V> | null
  /** Turn memoised containers that are no longer on the stack (complete) into typed-array summaries. */
  compact?: (onStack: number) => void
}

function strText(v: V): string | null {
  if (typeof v === 'string') return v
  if (isObj(v) && v.t === 'str') return v.s ?? (v.ar ? v.ar.arenaGet(v.off, v.len) : null)
  return null
}

const OPNAMES: Record<number, string> = {
  0x52: 'REDUCE', 0x6f: 'OBJ', 0x69: 'INST', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x62: 'BUILD',
  0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4',
}

/** Buffer#utf8Slice when present (what toString('utf8', s, e) ends in, without the argument handling). */
type Utf8Sliceable = Buffer & {utf8Slice?: (s: number, e: number) => string}
const HAS_UTF8SLICE = typeof (Buffer.prototype as Utf8Sliceable).utf8Slice === 'function'
function utf8(b: Buffer, s: number, e: number): string {
  // short ASCII (most keys, names and tokens): built in JS, a few times faster than a call into the decoder
  switch (e - s) {
    case 0: return ''
    case 1: { const a = b[s]; if (a < 0x80) return fcc(a); break }
    case 2: { const a = b[s], c = b[s + 1]; if ((a | c) < 0x80) return fcc(a, c); break }
    case 3: { const a = b[s], c = b[s + 1], d = b[s + 2]; if ((a | c | d) < 0x80) return fcc(a, c, d); break }
    case 4: {
      const a = b[s], c = b[s + 1], d = b[s + 2], f = b[s + 3]
      if ((a | c | d | f) < 0x80) return fcc(a, c, d, f)
      break
    }
    case 5: {
      const a = b[s], c = b[s + 1], d = b[s + 2], f = b[s + 3], g = b[s + 4]
      if ((a | c | d | f | g) < 0x80) return fcc(a, c, d, f, g)
      break
    }
    case 6: {
      const a = b[s], c = b[s + 1], d = b[s + 2], f = b[s + 3], g = b[s + 4], h = b[s + 5]
      if ((a | c | d | f | g | h) < 0x80) return fcc(a, c, d, f, g, h)
      break
    }
    case 7: {
      const a = b[s], c = b[s + 1], d = b[s + 2], f = b[s + 3], g = b[s + 4], h = b[s + 5], k = b[s + 6]
      if ((a | c | d | f | g | h | k) < 0x80) return fcc(a, c, d, f, g, h, k)
      break
    }
    case 8: {
      const a = b[s], c = b[s + 1], d = b[s + 2], f = b[s + 3], g = b[s + 4], h = b[s + 5], k = b[s + 6], l = b[s + 7]
      if ((a | c | d | f | g | h | k | l) < 0x80) return fcc(a, c, d, f, g, h, k, l)
      break
    }
    case 9: case 10: case 11: case 12: case 13: case 14: case 15: case 16: {
      const n = e - s
      const codes = ASCII_CODES[n]
      let m = 0
      for (let i = 0; i < n; i++) { const x = b[s + i]; m |= x; codes[i] = x }
      if (m < 0x80) return fcc(...codes)
      break
    }
  }
  return HAS_UTF8SLICE ? (b as Utf8Sliceable).utf8Slice!(s, e) : b.toString('utf8', s, e)
}
const fcc = String.fromCharCode
/** Scratch arrays of char codes, one per length 9..16, for `utf8`'s short-ASCII path. */
const ASCII_CODES: number[][] = Array.from({length: 17}, (_, n) => new Array<number>(n).fill(0))

/** Short human rendering: depth ≤ 3, at most `room.n` characters overall (never proportional to the input). */
function render(v: V, depth = 0, room = {n: 400}): string {
  if (room.n <= 0) return '…'
  let out: string
  if (v === null) out = 'None'
  else if (typeof v === 'string') out = JSON.stringify(v.length > 80 ? v.slice(0, 80) + '…' : v)
  else if (typeof v === 'number' || typeof v === 'boolean') out = String(v)
  else {
    switch (v.t) {
      case 'glob': out = `${v.module}.${v.name}`; break
      case 'call': {
        if (depth >= 3) { out = '…'; break }
        const fn = render(v.fn, depth + 1, room)
        out = `${fn}(${v.args ? renderItems(v.args, depth, room) : '…'})`
        break
      }
      case 'tuple': out = depth >= 3 || !v.items ? '(…)' : `(${renderItems(v.items, depth, room)}${v.items.length === 1 ? ',' : ''})`; break
      case 'bytes': out = `<${v.len} bytes>`; break
      case 'str': {
        const t = v.s ?? (v.ar && v.len <= 4096 ? v.ar.arenaGet(v.off, v.len) : null)
        out = t === null ? `<str of ${v.len} bytes>` : JSON.stringify(t.length > 80 ? t.slice(0, 80) + '…' : t)
        break
      }
      default: out = `<${v.t}>`
    }
  }
  room.n -= out.length
  return out
}
function renderItems(items: V[], depth: number, room: {n: number}): string {
  const parts: string[] = []
  for (const a of items) {
    if (room.n <= 0) { parts.push('…'); break }
    parts.push(render(a, depth + 1, room))
  }
  return parts.join(', ')
}

function clip(s: string, n = 600): string { return s.length > n ? s.slice(0, n) + '…' : s }

/** Python-2 style quoted string (protocol 0 STRING). */
function decodePyString(line: string): string {
  const q = line[0]
  if (line.length < 2 || (q !== '"' && q !== "'") || line[line.length - 1] !== q) throw new Malformed('STRING argument is not quoted')
  const s = line.slice(1, -1)
  return s.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16))
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff)
    return ({n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v'} as Record<string, string>)[e] ?? '\\' + e
  })
}

/** raw-unicode-escape (protocol 0 UNICODE). A code point above U+10FFFF is CPython's UnicodeDecodeError: a parse result. */
function decodeRawUnicodeEscape(line: string): string {
  return line.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string | undefined, b: string | undefined) => {
    const cp = parseInt(a ?? b ?? '0', 16)
    if (!(cp <= 0x10ffff)) throw new Malformed(`UNICODE argument holds \\U${b ?? ''}, which is not a valid code point`)
    return String.fromCodePoint(cp)
  })
}

/** Python `int(x, 0)` / `int(x)` literals: sign, underscores, 0x/0o/0b prefixes, surrounding blanks. */
const PY_INT = /^\s*[+-]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|\d[\d_]*)\s*$/
/** Python `float(x)`: decimal/exponent forms with underscores, inf/infinity/nan. */
const PY_FLOAT = /^\s*[+-]?(?:(?:\d[\d_]*)?\.?[\d_]*(?:[eE][+-]?\d[\d_]*)?|inf(?:inity)?|nan)\s*$/i
function pyInt(line: string): number {
  const t = line.trim().replace(/_/g, '')
  const neg = t.startsWith('-')
  const body = t.replace(/^[+-]/, '')
  const v = /^0[xX]/.test(body) ? parseInt(body.slice(2), 16) : /^0[oO]/.test(body) ? parseInt(body.slice(2), 8) : /^0[bB]/.test(body) ? parseInt(body.slice(2), 2) : parseInt(body, 10)
  return neg ? -v : v
}

const DTYPE_NAMED: Record<string, number> = {
  float64: 8, float32: 4, float16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, uint16: 2, uint32: 4, uint64: 8,
  bool: 1, complex64: 8, complex128: 16, double: 8, float: 8, int: 8, longlong: 8, bfloat16: 2,
}

/** Item size of a numpy dtype string; 0 for object dtypes; undefined when unknown. */
export function dtypeItemSize(d: string): number | undefined {
  const s = d.replace(/^[<>|=]/, '')
  if (DTYPE_NAMED[s] !== undefined) return DTYPE_NAMED[s]
  if (s === 'O' || /^O\d*$/.test(s) || s === 'object') return 0
  const m = /^([biufcmMVSUa?])(\d*)/.exec(s)
  if (!m) return undefined
  const n = m[2] ? parseInt(m[2], 10) : 1
  if (m[1] === '?') return 1
  if (m[1] === 'U') return 4 * n
  if (m[1] === 'm' || m[1] === 'M') return 8
  return n
}

interface Ctx {
  c: Cursor
  opts: PickleOptions
  res: PickleResult
  byKey: Map<string, PickleFinding>
  globals: Set<string>
  budget: PickleBudget
  strBudget: number
  nesting: number
  /** First byte of the current stream reading (for expansion ratios). */
  streamStart: number
  /** Decoded hidden payloads waiting for an await point. */
  pending: Array<{data: Buffer; label: string}>
  codeFindings: number
  /** Start offsets for the pure-Python reading after a FRAME that runs past STOP. */
  altStarts: number[]
  frameFlags: Set<string>
}

function sevRank(s: Severity): number { return s === 'critical' ? 3 : s === 'high' ? 2 : s === 'medium' ? 1 : 0 }

function addFinding(ctx: Ctx, key: string, f: PickleFinding): PickleFinding {
  const prev = ctx.byKey.get(key)
  if (prev) {
    if (sevRank(f.severity) > sevRank(prev.severity)) {
      prev.severity = f.severity; prev.malicious = f.malicious; prev.description = f.description
      ctx.opts.onFinding?.(prev, false)
    }
    return prev
  }
  ctx.byKey.set(key, f)
  ctx.res.findings.push(f)
  ctx.opts.onFinding?.(f, true)
  return f
}

/** One resource-exhaustion finding per kind per file. */
function resourceFinding(ctx: Ctx, kind: string, description: string, offset: number): void {
  if (ctx.budget.raised.has(kind)) return
  ctx.budget.raised.add(kind)
  addFinding(ctx, `<resource>|${kind}`, {
    severity: 'medium', malicious: false, module: 'pickle', operator: `resource_exhaustion:${kind}`, kind: 'resource',
    description: `resource exhaustion: ${description}`, offset,
  })
}

function looksNested(head: Buffer): boolean {
  if (head.length < 4) return false
  if (looksLikePickle(head)) return true
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 3 && head[3] === 4) return true
  if (head[0] === 0x1f && head[1] === 0x8b) return true
  if (head[0] === 0x78 && (head[0] * 256 + head[1]) % 31 === 0 && (head[1] === 0x01 || head[1] === 0x5e || head[1] === 0x9c || head[1] === 0xda)) return true
  return false
}

function aborted(ctx: Ctx): boolean { return ctx.opts.signal?.aborted === true }

// ------------------------------------------------------------------ accountant

function sizeOf(o: O): number {
  switch (o.t) {
    case 'tuple': return SZ_OBJ + (o.items ? SZ_ARR + 8 * o.items.length : 0)
    case 'call': return SZ_OBJ + 16 + (o.args ? SZ_ARR + 8 * o.args.length : 0)
    case 'dict': return SZ_OBJ + (o.items ? SZ_ARR + 8 * o.items.length : 0)
    case 'str': return SZ_OBJ + (o.s ? 24 + o.s.length : 0)
    default: return SZ_OBJ
  }
}

/** Small primitive argument lists (a dtype's `('f8', False, True)`, a shape) survive shedding: they are tiny and joblib needs them. */
function tinyPrimitives(items: V[]): boolean {
  if (items.length > 4) return false
  for (const x of items) if (typeof x === 'object' && x !== null || (typeof x === 'string' && x.length > 64)) return false
  return true
}

/**
 * Measure what every running executor of the file keeps alive (mark walk over the value graph from stacks
 * and memos, iterative), and shed retained detail when it is over LIVE_LIMIT: containers and calls below
 * the top of each stack lose their kept items (tiny primitive ones excepted), and memo entries become
 * shared summaries (containers, bytes) or interned per-callable summaries (calls). Only precision of
 * descriptions and of argument checks is lost; imports and calls keep being tracked.
 */
function collect(ctx: Ctx): void {
  const b = ctx.budget
  b.walks++
  // containers still on a stack may be being filled; the others are complete and their memo slots become summaries
  const onStack = ++b.epoch
  for (const r of b.roots) {
    for (const v of r.stack) if (typeof v === 'object' && v !== null) v.e = onStack
    r.compact?.(onStack)
  }
  const measure = (shed: boolean): number => {
    const ep = ++b.epoch
    const protectEp = shed ? ++b.epoch : -1
    let bytes = 0
    const work: O[] = []
    const visit = (v: V, mark: number): void => {
      if (typeof v === 'string') { bytes += 24 + v.length; return }
      if (typeof v !== 'object' || v === null || v.e === mark || v.e === protectEp) return
      v.e = mark
      work.push(v)
    }
    const drain = (mark: number, shedding: boolean): void => {
      while (work.length) {
        const o = work.pop() as O
        bytes += sizeOf(o)
        if (o.t === 'tuple' && o.items) {
          if (shedding && !(tinyPrimitives(o.items) && o.items.every((x) => typeof x !== 'string'))) { o.items = null; o.w = 1 } else for (const x of o.items) visit(x, mark)
        } else if (o.t === 'call') {
          visit(o.fn, mark)
          if (o.cls) visit(o.cls, mark)
          if (o.args) {
            if (shedding && !tinyPrimitives(o.args)) { o.args = null; o.w = 1 } else for (const x of o.args) visit(x, mark)
          }
        } else if (o.t === 'dict' && o.items) {
          if (shedding) { o.items = null; o.w = 1 } else for (const x of o.items) visit(x, mark)
        }
      }
    }
    const summary = (v: O): V | null => {
      if (v.e === protectEp || v.n >= 65536) return null
      if (isContainer(v)) return SHED[v.t][v.f & 7]
      if (v.t === 'bytes') return SHED.bytes[v.f & 7]
      if (v.t === 'call' && v.args === null && isObj(v.fn) && v.fn.t === 'glob') {
        const key = `${v.fn.key}|${v.cls?.key ?? ''}|${v.f}`
        let c = b.callSummaries.get(key)
        if (!c) {
          if (b.callSummaries.size >= 10_000) return null
          c = {t: 'call', fn: v.fn, args: null, cls: v.cls, f: v.f, n: 1, w: 1, e: 0}
          b.callSummaries.set(key, c)
        }
        return c
      }
      return null
    }
    for (const r of b.roots) {
      bytes += 8 * (r.stack.length + r.objs.length) + 80 * (r.sparse?.size ?? 0)
      if (shed) {
        for (let i = Math.max(0, r.stack.length - PROTECT_TOP); i < r.stack.length; i++) visit(r.stack[i], protectEp)
        drain(protectEp, false)
      }
    }
    for (const r of b.roots) {
      for (const v of r.stack) visit(v, ep)
      drain(ep, shed)
      for (let i = 0; i < r.objs.length; i++) {
        let v = r.objs[i]
        if (shed && isObj(v) && (isContainer(v) || v.t === 'bytes')) {
          const sv = summary(v)
          if (sv) r.objs[i] = v = sv
        }
        visit(v, ep)
        drain(ep, shed)
        if (shed && isObj(v) && v.t === 'call') {
          const sv = summary(v)
          if (sv) r.objs[i] = sv
        }
      }
      if (r.sparse) for (const v of r.sparse.values()) visit(v, ep)
      drain(ep, shed)
    }
    return bytes
  }
  // allocations alone since the last walk put it far over the limit: shed in one pass instead of measuring first
  let live = b.live + b.charged > 2 * LIVE_LIMIT ? LIVE_LIMIT + 1 : measure(false)
  if (live > LIVE_LIMIT) {
    b.sheds++
    live = measure(true)
    if (b.sheds === 1) b.notes.push(`values kept by the pickle analysis exceeded ${LIVE_LIMIT >> 20} MB; retained detail was summarised (imports and calls are still tracked)`)
  }
  b.live = live
  b.charged = 0
  // walk again once allocations match what is live (amortised: a walk costs about what was allocated since the
  // last one), at least every CHECK_MIN; live can then reach about twice LIVE_LIMIT between walks
  b.next = Math.max(CHECK_MIN, live)
}

// ------------------------------------------------------------------ stream

export async function analyzePickleStream(c: Cursor, opts: PickleOptions = {}): Promise<PickleResult> {
  const res: PickleResult = {
    findings: [], pickles: 0, opcodes: 0, globals: [], notes: [], endOffset: c.pos, sawJoblib: false, sawTorch: false, unsafeCalls: 0,
  }
  const budget = opts.budget ?? newPickleBudget()
  const ctx: Ctx = {c, opts, res, byKey: new Map(), globals: new Set(), budget, strBudget: STR_BUDGET, nesting: 0, streamStart: c.pos,
    pending: [], codeFindings: 0, altStarts: [], frameFlags: new Set()}
  const notesBefore = budget.notes.length
  try {
    await readSequence(ctx, c.pos, true)
    // pure-Python reading after FRAMEs that extend past STOP: the next pickle starts at the frame end there
    const visited = new Set<number>()
    for (let k = 0; k < ctx.altStarts.length && k < MAX_ALT_READINGS; k++) {
      const at = ctx.altStarts[k]
      if (visited.has(at) || at >= c.end) continue
      visited.add(at)
      await readSequence(ctx, at, false)
    }
  } catch (e) {
    if (aborted(ctx)) throw e
    // a bug or a host limit (stack overflow, allocation failure): everything found so far is kept
    res.error ??= `pickle analysis failed: ${(e as Error)?.message ?? String(e)}`
    res.errorOffset ??= c.pos
  }
  if (res.error && res.unsafeCalls > 0) {
    addFinding(ctx, '<malformed-after-call>', {
      severity: 'medium', malicious: false, module: 'pickle', operator: 'malformed',
      description: `pickle stream is malformed after executing call opcodes (${res.error}); the calls before the error run at load time`,
      offset: res.errorOffset ?? 0,
    })
  }
  for (const n of budget.notes.slice(notesBefore)) res.notes.push(n)
  res.endOffset = c.pos
  res.globals = [...ctx.globals]
  return res
}

/** One reading: consecutive pickles from `start` (legacy torch files, stacked payloads). */
async function readSequence(ctx: Ctx, start: number, primary: boolean): Promise<void> {
  const {c, res} = ctx
  c.pos = start
  ctx.streamStart = start
  const maxPickles = ctx.opts.maxPickles ?? 64
  for (let i = 0; c.remaining > 0; i++) {
    if (i > 0) {
      if (i >= maxPickles) { res.notes.push(`stopped after ${maxPickles} pickles; ${c.remaining} bytes not examined`); break }
      await c.need(2)
      const b0 = c.win[c.pos - c.winStart]
      const b1 = c.remaining > 1 ? c.win[c.pos - c.winStart + 1] : 0
      // another pickle: a PROTO header, or the usual first opcodes of protocol 0/1 streams
      const plausible = (b0 === 0x80 && b1 <= 5) || (b0 === 0x63 && b1 !== 10) || b0 === 0x28 || b0 === 0x5d || b0 === 0x7d || b0 === 0x29
      if (!plausible) { res.notes.push(`${c.remaining} bytes of trailing data after pickle ${i}${primary ? '' : ` (reading from offset ${start})`} (not a pickle)`); break }
    }
    const at = c.pos
    const before = res.findings.length
    try {
      await runOne(ctx)
      res.pickles++
    } catch (e) {
      if (aborted(ctx)) throw e
      const known = e instanceof Malformed || e instanceof Truncated
      const msg = known ? `${e instanceof Truncated ? 'truncated' : 'malformed'} pickle: ${e.message}` : `pickle analysis stopped: ${(e as Error)?.message ?? String(e)}`
      if (i === 0 && primary) { res.error = msg; res.errorOffset = c.pos }
      else if (res.findings.length > before) { res.notes.push(`pickle ${i + 1} at offset ${at}: ${msg}`); res.pickles++ }
      else res.notes.push(`${c.end - at} bytes of trailing data after pickle ${i} (${msg})`)
      await drainPending(ctx)
      break
    }
    await drainPending(ctx)
  }
}

async function drainPending(ctx: Ctx): Promise<void> {
  while (ctx.pending.length) {
    const p = ctx.pending.shift()!
    if (ctx.opts.onHidden) await ctx.opts.onHidden(p.data, p.label)
  }
}

async function runOne(ctx: Ctx): Promise<void> {
  const roots: Roots = {stack: [], objs: [], sparse: null}
  const arena = new StrStore(ctx.budget)
  ctx.budget.roots.add(roots)
  try {
    await execute(ctx, roots, arena)
  } finally {
    ctx.budget.roots.delete(roots)
    arena.release()
  }
}

/** One pickle, from the cursor to its STOP (the executor proper). */
async function execute(ctx: Ctx, roots: Roots, arena: StrStore): Promise<void> {
  const {c, res, budget} = ctx
  const {stack, objs} = roots
  let marks: number[] = []
  /** Entries dropped from the bottom of the stack / mark stack by compaction (reads below them give UNK). */
  let lostStack = 0
  let lostMarks = 0
  let frameEnd = -1
  let frameOverrun = -1
  let lastStrOff = -1
  let lastStrLen = 0
  let lastStrIdx = -1
  let lastStr = ''
  let lastGetStr: string | null = null
  let lastGetOff = 0
  let lastGetLen = 0
  let lastGetKind = 0

  /** Set when allocations since the last walk call for a new one (checked between opcodes). */
  let collectDue = budget.charged >= budget.next
  const charge = (n: number): void => { if ((budget.charged += n) >= budget.next) collectDue = true }
  const compactStack = (): void => {
    const half = stack.length >> 1
    stack.splice(0, half)
    lostStack += half
    objHigh = stack.length
    for (let i = 0; i < marks.length; i++) marks[i] = Math.max(0, marks[i] - half)
    if (!budget.raised.has('stack-note')) { budget.raised.add('stack-note'); budget.notes.push(`value stack exceeded ${MAX_STACK} entries; the oldest were summarised`) }
  }
  const compactMarks = (): void => {
    const half = marks.length >> 1
    marks = marks.slice(half)
    lostMarks += half
    if (!budget.raised.has('marks-note')) { budget.raised.add('marks-note'); budget.notes.push(`mark stack exceeded ${MAX_MARKS} entries; the oldest were summarised`) }
  }
  const base = (): number => (marks.length ? marks[marks.length - 1] : 0)
  /** Highest stack index an object may occupy (-1: none): lets APPENDS skip summing plain items. Conservative. */
  let objHigh = -1
  const push = (v: V): void => {
    if (stack.length >= MAX_STACK) compactStack()
    if (typeof v === 'object' && v !== null && stack.length > objHigh) objHigh = stack.length
    stack.push(v)
  }
  /** push() for values known not to be objects (numbers, str, None, booleans): the fast path's hot case. */
  const pushPrim = (v: number | string | boolean | null): void => {
    if (stack.length >= MAX_STACK) compactStack()
    stack.push(v)
  }
  const underflow = (): never => { throw new Malformed(`stack underflow at offset ${c.pos - 1}`) }
  const pop = (): V => {
    if (stack.length <= base()) return lostStack > 0 && !marks.length ? UNK : underflow()
    return stack.pop() as V
  }
  const top = (): V => {
    if (stack.length <= base()) return lostStack > 0 && !marks.length ? UNK : underflow()
    return stack[stack.length - 1]
  }
  const top_below = (m: number): V => {
    if (m <= (marks.length ? marks[marks.length - 1] : 0)) return lostStack > 0 && !marks.length ? UNK : underflow()
    return stack[m - 1]
  }
  const pushMark = (): void => {
    if (marks.length >= MAX_MARKS) compactMarks()
    marks.push(stack.length)
  }
  const popMarkIndex = (): number => {
    if (marks.length) return marks.pop() as number
    if (lostMarks > 0) { lostMarks--; return 0 }
    throw new Malformed(`no MARK on the stack at offset ${c.pos - 1}`)
  }
  const popMark = (): V[] => stack.splice(popMarkIndex())

  // ---------------------------------------------------------------- memo
  /*
   * Typed arrays indexed by slot (kind, value/position, str length) so millions of memoised strings and
   * numbers cost ~11 bytes each plus their bytes (kept by `arena`, see StrStore), and nothing for the GC;
   * objects live in `objs`. Far-out sparse indices go to a Map (capped: no pickler writes them).
   * K_FSTR: a str at a file position (current window, a retained window, or read again); K_ASTR: in the arena;
   * K_TUP: a tuple summary (logical size in vals, flags in refLen); K_CSUM: the same for a list/dict/set/bytes
   * no longer on the stack at an accountant walk (refLen = flags | type << 8). Picklers fill a container while
   * it is on the stack, right after memoising it; once it left the stack it is complete, so memo-heavy streams
   * keep one object per container only until the next walk.
   */
  const K_EMPTY = 0, K_ASTR = 1, K_NUM = 2, K_OBJ = 3, K_NULL = 4, K_TRUE = 5, K_FALSE = 6, K_FSTR = 7, K_TUP = 8, K_CSUM = 9
  // sized for the stream up front (untouched pages cost nothing), so growth is rare
  let mcap = Math.max(1024, Math.min(Math.floor(c.remaining / 4), MAX_MEMO + 1024))
  let kinds = new Uint8Array(mcap)
  let vals = new Float64Array(mcap)
  let refLen = new Uint16Array(mcap)
  let memoCount = 0
  let memoHighPut = 0
  let memoOverflow = false
  let sparseFull = false
  const grow = (idx: number): void => {
    let n = mcap
    while (n <= idx) n *= 2
    const k = new Uint8Array(n); k.set(kinds); kinds = k
    const v = new Float64Array(n); v.set(vals); vals = v
    const l = new Uint16Array(n); l.set(refLen); refLen = l
    mcap = n
  }
  // the window whose K_FSTR slots are not yet settled (retained or copied when the window moves on)
  let curWin = c.win
  let curWinStart = c.winStart
  let curWinEnd = c.winEnd
  // slots created by MEMOIZE during the window are the index range [winMemoStart, memoCount) (the hot path
  // records nothing); slots set by PUT with explicit indices are listed
  let winMemoStart = 0
  let winSlots: number[] = []
  const addWinSlot = (idx: number): void => { if (idx < winMemoStart) winSlots.push(idx) }
  const inWin = (idx: number): boolean => {
    if (idx >= mcap || kinds[idx] !== K_FSTR) return false
    const off = vals[idx]
    return off >= curWinStart && off + refLen[idx] <= curWinEnd
  }
  const retireWindow = (): void => {
    // many memoised strings in the window (one per 256 bytes or more): keep it as it is; few: copy them out
    const slots = memoCount - winMemoStart + winSlots.length
    if (slots > 0 && !(slots * 256 >= curWinEnd - curWinStart && arena.retain(curWin, curWinStart, curWinEnd))) {
      const copy = (idx: number): void => {
        if (!inWin(idx)) return
        const off = vals[idx]
        const a = arena.putBytes(curWin, off - curWinStart, off - curWinStart + refLen[idx])
        if (a >= 0) { kinds[idx] = K_ASTR; vals[idx] = a }
      }
      for (let idx = winMemoStart; idx < memoCount && idx < mcap; idx++) copy(idx)
      for (const idx of winSlots) copy(idx)
    }
    winSlots = []
    winMemoStart = memoCount
    curWin = c.win; curWinStart = c.winStart; curWinEnd = c.winEnd
  }
  const syncWindow = (): void => { if (c.win !== curWin) retireWindow() }
  const memoHas = (idx: number): boolean => (idx < mcap && kinds[idx] !== K_EMPTY) || (roots.sparse !== null && roots.sparse.has(idx))
  const arefObj = (off: number, len: number, f: number): Str => { charge(SZ_OBJ); return {t: 'str', s: null, ar: arena, off, len, f, n: 1 + (Math.min(len, 1024) >> 6), w: 0, e: 0} }
  let youngMemo = 0
  const setObj = (idx: number, v: V): void => {
    if (++youngMemo >= YOUNG_MEMO) collectDue = true
    if (kinds[idx] === K_OBJ) objs[vals[idx]] = v
    else { kinds[idx] = K_OBJ; vals[idx] = objs.length; objs.push(v) }
  }
  /** Keep a memoised str. Returns false when it could not be kept (budgets spent). */
  const putStr = (idx: number, v: string): boolean => {
    syncWindow()
    const fromInput = lastStrIdx === stack.length - 1 && v === lastStr
    if (fromInput && lastStrLen <= AREF_MIN && lastStrOff >= curWinStart && lastStrOff + lastStrLen <= curWinEnd) {
      kinds[idx] = K_FSTR; vals[idx] = lastStrOff; refLen[idx] = lastStrLen
      addWinSlot(idx)
      return true
    }
    if (v === lastGetStr && lastGetKind === K_FSTR) {
      kinds[idx] = K_FSTR; vals[idx] = lastGetOff; refLen[idx] = lastGetLen
      addWinSlot(idx)
      return true
    }
    let off: number
    let len: number
    if (v === lastGetStr && lastGetKind === K_ASTR) { off = lastGetOff; len = lastGetLen } else if (fromInput && lastStrOff >= curWinStart && lastStrOff + lastStrLen <= curWinEnd) {
      off = arena.putBytes(curWin, lastStrOff - curWinStart, lastStrOff - curWinStart + lastStrLen); len = lastStrLen
      if (off < 0) { kinds[idx] = K_FSTR; vals[idx] = lastStrOff; refLen[idx] = lastStrLen; return true }
    } else [off, len] = arena.putStr(v)
    if (off < 0 || len > 0xffff) return false
    if (len > AREF_MIN) setObj(idx, arefObj(off, len, 0))
    else { kinds[idx] = K_ASTR; vals[idx] = off; refLen[idx] = len }
    return true
  }
  const memoPut = (idx: number, v: V): void => {
    if (!memoHas(idx)) {
      if (memoCount >= MAX_MEMO) {
        if (!memoOverflow) { memoOverflow = true; budget.notes.push(`memo exceeds ${MAX_MEMO} entries; later plain values are not retained`) }
        if (isObj(v) && (v.t === 'glob' || v.t === 'call')) {
          roots.sparse ??= new Map()
          if (roots.sparse.size < SPARSE_MAX) roots.sparse.set(idx, v)
        }
        return
      }
      memoCount++
    }
    if (idx >= mcap && (idx > mcap * 2 + 1024 || idx > MAX_MEMO * 4)) {
      roots.sparse ??= new Map()
      if (roots.sparse.size >= SPARSE_MAX && !roots.sparse.has(idx)) {
        if (!sparseFull) {
          sparseFull = true
          resourceFinding(ctx, 'memo-indices', `memo indices spread over more than ${SPARSE_MAX} far-apart slots (no pickler writes this); later values in such slots are not retained`, c.pos)
        }
        return
      }
      if (typeof v === 'string') { ctx.strBudget -= v.length + 32; if (ctx.strBudget < 0) v = DROPPED }
      roots.sparse.set(idx, v)
      return
    }
    if (idx >= mcap) grow(idx)
    if (idx >= memoHighPut) memoHighPut = idx + 1
    if (typeof v === 'string') {
      if (putStr(idx, v)) return
      ctx.strBudget -= v.length + 32
      if (ctx.strBudget < 0) v = DROPPED
      setObj(idx, v)
      return
    }
    if (typeof v === 'number') { kinds[idx] = K_NUM; vals[idx] = v; return }
    if (v === null) { kinds[idx] = K_NULL; return }
    if (v === true) { kinds[idx] = K_TRUE; return }
    if (v === false) { kinds[idx] = K_FALSE; return }
    if (v.t === 'tuple' && !(v.items && v.items.some((x) => isObj(x) && (x.t === 'glob' || x.t === 'call')))) {
      // tuples are immutable: a later memo read needs their flags and logical size, not the object (memo-heavy
      // streams would otherwise keep one object per tuple); tuples holding imports or calls stay whole
      if (kinds[idx] === K_OBJ) objs[vals[idx]] = null
      kinds[idx] = K_TUP; vals[idx] = v.n; refLen[idx] = v.f
      return
    }
    setObj(idx, v)
  }
  /** The memo value; FSTR means "a str at file offset vals[idx] of refLen[idx] bytes" (see loadFstr). */
  const memoGet = (idx: number): V => {
    if (idx < mcap) {
      switch (kinds[idx]) {
        case K_ASTR: {
          const off = vals[idx]
          const len = refLen[idx]
          const s = arena.arenaGet(off, len)
          lastGetStr = s; lastGetOff = off; lastGetLen = len; lastGetKind = K_ASTR
          return s
        }
        case K_FSTR: {
          const off = vals[idx]
          const len = refLen[idx]
          const s = off >= c.winStart && off + len <= c.winEnd ? utf8(c.win, off - c.winStart, off - c.winStart + len)
            : off >= curWinStart && off + len <= curWinEnd ? utf8(curWin, off - curWinStart, off - curWinStart + len) : arena.fileGet(off, len)
          if (s === null) return FSTR
          lastGetStr = s; lastGetOff = off; lastGetLen = len; lastGetKind = K_FSTR
          return s
        }
        case K_NUM: return vals[idx]
        case K_OBJ: return objs[vals[idx]]
        case K_TUP: charge(SZ_OBJ); return {t: 'tuple', items: null, len: 0, f: refLen[idx], n: vals[idx], w: 1, e: 0}
        case K_CSUM: {
          charge(SZ_OBJ)
          const f = refLen[idx] & 0xff
          const n = vals[idx]
          switch (refLen[idx] >> 8) {
            case 1: return {t: 'list', f, n, w: 1, e: 0}
            case 2: return {t: 'dict', items: null, f, n, w: 1, e: 0}
            case 3: return {t: 'set', f, n, w: 1, e: 0}
            default: return {t: 'bytes', len: 0, f, n, w: 0, e: 0}
          }
        }
        case K_NULL: return null
        case K_TRUE: return true
        case K_FALSE: return false
        default: break
      }
    }
    const sv = roots.sparse?.get(idx)
    if (sv !== undefined) return sv
    if (memoOverflow || sparseFull) return DROPPED
    throw new Malformed(`memo value ${idx} not found at offset ${c.pos}`)
  }
  // memo slots from compactFrom on have not been examined yet; `recheck` holds slots whose container was still on the stack
  let compactFrom = 0
  let recheck: number[] = []
  roots.compact = (onStack: number): void => {
    const lim = Math.min(mcap, Math.max(memoCount, memoHighPut))
    const again = recheck
    recheck = []
    const one = (idx: number): void => {
      if (kinds[idx] !== K_OBJ) return
      const oi = vals[idx]
      const v = objs[oi]
      if (!isObj(v)) return
      const code = v.t === 'list' ? 1 : v.t === 'dict' && !v.items ? 2 : v.t === 'set' ? 3 : v.t === 'bytes' ? 4 : 0
      if (!code) return
      if (v.e === onStack) { if (recheck.length < MAX_STACK) recheck.push(idx); return }
      kinds[idx] = K_CSUM; vals[idx] = v.n || 1; refLen[idx] = (v.f & 0xff) | (code << 8)
      objs[oi] = null
    }
    for (const idx of again) one(idx)
    for (let idx = compactFrom; idx < lim; idx++) one(idx)
    compactFrom = lim
    youngMemo = 0
  }
  /** Compaction alone (no walk): frequent enough that completed containers die young (no old-space garbage). */
  const compactMemo = (): void => {
    const onStack = ++budget.epoch
    for (const v of stack) if (typeof v === 'object' && v !== null) v.e = onStack
    roots.compact?.(onStack)
  }
  const loadFstr = async (idx: number): Promise<V> => {
    const off = vals[idx]
    const len = refLen[idx]
    if (++budget.coldReads > COLD_MAX) {
      resourceFinding(ctx, 'cold-reads', `more than ${COLD_MAX} reads of memoised strings from far back in the stream; later ones are not resolved`, c.pos)
      return DROPPED
    }
    return (await c.reader.read(off, len)).toString('utf8')
  }
  const getAsync = async (i: number): Promise<V> => {
    const v = memoGet(i)
    return v === FSTR ? loadFstr(i) : v
  }

  // ---------------------------------------------------------------- values
  const checkExpansion = (n: number, offset: number): void => {
    if (!(n >= EXPANSION_UNITS) || budget.raised.has('expansion')) return
    const consumed = Math.max(1, c.pos - ctx.streamStart)
    if (n < EXPANSION_RATIO * consumed) return
    resourceFinding(ctx, 'expansion', `the value graph expands to about ${n >= 1e15 ? '≥1e15' : Math.round(n).toExponential(1)} values from ${consumed} bytes of pickle ` +
      '(memo/DUP reuse nested into itself: a "billion laughs" / quadratic blow-up that exhausts anything walking the loaded object)', offset)
  }
  const mkTuple = (items: V[], offset: number): Tup => {
    let f = 0
    let n = 1
    let w = 1
    for (let i = 0; i < items.length; i++) {
      const it = items[i]
      if (typeof it === 'object' && it !== null) { f |= it.f; n += it.n || 1; w += it.w } else if (typeof it === 'string') {
        const l = it.length
        n += 1 + ((l > 1024 ? 1024 : l) >> 6); w += l >> 6
      } else n += 1
    }
    const keep = items.length <= TUPLE_KEEP && w <= W_MAX
    charge(SZ_OBJ + (keep ? SZ_ARR + 8 * items.length : 0))
    if (n >= EXPANSION_UNITS) checkExpansion(n, offset)
    return {t: 'tuple', items: keep ? items : null, len: items.length, f, n, w: keep ? w : 1, e: 0}
  }
  /** Items [from, stack.length): flags and logical size, for containers that do not keep them. */
  const sumRange = (from: number): [number, number] => {
    let f = 0
    let n = 0
    for (let i = from; i < stack.length; i++) {
      const it = stack[i]
      if (typeof it === 'object' && it !== null) { f |= it.f; n += it.n || 1 } else if (typeof it === 'string') n += 1 + ((it.length > 1024 ? 1024 : it.length) >> 6)
      else n += 1
    }
    return [f, n]
  }
  const newList = (): Lst => { charge(SZ_OBJ); return {t: 'list', f: 0, n: 1, w: 1, e: 0} }
  const newDict = (): Dct => { charge(SZ_OBJ); return {t: 'dict', items: undefined, f: 0, n: 1, w: 1, e: 0} }
  const newSet = (): St => { charge(SZ_OBJ); return {t: 'set', f: 0, n: 1, w: 1, e: 0} }
  /** Items appended/added to a container (or a method call on an imported object). */
  const grew = (t: V, f: number, n: number, op: string, offset: number): void => {
    if (isObj(t) && (t.t === 'list' || t.t === 'set' || t.t === 'dict')) {
      t.f |= f
      t.n += n
      if (t.n >= EXPANSION_UNITS) checkExpansion(t.n, offset)
      return
    }
    mutate(t, op)
  }

  // ---------------------------------------------------------------- hidden content
  /** Python code in a str or bytes value (`what` names it in the finding): F_CODE, and a finding while under MAX_CODE_FINDINGS. */
  const codeFlag = (text: string, what: string, offset: number): number => {
    const code = findCode(text, budget.hidden)
    if (!code) return 0
    if (ctx.codeFindings < MAX_CODE_FINDINGS) {
      ctx.codeFindings++
      addFinding(ctx, `<code>|${code.marker}|${code.excerpt}`, {
        severity: 'medium', malicious: false, module: 'pickle', operator: `code:${code.marker}`,
        description: `${what} in the pickled data is Python code calling ${code.marker}…: ${JSON.stringify(clip(code.excerpt, 160))}`, offset,
      })
    }
    return F_CODE
  }
  /** Examine a str read from the data; returns the value to push (a flagged str object when it hides something). */
  const inspectStr = (s: string, offset: number): V => {
    if (!maybeHiddenText(s) || budget.hidden.exhausted) return s
    let f = codeFlag(s, 'a string', offset)
    const c0 = s.charCodeAt(0)
    if (c0 === 0x80 || (c0 === 0x63 && looksLikePickle(textBytes(s.slice(0, 256))))) {
      // a pickle carried as text (protocol-2 bytes travel as _codecs.encode(str, 'latin1'))
      const bytes = textBytes(s)
      if (looksLikePickle(bytes) && pickleShape(bytes)) { f |= F_ENC; ctx.pending.push({data: bytes, label: `str@${offset}`}) }
    } else {
      const hit = decodeHidden(textBytes(s), budget.hidden)
      if (hit) { f |= F_ENC; ctx.pending.push({data: hit.data, label: `${hit.encoding}@${offset}`}) }
    }
    if (budget.hidden.exhausted) hiddenExhausted(offset)
    if (!f) return s
    charge(SZ_OBJ + s.length)
    return {t: 'str', s, ar: null, off: 0, len: s.length, f, n: 1 + (Math.min(s.length, 1024) >> 6), w: s.length >> 6, e: 0}
  }
  const hiddenExhausted = (offset: number): void => {
    if (budget.raised.has('hidden-note')) return
    budget.raised.add('hidden-note')
    budget.notes.push(`hidden-content analysis budget spent (${budget.hidden.exhausted}); later strings were not decoded (offset ${offset})`)
  }

  // ---------------------------------------------------------------- imports and calls
  const globCache = new Map<string, Glob>()
  const doImport = (module: string, name: string, op: string, offset: number): Glob => {
    if (!isDottedIdentifier(module) || !isDottedIdentifier(name)) {
      throw new Malformed(`${op} with a module/name that cannot be imported (${JSON.stringify(clip(module, 80))}, ${JSON.stringify(clip(name, 80))})`)
    }
    const key = `${module}.${name}`
    let g = globCache.get(key)
    if (!g) {
      const verdict = classifyGlobal(module, name)
      g = {t: 'glob', module, name, verdict, key, f: 0, n: 1, w: 0, e: 0}
      if (globCache.size < 10_000) globCache.set(key, g)
    }
    if (ctx.globals.size < 1000) ctx.globals.add(key)
    if (module.startsWith('joblib')) res.sawJoblib = true
    if (module.startsWith('torch')) res.sawTorch = true
    const v = g.verdict
    if (v.tier === 'deny') {
      addFinding(ctx, key, {
        severity: v.severity ?? 'high', malicious: isMaliciousSeverity(v.severity), module, operator: name,
        description: `${op} imports ${key} (${v.reason})`, offset,
      })
    }
    return g
  }

  const argsFlags = (args: V[] | null, argsV: V): number => {
    if (args) { let f = 0; for (const a of args) if (isObj(a)) f |= a.f; return f }
    return isObj(argsV) ? argsV.f : 0
  }
  const contentNote = (f: number): string => (f & F_CODE ? 'Python code' : 'an encoded pickle')

  /** An unknown callable invoked with arguments (or given code-like/encoded content): suspicious, malicious with code. */
  const reportUnknownCall = (g: Glob, f: number, op: string, what: string, argText: string, offset: number, withArgs: boolean): void => {
    const m = reachesMachinery(g.module, g.name)
    const code = (f & F_CODE) !== 0
    // code flowing in is malicious; machinery reached with arguments too; bare reconstruction or other arguments: suspicious
    const severity: Severity = code || (m && withArgs) ? 'high' : 'medium'
    const why = code || (f & F_ENC) ? `; its arguments carry ${contentNote(f)}` : m ? `; its path reaches ${m}` : ''
    addFinding(ctx, g.key + '|call', {
      severity, malicious: severity === 'high', module: g.module, operator: g.name,
      description: `${op} ${what} ${g.key}(${argText}), which is not on the allow list (${g.verdict.reason})${why}`, offset,
    })
  }

  /**
   * Reconstruction of `cls` (allocation through __new__, then state): clean for a plain class whatever the
   * path; reported when the class is denied (already reported at import), reaches machinery, or the
   * arguments carry code-like/encoded content.
   */
  const reconstruct = (cls: V, f: number, op: string, argText: string, offset: number): Glob | null => {
    if (!isObj(cls) || cls.t !== 'glob') {
      computedCall(cls, op, offset)
      return null
    }
    const v = cls.verdict
    if (v.tier === 'deny') {
      res.unsafeCalls++
      const prev = ctx.byKey.get(cls.key)
      if (prev && !prev.description.includes(' and instantiates it')) { prev.description = clip(`${prev.description} and instantiates it via ${op}`, 2000); ctx.opts.onFinding?.(prev, false) }
      return cls
    }
    if (v.tier === 'unknown') {
      const m = reachesMachinery(cls.module, cls.name)
      if (m || (f & (F_CODE | F_ENC))) {
        res.unsafeCalls++
        reportUnknownCall(cls, f, op, 'reconstructs', argText, offset, argText !== '')
      }
    }
    return cls
  }

  const computedCall = (fn: V, op: string, offset: number): void => {
    res.unsafeCalls++
    const what = render(fn)
    const deny = isObj(fn) && fn.t === 'call' && isObj(fn.fn) && fn.fn.t === 'glob' && fn.fn.verdict.tier === 'deny'
    addFinding(ctx, `<computed-call>|${clip(what, 200)}`, {
      severity: deny ? 'critical' : 'medium', malicious: deny, module: '<computed>', operator: clip(what, 200),
      description: `${op} calls a value computed at load time: ${clip(what, 300)}`, offset,
    })
  }

  /**
   * REDUCE / INST / OBJ / NEWOBJ / NEWOBJ_EX. `args` are the positional arguments when known (≤ 16 kept),
   * `argsV` the argument value (tuple) when the executor only has a summary.
   */
  const doCall = (fn: V, args: V[] | null, argsV: V, op: string, offset: number, kwargs: V = null): V => {
    const f = argsFlags(args, argsV) | (isObj(kwargs) ? kwargs.f : 0)
    const nargs = args ? args.length : isObj(argsV) && argsV.t === 'tuple' ? argsV.len : -1
    const argText = (): string => (args ? clip(args.map((a) => render(a)).join(', '), 300) : '…')
    let cls: Glob | null = null
    const resultF = f & (F_CODE | F_ENC)
    if (isObj(fn) && fn.t === 'glob') {
      const v = fn.verdict
      if (op === 'NEWOBJ' || op === 'NEWOBJ_EX') {
        // cls.__new__(cls, *args): CPython refuses anything but a type here
        cls = reconstruct(fn, f, op, argText(), offset)
      } else if ((op === 'INST' || op === 'OBJ') && nargs === 0) {
        // argument-less INST/OBJ of a class allocates it (no __init__), like NEWOBJ
        cls = reconstruct(fn, f, op, '', offset)
      } else if (v.tier === 'deny') {
        res.unsafeCalls++
        const prev = ctx.byKey.get(fn.key)
        const at = argText()
        if (prev && !prev.description.includes(' and calls it')) { prev.description = clip(`${prev.description} and calls it via ${op}(${at})`, 2000); ctx.opts.onFinding?.(prev, false) } else if (!prev) {
          addFinding(ctx, fn.key, {severity: v.severity ?? 'high', malicious: isMaliciousSeverity(v.severity), module: fn.module, operator: fn.name,
            description: `${op} calls ${fn.key}(${at}) (${v.reason})`, offset})
        }
      } else {
        const rk = reconstructionKind(fn.module, fn.name)
        if (rk) {
          // copyreg.__newobj__(cls, *args), _reconstructor(cls, base, state), __pyx_unpickle_X(cls, checksum, state)
          const first = args ? args[0] : undefined
          if (args && args.length >= 1) {
            let rest = 0
            for (let i = 1; i < args.length; i++) if (isObj(args[i])) rest |= (args[i] as O).f
            if (rk === 'reconstructor' && args.length >= 2) {
              const b = args[1]
              // base.__new__(cls, state) and base.__init__(obj, state): only a plain builtin type as base is allocation
              const baseOk = isObj(b) && b.t === 'glob' && b.verdict.tier === 'safe'
              if (!baseOk && isObj(b) && b.t === 'glob') doCall(b, args.slice(2), null, `${op} (copyreg._reconstructor base)`, offset)
              else if (!baseOk) computedCall(b, op, offset)
            }
            cls = reconstruct(first as V, rest, `${op} of ${fn.key}`, clip(args.slice(1).map((a) => render(a)).join(', '), 300), offset)
          } else if (nargs !== 0) {
            // arguments not kept: judge by their flags
            cls = null
            if (f & (F_CODE | F_ENC)) addFinding(ctx, fn.key + '|recon-content', {severity: f & F_CODE ? 'high' : 'medium', malicious: (f & F_CODE) !== 0,
              module: fn.module, operator: fn.name, description: `${op} of ${fn.key} reconstructs an object from arguments that carry ${contentNote(f)}`, offset})
          }
        } else if (v.tier === 'unknown') {
          if (nargs !== 0 || (f & (F_CODE | F_ENC)) || reachesMachinery(fn.module, fn.name)) {
            res.unsafeCalls++
            reportUnknownCall(fn, f, op, 'calls', argText(), offset, nargs !== 0)
          }
        }
      }
    } else if (isObj(fn) && (fn.t === 'call' || fn.t === 'unk' || fn.t === 'pers' || fn.t === 'dropped')) {
      computedCall(fn, op, offset)
    } else if (!isObj(fn) || fn.t === 'bytes' || fn.t === 'str' || fn.t === 'tuple' || fn.t === 'list' || fn.t === 'dict' || fn.t === 'set') {
      throw new Malformed(`${op} on a non-callable value ${render(fn)}`)
    }
    let w = 1
    let keep = args !== null && args.length <= TUPLE_KEEP
    if (keep && args) {
      for (const a of args) w += isObj(a) ? a.w : typeof a === 'string' ? a.length >> 6 : 0
      if (w > W_MAX) { keep = false; w = 1 }
    }
    charge(SZ_OBJ + (keep && args ? SZ_ARR + 8 * args.length : 0))
    return {t: 'call', fn, args: keep ? args : null, cls, f: resultF, n: 1, w, e: 0}
  }

  const tupleItems = (v: V): V[] | null => (isObj(v) && v.t === 'tuple' ? v.items : null)

  const mutate = (t: V, op: string): void => {
    if (isObj(t) && t.t === 'glob') {
      addFinding(ctx, t.key + '|' + op, {
        severity: 'medium', malicious: false, module: t.module, operator: t.name,
        description: t.verdict.tier !== 'safe' ? `${op} calls a method of the imported object ${t.key}` : `${op} mutates the imported object ${t.key}`, offset: c.pos,
      })
    } else if (!isObj(t) || t.t === 'bytes' || t.t === 'str' || t.t === 'tuple') {
      throw new Malformed(`${op} on a value that has no such method (${render(t)})`)
    }
  }

  const setItem = (t: V, k: V, v: V, op: string, offset: number): void => {
    if (isObj(t) && t.t === 'dict') {
      const nk = valN(k)
      const nv = valN(v)
      t.n += nk + nv
      if (isObj(k)) t.f |= k.f
      if (isObj(v)) t.f |= v.f
      if (t.items !== null && typeof k === 'string' && (k.length === 5 || k.length === 27) && KEPT_KEYS.has(k)) {
        const w = isObj(v) ? v.w : typeof v === 'string' ? v.length >> 6 : 0
        t.items ??= []
        if (t.items.length < 2 * DICT_KEEP && t.w + w <= W_MAX) { t.items.push(k, v); t.w += w; charge(SZ_ARR) } else { t.items = null; t.w = 1 }
      }
      if (t.n >= EXPANSION_UNITS) checkExpansion(t.n, offset)
      return
    }
    mutate(t, op)
  }

  // ---------------------------------------------------------------- strings and bytes
  const onBytes = async (len: number, label: string): Promise<V> => {
    if (len > c.remaining) throw new Truncated(`${label} of ${len} bytes runs past the end of the data`)
    const start = c.pos
    let f = 0
    if (len >= 8) {
      await c.need(Math.min(len, 128))
      const head = c.win.subarray(c.pos - c.winStart, c.pos - c.winStart + Math.min(len, 128))
      if (looksNested(head)) {
        // raw pickle bytes flowing into a callable are "encoded content"; archives and compressed streams are just scanned
        if (looksLikePickle(head)) f |= F_ENC
        if (ctx.opts.onNested) await ctx.opts.onNested(new SliceReader(c.reader, start, len), `bytes@${start}`)
      } else if (len >= HIDDEN_MIN && len <= HIDDEN_MAX && !budget.hidden.exhausted && maybeHiddenText(head.toString('latin1'))) {
        const raw = await c.readBytes(len)
        f |= inspectBytes(raw, start)
      }
    }
    c.pos = start + len
    charge(SZ_OBJ)
    return {t: 'bytes', len, f, n: 1 + (Math.min(len, 1024) >> 6), w: 0, e: 0}
  }
  const inspectBytes = (raw: Buffer, start: number): number => {
    let f = codeFlag(raw.toString('latin1'), 'a bytes value', start)
    const hit = decodeHidden(raw, budget.hidden)
    if (hit) { f |= F_ENC; ctx.pending.push({data: hit.data, label: `${hit.encoding}@${start}`}) }
    if (budget.hidden.exhausted) hiddenExhausted(start)
    return f
  }

  /** A str of `len` UTF-8 bytes at the cursor (any length). */
  const onUnicode = async (len: number): Promise<V> => {
    if (len > c.remaining) throw new Truncated(`string of ${len} bytes runs past the end of the data`)
    const start = c.pos
    if (len <= SHORT_STR) {
      if (c.pos + len > c.winEnd) await c.mustNeed(len)
      const str = c.win.toString('utf8', c.pos - c.winStart, c.pos - c.winStart + len)
      const v = len >= HIDDEN_MIN ? inspectStr(str, start) : str
      if (typeof v === 'string') { lastStrOff = c.pos; lastStrLen = len; lastStrIdx = stack.length; lastStr = v }
      c.pos += len
      return v
    }
    let f = 0
    if (len <= HIDDEN_MAX && !budget.hidden.exhausted) {
      // examined in full (linear, charged to the hidden-content budget), not kept
      const raw = await c.readBytes(len)
      if (raw.indexOf(0x28) >= 0 || maybeHiddenText(raw.subarray(0, 64).toString('latin1'))) {
        const v = inspectStr(raw.toString('utf8'), start)
        if (isObj(v)) f = v.f
      }
    }
    c.pos = start + len
    charge(SZ_OBJ)
    return {t: 'str', s: null, ar: null, off: 0, len, f, n: 1 + (Math.min(len, 1024) >> 6), w: 0, e: 0}
  }

  /** py2 str opcodes (STRING/BINSTRING/SHORT_BINSTRING) decode to str in Python 3 (latin-1 here: lenient). */
  const py2Str = (s: string, offset: number): V => (s.length >= HIDDEN_MIN ? inspectStr(s, offset) : s)

  const onJoblibBuild = async (obj: O, state: V): Promise<void> => {
    if (obj.t !== 'call') return
    const isWrapper = (g: V): boolean => isObj(g) && g.t === 'glob' && g.module === 'joblib.numpy_pickle' && g.name === 'NumpyArrayWrapper'
    if (!isWrapper(obj.fn) && !(obj.cls && isWrapper(obj.cls))) return
    if (!isObj(state) || state.t !== 'dict' || state.items === null) throw new Malformed('joblib NumpyArrayWrapper state is not a readable dict')
    const kv = state.items ?? []
    const get = (key: string): V | undefined => { for (let i = kv.length - 2; i >= 0; i -= 2) if (kv[i] === key) return kv[i + 1]; return undefined }
    const shapeV = get('shape')
    const dtypeV = get('dtype')
    const shape = tupleItems(shapeV ?? null)
    let dtypeStr: string | undefined
    if (isObj(dtypeV ?? null) && (dtypeV as O).t === 'call') {
      const a = (dtypeV as Call).args
      const s0 = a ? strText(a[0]) : null
      if (s0 !== null) dtypeStr = s0
    }
    if (!shape || !shape.every((x) => typeof x === 'number') || dtypeStr === undefined) {
      throw new Malformed('cannot size the joblib array that follows a NumpyArrayWrapper')
    }
    const item = dtypeItemSize(dtypeStr)
    if (item === undefined) throw new Malformed(`unknown numpy dtype ${dtypeStr} in joblib array`)
    if (get('numpy_array_alignment_bytes') !== undefined) {
      const pad = await c.readU8()
      if (pad > c.remaining) throw new Truncated('joblib alignment padding runs past the end')
      c.skip(pad)
    }
    if (item === 0) {
      // object array: joblib writes a nested pickle inline; analyse it with the same collector
      if (ctx.nesting >= MAX_JOBLIB_NESTING) {
        resourceFinding(ctx, 'joblib-nesting', `joblib object arrays nested deeper than ${MAX_JOBLIB_NESTING} levels (nothing legitimate does this); the rest of the stream was not analysed`, c.pos)
        throw new Malformed(`joblib object arrays nested deeper than ${MAX_JOBLIB_NESTING} levels`)
      }
      ctx.nesting++
      try { await runOne(ctx) } finally { ctx.nesting-- }
      return
    }
    const n = shape.reduce((a, b) => a * b, 1) * item
    if (!Number.isFinite(n) || n < 0 || n > c.remaining) throw new Truncated(`joblib array of ${n} bytes runs past the end of the data`)
    c.skip(n)
  }

  // ---------------------------------------------------------------- FRAME readings
  const frameDisagrees = (what: string, offset: number): void => {
    if (ctx.frameFlags.has(what)) return
    ctx.frameFlags.add(what)
    addFinding(ctx, `<frame>|${what}`, {
      severity: 'medium', malicious: false, module: 'pickle', operator: 'frame',
      description: `FRAME length disagrees with the opcodes (${what}); the C and pure-Python unpicklers run different bytes, both readings were analysed`, offset,
    })
  }
  /** Called with the offset of the opcode just executed: detects opcodes straddling the frame end. */
  const afterOp = (offset: number): void => {
    if (frameEnd >= 0 && offset < frameEnd && c.pos > frameEnd) {
      frameDisagrees(`an opcode at offset ${offset} runs past the frame end at ${frameEnd}`, offset)
      frameEnd = -1
    }
  }

  const stackGlobal = (offset: number): void => {
    let name = pop()
    let module = pop()
    if (name === FSTR || module === FSTR) throw new Malformed('internal: unresolved memo string')
    if (isObj(name) && name.t === 'str' && name.s === null && name.ar) name = strText(name) ?? name
    if (isObj(module) && module.t === 'str' && module.s === null && module.ar) module = strText(module) ?? module
    if (isObj(name) && name.t === 'str' && name.s !== null) name = name.s
    if (isObj(module) && module.t === 'str' && module.s !== null) module = module.s
    if (typeof name === 'string' && typeof module === 'string') { push(doImport(module, name, 'STACK_GLOBAL', offset)); return }
    if ((name === DROPPED || module === DROPPED) && (typeof name === 'string' || name === DROPPED) && (typeof module === 'string' || module === DROPPED)) {
      // literal strings whose text was not retained (memory budget): judge by the visible half
      const visible = typeof name === 'string' ? name : typeof module === 'string' ? module : '<not retained>'
      const known = typeof name === 'string' ? classifyGlobal('_', name) : typeof module === 'string' ? classifyGlobal(module, '_') : null
      // nothing visible at all: fail closed, like a computed import
      const bad = !known || known.tier === 'deny' || /^(system|popen|exec|eval|__import__|getattr|import_module|loads|load|run|call|check_output|Popen|spawn\w*|open|compile)$/.test(visible)
      const key = `<unretained>|${visible}`
      addFinding(ctx, key, {
        severity: bad ? 'critical' : 'medium', malicious: bad, module: typeof module === 'string' ? module : '<not retained>',
        operator: typeof name === 'string' ? name : '<not retained>',
        description: `STACK_GLOBAL operand read from a memo slot whose text exceeded the analysis memory budget (visible part: ${JSON.stringify(visible)})`, offset,
      })
      res.unsafeCalls++
      push({t: 'glob', module: '<unretained>', name: visible, verdict: {tier: bad ? 'deny' : 'unknown', severity: bad ? 'critical' : undefined, reason: 'import target not retained'}, key, f: 0, n: 1, w: 0, e: 0})
      return
    }
    const computed = (v: V): boolean => isObj(v) && (v.t === 'call' || v.t === 'unk' || v.t === 'pers' || v.t === 'glob' || v.t === 'dropped')
    if (computed(name) || computed(module)) {
      const desc = `STACK_GLOBAL imports a target computed at load time: module ${render(module)}, name ${render(name)}`
      addFinding(ctx, `<computed-import>|${offset}`, {
        severity: 'critical', malicious: true, module: clip(typeof module === 'string' ? module : render(module), 200),
        operator: clip(typeof name === 'string' ? name : render(name), 200), description: clip(desc, 1000), offset,
      })
      res.unsafeCalls++
      push({t: 'glob', module: '<computed>', name: '<computed>', verdict: {tier: 'deny', severity: 'critical', reason: 'computed import'}, key: `<computed>@${offset}`, f: 0, n: 1, w: 0, e: 0})
      return
    }
    throw new Malformed(`STACK_GLOBAL requires str operands, got ${render(module)} and ${render(name)}`)
  }

  const intLine = async (what: string): Promise<number> => {
    const line = await c.readLine(64)
    if (line === null || !/^\s*\+?[\d_]+\s*$/.test(line)) throw new Malformed(`bad (or negative) ${what} argument`)
    return parseInt(line.replace(/_/g, ''), 10)
  }

  const slowOne = async (): Promise<boolean> => {
    syncWindow()
    if (ctx.pending.length) await drainPending(ctx)
    if (collectDue) {
      if (budget.charged >= budget.next) collect(ctx)
      else if (youngMemo >= YOUNG_MEMO) compactMemo()
      collectDue = false
    }
    if (c.pos >= c.winEnd && !(await c.need(1))) throw new Truncated(`no STOP opcode before the end of the data (offset ${c.pos})`)
    const offset = c.pos
    if (frameEnd >= 0 && offset >= frameEnd) frameEnd = -1 // the frame was consumed exactly
    const op = c.win[c.pos - c.winStart]
    c.pos++
    res.opcodes++
    switch (op) {
      case 0x28: pushMark(); break // MARK
      case 0x2e: // STOP
        pop()
        if (frameEnd > c.pos) {
          frameDisagrees(`the pickle stops at ${c.pos} inside a frame that runs to ${frameEnd}`, offset)
          if (ctx.altStarts.length < MAX_ALT_READINGS) ctx.altStarts.push(frameEnd)
        }
        if (frameOverrun >= 0) {
          frameDisagrees(`a FRAME of ${frameOverrun} bytes is longer than the data, but the pickle is complete inside it (the C unpickler refuses it, the pure-Python one runs it)`, offset)
        }
        return true
      case 0x30: // POP
        if (stack.length > base()) stack.pop()
        else if (marks.length) marks.pop()
        else if (lostStack > 0 || lostMarks > 0) { /* compacted away */ } else throw new Malformed(`POP on an empty stack at offset ${offset}`)
        break
      case 0x31: popMark(); break // POP_MARK
      case 0x32: push(top()); break // DUP
      case 0x46: { // FLOAT
        const l = await c.readLine(256)
        if (l === null || !PY_FLOAT.test(l) || !/[\d]|inf|nan/i.test(l)) throw new Malformed('bad FLOAT argument')
        push(parseFloat(l.replace(/_/g, '')) || 0); break
      }
      case 0x49: { // INT
        const l = await c.readLine(256)
        if (l === '00') push(false)
        else if (l === '01') push(true)
        else if (l !== null && PY_INT.test(l)) push(pyInt(l))
        else throw new Malformed('bad INT argument')
        break
      }
      case 0x4a: if (c.pos + 4 > c.winEnd) await c.mustNeed(4); push(c.i32()); break // BININT
      case 0x4b: if (c.pos + 1 > c.winEnd) await c.mustNeed(1); push(c.u8()); break // BININT1
      case 0x4c: { // LONG
        const l = await c.readLine(1 << 16)
        const t = l === null ? null : l.replace(/L\s*$/, '')
        if (t === null || !PY_INT.test(t)) throw new Malformed('bad LONG argument')
        push(pyInt(t)); break
      }
      case 0x4d: if (c.pos + 2 > c.winEnd) await c.mustNeed(2); push(c.u16()); break // BININT2
      case 0x4e: push(null); break // NONE
      case 0x50: await c.readLine(1 << 16); push(PERS); break // PERSID
      case 0x51: pop(); push(PERS); break // BINPERSID
      case 0x52: { // REDUCE
        const args = pop()
        const fn = pop()
        push(doCall(fn, tupleItems(args), args, 'REDUCE', offset)); break
      }
      case 0x53: { // STRING
        const l = await c.readLine(1 << 20)
        if (l === null) { push({t: 'str', s: null, ar: null, off: 0, len: 1 << 20, f: 0, n: 17, w: 0, e: 0}); break }
        push(py2Str(decodePyString(l), offset)); break
      }
      case 0x54: { // BINSTRING
        if (c.pos + 4 > c.winEnd) await c.mustNeed(4)
        const n = c.i32()
        if (n < 0) throw new Malformed('negative BINSTRING length')
        if (n <= SHORT_STR) { if (c.pos + n > c.winEnd) await c.mustNeed(n); push(py2Str(c.bytes(n).toString('latin1'), offset)) } else {
          const b = await onBytes(n, 'BINSTRING')
          push({t: 'str', s: null, ar: null, off: 0, len: n, f: isObj(b) ? b.f : 0, n: 17, w: 0, e: 0})
        }
        break
      }
      case 0x55: { if (c.pos + 1 > c.winEnd) await c.mustNeed(1); const n = c.u8(); if (c.pos + n > c.winEnd) await c.mustNeed(n); push(py2Str(c.bytes(n).toString('latin1'), offset)); break } // SHORT_BINSTRING
      case 0x56: { // UNICODE
        const l = await c.readLine(1 << 20)
        push(l === null ? {t: 'str', s: null, ar: null, off: 0, len: 1 << 20, f: 0, n: 17, w: 0, e: 0} : py2Str(decodeRawUnicodeEscape(l), offset)); break
      }
      case 0x58: { if (c.pos + 4 > c.winEnd) await c.mustNeed(4); push(await onUnicode(c.u32())); break } // BINUNICODE
      case 0x61: { const v = pop(); grew(top(), isObj(v) ? v.f : 0, valN(v), 'APPEND', offset); break } // APPEND
      case 0x62: { // BUILD
        const state = pop()
        const obj = top()
        if (isObj(obj) && obj.t === 'glob') {
          addFinding(ctx, obj.key + '|build', {
            severity: 'high', malicious: true, module: obj.module, operator: obj.name,
            description: `BUILD overwrites attributes of the imported object ${obj.key} (state ${clip(render(state), 200)})`, offset,
          })
        } else if (isObj(obj)) {
          const sf = isObj(state) ? state.f : 0
          if (obj.t === 'call') {
            obj.f |= sf & (F_CODE | F_ENC)
            const cls = obj.cls ?? (isObj(obj.fn) && obj.fn.t === 'glob' ? obj.fn : null)
            if (cls && cls.verdict.tier === 'unknown' && (sf & (F_CODE | F_ENC))) {
              res.unsafeCalls++
              addFinding(ctx, cls.key + '|state', {
                severity: sf & F_CODE ? 'high' : 'medium', malicious: (sf & F_CODE) !== 0, module: cls.module, operator: cls.name,
                description: `BUILD restores the state of ${cls.key} (not on the allow list) from values that carry ${contentNote(sf)}`, offset,
              })
            }
          }
          await onJoblibBuild(obj, state)
        }
        break
      }
      case 0x63: { // GLOBAL
        const m = await c.readLine(4096)
        const n = await c.readLine(4096)
        push(doImport(m ?? '', n ?? '', 'GLOBAL', offset)); break
      }
      case 0x64: { // DICT
        const mi = popMarkIndex()
        const items = stack.splice(mi)
        const d = newDict()
        for (let i = 0; i + 1 < items.length; i += 2) setItem(d, items[i], items[i + 1], 'DICT', offset)
        push(d); break
      }
      case 0x7d: push(newDict()); break // EMPTY_DICT
      case 0x65: { // APPENDS
        const m = popMarkIndex()
        const [f, n] = sumRange(m)
        stack.length = m
        grew(top(), f, n, 'APPENDS', offset); break
      }
      case 0x67: { const i = await intLine('GET'); push(await getAsync(i)); break } // GET
      case 0x68: { if (c.pos + 1 > c.winEnd) await c.mustNeed(1); push(await getAsync(c.u8())); break } // BINGET
      case 0x69: { // INST
        const m = await c.readLine(4096)
        const n = await c.readLine(4096)
        const g = doImport(m ?? '', n ?? '', 'INST', offset)
        const args = popMark()
        push(doCall(g, args, null, 'INST', offset)); break
      }
      case 0x6a: { if (c.pos + 4 > c.winEnd) await c.mustNeed(4); push(await getAsync(c.u32())); break } // LONG_BINGET
      case 0x6c: { const m = popMarkIndex(); const [f, n] = sumRange(m); stack.length = m; const l = newList(); l.f = f; l.n += n; push(l); if (l.n >= EXPANSION_UNITS) checkExpansion(l.n, offset); break } // LIST
      case 0x5d: push(newList()); break // EMPTY_LIST
      case 0x6f: { // OBJ
        const items = popMark()
        if (!items.length) throw new Malformed('OBJ without a class')
        push(doCall(items[0], items.slice(1), null, 'OBJ', offset)); break
      }
      case 0x70: memoPut(await intLine('PUT'), top()); break // PUT
      case 0x71: if (c.pos + 1 > c.winEnd) await c.mustNeed(1); memoPut(c.u8(), top()); break // BINPUT
      case 0x72: if (c.pos + 4 > c.winEnd) await c.mustNeed(4); memoPut(c.u32(), top()); break // LONG_BINPUT
      case 0x73: { // SETITEM
        const v = pop(); const k = pop(); const t = top()
        setItem(t, k, v, 'SETITEM', offset); break
      }
      case 0x74: push(mkTuple(popMark(), offset)); break // TUPLE
      case 0x29: push(mkTuple([], offset)); break // EMPTY_TUPLE
      case 0x75: { // SETITEMS
        const m = popMarkIndex()
        if ((stack.length - m) % 2) throw new Malformed('SETITEMS with an odd number of items')
        const t = top_below(m)
        for (let i = m; i < stack.length; i += 2) setItem(t, stack[i], stack[i + 1], 'SETITEMS', offset)
        stack.length = m
        break
      }
      case 0x47: if (c.pos + 8 > c.winEnd) await c.mustNeed(8); c.skip(8); push(0.5); break // BINFLOAT
      case 0x80: { // PROTO
        if (c.pos + 1 > c.winEnd) await c.mustNeed(1)
        const p = c.u8()
        if (p > 5) throw new Malformed(`unsupported pickle protocol ${p}`)
        break
      }
      case 0x81: { const args = pop(); const cls = pop(); push(doCall(cls, tupleItems(args), args, 'NEWOBJ', offset)); break }
      case 0x82: case 0x83: case 0x84: { // EXT1/2/4
        const k = op === 0x82 ? 1 : op === 0x83 ? 2 : 4
        if (c.pos + k > c.winEnd) await c.mustNeed(k)
        const code = k === 1 ? c.u8() : k === 2 ? c.u16() : c.i32()
        const key = `copyreg.extension[${code}]`
        addFinding(ctx, key, {
          severity: 'medium', malicious: false, module: 'copyreg', operator: `extension ${code}`,
          description: `${OPNAMES[op]} imports through the copyreg extension registry (code ${code}); the target depends on the loading process`, offset,
        })
        push({t: 'glob', module: 'copyreg', name: `extension_${code}`, verdict: {tier: 'unknown', reason: 'extension registry import'}, key, f: 0, n: 1, w: 0, e: 0})
        break
      }
      case 0x85: push(mkTuple([pop()], offset)); break
      case 0x86: { const b = pop(); const a = pop(); push(mkTuple([a, b], offset)); break }
      case 0x87: { const z = pop(); const b = pop(); const a = pop(); push(mkTuple([a, b, z], offset)); break }
      case 0x88: push(true); break
      case 0x89: push(false); break
      case 0x8a: { // LONG1
        if (c.pos + 1 > c.winEnd) await c.mustNeed(1); const n = c.u8(); if (c.pos + n > c.winEnd) await c.mustNeed(n)
        const b = c.bytes(n)
        push(n === 0 ? 0 : n <= 6 ? b.readIntLE(0, n) : 2 ** 53); break
      }
      case 0x8b: { // LONG4
        if (c.pos + 4 > c.winEnd) await c.mustNeed(4); const n = c.i32()
        if (n < 0) throw new Malformed('negative LONG4 length')
        if (n > c.remaining) throw new Truncated('LONG4 runs past the end')
        c.skip(n); push(2 ** 53); break
      }
      case 0x42: { if (c.pos + 4 > c.winEnd) await c.mustNeed(4); push(await onBytes(c.u32(), 'BINBYTES')); break }
      case 0x43: { if (c.pos + 1 > c.winEnd) await c.mustNeed(1); push(await onBytes(c.u8(), 'SHORT_BINBYTES')); break }
      case 0x8c: { if (c.pos + 1 > c.winEnd) await c.mustNeed(1); push(await onUnicode(c.u8())); break } // SHORT_BINUNICODE
      case 0x8d: { if (c.pos + 8 > c.winEnd) await c.mustNeed(8); push(await onUnicode(c.u64())); break } // BINUNICODE8
      case 0x8e: { if (c.pos + 8 > c.winEnd) await c.mustNeed(8); push(await onBytes(c.u64(), 'BINBYTES8')); break }
      case 0x96: { if (c.pos + 8 > c.winEnd) await c.mustNeed(8); push(await onBytes(c.u64(), 'BYTEARRAY8')); break }
      case 0x8f: push(newSet()); break // EMPTY_SET
      case 0x90: { const m = popMarkIndex(); const [f, n] = sumRange(m); stack.length = m; grew(top(), f, n, 'ADDITEMS', offset); break } // ADDITEMS
      case 0x91: { const m = popMarkIndex(); const [f, n] = sumRange(m); stack.length = m; const s = newSet(); s.f = f; s.n += n; push(s); break } // FROZENSET
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop(); const args = pop(); const cls = pop()
        push(doCall(cls, tupleItems(args), args, 'NEWOBJ_EX', offset, kwargs)); break
      }
      case 0x93: stackGlobal(offset); break // STACK_GLOBAL
      case 0x94: memoPut(memoCount, top()); break // MEMOIZE
      case 0x95: { // FRAME
        if (c.pos + 8 > c.winEnd) await c.mustNeed(8)
        const n = c.u64()
        if (frameEnd > offset) frameDisagrees(`a FRAME at offset ${offset} starts inside the previous frame, which runs to ${frameEnd}`, offset)
        frameEnd = -1
        if (n > c.remaining) {
          // the C unpickler refuses the frame before running it; the pure-Python one runs what is there
          frameOverrun = n
        } else frameEnd = c.pos + n
        break
      }
      case 0x97: push(UNK); break // NEXT_BUFFER
      case 0x98: top(); break // READONLY_BUFFER
      default:
        throw new Malformed(`invalid opcode 0x${op.toString(16).padStart(2, '0')} at offset ${offset}`)
    }
    if (frameEnd >= 0 && c.pos > frameEnd) afterOp(offset)
    return false
  }

  /**
   * Synchronous fast path for the common opcodes whose bytes are already in the window (no I/O, no
   * nested scans, no hidden-content candidates). Returns when the next opcode needs the async path.
   * It never runs past the end of the current FRAME, so frame boundaries are checked in `slowOne`.
   */
  const fast = (): void => {
    syncWindow()
    const win = c.win
    const ws = c.winStart
    const we = frameEnd >= 0 && frameEnd < c.winEnd ? frameEnd : c.winEnd
    for (;;) {
      const pos = c.pos
      if (pos >= we) return
      const op = win[pos - ws]
      switch (op) {
        case 0x28: // MARK
          if (marks.length >= MAX_MARKS) return
          marks.push(stack.length); c.pos = pos + 1; break
        case 0x2e: return // STOP (frame checks in the slow path)
        case 0x4b: if (pos + 2 > we) return; c.pos = pos + 2; pushPrim(win[pos + 1 - ws]); break
        case 0x4d: if (pos + 3 > we) return; c.pos = pos + 3; pushPrim(win.readUInt16LE(pos + 1 - ws)); break
        case 0x4a: if (pos + 5 > we) return; c.pos = pos + 5; pushPrim(win.readInt32LE(pos + 1 - ws)); break
        case 0x47: if (pos + 9 > we) return; c.pos = pos + 9; pushPrim(0.5); break
        case 0x4e: c.pos = pos + 1; pushPrim(null); break
        case 0x88: c.pos = pos + 1; pushPrim(true); break
        case 0x89: c.pos = pos + 1; pushPrim(false); break
        case 0x5d: c.pos = pos + 1; push(newList()); if (collectDue) { res.opcodes++; return } break
        case 0x7d: c.pos = pos + 1; push(newDict()); if (collectDue) { res.opcodes++; return } break
        case 0x29: c.pos = pos + 1; push(mkTuple([], pos)); if (collectDue) { res.opcodes++; return } break
        case 0x8c: { // SHORT_BINUNICODE
          if (pos + 2 > we) return
          const n = win[pos + 1 - ws]
          if (pos + 2 + n > we) return
          const str = utf8(win, pos + 2 - ws, pos + 2 + n - ws)
          if (n >= HIDDEN_MIN && maybeHiddenText(str)) return
          c.pos = pos + 2 + n
          lastStrIdx = stack.length; pushPrim(str); lastStrOff = pos + 2; lastStrLen = n; lastStr = str
          break
        }
        case 0x58: { // BINUNICODE
          if (pos + 5 > we) return
          const n = win.readUInt32LE(pos + 1 - ws)
          if (n > SHORT_STR || pos + 5 + n > we) return
          const str = utf8(win, pos + 5 - ws, pos + 5 + n - ws)
          if (n >= HIDDEN_MIN && maybeHiddenText(str)) return
          c.pos = pos + 5 + n
          lastStrIdx = stack.length; pushPrim(str); lastStrOff = pos + 5; lastStrLen = n; lastStr = str
          break
        }
        case 0x94: { // MEMOIZE
          const sl = stack.length
          if (sl <= (marks.length ? marks[marks.length - 1] : 0)) return
          const idx = memoCount
          const v = stack[sl - 1]
          // hot case: memoising the str just read (in this window), into a fresh in-range slot
          if (lastStrIdx === sl - 1 && v === lastStr && idx < mcap && kinds[idx] === K_EMPTY && memoCount < MAX_MEMO && lastStrLen <= AREF_MIN && lastStrOff >= ws) {
            memoCount++
            kinds[idx] = K_FSTR; vals[idx] = lastStrOff; refLen[idx] = lastStrLen
          } else memoPut(idx, v)
          c.pos = pos + 1
          if (collectDue) { res.opcodes++; return } break
        }
        case 0x71: { // BINPUT
          if (pos + 2 > we || stack.length <= base()) return
          c.pos = pos + 2; memoPut(win[pos + 1 - ws], stack[stack.length - 1]); if (collectDue) { res.opcodes++; return } break
        }
        case 0x72: { // LONG_BINPUT
          if (pos + 5 > we || stack.length <= base()) return
          c.pos = pos + 5; memoPut(win.readUInt32LE(pos + 1 - ws), stack[stack.length - 1]); if (collectDue) { res.opcodes++; return } break
        }
        case 0x68: case 0x6a: { // BINGET / LONG_BINGET
          const k = op === 0x68 ? 2 : 5
          if (pos + k > we) return
          const i = op === 0x68 ? win[pos + 1 - ws] : win.readUInt32LE(pos + 1 - ws)
          if (!memoHas(i) && !memoOverflow && !sparseFull) return // the slow path raises the error
          const v = memoGet(i)
          if (v === FSTR) return // read from the file in the slow path
          c.pos = pos + k
          push(v)
          if (collectDue) { res.opcodes++; return } break
        }
        case 0x65: { // APPENDS
          if (!marks.length) return
          const m = marks[marks.length - 1]
          if (m <= (marks.length > 1 ? marks[marks.length - 2] : 0)) return
          marks.pop()
          // flags and logical size of the appended items (a str counts one slot here); no object above the mark: no scan
          let f = 0
          let n = stack.length - m
          if (objHigh >= m) {
            for (let i = m; i < stack.length; i++) {
              const it = stack[i]
              if (typeof it === 'object' && it !== null) { f |= it.f; n += (it.n || 1) - 1 }
            }
            objHigh = m - 1
          }
          stack.length = m
          c.pos = pos + 1
          grew(stack[m - 1], f, n, 'APPENDS', pos)
          break
        }
        case 0x61: { // APPEND
          if (stack.length - 2 < base()) return
          c.pos = pos + 1
          const v = stack.pop() as V
          grew(stack[stack.length - 1], isObj(v) ? v.f : 0, valN(v), 'APPEND', pos); break
        }
        case 0x73: { // SETITEM
          if (stack.length - 3 < base()) return
          c.pos = pos + 1
          const v = stack.pop() as V; const k = stack.pop() as V
          setItem(stack[stack.length - 1], k, v, 'SETITEM', pos); if (collectDue) { res.opcodes++; return } break
        }
        case 0x74: // TUPLE
          if (!marks.length) return
          c.pos = pos + 1; push(mkTuple(stack.splice(marks.pop() as number), pos)); if (collectDue) { res.opcodes++; return } break
        case 0x6c: { // LIST
          if (!marks.length) return
          c.pos = pos + 1
          const m = marks.pop() as number
          const [f, n] = sumRange(m)
          stack.length = m
          const l = newList(); l.f = f; l.n += n; push(l)
          if (l.n >= EXPANSION_UNITS) checkExpansion(l.n, pos)
          if (collectDue) { res.opcodes++; return } break
        }
        case 0x75: { // SETITEMS
          if (!marks.length) return
          const m = marks[marks.length - 1]
          if ((stack.length - m) % 2 || m <= (marks.length > 1 ? marks[marks.length - 2] : 0)) return
          marks.pop()
          c.pos = pos + 1
          const t = stack[m - 1]
          for (let i = m; i < stack.length; i += 2) setItem(t, stack[i], stack[i + 1], 'SETITEMS', pos)
          stack.length = m
          if (collectDue) { res.opcodes++; return } break
        }
        case 0x85: if (stack.length - 1 < base()) return; c.pos = pos + 1; push(mkTuple([stack.pop() as V], pos)); if (collectDue) { res.opcodes++; return } break
        case 0x86: { if (stack.length - 2 < base()) return; c.pos = pos + 1; const b = stack.pop() as V; const a = stack.pop() as V; push(mkTuple([a, b], pos)); if (collectDue) { res.opcodes++; return } break }
        case 0x87: { if (stack.length - 3 < base()) return; c.pos = pos + 1; const z = stack.pop() as V; const b = stack.pop() as V; const a = stack.pop() as V; push(mkTuple([a, b, z], pos)); if (collectDue) { res.opcodes++; return } break }
        case 0x30: // POP
          if (stack.length <= base()) return
          c.pos = pos + 1; stack.pop(); break
        case 0x32: // DUP
          if (stack.length <= base()) return
          c.pos = pos + 1; push(stack[stack.length - 1]); break
        default:
          return
      }
      res.opcodes++
    }
  }

  for (;;) {
    fast()
    if (await slowOne()) return
  }
}
