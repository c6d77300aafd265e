/**
 * Streaming symbolic executor for Python pickles (protocols 0-5). Nothing is ever unpickled: the
 * executor keeps an abstract value stack, CPython's mark stack and a memo keyed exactly like CPython's
 * (explicit index for PUT/BINPUT/LONG_BINPUT, `len(memo)` for MEMOIZE), and records
 *  - every import (GLOBAL, STACK_GLOBAL, INST, EXT1/2/4) with its policy verdict,
 *  - every call reachable from it (REDUCE, OBJ, INST, NEWOBJ, NEWOBJ_EX; BUILD on imported objects),
 *  - STACK_GLOBAL operands that are not literal strings (import target computed at load time).
 * Large string/bytes arguments are skipped by position; bytes that look like a pickle or an archive are
 * handed to `onNested` (a slice of the same reader, nothing buffered). Several pickles per stream are
 * read (legacy PyTorch, stacked payloads); joblib's inline array bytes are skipped after the wrapper's
 * BUILD. Findings made before a parse error are kept.
 */
import {Cursor, Reader, SliceReader, BufferReader, Truncated} from './io.js'
import {classifyGlobal, isDottedIdentifier, isMaliciousSeverity, type Severity, type Verdict} from './policy.js'

export class Malformed extends Error {}

export interface PickleFinding {
  severity: Severity
  malicious: boolean
  module: string
  operator: string
  description: string
  offset: number
}

export interface PickleOptions {
  /** Called for bytes/str arguments that look like a pickle, zip or compressed stream. */
  onNested?: (reader: Reader, label: string) => Promise<void>
  /** Stop after this many pickles in one stream (default 64). */
  maxPickles?: number
}

export interface PickleResult {
  findings: PickleFinding[]
  pickles: number
  opcodes: number
  globals: string[]
  /** Parse error of the first pickle (malformed/truncated), with its offset. */
  error?: string
  errorOffset?: number
  /** Notes about later pickles / trailing data. */
  notes: string[]
  endOffset: number
  sawJoblib: boolean
  sawTorch: boolean
  unsafeCalls: number
}

type O =
  | {t: 'glob'; module: string; name: string; verdict: Verdict; key: string}
  | {t: 'call'; fn: V; args: V[] | null}
  | {t: 'tuple'; items: V[] | null}
  | {t: 'dict'; items: Map<string, V> | null | undefined}
  | {t: 'list'} | {t: 'set'} | {t: 'pers'} | {t: 'unk'} | {t: 'lstr'} | {t: 'dropped'}
  | {t: 'bytes'; len: number}
type V = number | boolean | null | string | O

const UNK: O = {t: 'unk'}
const LSTR: O = {t: 'lstr'}
const DROPPED: O = {t: 'dropped'}
const PERS: O = {t: 'pers'}
/** Memo slot holding a short str by file position (text re-read on GET; keeps the memo off the GC heap). */
const STRREF: O = {t: 'unk'}
const SHORT_STR = 1024
const MAX_STACK = 2_000_000
const MAX_MARKS = 1_000_000
const MAX_MEMO = 4_000_000
const STR_BUDGET = 24 << 20
const NESTED_MAX_STR = 16 << 20

const OPNAMES: Record<number, string> = {
  0x52: 'REDUCE', 0x6f: 'OBJ', 0x69: 'INST', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x62: 'BUILD',
  0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4',
}

/** Buffer#utf8Slice when present (what toString('utf8', s, e) ends in, without the argument handling). */
type Utf8Sliceable = Buffer & {utf8Slice?: (s: number, e: number) => string}
const HAS_UTF8SLICE = typeof (Buffer.prototype as Utf8Sliceable).utf8Slice === 'function'
function utf8(b: Buffer, s: number, e: number): string {
  return HAS_UTF8SLICE ? (b as Utf8Sliceable).utf8Slice!(s, e) : b.toString('utf8', s, e)
}

function isObj(v: V): v is O { return typeof v === 'object' && v !== null }

function render(v: V, depth = 0): string {
  if (v === null) return 'None'
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? v.slice(0, 80) + '…' : v)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  switch (v.t) {
    case 'glob': return `${v.module}.${v.name}`
    case 'call': return depth > 2 ? '…' : `${render(v.fn, depth + 1)}(${v.args ? v.args.map((a) => render(a, depth + 1)).join(', ') : '…'})`
    case 'tuple': return v.items ? `(${v.items.map((a) => render(a, depth + 1)).join(', ')}${v.items.length === 1 ? ',' : ''})` : '(…)'
    case 'bytes': return `<${v.len} bytes>`
    default: return `<${v.t}>`
  }
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

function decodeRawUnicodeEscape(line: string): string {
  return line.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string, b: string) => String.fromCodePoint(parseInt(a ?? b, 16)))
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
  strBudget: number
  nesting: number
}

function addFinding(ctx: Ctx, key: string, f: PickleFinding): PickleFinding {
  const prev = ctx.byKey.get(key)
  if (prev) {
    if (sevRank(f.severity) > sevRank(prev.severity)) { prev.severity = f.severity; prev.malicious = f.malicious; prev.description = f.description }
    return prev
  }
  ctx.byKey.set(key, f)
  ctx.res.findings.push(f)
  return f
}
function sevRank(s: Severity): number { return s === 'critical' ? 3 : s === 'high' ? 2 : s === 'medium' ? 1 : 0 }

function looksNested(head: Buffer): boolean {
  if (head.length < 4) return false
  if (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return true
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 3 && head[3] === 4) return true
  if (head[0] === 0x1f && head[1] === 0x8b) return true
  if (head[0] === 0x63) { // protocol 0 GLOBAL
    const nl = head.indexOf(10)
    if (nl > 1 && isDottedIdentifier(head.subarray(1, nl).toString('latin1'))) return true
  }
  return false
}

export async function analyzePickleStream(c: Cursor, opts: PickleOptions = {}): Promise<PickleResult> {
  const res: PickleResult = {
    findings: [], pickles: 0, opcodes: 0, globals: [], notes: [], endOffset: c.pos, sawJoblib: false, sawTorch: false, unsafeCalls: 0,
  }
  const ctx: Ctx = {c, opts, res, byKey: new Map(), globals: new Set(), strBudget: STR_BUDGET, nesting: 0}
  const maxPickles = opts.maxPickles ?? 64
  for (let i = 0; c.remaining > 0; i++) {
    if (i > 0) {
      if (i >= maxPickles) { res.notes.push(`stopped after ${maxPickles} pickles; ${c.remaining} bytes not examined`); break }
      await c.need(2)
      const b0 = c.win[c.pos - c.winStart]
      const b1 = c.remaining > 1 ? c.win[c.pos - c.winStart + 1] : 0
      // another pickle: a PROTO header, or the usual first opcodes of protocol 0/1 streams
      const plausible = (b0 === 0x80 && b1 <= 5) || (b0 === 0x63 && b1 !== 10) || b0 === 0x28 || b0 === 0x5d || b0 === 0x7d || b0 === 0x29
      if (!plausible) { res.notes.push(`${c.remaining} bytes of trailing data after pickle ${i} (not a pickle)`); break }
    }
    const start = c.pos
    const before = res.findings.length
    try {
      await runOne(ctx)
      res.pickles++
    } catch (e) {
      if (!(e instanceof Malformed || e instanceof Truncated)) throw e
      const msg = `${e instanceof Truncated ? 'truncated' : 'malformed'} pickle: ${e.message}`
      if (i === 0) { res.error = msg; res.errorOffset = c.pos }
      else if (res.findings.length > before) { res.notes.push(`pickle ${i + 1} at offset ${start}: ${msg}`); res.pickles++ }
      else res.notes.push(`${c.end - start} bytes of trailing data after pickle ${i} (${msg})`)
      break
    }
  }
  if (res.error && res.unsafeCalls > 0) {
    addFinding(ctx, '<malformed-after-call>', {
      severity: 'medium', malicious: false, module: 'pickle', operator: 'malformed',
      description: `pickle stream is malformed after executing call opcodes (${res.error}); the calls before the error run at load time`,
      offset: res.errorOffset ?? 0,
    })
  }
  res.endOffset = c.pos
  res.globals = [...ctx.globals]
  return res
}

async function runOne(ctx: Ctx): Promise<void> {
  const {c, res} = ctx
  const stack: V[] = []
  const marks: number[] = []

  const base = (): number => (marks.length ? marks[marks.length - 1] : 0)
  const push = (v: V): void => {
    if (stack.length >= MAX_STACK) throw new Malformed(`stack depth exceeds ${MAX_STACK} (resource limit)`)
    stack.push(v)
  }
  const pop = (): V => {
    if (stack.length <= base()) throw new Malformed(`stack underflow at offset ${c.pos - 1}`)
    return stack.pop() as V
  }
  const top = (): V => {
    if (stack.length <= base()) throw new Malformed(`stack underflow at offset ${c.pos - 1}`)
    return stack[stack.length - 1]
  }
  const top_below = (m: number): V => {
    const b = marks.length ? marks[marks.length - 1] : 0
    if (m <= b) throw new Malformed(`stack underflow at offset ${c.pos - 1}`)
    return stack[m - 1]
  }
  const popMark = (): V[] => {
    if (!marks.length) throw new Malformed(`no MARK on the stack at offset ${c.pos - 1}`)
    const m = marks.pop() as number
    return stack.splice(m)
  }
  let lastStrOff = -1
  let lastStrLen = 0
  let lastStrIdx = -1
  let lastStr = ''
  /*
   * Memo: typed arrays indexed by slot (kind, value/offset, str length) so millions of memoized
   * strings and numbers cost ~11 bytes each and nothing for the GC; objects live in `objs`.
   * Short str values are kept by file position and re-read on GET. Far-out sparse indices go to a Map.
   * Past MAX_MEMO distinct slots only imports and call results are kept; other reads become DROPPED.
   */
  const K_EMPTY = 0, K_STRREF = 1, K_NUM = 2, K_OBJ = 3, K_NULL = 4, K_TRUE = 5, K_FALSE = 6
  // sized for the stream up front (zero pages cost nothing until touched), so growth is rare
  let mcap = Math.max(1024, Math.min(Math.floor(c.remaining / 4), MAX_MEMO + 1024))
  let kinds = new Uint8Array(mcap)
  let vals = new Float64Array(mcap)
  let refLen = new Uint16Array(mcap)
  const objs: V[] = []
  let sparse: Map<number, V> | null = null
  let memoCount = 0
  let memoOverflow = false
  const grow = (idx: number): void => {
    let n = mcap
    while (n <= idx) n *= 2
    const k = new Uint8Array(n); k.set(kinds); kinds = k
    const v = new Float64Array(n); v.set(vals); vals = v
    const l = new Uint16Array(n); l.set(refLen); refLen = l
    mcap = n
  }
  const memoHas = (idx: number): boolean => (idx < mcap && kinds[idx] !== K_EMPTY) || (sparse !== null && sparse.has(idx))
  const memoPut = (idx: number, v: V): void => {
    if (!memoHas(idx)) {
      if (memoCount >= MAX_MEMO) {
        if (!memoOverflow) { memoOverflow = true; ctx.res.notes.push(`memo exceeds ${MAX_MEMO} entries; later plain values are not retained`) }
        if (isObj(v) && (v.t === 'glob' || v.t === 'call')) { sparse ??= new Map(); if (sparse.size < 1_000_000) sparse.set(idx, v) }
        return
      }
      memoCount++
    }
    if (idx >= mcap) {
      if (idx > mcap * 2 + 1024 || idx > MAX_MEMO * 4) {
        sparse ??= new Map()
        if (typeof v === 'string') { ctx.strBudget -= v.length + 32; if (ctx.strBudget < 0) v = DROPPED }
        sparse.set(idx, v)
        return
      }
      grow(idx)
    }
    if (typeof v === 'string') {
      if (lastStrIdx === stack.length - 1 && v === lastStr && lastStrLen <= 0xffff) {
        kinds[idx] = K_STRREF; vals[idx] = lastStrOff; refLen[idx] = lastStrLen
        return
      }
      ctx.strBudget -= v.length + 32
      if (ctx.strBudget < 0) v = DROPPED
    }
    if (typeof v === 'number') { kinds[idx] = K_NUM; vals[idx] = v; return }
    if (v === null) { kinds[idx] = K_NULL; return }
    if (v === true) { kinds[idx] = K_TRUE; return }
    if (v === false) { kinds[idx] = K_FALSE; return }
    if (kinds[idx] === K_OBJ) objs[vals[idx]] = v
    else { kinds[idx] = K_OBJ; vals[idx] = objs.length; objs.push(v) }
  }
  /** The memo value; STRREF means "a str at vals[idx] of refLen[idx] bytes" (see loadRef). */
  const memoGet = (idx: number): V => {
    if (idx < mcap) {
      switch (kinds[idx]) {
        case K_STRREF: return STRREF
        case K_NUM: return vals[idx]
        case K_OBJ: return objs[vals[idx]]
        case K_NULL: return null
        case K_TRUE: return true
        case K_FALSE: return false
        default: break
      }
    }
    const sv = sparse?.get(idx)
    if (sv !== undefined) return sv
    if (memoOverflow) return DROPPED
    throw new Malformed(`memo value ${idx} not found at offset ${c.pos}`)
  }
  const loadRef = async (idx: number): Promise<string> => {
    const off = vals[idx]
    const len = refLen[idx]
    if (off >= c.winStart && off + len <= c.winEnd) return c.win.toString('utf8', off - c.winStart, off - c.winStart + len)
    return (await c.reader.read(off, len)).toString('utf8')
  }
  const intLine = async (what: string): Promise<number> => {
    const line = await c.readLine(64)
    if (line === null || !/^\s*\+?\d+L?\s*$/.test(line)) throw new Malformed(`bad (or negative) ${what} argument`)
    return parseInt(line, 10)
  }

  const doImport = (module: string, name: string, op: string, offset: number): O => {
    if (!isDottedIdentifier(module) || !isDottedIdentifier(name)) {
      throw new Malformed(`${op} with a module/name that cannot be imported (${JSON.stringify(clip(module, 80))}, ${JSON.stringify(clip(name, 80))})`)
    }
    const verdict = classifyGlobal(module, name)
    const key = `${module}.${name}`
    if (ctx.globals.size < 1000) ctx.globals.add(key)
    if (module.startsWith('joblib')) res.sawJoblib = true
    if (module.startsWith('torch')) res.sawTorch = true
    if (verdict.tier === 'deny') {
      addFinding(ctx, key, {
        severity: verdict.severity ?? 'high', malicious: isMaliciousSeverity(verdict.severity), module, operator: name,
        description: `${op} imports ${key} (${verdict.reason})`, offset,
      })
    }
    return {t: 'glob', module, name, verdict, key}
  }

  const doCall = (fn: V, args: V[] | null, op: string, offset: number): V => {
    if (isObj(fn) && fn.t === 'glob') {
      const v = fn.verdict
      const argText = args ? clip(args.map((a) => render(a)).join(', '), 300) : '…'
      if (v.tier !== 'safe') res.unsafeCalls++
      if (v.tier === 'deny') {
        const f = ctx.byKey.get(fn.key)
        if (f && !f.description.includes(' and calls it')) f.description = clip(`${f.description} and calls it via ${op}(${argText})`, 2000)
        else if (!f) {
          addFinding(ctx, fn.key, {severity: v.severity ?? 'high', malicious: isMaliciousSeverity(v.severity), module: fn.module, operator: fn.name,
            description: `${op} calls ${fn.key}(${argText}) (${v.reason})`, offset})
        }
      } else if (v.tier === 'unknown') {
        addFinding(ctx, fn.key + '|call', {
          severity: 'medium', malicious: false, module: fn.module, operator: fn.name,
          description: `${op} calls ${fn.key}(${argText}), which is not on the allow list (${v.reason})`, offset,
        })
      }
    } else if (isObj(fn) && (fn.t === 'call' || fn.t === 'unk' || fn.t === 'pers' || fn.t === 'dropped')) {
      res.unsafeCalls++
      const what = render(fn)
      addFinding(ctx, `<computed-call>|${what}`, {
        severity: fn.t === 'call' && isObj(fn.fn) && fn.fn.t === 'glob' && fn.fn.verdict.tier === 'deny' ? 'critical' : 'medium',
        malicious: fn.t === 'call' && isObj(fn.fn) && fn.fn.t === 'glob' && fn.fn.verdict.tier === 'deny',
        module: '<computed>', operator: clip(what, 200),
        description: `${op} calls a value computed at load time: ${clip(what, 300)}`, offset,
      })
    } else if (!isObj(fn) || fn.t === 'bytes' || fn.t === 'lstr') {
      throw new Malformed(`${op} on a non-callable value ${render(fn)}`)
    }
    return {t: 'call', fn, args: args && args.length <= 16 ? args : null}
  }

  const tupleItems = (v: V): V[] | null => (isObj(v) && v.t === 'tuple' ? v.items : null)

  const onBytes = async (len: number, label: string): Promise<V> => {
    if (len > c.remaining) throw new Truncated(`${label} of ${len} bytes runs past the end of the data`)
    const start = c.pos
    if (ctx.opts.onNested && len >= 8) {
      await c.need(Math.min(len, 128))
      const head = c.win.subarray(c.pos - c.winStart, c.pos - c.winStart + Math.min(len, 128))
      if (looksNested(head)) await ctx.opts.onNested(new SliceReader(c.reader, start, len), `bytes@${start}`)
    }
    c.pos = start + len
    return {t: 'bytes', len}
  }

  const onUnicode = async (len: number): Promise<V> => {
    if (len > c.remaining) throw new Truncated(`string of ${len} bytes runs past the end of the data`)
    const start = c.pos
    if (len <= SHORT_STR) {
      if (c.pos + len > c.winEnd) await c.mustNeed(len)
      const str = c.bytes(len).toString('utf8')
      // protocol-2 bytes travel as _codecs.encode(str, 'latin1'): a str that is a latin-1 pickle gets scanned
      if (ctx.opts.onNested && len >= 8 && str.charCodeAt(0) === 0x80) {
        const bytes = Buffer.from(str, 'latin1')
        if (looksNested(bytes.subarray(0, 128))) await ctx.opts.onNested(new BufferReader(bytes), `str@${start}`)
      }
      return str
    }
    if (ctx.opts.onNested && len <= NESTED_MAX_STR) {
      await c.need(2)
      const h = c.win.subarray(c.pos - c.winStart, c.pos - c.winStart + 2)
      if (h[0] === 0xc2 && h[1] === 0x80) {
        const raw = await c.readBytes(len)
        const bytes = Buffer.from(raw.toString('utf8'), 'latin1')
        if (looksNested(bytes.subarray(0, 128))) await ctx.opts.onNested(new BufferReader(bytes), `str@${start}`)
      }
    }
    c.pos = start + len
    return LSTR
  }

  const onJoblibBuild = async (obj: O, state: V): Promise<void> => {
    if (obj.t !== 'call') return
    const isWrapper = (g: V): boolean => isObj(g) && g.t === 'glob' && g.module === 'joblib.numpy_pickle' && g.name === 'NumpyArrayWrapper'
    const viaReconstructor = isObj(obj.fn) && obj.fn.t === 'glob' && obj.fn.module === 'copyreg' && obj.fn.name === '_reconstructor' && !!obj.args && isWrapper(obj.args[0])
    if (!isWrapper(obj.fn) && !viaReconstructor) return
    if (!isObj(state) || state.t !== 'dict' || !state.items) throw new Malformed('joblib NumpyArrayWrapper state is not a readable dict')
    const shapeV = state.items.get('shape')
    const dtypeV = state.items.get('dtype')
    const shape = tupleItems(shapeV ?? null)
    let dtypeStr: string | undefined
    if (isObj(dtypeV ?? null) && (dtypeV as O).t === 'call') {
      const a = (dtypeV as {args: V[] | null}).args
      if (a && typeof a[0] === 'string') dtypeStr = a[0]
    }
    if (!shape || !shape.every((x) => typeof x === 'number') || dtypeStr === undefined) {
      throw new Malformed('cannot size the joblib array that follows a NumpyArrayWrapper')
    }
    const item = dtypeItemSize(dtypeStr)
    if (item === undefined) throw new Malformed(`unknown numpy dtype ${dtypeStr} in joblib array`)
    if (state.items.has('numpy_array_alignment_bytes')) {
      const pad = await c.readU8()
      if (pad > c.remaining) throw new Truncated('joblib alignment padding runs past the end')
      c.skip(pad)
    }
    if (item === 0) {
      // object array: joblib writes a nested pickle inline; analyse it with the same collector
      if (ctx.nesting >= 32) throw new Malformed('joblib object arrays nested deeper than 32 levels')
      ctx.nesting++
      try { await runOne(ctx) } finally { ctx.nesting-- }
      return
    }
    const n = shape.reduce((a, b) => a * b, 1) * item
    if (!Number.isFinite(n) || n < 0 || n > c.remaining) throw new Truncated(`joblib array of ${n} bytes runs past the end of the data`)
    c.skip(n)
  }

  const slowOne = async (): Promise<boolean> => {
    if (c.pos >= c.winEnd && !(await c.need(1))) throw new Truncated(`no STOP opcode before the end of the data (offset ${c.pos})`)
    const offset = c.pos
    const op = c.win[c.pos - c.winStart]
    c.pos++
    res.opcodes++
    switch (op) {
      case 0x28: // MARK
        if (marks.length >= MAX_MARKS) throw new Malformed('too many MARKs (resource limit)')
        marks.push(stack.length); break
      case 0x2e: // STOP
        pop(); return true
      case 0x30: // POP
        if (stack.length > base()) stack.pop()
        else if (marks.length) marks.pop()
        else throw new Malformed(`POP on an empty stack at offset ${offset}`)
        break
      case 0x31: popMark(); break // POP_MARK
      case 0x32: push(top()); break // DUP
      case 0x46: { // FLOAT
        const l = await c.readLine(256)
        if (l === null || Number.isNaN(parseFloat(l))) throw new Malformed('bad FLOAT argument')
        push(parseFloat(l)); break
      }
      case 0x49: { // INT
        const l = await c.readLine(256)
        if (l === '00') push(false)
        else if (l === '01') push(true)
        else if (l !== null && /^\s*[+-]?\d+\s*$/.test(l)) push(parseInt(l, 10))
        else throw new Malformed('bad INT argument')
        break
      }
      case 0x4a: if (c.pos + 4 > c.winEnd) await c.mustNeed(4); push(c.i32()); break // BININT
      case 0x4b: if (c.pos + 1 > c.winEnd) await c.mustNeed(1); push(c.u8()); break // BININT1
      case 0x4c: { // LONG
        const l = await c.readLine(1 << 16)
        if (l === null || !/^\s*[+-]?\d+L?\s*$/.test(l)) throw new Malformed('bad LONG argument')
        push(parseInt(l, 10)); break
      }
      case 0x4d: if (c.pos + 2 > c.winEnd) await c.mustNeed(2); push(c.u16()); break // BININT2
      case 0x4e: push(null); break // NONE
      case 0x50: await c.readLine(1 << 16); push(PERS); break // PERSID
      case 0x51: pop(); push(PERS); break // BINPERSID
      case 0x52: { // REDUCE
        const args = pop()
        const fn = pop()
        push(doCall(fn, tupleItems(args), 'REDUCE', offset)); break
      }
      case 0x53: { // STRING
        const l = await c.readLine(1 << 20)
        if (l === null) { push(LSTR); break }
        push(decodePyString(l)); break
      }
      case 0x54: { // BINSTRING
        if (c.pos + 4 > c.winEnd) await c.mustNeed(4)
        const n = c.i32()
        if (n < 0) throw new Malformed('negative BINSTRING length')
        if (n <= SHORT_STR) { if (c.pos + n > c.winEnd) await c.mustNeed(n); push(c.bytes(n).toString('latin1')) } else { await onBytes(n, 'BINSTRING'); push(LSTR) }
        break
      }
      case 0x55: { if (c.pos + 1 > c.winEnd) await c.mustNeed(1); const n = c.u8(); if (c.pos + n > c.winEnd) await c.mustNeed(n); push(c.bytes(n).toString('latin1')); break } // SHORT_BINSTRING
      case 0x56: { // UNICODE
        const l = await c.readLine(1 << 20)
        push(l === null ? LSTR : decodeRawUnicodeEscape(l)); break
      }
      case 0x58: { // BINUNICODE
        if (c.pos + 4 > c.winEnd) await c.mustNeed(4)
        const n = c.u32()
        if (n <= SHORT_STR && c.pos + n <= c.winEnd && c.win[c.pos - c.winStart] !== 0xc2) { push(c.win.toString('utf8', c.pos - c.winStart, c.pos - c.winStart + n)); lastStrOff = c.pos; lastStrLen = n; lastStrIdx = stack.length - 1; lastStr = stack[lastStrIdx] as string; c.pos += n }
        else push(await onUnicode(n))
        break
      }
      case 0x61: { const v = pop(); mutate(top(), 'APPEND', v); break } // APPEND
      case 0x62: { // BUILD
        const state = pop()
        const obj = top()
        if (isObj(obj) && obj.t === 'glob') {
          addFinding(ctx, obj.key + '|build', {
            severity: 'high', malicious: true, module: obj.module, operator: obj.name,
            description: `BUILD overwrites attributes of the imported object ${obj.key} (state ${clip(render(state), 200)})`, offset,
          })
        } else if (isObj(obj)) await onJoblibBuild(obj, state)
        break
      }
      case 0x63: { // GLOBAL
        const m = await c.readLine(4096)
        const n = await c.readLine(4096)
        push(doImport(m ?? '', n ?? '', 'GLOBAL', offset)); break
      }
      case 0x64: { // DICT
        const items = popMark()
        const d: O = {t: 'dict', items: undefined}
        for (let i = 0; i + 1 < items.length; i += 2) setItem(d, items[i], items[i + 1], 'DICT')
        push(d); break
      }
      case 0x7d: push({t: 'dict', items: undefined}); break // EMPTY_DICT
      case 0x65: { // APPENDS
        if (!marks.length) throw new Malformed(`no MARK on the stack at offset ${offset}`)
        stack.length = marks.pop() as number
        mutate(top(), 'APPENDS', null); break
      }
      case 0x67: { const i = await intLine('GET'); const v = memoGet(i); push(v === STRREF ? await loadRef(i) : v); break } // GET
      case 0x68: { if (c.pos + 1 > c.winEnd) await c.mustNeed(1); const i = c.u8(); const v = memoGet(i); push(v === STRREF ? await loadRef(i) : v); break } // BINGET
      case 0x69: { // INST
        const m = await c.readLine(4096)
        const n = await c.readLine(4096)
        const g = doImport(m ?? '', n ?? '', 'INST', offset)
        const args = popMark()
        push(doCall(g, args, 'INST', offset)); break
      }
      case 0x6a: { if (c.pos + 4 > c.winEnd) await c.mustNeed(4); const i = c.u32(); const v = memoGet(i); push(v === STRREF ? await loadRef(i) : v); break } // LONG_BINGET
      case 0x6c: popMark(); push({t: 'list'}); break // LIST
      case 0x5d: push({t: 'list'}); break // EMPTY_LIST
      case 0x6f: { // OBJ
        const items = popMark()
        if (!items.length) throw new Malformed('OBJ without a class')
        push(doCall(items[0], items.slice(1), 'OBJ', offset)); break
      }
      case 0x70: memoPut(await intLine('PUT'), top()); break // PUT
      case 0x71: if (c.pos + 1 > c.winEnd) await c.mustNeed(1); memoPut(c.u8(), top()); break // BINPUT
      case 0x72: if (c.pos + 4 > c.winEnd) await c.mustNeed(4); memoPut(c.u32(), top()); break // LONG_BINPUT
      case 0x73: { // SETITEM
        const v = pop(); const k = pop(); const t = top()
        setItem(t, k, v, 'SETITEM'); break
      }
      case 0x74: push({t: 'tuple', items: cap(popMark())}); break // TUPLE
      case 0x29: push({t: 'tuple', items: []}); break // EMPTY_TUPLE
      case 0x75: { // SETITEMS
        if (!marks.length) throw new Malformed(`no MARK on the stack at offset ${offset}`)
        const m = marks.pop() as number
        if ((stack.length - m) % 2) throw new Malformed('SETITEMS with an odd number of items')
        const t = top_below(m)
        if (isObj(t) && t.t === 'dict' && t.items === null) { /* no longer tracked: nothing to record */ } else {
          for (let i = m; i < stack.length; i += 2) setItem(t, stack[i], stack[i + 1], 'SETITEMS')
        }
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
      case 0x81: { const args = pop(); const cls = pop(); push(doCall(cls, tupleItems(args), 'NEWOBJ', offset)); break }
      case 0x82: case 0x83: case 0x84: { // EXT1/2/4
        const k = op === 0x82 ? 1 : op === 0x83 ? 2 : 4
        if (c.pos + k > c.winEnd) await c.mustNeed(k)
        const code = k === 1 ? c.u8() : k === 2 ? c.u16() : c.i32()
        const key = `copyreg.extension[${code}]`
        addFinding(ctx, key, {
          severity: 'medium', malicious: false, module: 'copyreg', operator: `extension ${code}`,
          description: `${OPNAMES[op]} imports through the copyreg extension registry (code ${code}); the target depends on the loading process`, offset,
        })
        push({t: 'glob', module: 'copyreg', name: `extension_${code}`, verdict: {tier: 'unknown', reason: 'extension registry import'}, key})
        break
      }
      case 0x85: push({t: 'tuple', items: [pop()]}); break
      case 0x86: { const b = pop(); const a = pop(); push({t: 'tuple', items: [a, b]}); break }
      case 0x87: { const z = pop(); const b = pop(); const a = pop(); push({t: 'tuple', items: [a, b, z]}); break }
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
      case 0x8c: { // SHORT_BINUNICODE
        if (c.pos + 1 > c.winEnd) await c.mustNeed(1)
        const n = c.u8()
        if (c.pos + n <= c.winEnd && c.win[c.pos - c.winStart] !== 0xc2) { push(c.win.toString('utf8', c.pos - c.winStart, c.pos - c.winStart + n)); lastStrOff = c.pos; lastStrLen = n; lastStrIdx = stack.length - 1; lastStr = stack[lastStrIdx] as string; c.pos += n }
        else push(await onUnicode(n))
        break
      }
      case 0x8d: { if (c.pos + 8 > c.winEnd) await c.mustNeed(8); push(await onUnicode(c.u64())); break } // BINUNICODE8
      case 0x8e: { if (c.pos + 8 > c.winEnd) await c.mustNeed(8); push(await onBytes(c.u64(), 'BINBYTES8')); break }
      case 0x96: { if (c.pos + 8 > c.winEnd) await c.mustNeed(8); push(await onBytes(c.u64(), 'BYTEARRAY8')); break }
      case 0x8f: push({t: 'set'}); break // EMPTY_SET
      case 0x90: { const items = popMark(); mutate(top(), 'ADDITEMS', items[0]); break } // ADDITEMS
      case 0x91: popMark(); push({t: 'set'}); break // FROZENSET
      case 0x92: { // NEWOBJ_EX
        pop(); const args = pop(); const cls = pop()
        push(doCall(cls, tupleItems(args), 'NEWOBJ_EX', offset)); break
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop()
        const module = pop()
        if (typeof name === 'string' && typeof module === 'string') { push(doImport(module, name, 'STACK_GLOBAL', offset)); break }
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
          push({t: 'glob', module: '<unretained>', name: visible, verdict: {tier: bad ? 'deny' : 'unknown', severity: bad ? 'critical' : undefined, reason: 'import target not retained'}, key})
          break
        }
        const computed = (v: V): boolean => isObj(v) && (v.t === 'call' || v.t === 'unk' || v.t === 'pers' || v.t === 'glob' || v.t === 'dropped')
        if (computed(name) || computed(module)) {
          const desc = `STACK_GLOBAL imports a target computed at load time: module ${render(module)}, name ${render(name)}`
          addFinding(ctx, `<computed-import>|${offset}`, {
            severity: 'critical', malicious: true, module: clip(typeof module === 'string' ? module : render(module), 200),
            operator: clip(typeof name === 'string' ? name : render(name), 200), description: clip(desc, 1000), offset,
          })
          res.unsafeCalls++
          push({t: 'glob', module: '<computed>', name: '<computed>', verdict: {tier: 'deny', severity: 'critical', reason: 'computed import'}, key: `<computed>@${offset}`})
          break
        }
        throw new Malformed(`STACK_GLOBAL requires str operands, got ${render(module)} and ${render(name)}`)
      }
      case 0x94: memoPut(memoCount, top()); break // MEMOIZE
      case 0x95: { // FRAME
        if (c.pos + 8 > c.winEnd) await c.mustNeed(8)
        const n = c.u64()
        if (n > c.remaining) throw new Truncated(`FRAME of ${n} bytes is longer than the remaining ${c.remaining} bytes`)
        break
      }
      case 0x97: push(UNK); break // NEXT_BUFFER
      case 0x98: top(); break // READONLY_BUFFER
      default:
        throw new Malformed(`invalid opcode 0x${op.toString(16).padStart(2, '0')} at offset ${offset}`)
    }
    return false
  }

  /**
   * Synchronous fast path for the common opcodes whose bytes are already in the window (no I/O, no
   * nested scans). Returns true after STOP; false when it needs the async path for the next opcode.
   */
  const fast = (): boolean => {
    const win = c.win
    const ws = c.winStart
    const we = c.winEnd
    for (;;) {
      const pos = c.pos
      if (pos >= we) return false
      const op = win[pos - ws]
      switch (op) {
        case 0x28: // MARK
          if (marks.length >= MAX_MARKS) return false
          marks.push(stack.length); c.pos = pos + 1; break
        case 0x2e: c.pos = pos + 1; res.opcodes++; pop(); return true // STOP
        case 0x4b: if (pos + 2 > we) return false; c.pos = pos + 2; push(win[pos + 1 - ws]); break
        case 0x4d: if (pos + 3 > we) return false; c.pos = pos + 3; push(win.readUInt16LE(pos + 1 - ws)); break
        case 0x4a: if (pos + 5 > we) return false; c.pos = pos + 5; push(win.readInt32LE(pos + 1 - ws)); break
        case 0x47: if (pos + 9 > we) return false; c.pos = pos + 9; push(0.5); break
        case 0x4e: c.pos = pos + 1; push(null); break
        case 0x88: c.pos = pos + 1; push(true); break
        case 0x89: c.pos = pos + 1; push(false); break
        case 0x5d: c.pos = pos + 1; push({t: 'list'}); break
        case 0x7d: c.pos = pos + 1; push({t: 'dict', items: undefined}); break
        case 0x29: c.pos = pos + 1; push({t: 'tuple', items: []}); break
        case 0x8c: { // SHORT_BINUNICODE
          if (pos + 2 > we) return false
          const n = win[pos + 1 - ws]
          if (pos + 2 + n > we || (n > 0 && win[pos + 2 - ws] === 0xc2)) return false
          c.pos = pos + 2 + n
          const str = utf8(win, pos + 2 - ws, pos + 2 + n - ws)
          push(str); lastStrOff = pos + 2; lastStrLen = n; lastStrIdx = stack.length - 1; lastStr = str
          break
        }
        case 0x58: { // BINUNICODE
          if (pos + 5 > we) return false
          const n = win.readUInt32LE(pos + 1 - ws)
          if (n > SHORT_STR || pos + 5 + n > we || (n > 0 && win[pos + 5 - ws] === 0xc2)) return false
          c.pos = pos + 5 + n
          const str = utf8(win, pos + 5 - ws, pos + 5 + n - ws)
          push(str); lastStrOff = pos + 5; lastStrLen = n; lastStrIdx = stack.length - 1; lastStr = str
          break
        }
        case 0x94: { // MEMOIZE
          c.pos = pos + 1
          const idx = memoCount
          const sl = stack.length
          // hot case: memoizing the str just read, into a fresh in-range slot
          if (sl > (marks.length ? marks[marks.length - 1] : 0) && lastStrIdx === sl - 1 && stack[sl - 1] === lastStr &&
              idx < mcap && kinds[idx] === K_EMPTY && memoCount < MAX_MEMO) {
            memoCount++
            kinds[idx] = K_STRREF; vals[idx] = lastStrOff; refLen[idx] = lastStrLen
          } else memoPut(idx, top())
          break
        }
        case 0x71: if (pos + 2 > we) return false; c.pos = pos + 2; memoPut(win[pos + 1 - ws], top()); break // BINPUT
        case 0x72: if (pos + 5 > we) return false; c.pos = pos + 5; memoPut(win.readUInt32LE(pos + 1 - ws), top()); break
        case 0x68: case 0x6a: { // BINGET / LONG_BINGET
          const k = op === 0x68 ? 2 : 5
          if (pos + k > we) return false
          const i = op === 0x68 ? win[pos + 1 - ws] : win.readUInt32LE(pos + 1 - ws)
          c.pos = pos + k
          const v = memoGet(i)
          if (v === STRREF) {
            const off = vals[i]
            const len = refLen[i]
            if (off < ws || off + len > we) { c.pos = pos; return false }
            push(utf8(win, off - ws, off - ws + len))
          } else push(v)
          break
        }
        case 0x65: { // APPENDS
          if (!marks.length) return false
          c.pos = pos + 1
          stack.length = marks.pop() as number
          mutate(top(), 'APPENDS', null); break
        }
        case 0x61: { c.pos = pos + 1; const v = pop(); mutate(top(), 'APPEND', v); break } // APPEND
        case 0x73: { c.pos = pos + 1; const v = pop(); const k = pop(); setItem(top(), k, v, 'SETITEM'); break } // SETITEM
        case 0x85: c.pos = pos + 1; push({t: 'tuple', items: [pop()]}); break
        case 0x86: { c.pos = pos + 1; const b = pop(); const a = pop(); push({t: 'tuple', items: [a, b]}); break }
        case 0x87: { c.pos = pos + 1; const z = pop(); const b = pop(); const a = pop(); push({t: 'tuple', items: [a, b, z]}); break }
        case 0x30: { // POP
          if (stack.length <= base()) return false
          c.pos = pos + 1; stack.pop(); break
        }
        case 0x32: c.pos = pos + 1; push(top()); break // DUP
        default:
          return false
      }
      res.opcodes++
    }
  }

  for (;;) {
    if (fast()) return
    if (await slowOne()) return
  }

  function cap(items: V[]): V[] | null { return items.length <= 16 ? items : null }

  function setItem(t: V, k: V, v: V, op: string): void {
    if (isObj(t) && t.t === 'dict') {
      if (t.items !== null && typeof k === 'string') {
        if (t.items === undefined) t.items = new Map()
        if (t.items.size < 32) t.items.set(k, v)
        else t.items = null
      }
      return
    }
    mutate(t, op, v)
  }

  function mutate(t: V, op: string, _v: V): void {
    if (isObj(t) && t.t === 'glob' && t.verdict.tier !== 'safe') {
      addFinding(ctx, t.key + '|' + op, {
        severity: 'medium', malicious: false, module: t.module, operator: t.name,
        description: `${op} calls a method of the imported object ${t.key}`, offset: c.pos,
      })
    } else if (isObj(t) && (t.t === 'glob')) {
      addFinding(ctx, t.key + '|' + op, {
        severity: 'medium', malicious: false, module: t.module, operator: t.name,
        description: `${op} mutates the imported object ${t.key}`, offset: c.pos,
      })
    } else if (!isObj(t) || t.t === 'bytes' || t.t === 'lstr' || t.t === 'tuple') {
      throw new Malformed(`${op} on a value that has no such method (${render(t)})`)
    }
  }
}
