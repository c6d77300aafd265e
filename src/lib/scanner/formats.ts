/**
 * Pure-data and graph formats: safetensors and GGUF validation, GGUF chat-template markers, NumPy
 * headers, Keras configs (.keras config.json, legacy HDF5 model_config), and a streaming protobuf
 * walker for TensorFlow SavedModel op sets and ONNX graphs. Each returns plain findings; the engine
 * maps them onto threat codes and sources.
 */
import {Cursor, type Reader, ScanAborted, Truncated} from './io.js'
import {classifyGlobal} from './policy.js'
import {ONNX_VENDOR_OPS, onnxOpKind} from './vendor-ops.js'
import type {ThreatCategory} from '../airs/enums.js'

export interface RawIssue { threat: ThreatCategory | null; description: string; module?: string | null; operator?: string | null }

// ---------------------------------------------------------------- safetensors

const ST_DTYPES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4,
  F64: 8, I64: 8, U64: 8, C64: 8, F4: 0.5, F6_E2M3: 0.75, F6_E3M2: 0.75,
}

export function looksSafetensors(head: Buffer, size: number): boolean {
  if (head.length < 9 || size < 10) return false
  const n = head.readUInt32LE(0) + head.readUInt32LE(4) * 0x100000000
  return n > 1 && n <= size - 8 && head[8] === 0x7b /* { */
}

/**
 * Validation outcome of a pure-data format. `hostile`: declared counts, lengths or offsets that would make
 * a loader over-allocate or read out of bounds (reported as issues). `malformed`: inconsistencies a
 * loader refuses without harm, and plain truncation (the file ends early but is otherwise consistent):
 * the file is not loadable, which is an ERROR with its reason, not a finding.
 */
export interface DataCheck { hostile: string[]; malformed: string[] }

/** Above this a declared tensor/array byte size is an over-allocation, whatever the file size (1 TiB). */
export const HOSTILE_BYTES = 2 ** 40

/** `metadata`, when given, receives the `__metadata__` string values (for the hidden-content check). */
export async function validateSafetensors(r: Reader, metadata?: Array<[string, string]>): Promise<DataCheck> {
  const res: DataCheck = {hostile: [], malformed: []}
  if (r.size < 8) { res.malformed.push('file shorter than the 8-byte header length'); return res }
  const h = await r.read(0, 8)
  const n = h.readUInt32LE(0) + h.readUInt32LE(4) * 0x100000000
  if (n > 100_000_000) { res.hostile.push(`header length ${n} exceeds the 100 MB limit (a loader that trusts it allocates ${n} bytes)`); return res }
  if (n > r.size - 8) { res.malformed.push(`truncated: header length ${n} runs past the end of the ${r.size}-byte file`); return res }
  const hb = Buffer.from(await r.read(8, n))
  let text: string
  try { text = new TextDecoder('utf-8', {fatal: true}).decode(hb) } catch { res.malformed.push('header is not valid UTF-8'); return res }
  if (!text.startsWith('{')) { res.malformed.push('header does not start with {'); return res }
  let doc: unknown
  try { doc = JSON.parse(text) } catch (e) { res.malformed.push(`header is not valid JSON (${(e as Error).message})`); return res }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) { res.malformed.push('header is not a JSON object'); return res }
  const bufLen = r.size - 8 - n
  const spans: Array<[number, number, string]> = []
  const entries = Object.entries(doc as Record<string, unknown>)
  const offsetsCount = (text.match(/"data_offsets"/g) ?? []).length
  const bad = res.malformed
  let tensors = 0
  let beyond = 0
  for (const [name, v] of entries) {
    if (bad.length + res.hostile.length > 20) break
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) bad.push('__metadata__ is not an object')
      else for (const [k, mv] of Object.entries(v)) if (typeof mv !== 'string') bad.push(`__metadata__.${k} is not a string`); else metadata?.push([k, mv])
      continue
    }
    tensors++
    if (typeof v !== 'object' || v === null) { bad.push(`tensor ${name}: entry is not an object`); continue }
    const t = v as {dtype?: unknown; shape?: unknown; data_offsets?: unknown}
    const size = typeof t.dtype === 'string' ? ST_DTYPES[t.dtype] : undefined
    if (size === undefined) { bad.push(`tensor ${name}: unknown dtype ${JSON.stringify(t.dtype)}`); continue }
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) { bad.push(`tensor ${name}: invalid shape`); continue }
    const off = t.data_offsets
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) { bad.push(`tensor ${name}: invalid data_offsets`); continue }
    const [b, e] = off as [number, number]
    let count = 1n
    for (const d of t.shape as number[]) count *= BigInt(d)
    const want = size >= 1 ? count * BigInt(size) : (count * BigInt(Math.round(size * 8)) + 7n) / 8n
    if (e < b) { res.hostile.push(`tensor ${name}: end offset ${e} before begin ${b} (an unsigned length underflow in the loader)`); continue }
    if (want > BigInt(HOSTILE_BYTES)) { res.hostile.push(`tensor ${name}: shape × dtype needs ${want} bytes (over-allocation)`); continue }
    if (e > bufLen && want !== BigInt(e - b)) { res.hostile.push(`tensor ${name}: data_offsets [${b}, ${e}] run past the ${bufLen}-byte buffer and disagree with its shape (out-of-bounds read)`); continue }
    if (e > bufLen) beyond++
    else if (want !== BigInt(e - b)) bad.push(`tensor ${name}: ${e - b} bytes but shape × dtype needs ${want}`)
    spans.push([b, e, name])
  }
  if (offsetsCount > tensors) bad.push(`duplicate tensor names in header (${offsetsCount} entries, ${tensors} distinct)`)
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let at = 0
  let contiguous = true
  for (const [b, e, name] of spans) {
    if (b < at) { bad.push(`tensor ${name} overlaps the previous tensor`); contiguous = false } else if (b > at) { bad.push(`gap of ${b - at} bytes before tensor ${name}`); contiguous = false }
    at = Math.max(at, e)
    if (bad.length > 20) break
  }
  if (beyond) {
    // a copy cut short keeps its tensors back to back: only the tail is missing
    const what = `${beyond} tensor(s) have data_offsets past the end of the ${bufLen}-byte buffer`
    if (contiguous && bad.length === 0) bad.push(`truncated: ${what} (the file ends ${at - bufLen} bytes early)`)
    else res.hostile.push(`${what} in a non-contiguous layout (out-of-bounds read)`)
  } else if (bad.length === 0 && at !== bufLen) bad.push(`${bufLen - at} trailing bytes not covered by any tensor`)
  return res
}

// ---------------------------------------------------------------- GGUF

/** [block size, bytes per block] per ggml type; null = known id without a size we check. */
const GGML_TYPES: Record<number, [number, number] | null> = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 4: null, 5: null, 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 36],
  10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292], 16: [256, 66],
  17: [256, 74], 18: [256, 98], 19: [256, 50], 20: [32, 18], 21: [256, 110], 22: [256, 82], 23: [256, 136], 24: [1, 1],
  25: [1, 2], 26: [1, 4], 27: [1, 8], 28: [1, 8], 29: [256, 56], 30: [1, 2], 31: null, 32: null, 33: null, 34: [256, 54],
  35: [256, 66], 36: null, 37: null, 38: null, 39: [32, 17],
}
const GGUF_SCALAR: Record<number, number> = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
/** Largest plausible header item: a declared string/array beyond the file *and* beyond this is hostile. */
const GGUF_SANE_ITEM = 256 << 20
const GGUF_SANE_KV = 1 << 20
const GGUF_SANE_TENSORS = 1 << 24
/** Chat templates are read up to this size (beyond: the head is analysed and the size reported). */
export const GGUF_TEMPLATE_MAX = 16 << 20

/** A chat template: its verdict is computed while reading, so no template text is kept (a file may hold several 16 MB ones). */
export interface GgufTemplate { key: string; size: number; hit: {threat: ThreatCategory; markers: string[]} | null }
export interface GgufResult extends DataCheck {
  templates: GgufTemplate[]; version: number; notes: string[]
  /** Other scalar string values (up to 1 MiB each, 4096 of them, 16 MiB in all), for the hidden-content check. */
  strings: Array<{key: string; text: string}>
}

class GgufHostile extends Error {}

export async function analyzeGguf(r: Reader, tick?: Tick): Promise<GgufResult> {
  const c = new Cursor(r)
  const t = ticker(tick, 1024)
  const res: GgufResult = {hostile: [], malformed: [], templates: [], version: 0, notes: [], strings: []}
  let keptStrings = 0
  const bad = res.malformed
  /** A length beyond the remaining bytes: hostile when implausibly large, otherwise the file was cut. */
  const beyond = (what: string, n: number, bytes: number): never => {
    if (n > GGUF_SANE_ITEM || bytes > GGUF_SANE_ITEM || !Number.isSafeInteger(bytes)) {
      throw new GgufHostile(`${what} declares ${n} (${bytes} bytes), beyond the remaining ${c.remaining} bytes (over-allocation / out-of-bounds read)`)
    }
    throw new Truncated(`${what} of ${bytes} bytes runs past the end of the file`)
  }
  try {
    await c.mustNeed(24)
    c.skip(4)
    const version = c.u32()
    res.version = version
    if (version < 1 || version > 3) { bad.push(`unsupported GGUF version ${version}`); return res }
    const v1 = version === 1
    const count = async (): Promise<number> => (v1 ? c.readU32() : c.readU64())
    const tensorCount = await count()
    const kvCount = await count()
    if (tensorCount > r.size / 24) {
      if (tensorCount > GGUF_SANE_TENSORS) { res.hostile.push(`tensor_count ${tensorCount} cannot fit in a ${r.size}-byte file`); return res }
      bad.push(`truncated: tensor_count ${tensorCount} needs more than the ${r.size}-byte file`)
    }
    if (kvCount > r.size / 13) {
      if (kvCount > GGUF_SANE_KV) { res.hostile.push(`kv_count ${kvCount} cannot fit in a ${r.size}-byte file`); return res }
      bad.push(`truncated: kv_count ${kvCount} needs more than the ${r.size}-byte file`)
    }
    const str = async (keep: number, what: string): Promise<{text: string | null; size: number}> => {
      const n = await count()
      if (n > c.remaining) beyond(what, n, n)
      if (n <= keep) return {text: (await c.readBytes(n)).toString('utf8'), size: n}
      if (keep > 0) { const t = (await c.readBytes(keep)).toString('utf8'); c.skip(n - keep); return {text: t, size: n} }
      c.skip(n)
      return {text: null, size: n}
    }
    let alignment = 32
    const skipValue = async (type: number, key: string, depth: number): Promise<void> => {
      if (GGUF_SCALAR[type] !== undefined) {
        await c.mustNeed(GGUF_SCALAR[type])
        if (key === 'general.alignment' && type === 4) alignment = c.u32()
        else c.skip(GGUF_SCALAR[type])
        return
      }
      if (type === 8) {
        const isTpl = key.startsWith('tokenizer.chat_template')
        const keepOther = !isTpl && depth === 0 && res.strings.length < 4096 && keptStrings < 16 << 20
        const s = await str(isTpl ? GGUF_TEMPLATE_MAX : keepOther ? 1 << 20 : 0, `string value of ${key}`)
        if (s.text !== null && isTpl) res.templates.push({key, size: s.size, hit: checkTemplate(s.text)})
        else if (s.text !== null && keepOther && s.size <= 1 << 20 && s.text.length >= 16) { res.strings.push({key, text: s.text}); keptStrings += s.text.length }
        return
      }
      if (type === 9) {
        if (depth > 2) throw new Error('nested arrays deeper than 2')
        const et = await c.readU32()
        const n = await count()
        if (GGUF_SCALAR[et] !== undefined) {
          const bytes = n * GGUF_SCALAR[et]
          if (bytes > c.remaining) beyond(`array ${key}`, n, bytes)
          c.skip(bytes); return
        }
        if (et === 8) {
          if (n * 8 > c.remaining) beyond(`string array ${key}`, n, n * 8)
          for (let i = 0; i < n; i++) { await str(0, `element ${i} of ${key}`); await t() }
          return
        }
        if (et === 9) {
          if (n * 12 > c.remaining) beyond(`nested array ${key}`, n, n * 12)
          for (let i = 0; i < n; i++) { await skipValue(9, key, depth + 1); await t() }
          return
        }
        throw new Error(`unknown array element type ${et} for key ${key}`)
      }
      throw new Error(`unknown value type ${type} for key ${key}`)
    }
    for (let i = 0; i < kvCount; i++) {
      await t()
      const key = (await str(1 << 16, `key ${i}`)).text ?? '<long key>'
      const type = await c.readU32()
      await skipValue(type, key, 0)
    }
    if (alignment === 0) { res.hostile.push('general.alignment is 0 (a division by zero in loaders that pad to it)'); return res }
    if ((alignment & (alignment - 1)) !== 0) bad.push(`general.alignment ${alignment} is not a power of two`)
    const infos: Array<{name: string; off: number; size: number | null}> = []
    const names = new Set<string>()
    for (let i = 0; i < tensorCount; i++) {
      await t()
      const name = (await str(1 << 16, `tensor ${i} name`)).text ?? '<long name>'
      const nd = await c.readU32()
      if (nd > 4) { res.hostile.push(`tensor ${name}: ${nd} dimensions (loaders keep at most 4: out-of-bounds write)`); return res }
      let elems = 1
      for (let d = 0; d < nd; d++) {
        const dim = v1 ? await c.readU32() : await c.readU64()
        elems *= dim
      }
      const type = await c.readU32()
      const off = await c.readU64()
      if (names.has(name)) bad.push(`duplicate tensor name ${name}`)
      names.add(name)
      if (!Number.isSafeInteger(elems) || elems > HOSTILE_BYTES) { res.hostile.push(`tensor ${name}: ${elems} elements (size overflow / over-allocation)`); continue }
      if (!(type in GGML_TYPES)) {
        if (type > 255) res.hostile.push(`tensor ${name}: unknown ggml type ${type} (an out-of-range index into the loader's type table)`)
        else res.notes.push(`tensor ${name}: ggml type ${type} is not known to this scanner (newer format?); its size was not checked`)
        infos.push({name, off, size: null})
        continue
      }
      const spec = GGML_TYPES[type]
      let size: number | null = null
      if (spec) {
        if (elems % spec[0] !== 0) bad.push(`tensor ${name}: ${elems} elements is not a multiple of the block size ${spec[0]}`)
        size = Math.ceil(elems / spec[0]) * spec[1]
      }
      if (!Number.isSafeInteger(off) || off > HOSTILE_BYTES) { res.hostile.push(`tensor ${name}: data offset ${off} (out-of-bounds read)`); continue }
      if (alignment > 0 && off % alignment !== 0) bad.push(`tensor ${name}: offset ${off} not aligned to ${alignment}`)
      infos.push({name, off, size})
      if (bad.length + res.hostile.length > 20) return res
    }
    const dataStart = Math.ceil(c.pos / alignment) * alignment
    const dataLen = r.size - dataStart
    infos.sort((a, b) => a.off - b.off)
    let end = 0
    let contiguous = true
    const outside: string[] = []
    for (const t of infos) {
      if (t.off < end) { bad.push(`tensor ${t.name} overlaps the previous tensor`); contiguous = false }
      else if (t.off > Math.ceil(end / alignment) * alignment) contiguous = false
      if (t.size !== null) {
        if (t.off + t.size > dataLen) outside.push(`tensor ${t.name}: data [${t.off}, ${t.off + t.size}) outside the ${dataLen}-byte data section`)
        end = Math.max(end, t.off + t.size)
      } else end = Math.max(end, t.off)
      if (bad.length > 20) break
    }
    if (outside.length) {
      if (contiguous) bad.push(`truncated: ${outside.length} tensor(s) end past the end of the file (${outside[0]})`)
      else res.hostile.push(...outside.slice(0, 8).map((o) => `${o} (out-of-bounds read)`))
    }
  } catch (e) {
    if (e instanceof ScanAborted) throw e
    if (e instanceof GgufHostile) res.hostile.push(e.message)
    else bad.push(e instanceof Truncated ? `truncated: ${e.message}` : (e as Error).message)
  }
  return res
}

// Every pattern below is linear on any input: literal prefixes, no `.*` between tokens and no two adjacent
// quantifiers that can match the same characters (V8's backtracking engine stays O(n) per start position
// and the prefixes bound the start positions that get that far).
const TEMPLATE_MALICIOUS: Array<[RegExp, string]> = [
  [/__(class|mro|base|bases|subclasses|globals|builtins|init|import|getattribute|dict|code|reduce|reduce_ex|func|self|module|loader|spec)__/, 'dunder attribute access'],
  [/\bos\s*\.\s*(system|popen|exec\w*|spawn\w*)/, 'os command execution'],
  [/\b(subprocess|popen|check_output|import_module|__import__|eval|exec)\s*\(/, 'code execution call'],
  [/\bimport\s+os\b|\bfrom\s+os\s+import\b/, 'python import'],
  [/_TemplateReference__context|\bself\._/, 'template internals access'],
  [/\b(lipsum|cycler|joiner|url_for|get_flashed_messages)\s*\.\s*__/, 'global object traversal'],
  [/\brequest\s*\.\s*application\b|\bconfig\s*\.\s*from_\w+/, 'framework object traversal'],
]
const TEMPLATE_SUSPICIOUS: Array<[RegExp, string]> = [
  [/\|\s*attr\s*\(/, 'attr filter'],
  [/\\x[0-9a-fA-F]{2}|\\u00[0-9a-fA-F]{2}|\\[0-7]{3}/, 'escaped characters (obfuscation)'],
  [/\bchr\s*\(/, 'character building (obfuscation)'],
  [/\b(lipsum|cycler|joiner|get_flashed_messages|url_for)\b/, 'Jinja global objects'],
  [/\bgetattr\b|\bmro\b|\bsubclasses\b|\bglobals\b|\bbuiltins\b/, 'introspection names'],
  [/\b(open|read|write)\s*\(\s*['"]\//, 'file access'],
]
const FORMAT_FILTER = /\|\s*format\s*\(/
const PERCENT_C = /%c/

/** Markers of template injection / obfuscation in a Jinja2 chat template (linear time in its length). */
export function checkTemplate(text: string): {threat: ThreatCategory; markers: string[]} | null {
  const mal = TEMPLATE_MALICIOUS.filter(([re]) => re.test(text)).map(([, d]) => d)
  if (mal.length) return {threat: 'PAIT-GGUF-101', markers: mal}
  const sus = TEMPLATE_SUSPICIOUS.filter(([re]) => re.test(text)).map(([, d]) => d)
  // "%c"|format(95) builds characters one by one: two independent searches, not one `format.*%c` match
  if (PERCENT_C.test(text) && FORMAT_FILTER.test(text) && !sus.includes('character building (obfuscation)')) sus.push('character building (obfuscation)')
  if (sus.length) return {threat: 'PAIT-GGUF-100', markers: sus}
  return null
}

// ---------------------------------------------------------------- NumPy

/** numpy's limit on the header of an array loaded without allow_pickle (format.py _MAX_HEADER_SIZE). */
export const NPY_NUMPY_MAX_HEADER = 10000
/** Headers parsed at most (numpy itself has no limit once allow_pickle=True). */
export const NPY_PARSE_MAX_HEADER = 16 << 20

export interface NpyHeader {
  version: number
  headerLength: number
  dataOffset: number
  /** Parsed fields; null when the header could not be parsed (then `error` says why). */
  descr: PyValue | null
  shape: number[] | null
  fortran: boolean
  /** The dtype holds Python objects: the data is a pickle. */
  object: boolean
  /** The dtype (or header) was not recognised: the data may be a pickle and is examined as one. */
  maybeObject: boolean
  /** The simple type string ('<f4') when the dtype is one, for the size check. */
  simple: string | null
  error: string | null
}

export type PyValue = string | number | boolean | null | {t: 'tuple' | 'list'; items: PyValue[]} | {t: 'dict'; entries: Map<string, PyValue>}

class PyLiteralError extends Error {}

/**
 * A linear-time parser for the Python literal subset numpy writes and `ast.literal_eval` reads in an
 * `.npy` header: dicts, lists, tuples, quoted strings (with escapes and b/u prefixes), integers (with a
 * Python 2 `L` suffix), floats, True/False/None. Nesting is capped at 64.
 */
export function parsePyLiteral(text: string): PyValue {
  let i = 0
  const n = text.length
  const ws = (): void => { while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++ }
  const fail = (what: string): never => { throw new PyLiteralError(`${what} at offset ${i}`) }
  const str = (): string => {
    if (text[i] === 'b' || text[i] === 'u' || text[i] === 'B' || text[i] === 'U') i++
    const q = text[i]
    if (q !== "'" && q !== '"') fail('expected a quote')
    i++
    let out = ''
    let from = i
    for (;;) {
      if (i >= n) fail('unterminated string')
      const ch = text[i]
      if (ch === q) { out += text.slice(from, i); i++; return out }
      if (ch === '\n') fail('newline in string')
      if (ch === '\\') {
        out += text.slice(from, i)
        const e = text[i + 1]
        const map: Record<string, string> = {n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0'}
        if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) { out += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16)); i += 4 } else if (e !== undefined && map[e] !== undefined) { out += map[e]; i += 2 } else { out += '\\'; i += 1 }
        from = i
        continue
      }
      i++
    }
  }
  const value = (depth: number): PyValue => {
    if (depth > 64) fail('nesting deeper than 64')
    ws()
    const ch = text[i]
    if (ch === undefined) fail('unexpected end')
    if (ch === "'" || ch === '"' || ((ch === 'b' || ch === 'u' || ch === 'B' || ch === 'U') && (text[i + 1] === "'" || text[i + 1] === '"'))) return str()
    if (ch === '{' || ch === '[' || ch === '(') {
      const close = ch === '{' ? '}' : ch === '[' ? ']' : ')'
      i++
      const items: PyValue[] = []
      const entries = new Map<string, PyValue>()
      let commas = 0
      for (;;) {
        ws()
        if (text[i] === close) { i++; break }
        if (ch === '{') {
          const k = value(depth + 1)
          if (typeof k !== 'string') fail('dict key is not a string')
          ws()
          if (text[i] !== ':') fail('expected :')
          i++
          entries.set(k as string, value(depth + 1))
        } else items.push(value(depth + 1))
        ws()
        if (text[i] === ',') { i++; commas++; continue }
        if (text[i] === close) { i++; break }
        fail(`expected , or ${close}`)
      }
      if (ch === '{') return {t: 'dict', entries}
      // (x) is x, (x,) a tuple
      if (ch === '(' && items.length === 1 && commas === 0) return items[0]
      return {t: ch === '[' ? 'list' : 'tuple', items}
    }
    const m = /^-?(?:\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)L?/.exec(text.slice(i, i + 64))
    if (m) { i += m[0].length; return Number(m[0].replace(/L$/, '')) }
    for (const [word, v] of [['True', true], ['False', false], ['None', null]] as const) {
      if (text.startsWith(word, i)) { i += word.length; return v }
    }
    return fail('unexpected character')
  }
  const v = value(0)
  ws()
  if (i < n) fail('trailing characters')
  return v
}

const NPY_SIMPLE = /^[<>|=]?(?:[?bBhHiIlLqQpPefdgFDG]|[biufc]\d{1,2}|[SUVa]\d*|[Mm]8(?:\[\w+\])?)$/

type ObjectVerdict = 'yes' | 'maybe' | 'no'
const worse = (a: ObjectVerdict, b: ObjectVerdict): ObjectVerdict => (a === 'yes' || b === 'yes' ? 'yes' : a === 'maybe' || b === 'maybe' ? 'maybe' : 'no')

/**
 * Does a dtype description (numpy `descr`, as `descr_to_dtype` reads it) hold Python objects? 'maybe'
 * for strings this scanner does not recognise (numpy.dtype() accepts names like 'object' or 'i4,O').
 */
function descrHasObject(d: PyValue, depth = 0): ObjectVerdict {
  if (depth > 64) return 'maybe'
  if (typeof d === 'string') return /O|object/.test(d) ? 'yes' : NPY_SIMPLE.test(d.trim()) ? 'no' : 'maybe'
  if (d && typeof d === 'object' && d.t === 'tuple') return d.items.length ? descrHasObject(d.items[0], depth + 1) : 'maybe'
  if (d && typeof d === 'object' && d.t === 'list') {
    let v: ObjectVerdict = 'no'
    for (const field of d.items) {
      if (field && typeof field === 'object' && field.t === 'tuple' && field.items.length >= 2) v = worse(v, descrHasObject(field.items[1], depth + 1))
      else v = worse(v, 'maybe')
      if (v === 'yes') break
    }
    return v
  }
  return 'maybe'
}

/**
 * Read an `.npy` header the way numpy does (versions 1.0-3.0, length-prefixed Python literal dict with
 * exactly descr/fortran_order/shape), in linear time. Never throws for content problems: `error` says
 * why the header is not loadable, and `object` stays true whenever the data might be a pickle.
 */
export async function readNpyHeader(r: Reader): Promise<NpyHeader> {
  const h = await r.read(0, 12)
  const out: NpyHeader = {version: 0, headerLength: 0, dataOffset: r.size, descr: null, shape: null, fortran: false, object: false, maybeObject: false, simple: null, error: null}
  if (h.length < 10) { out.error = 'npy header truncated'; return out }
  const major = h[6]
  out.version = major
  let start: number
  if (major === 1) { out.headerLength = h.readUInt16LE(8); start = 10 } else if (major === 2 || major === 3) {
    if (h.length < 12) { out.error = 'npy header truncated'; return out }
    out.headerLength = h.readUInt32LE(8); start = 12
  } else { out.error = `unsupported npy version ${major}.${h[7]} (numpy reads 1.0, 2.0 and 3.0)`; return out }
  out.dataOffset = start + out.headerLength
  if (out.dataOffset > r.size) { out.error = `header length ${out.headerLength} runs past the end of the file`; out.dataOffset = r.size; return out }
  if (out.headerLength > NPY_PARSE_MAX_HEADER) { out.error = `header of ${out.headerLength} bytes not parsed (over ${NPY_PARSE_MAX_HEADER >> 20} MB)`; out.maybeObject = true; return out }
  const raw = await r.read(start, out.headerLength)
  let text: string
  if (major === 3) {
    try { text = new TextDecoder('utf-8', {fatal: true}).decode(raw) } catch { out.error = 'header is not valid UTF-8'; return out }
  } else text = raw.toString('latin1')
  let doc: PyValue
  try { doc = parsePyLiteral(text) } catch (e) {
    // numpy might still read what this parser does not: the data is examined as a possible pickle
    out.error = `header is not a Python literal this scanner reads (${(e as Error).message})`
    out.maybeObject = true
    return out
  }
  if (!doc || typeof doc !== 'object' || doc.t !== 'dict') { out.error = 'header is not a dict'; return out }
  const keys = [...doc.entries.keys()].sort().join(',')
  if (keys !== 'descr,fortran_order,shape') { out.error = `header keys are ${JSON.stringify(keys)}, not descr, fortran_order and shape`; return out }
  const descr = doc.entries.get('descr') ?? null
  const shape = doc.entries.get('shape')
  const fortran = doc.entries.get('fortran_order')
  out.descr = descr
  out.fortran = fortran === true
  if (typeof fortran !== 'boolean') { out.error = 'fortran_order is not a bool'; return out }
  if (!shape || typeof shape !== 'object' || shape.t !== 'tuple' || !shape.items.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    out.error = 'shape is not a tuple of non-negative integers'
    return out
  }
  out.shape = shape.items as number[]
  const v = descrHasObject(descr)
  out.object = v === 'yes'
  out.maybeObject = v === 'maybe'
  if (typeof descr === 'string' && NPY_SIMPLE.test(descr.trim()) && !/O/.test(descr)) out.simple = descr.trim()
  return out
}

// ---------------------------------------------------------------- data formats recognised by content

export interface DataFormat { name: string; reason: string }

/**
 * Scientific data formats that are not models and cannot execute anything when read by their usual
 * readers (scipy.io, netCDF4/xarray, h5py): recognised by their headers so that they are never parsed
 * as pickles (an IDL save file starts with 'S', a protocol-0 pickle opcode). HDF5-based variants
 * (MATLAB v7.3, netCDF-4) are told apart inside the HDF5 path.
 */
export function sniffDataFormat(head: Buffer): DataFormat | null {
  // IDL save file: "SR" + record format \0\4 (plain) or \0\6 (compressed); a pickle cannot start this way
  // (the STRING opcode needs a quote), so nothing that runs as a pickle is skipped here
  if (head.length >= 4 && head[0] === 0x53 && head[1] === 0x52 && head[2] === 0 && (head[3] === 4 || head[3] === 6)) {
    return {name: 'idl_save', reason: 'IDL save file (.sav data; read by scipy.io.readsav, not a model)'}
  }
  // MATLAB 5.0 MAT-file: 116 bytes of text, subsystem offset, version 0x0100 and the endian indicator
  if (head.length >= 128 && head.subarray(0, 19).toString('latin1') === 'MATLAB 5.0 MAT-file') {
    const ei = head.subarray(126, 128).toString('latin1')
    if (ei === 'IM' || ei === 'MI') return {name: 'matlab', reason: 'MATLAB 5.0 MAT-file (data; read by scipy.io.loadmat, not a model)'}
  }
  // netCDF classic (CDF\1), 64-bit offset (CDF\2) and CDF-5 (CDF\5): numrecs, then the dimension list tag
  if (head.length >= 16 && head.subarray(0, 3).toString('latin1') === 'CDF' && [1, 2, 5].includes(head[3])) {
    const tagAt = head[3] === 5 ? 12 : 8
    const tag = head.readUInt32BE(tagAt)
    if (tag === 0 || tag === 0x0a) {
      const kind = head[3] === 1 ? 'classic' : head[3] === 2 ? '64-bit offset' : 'CDF-5'
      return {name: 'netcdf', reason: `netCDF ${kind} file (data; read by netCDF4/scipy.io, not a model)`}
    }
  }
  return null
}

/** MATLAB v7.3 files are HDF5 with a 512-byte user block that starts with this text. */
export function isMatlab73Header(head: Buffer): boolean {
  return head.length >= 19 && head.subarray(0, 19).toString('latin1') === 'MATLAB 7.3 MAT-file'
}

export interface ZfHeader { declaredLength: number; dataOffset: number }

/**
 * joblib's old compressed container (numpy_pickle_compat.write_zfile, joblib < 0.10, still read by
 * joblib.load): "ZF", the uncompressed length as '0x…' hex left-justified to 19 characters, an optional
 * space, then a zlib stream holding the pickle (or an .npy array of a side file).
 */
export function parseJoblibZf(head: Buffer): ZfHeader | null {
  if (head.length < 24 || head[0] !== 0x5a || head[1] !== 0x46) return null
  const len = head.subarray(2, 21).toString('latin1').trim().replace(/L$/, '')
  if (!/^0x[0-9a-fA-F]{1,16}$/.test(len)) return null
  const dataOffset = head[21] === 0x20 ? 22 : 21
  if (head[dataOffset] !== 0x78) return null // zlib header
  return {declaredLength: parseInt(len.slice(2), 16), dataOffset}
}

// ---------------------------------------------------------------- Keras

const KERAS_MODULE_OK = /^(keras|tf_keras|tensorflow\.keras|tensorflow\.python\.keras|keras_core|keras_nlp|keras_hub|keras_cv)(\.|$)/
const LAMBDA_BAD = /(?<![A-Za-z0-9_])(system|popen|subprocess|exec|eval|__import__|builtins|__builtins__|socket|getattr|compile|open|remove|rmtree|urlopen|requests|Popen|check_output|spawn|os)(?![A-Za-z0-9_])/
const LAMBDA_SUS = /(?<![A-Za-z0-9_])(environ|getenv|base64|b64decode|marshal|loads|connect|http|urllib|pickle|ctypes|codecs)(?![A-Za-z0-9_])/

/** Names in marshalled code (length-prefixed short strings) and identifier runs in plain text. */
function codeNames(s: string): string[] {
  const out: string[] = []
  for (let i = 0; i + 2 < s.length && out.length < 4096; i++) {
    const t = s.charCodeAt(i) & 0x7f
    if (t === 0x7a || t === 0x5a) {
      const n = s.charCodeAt(i + 1)
      const w = s.slice(i + 2, i + 2 + n)
      if (n > 0 && w.length === n && /^[A-Za-z_][A-Za-z0-9_.]*$/.test(w)) out.push(...w.split('.'))
    }
  }
  for (const m of s.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) if (out.length < 8192) out.push(m)
  return out
}

function decodedStrings(v: unknown, out: string[], depth = 0): void {
  if (depth > 6 || out.length > 64) return
  if (typeof v === 'string') {
    if (/^[A-Za-z0-9+/=\s]{16,}$/.test(v)) out.push(Buffer.from(v, 'base64').toString('latin1'))
    else out.push(v)
  } else if (Array.isArray(v)) for (const x of v) decodedStrings(x, out, depth + 1)
  else if (v && typeof v === 'object') for (const x of Object.values(v)) decodedStrings(x, out, depth + 1)
}

/** Walk a Keras model config (JSON) for Lambda layers, non-Keras modules and registered custom objects. */
export function analyzeKerasConfig(doc: unknown): RawIssue[] {
  const issues: RawIssue[] = []
  const seen = new Set<string>()
  const add = (key: string, i: RawIssue): void => { if (!seen.has(key) && issues.length < 200) { seen.add(key); issues.push(i) } }
  const visit = (v: unknown, depth: number): void => {
    if (depth > 64 || v === null || typeof v !== 'object') return
    if (Array.isArray(v)) { for (const x of v) visit(x, depth + 1); return }
    const o = v as Record<string, unknown>
    const cls = typeof o.class_name === 'string' ? o.class_name : undefined
    const mod = typeof o.module === 'string' ? o.module : undefined
    const cfg = o.config as Record<string, unknown> | undefined
    const lname = cfg && typeof cfg.name === 'string' ? cfg.name : cls
    if (cls === 'Lambda' || cls === 'TFOpLambda' || cls === 'CallbackLambda' || cls === 'PyFunc') {
      const strs: string[] = []
      decodedStrings(cfg?.function ?? cfg, strs)
      const words = new Set<string>()
      for (const s of strs) for (const w of codeNames(s)) words.add(w)
      const text = [...words].join(' ')
      const bad = LAMBDA_BAD.exec(text)
      const sus = LAMBDA_SUS.exec(text)
      if (cls === 'Lambda' && bad) {
        add(`lambda-bad:${lname}`, {threat: 'PAIT-KERAS-101', module: 'keras.layers', operator: 'Lambda',
          description: `Lambda layer ${lname} carries code that runs at load time and references ${JSON.stringify(bad[1])}`})
      } else if (cls === 'Lambda' && sus) {
        add(`lambda-sus:${lname}`, {threat: 'PAIT-KERAS-102', module: 'keras.layers', operator: 'Lambda',
          description: `Lambda layer ${lname} carries code that references ${JSON.stringify(sus[1])}`})
      } else {
        add(`lambda:${lname}`, {threat: 'PAIT-KERAS-100', module: 'keras.layers', operator: cls,
          description: `${cls} layer ${lname} can execute code when the model is loaded (no malicious code recognised)`})
      }
    } else if (cls === 'TFSMLayer') {
      add(`tfsm:${lname}`, {threat: 'PAIT-KERAS-102', module: mod ?? 'keras.layers', operator: cls,
        description: `TFSMLayer ${lname} loads an external SavedModel (${JSON.stringify(cfg?.filepath ?? '?')}) at load time`})
    }
    if (cls && mod && !KERAS_MODULE_OK.test(mod) && mod !== 'builtins') {
      const verdict = classifyGlobal(mod, cls)
      if (verdict.tier === 'deny') {
        add(`mod:${mod}.${cls}`, {threat: 'PAIT-KERAS-101', module: mod, operator: cls,
          description: `config object names the callable ${mod}.${cls}, which Keras imports and calls at load time (${verdict.reason})`})
      } else {
        add(`mod:${mod}.${cls}`, {threat: 'PAIT-KERAS-301', module: mod, operator: cls,
          description: `config object ${cls} comes from the non-Keras module ${mod}`})
      }
    } else if (cls && mod === 'builtins' && !['dict', 'list', 'tuple', 'str', 'int', 'float', 'bool'].includes(cls)) {
      add(`mod:builtins.${cls}`, {threat: 'PAIT-KERAS-101', module: mod, operator: cls,
        description: `config object names the builtin ${cls}, which Keras would call at load time`})
    }
    const reg = typeof o.registered_name === 'string' ? o.registered_name : undefined
    if (reg && cls && reg !== cls && !/^(keras|Keras)[>.]/.test(reg) && !(mod && KERAS_MODULE_OK.test(mod))) {
      add(`reg:${reg}`, {threat: 'PAIT-KERAS-301', module: mod ?? null, operator: reg,
        description: `custom registered object ${reg} (class ${cls}); its code is not in the file and must come from the loading environment`})
    }
    for (const x of Object.values(o)) visit(x, depth + 1)
  }
  visit(doc, 0)
  return issues
}

/** Byte strings that say what an HDF5 file is when its root group cannot be read. */
const H5_MARKERS = ['model_config', 'keras_version', 'layer_names', 'training_config', '_NCProperties', 'MATLAB 7.3 MAT-file'] as const
export type H5Marker = typeof H5_MARKERS[number]

export interface H5Search {
  configs: unknown[]
  /** The file mentions model_config or holds a config-shaped JSON object. */
  mentioned: boolean
  markers: Set<H5Marker>
  /** The scan or parse budget ran out before every candidate was examined. */
  exhausted: boolean
}

const JSON_NEEDLES = [Buffer.from('{"class_name"'), Buffer.from('{"module"'), Buffer.from('{ "class_name"')]
const SEARCH_CHUNK = 4 << 20
const MAX_JSON = 16 << 20

function needleAt(b: Buffer, i: number): boolean {
  for (const nd of JSON_NEEDLES) {
    if (i + nd.length > b.length || b[i + 1] !== nd[1] || b[i + 2] !== nd[2]) continue
    let k = 3
    while (k < nd.length && b[i + k] === nd[k]) k++
    if (k === nd.length) return true
  }
  return false
}

/**
 * One bracket scan from a candidate '{' (outside any string) to where it closes, at most MAX_JSON bytes:
 * every other candidate the scan meets outside strings is resolved at the same time (its closing
 * position, or null when it does not close within the window), so no byte is scanned twice for
 * candidates that share a string context. The open-bracket stack holds position × 2 + (is a candidate).
 */
async function bracketScan(r: Reader, start: number, resolved: Map<number, number | null>, tick?: Tick): Promise<number> {
  const stack: number[] = []
  let inStr = false
  let esc = false
  const limit = Math.min(r.size, start + MAX_JSON)
  let pos = start
  const unresolved = (): void => { for (const v of stack) if (v % 2 === 1 && !resolved.has((v - 1) / 2)) resolved.set((v - 1) / 2, null) }
  while (pos < limit) {
    if (tick) await tick()
    const b = await r.read(pos, Math.min(1 << 20, limit - pos) + 16)
    const n = Math.min(b.length, limit - pos)
    for (let i = 0; i < n; i++) {
      const ch = b[i]
      if (inStr) {
        if (esc) esc = false
        else if (ch === 0x5c) esc = true
        else if (ch === 0x22) inStr = false
        continue
      }
      if (ch === 0x22) inStr = true
      else if (ch === 0x7b || ch === 0x5b) {
        if (stack.length >= 1 << 20) { unresolved(); return pos + i - start }
        stack.push((pos + i) * 2 + (ch === 0x7b && needleAt(b, i) ? 1 : 0))
      } else if (ch === 0x7d || ch === 0x5d) {
        const top = stack.pop()
        if (top !== undefined && top % 2 === 1) resolved.set((top - 1) / 2, pos + i)
        if (stack.length === 0) return pos + i + 1 - start
      }
    }
    pos += n
  }
  unresolved()
  return pos - start
}

/**
 * Fallback for when the HDF5 reader (hdf5.ts) cannot read the root group's model_config attribute.
 * Find Keras model configs inside an HDF5 file by scanning its bytes (streaming, bounded): h5py stores
 * the `model_config` attribute as one contiguous JSON string. Every candidate object is examined (up to
 * 64 configs), not just the first, so a decoy config placed earlier in the file cannot hide the real one.
 * Linear: candidates are found with indexOf, one bracket scan resolves every candidate it meets, and
 * the bytes scanned and parsed are capped (4× the file + 16 MB scanned, 256 MB parsed); `exhausted` reports a cap that was hit.
 */
export async function findH5ModelConfig(r: Reader, maxScan = 4 * 1024 ** 3, tick?: Tick): Promise<H5Search> {
  const out: H5Search = {configs: [], mentioned: false, markers: new Set(), exhausted: false}
  const markerBufs = H5_MARKERS.map((m) => [m, Buffer.from(m)] as const)
  const resolved = new Map<number, number | null>()
  let scanBudget = 4 * Math.min(r.size, maxScan) + (16 << 20)
  let parseBudget = 256 << 20
  let parsedUntil = -1
  let lastCandidate = -1
  const end = Math.min(r.size, maxScan)
  let ticks = 0
  for (let pos = 0; pos < end && out.configs.length < 64; pos += SEARCH_CHUNK - 64) {
    if (tick) await tick()
    const b = await r.read(pos, Math.min(SEARCH_CHUNK, end - pos))
    for (const [m, mb] of markerBufs) if (!out.markers.has(m) && b.indexOf(mb) !== -1) out.markers.add(m)
    // candidates in this chunk, in order
    const cands: number[] = []
    for (const nd of JSON_NEEDLES) {
      for (let i = b.indexOf(nd); i !== -1 && cands.length < 1 << 20; i = b.indexOf(nd, i + 1)) cands.push(pos + i)
    }
    cands.sort((x, y) => x - y)
    for (const at of cands) {
      if (tick && ++ticks % 1024 === 0) await tick()
      if (out.configs.length >= 64) break
      if (at <= lastCandidate) continue // seen in the previous chunk's overlap
      lastCandidate = at
      if (at <= parsedUntil) { resolved.delete(at); continue }
      if (!resolved.has(at)) {
        if (scanBudget <= 0) { out.exhausted = true; break }
        scanBudget -= await bracketScan(r, at, resolved, tick)
        if (!resolved.has(at)) resolved.set(at, null)
      }
      const close = resolved.get(at) ?? null
      resolved.delete(at) // candidates are taken in order: this entry is never needed again
      if (close === null) continue
      const len = close + 1 - at
      if (len > parseBudget) { out.exhausted = true; continue }
      parseBudget -= len
      let json: unknown = null
      try { json = JSON.parse((await r.read(at, len)).toString('utf8')) } catch { /* not JSON after all */ }
      if (json && typeof json === 'object' && 'config' in json) { out.configs.push(json); parsedUntil = close }
    }
    if (out.exhausted || pos + SEARCH_CHUNK >= end) break
  }
  out.mentioned = out.markers.has('model_config') || out.configs.length > 0
  return out
}

/**
 * Balanced JSON objects that start at each match of `start` in `text` (keras_metadata.pb), found in one
 * linear bracket pass per match that is not inside an object already returned; total work is capped.
 */
export function extractJsonObjects(text: string, start: RegExp, maxObjects = 256): Array<{match: RegExpExecArray; json: unknown}> {
  const out: Array<{match: RegExpExecArray; json: unknown}> = []
  const re = new RegExp(start.source, start.flags.includes('g') ? start.flags : start.flags + 'g')
  let budget = 4 * text.length + (64 << 20)
  let covered = -1
  for (let m = re.exec(text); m && out.length < maxObjects && budget > 0; m = re.exec(text)) {
    if (m.index <= covered) continue
    let depth = 0
    let inStr = false
    let json: unknown = null
    let i = m.index
    const lim = Math.min(text.length, m.index + (8 << 20))
    for (; i < lim; i++) {
      const ch = text.charCodeAt(i)
      if (inStr) { if (ch === 0x5c) i++; else if (ch === 0x22) inStr = false; continue }
      if (ch === 0x22) inStr = true
      else if (ch === 0x7b || ch === 0x5b) depth++
      else if (ch === 0x7d || ch === 0x5d) {
        depth--
        if (depth === 0) { try { json = JSON.parse(text.slice(m.index, i + 1)) } catch { /* */ } break }
      }
    }
    budget -= i - m.index
    if (json !== null) covered = i
    out.push({match: m, json})
  }
  return out
}

// ---------------------------------------------------------------- protobuf

async function varint(c: Cursor): Promise<number> {
  let v = 0
  let mul = 1
  for (let i = 0; i < 10; i++) {
    const b = await c.readU8()
    v += (b & 0x7f) * mul
    if (!(b & 0x80)) return v
    mul *= 128
  }
  throw new Error('varint longer than 10 bytes')
}

type FieldHandler = (field: number, c: Cursor, end: number) => Promise<boolean>

/** Cooperative checkpoint handed in by the engine: yields to the event loop now and then, throws when aborted. */
export type Tick = () => Promise<void>

/** Call `tick` every `every` invocations. */
function ticker(tick: Tick | undefined, every = 4096): () => Promise<void> {
  let n = 0
  return async () => { if (tick && ++n % every === 0) await tick() }
}

/**
 * Walk the fields of one message in [c.pos, end). The handler consumes length-delimited fields it wants
 * (returns true); `onScalar` sees every other field (number, wire type, and the varint value).
 */
async function walkMessage(c: Cursor, end: number, h: FieldHandler, depth = 0, onScalar?: (field: number, wt: number, value: number) => void): Promise<void> {
  if (depth > 100) throw new Error('protobuf nesting deeper than 100')
  while (c.pos < end) {
    const key = await varint(c)
    const field = Math.floor(key / 8)
    const wt = key & 7
    if (wt !== 2) onScalar?.(field, wt, 0)
    if (wt === 0) { const v = await varint(c); onScalar?.(field, -1, v) }
    else if (wt === 1) { if (c.pos + 8 > end) throw new Truncated('fixed64 past end'); c.skip(8) }
    else if (wt === 5) { if (c.pos + 4 > end) throw new Truncated('fixed32 past end'); c.skip(4) }
    else if (wt === 2) {
      const len = await varint(c)
      const fend = c.pos + len
      if (fend > end) throw new Truncated(`field ${field} of ${len} bytes runs past its message`)
      if (!(await h(field, c, fend))) c.pos = fend
      else c.pos = fend
    } else throw new Error(`unsupported protobuf wire type ${wt}`)
  }
}

async function readStr(c: Cursor, end: number, max = 4096): Promise<string> {
  const n = end - c.pos
  if (n > max) { c.pos = end; return '<long>' }
  return (await c.readBytes(n)).toString('utf8')
}

/** Op names of a TensorFlow SavedModel (or bare GraphDef when `graphDef`). */
export async function tfOps(r: Reader, graphDef = false, tick?: Tick): Promise<Set<string>> {
  const ops = new Set<string>()
  const c = new Cursor(r)
  const t = ticker(tick, 1024)
  const nodeDef: FieldHandler = async (f, cc, end) => { await t(); if (f === 2 && ops.size < 10000) { ops.add(await readStr(cc, end)); return true } return false }
  const functionDef: FieldHandler = async (f, cc, end) => { if (f === 3) { await walkMessage(cc, end, nodeDef, 3); return true } return false }
  const library: FieldHandler = async (f, cc, end) => { if (f === 1) { await walkMessage(cc, end, functionDef, 2); return true } return false }
  const graph: FieldHandler = async (f, cc, end) => {
    if (f === 1) { await walkMessage(cc, end, nodeDef, 2); return true }
    if (f === 2) { await walkMessage(cc, end, library, 2); return true }
    return false
  }
  const meta: FieldHandler = async (f, cc, end) => { if (f === 2) { await walkMessage(cc, end, graph, 1); return true } return false }
  const saved: FieldHandler = async (f, cc, end) => { if (f === 2) { await walkMessage(cc, end, meta, 1); return true } return false }
  await walkMessage(c, r.size, graphDef ? graph : saved)
  return ops
}

export const TF_EXEC_OPS = new Set(['PyFunc', 'PyFuncStateless', 'EagerPyFunc', 'ShellExecute', 'ExecuteOp', 'WriteFile', 'SystemCall'])
export const TF_READ_OPS = new Set(['ReadFile', 'MatchingFiles', 'ImmutableConst', 'InitializeTableFromTextFile',
  'InitializeTableFromTextFileV2', 'WholeFileReader', 'WholeFileReaderV2', 'TextLineReader', 'TextLineReaderV2',
  'FixedLengthRecordReader', 'FixedLengthRecordReaderV2', 'TFRecordReader', 'TFRecordReaderV2', 'DecodeProtoV2'])

export interface OnnxCustomOp { domain: string; op: string; /** the domain is a known vendor domain, the operator is not one of its known ops */ vendorDomain: boolean }

export interface OnnxInfo {
  customOps: OnnxCustomOp[]
  externalLocations: string[]
  nodes: number
  opsetDomains: string[]
  hasGraph: boolean
  irVersion: number | null
  /** ModelProto fields with a wire type ONNX never writes (the bytes are not a ModelProto). */
  wireProblems: string[]
}

/** ModelProto field -> wire type (0 varint, 2 length-delimited). */
const MODEL_PROTO_FIELDS: Record<number, number> = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2}

export async function onnxInfo(r: Reader, tick?: Tick): Promise<OnnxInfo> {
  const info: OnnxInfo = {customOps: [], externalLocations: [], nodes: 0, opsetDomains: [], hasGraph: false, irVersion: null, wireProblems: []}
  const t = ticker(tick, 1024)
  const seenOps = new Set<string>()
  const c = new Cursor(r)
  const kv = async (cc: Cursor, end: number): Promise<void> => {
    let k = ''; let v = ''
    await walkMessage(cc, end, async (f, c2, e2) => {
      if (f === 1) { k = await readStr(c2, e2); return true }
      if (f === 2) { v = await readStr(c2, e2, 4096); return true }
      return false
    })
    if (k === 'location' && info.externalLocations.length < 10000) info.externalLocations.push(v)
  }
  const tensor: FieldHandler = async (f, cc, end) => { await t(); if (f === 13) { await kv(cc, end); return true } return false }
  const sparse: FieldHandler = async (f, cc, end) => { if (f === 1 || f === 2) { await walkMessage(cc, end, tensor, 6); return true } return false }
  let graphDepth = 0
  // attribute -> graph -> node -> attribute: the closures refer to `graph`, which is initialised before any runs
  const attribute: FieldHandler = async (f, cc, end) => {
    if (f === 6 || f === 11) {
      if (++graphDepth > 64) throw new Error('ONNX subgraphs nested deeper than 64 levels')
      try { await walkMessage(cc, end, graph, 8) } finally { graphDepth-- }
      return true
    }
    if (f === 5 || f === 10) { await walkMessage(cc, end, tensor, 8); return true }
    return false
  }
  const node: (cc: Cursor, end: number) => Promise<void> = async (cc, end) => {
    let domain = ''; let op = ''
    info.nodes++
    await t()
    await walkMessage(cc, end, async (f, c2, e2) => {
      if (f === 4) { op = await readStr(c2, e2); return true }
      if (f === 7) { domain = await readStr(c2, e2); return true }
      if (f === 5) { await walkMessage(c2, e2, attribute, 7); return true }
      return false
    }, 6)
    const kind = onnxOpKind(domain, op)
    if (kind === 'custom') {
      const key = `${domain}::${op}`
      if (!seenOps.has(key) && seenOps.size < 1000) { seenOps.add(key); info.customOps.push({domain, op, vendorDomain: ONNX_VENDOR_OPS.has(domain)}) }
    }
  }
  const graph: FieldHandler = async (f, cc, end) => {
    if (f === 1) { await node(cc, end); return true }
    if (f === 5) { await walkMessage(cc, end, tensor, 5); return true }
    if (f === 15) { await walkMessage(cc, end, sparse, 5); return true }
    return false
  }
  const fn: FieldHandler = async (f, cc, end) => { if (f === 7) { await node(cc, end); return true } return false }
  const wire = (f: number, wt: number): void => {
    const want = MODEL_PROTO_FIELDS[f]
    if (want !== undefined && wt !== want && info.wireProblems.length < 8) info.wireProblems.push(`field ${f} has wire type ${wt}, not ${want}`)
  }
  await walkMessage(c, r.size, async (f, cc, end) => {
    wire(f, 2)
    if (f === 7) { info.hasGraph = true; await walkMessage(cc, end, graph, 1); return true }
    if (f === 8) {
      await walkMessage(cc, end, async (f2, c2, e2) => { if (f2 === 1) { info.opsetDomains.push(await readStr(c2, e2)); return true } return false }, 2)
      return true
    }
    if (f === 25) { await walkMessage(cc, end, fn, 1); return true }
    return false
  }, 0, (f, wt, v) => {
    if (wt === -1) { if (f === 1) info.irVersion = v; return }
    wire(f, wt)
  })
  return info
}

/** Tags a ModelProto can start with (serialisers write fields in number order; ir_version comes first). */
const ONNX_SECOND_TAGS = new Set([0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72, 0xa2, 0xca, 0xd2])

/**
 * Content sniff for an ONNX ModelProto: an ir_version varint (1..127) followed by another ModelProto
 * field. The caller confirms the structure (onnxInfo: ir_version, graph with nodes, wire types).
 */
export function looksOnnx(head: Buffer): boolean {
  return head.length > 4 && head[0] === 0x08 && head[1] >= 1 && head[1] <= 127 && ONNX_SECOND_TAGS.has(head[2])
}

/** The structure onnxInfo found is an ONNX model (used when the extension does not say so). */
export function isOnnxModel(info: OnnxInfo): boolean {
  return info.irVersion !== null && info.irVersion >= 1 && info.hasGraph && info.nodes > 0 && info.wireProblems.length === 0
}

// ---------------------------------------------------------------- LiteRT / TFLite (flatbuffer)

export interface LiteRtOp { builtin: number; custom: string | null }

/**
 * Operator codes of a TFLite flatbuffer (Model.operator_codes), read with small random-access reads and
 * bounds checks on every offset. Model fields: 0 version, 1 operator_codes; OperatorCode fields:
 * 0 deprecated_builtin_code (int8), 1 custom_code (string), 2 version, 3 builtin_code (int32).
 */
export async function liteRtOps(r: Reader): Promise<LiteRtOp[]> {
  const size = r.size
  const u32 = async (p: number): Promise<number> => {
    if (p < 0 || p + 4 > size) throw new Error(`offset ${p} outside the file`)
    return (await r.read(p, 4)).readUInt32LE(0)
  }
  const i32 = async (p: number): Promise<number> => {
    if (p < 0 || p + 4 > size) throw new Error(`offset ${p} outside the file`)
    return (await r.read(p, 4)).readInt32LE(0)
  }
  const field = async (table: number, idx: number): Promise<number> => {
    const vt = table - (await i32(table))
    if (vt < 0 || vt + 4 > size) throw new Error('vtable outside the file')
    const vb = await r.read(vt, 4)
    const vtSize = vb.readUInt16LE(0)
    if (4 + 2 * idx + 2 > vtSize) return 0
    const off = (await r.read(vt + 4 + 2 * idx, 2)).readUInt16LE(0)
    return off ? table + off : 0
  }
  const model = await u32(0)
  const ocField = await field(model, 1)
  if (!ocField) return []
  const vec = ocField + (await u32(ocField))
  const n = await u32(vec)
  if (n > 100_000 || vec + 4 + 4 * n > size) throw new Error(`operator_codes vector of ${n} entries is invalid`)
  const ops: LiteRtOp[] = []
  for (let i = 0; i < n; i++) {
    const ep = vec + 4 + 4 * i
    const t = ep + (await u32(ep))
    let builtin = 0
    const f3 = await field(t, 3)
    if (f3) builtin = await i32(f3)
    else {
      const f0 = await field(t, 0)
      if (f0) builtin = (await r.read(f0, 1)).readInt8(0)
    }
    let custom: string | null = null
    const f1 = await field(t, 1)
    if (f1) {
      const sp = f1 + (await u32(f1))
      const len = await u32(sp)
      if (len > 4096 || sp + 4 + len > size) throw new Error('custom_code string is invalid')
      custom = (await r.read(sp + 4, len)).toString('utf8')
    }
    ops.push({builtin, custom})
  }
  return ops
}
