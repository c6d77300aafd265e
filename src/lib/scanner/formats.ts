/**
 * Pure-data and graph formats: safetensors and GGUF validation, GGUF chat-template markers, NumPy
 * headers, Keras configs (.keras config.json, legacy HDF5 model_config), and a streaming protobuf
 * walker for TensorFlow SavedModel op sets and ONNX graphs. Each returns plain findings; the engine
 * maps them onto threat codes and sources.
 */
import {Cursor, type Reader, Truncated} from './io.js'
import {classifyGlobal} from './policy.js'
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

export async function validateSafetensors(r: Reader): Promise<string[]> {
  const problems: string[] = []
  if (r.size < 8) return ['file shorter than the 8-byte header length']
  const h = await r.read(0, 8)
  const n = h.readUInt32LE(0) + h.readUInt32LE(4) * 0x100000000
  if (n > 100_000_000) return [`header length ${n} exceeds the 100 MB limit`]
  if (n > r.size - 8) return [`header length ${n} is longer than the file`]
  const hb = Buffer.from(await r.read(8, n))
  let text: string
  try { text = new TextDecoder('utf-8', {fatal: true}).decode(hb) } catch { return ['header is not valid UTF-8'] }
  if (!text.startsWith('{')) return ['header does not start with {']
  let doc: unknown
  try { doc = JSON.parse(text) } catch (e) { return [`header is not valid JSON (${(e as Error).message})`] }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return ['header is not a JSON object']
  const bufLen = r.size - 8 - n
  const spans: Array<[number, number, string]> = []
  const entries = Object.entries(doc as Record<string, unknown>)
  const offsetsCount = (text.match(/"data_offsets"/g) ?? []).length
  let tensors = 0
  for (const [name, v] of entries) {
    if (problems.length > 20) break
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) problems.push('__metadata__ is not an object')
      else for (const [k, mv] of Object.entries(v)) if (typeof mv !== 'string') problems.push(`__metadata__.${k} is not a string`)
      continue
    }
    tensors++
    if (typeof v !== 'object' || v === null) { problems.push(`tensor ${name}: entry is not an object`); continue }
    const t = v as {dtype?: unknown; shape?: unknown; data_offsets?: unknown}
    const size = typeof t.dtype === 'string' ? ST_DTYPES[t.dtype] : undefined
    if (size === undefined) { problems.push(`tensor ${name}: unknown dtype ${JSON.stringify(t.dtype)}`); continue }
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) { problems.push(`tensor ${name}: invalid shape`); continue }
    const off = t.data_offsets
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) { problems.push(`tensor ${name}: invalid data_offsets`); continue }
    const [b, e] = off as [number, number]
    if (e < b) { problems.push(`tensor ${name}: end offset ${e} before begin ${b}`); continue }
    if (e > bufLen) { problems.push(`tensor ${name}: data_offsets [${b}, ${e}] outside the ${bufLen}-byte buffer`); continue }
    let count = 1n
    for (const d of t.shape as number[]) count *= BigInt(d)
    const want = size >= 1 ? count * BigInt(size) : (count * BigInt(Math.round(size * 8)) + 7n) / 8n
    if (want !== BigInt(e - b)) problems.push(`tensor ${name}: ${e - b} bytes but shape × dtype needs ${want}`)
    spans.push([b, e, name])
  }
  if (offsetsCount > tensors) problems.push(`duplicate tensor names in header (${offsetsCount} entries, ${tensors} distinct)`)
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let at = 0
  for (const [b, e, name] of spans) {
    if (b < at) problems.push(`tensor ${name} overlaps the previous tensor`)
    else if (b > at) problems.push(`gap of ${b - at} bytes before tensor ${name}`)
    at = Math.max(at, e)
    if (problems.length > 20) break
  }
  if (problems.length === 0 && at !== bufLen) problems.push(`${bufLen - at} trailing bytes not covered by any tensor`)
  return problems
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

export interface GgufResult { problems: string[]; templates: Array<{key: string; text: string}>; version: number }

export async function analyzeGguf(r: Reader): Promise<GgufResult> {
  const c = new Cursor(r)
  const res: GgufResult = {problems: [], templates: [], version: 0}
  const p = res.problems
  try {
    await c.mustNeed(24)
    c.skip(4)
    const version = c.u32()
    res.version = version
    if (version < 1 || version > 3) { p.push(`unsupported GGUF version ${version}`); return res }
    const v1 = version === 1
    const count = async (): Promise<number> => (v1 ? c.readU32() : c.readU64())
    const tensorCount = await count()
    const kvCount = await count()
    if (tensorCount > r.size / 24) { p.push(`tensor_count ${tensorCount} cannot fit in a ${r.size}-byte file`); return res }
    if (kvCount > r.size / 13) { p.push(`kv_count ${kvCount} cannot fit in a ${r.size}-byte file`); return res }
    const str = async (keep: number): Promise<string | null> => {
      const n = await count()
      if (n > c.remaining) throw new Truncated(`string length ${n} exceeds the remaining ${c.remaining} bytes`)
      if (n <= keep) return (await c.readBytes(n)).toString('utf8')
      c.skip(n)
      return null
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
        const s = await str(key.startsWith('tokenizer.chat_template') ? 4 << 20 : 0)
        if (s !== null && key.startsWith('tokenizer.chat_template')) res.templates.push({key, text: s})
        return
      }
      if (type === 9) {
        if (depth > 2) throw new Error('nested arrays deeper than 2')
        const et = await c.readU32()
        const n = await count()
        if (GGUF_SCALAR[et] !== undefined) {
          const bytes = n * GGUF_SCALAR[et]
          if (bytes > c.remaining) throw new Truncated(`array of ${n} elements exceeds the remaining ${c.remaining} bytes`)
          c.skip(bytes); return
        }
        if (et === 8) {
          if (n * 8 > c.remaining) throw new Truncated(`string array of ${n} elements exceeds the remaining bytes`)
          for (let i = 0; i < n; i++) await str(0)
          return
        }
        if (et === 9) { for (let i = 0; i < n; i++) await skipValue(9, key, depth + 1); return }
        throw new Error(`unknown array element type ${et} for key ${key}`)
      }
      throw new Error(`unknown value type ${type} for key ${key}`)
    }
    for (let i = 0; i < kvCount; i++) {
      const key = (await str(1 << 16)) ?? '<long key>'
      const type = await c.readU32()
      await skipValue(type, key, 0)
    }
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) p.push(`general.alignment ${alignment} is not a power of two`)
    const infos: Array<{name: string; off: number; size: number | null}> = []
    const names = new Set<string>()
    for (let i = 0; i < tensorCount; i++) {
      const name = (await str(1 << 16)) ?? '<long name>'
      const nd = await c.readU32()
      if (nd > 4) { p.push(`tensor ${name}: ${nd} dimensions (max 4)`); return res }
      let elems = 1
      for (let d = 0; d < nd; d++) {
        const dim = v1 ? await c.readU32() : await c.readU64()
        elems *= dim
      }
      const type = await c.readU32()
      const off = await c.readU64()
      if (names.has(name)) p.push(`duplicate tensor name ${name}`)
      names.add(name)
      if (!(type in GGML_TYPES)) { p.push(`tensor ${name}: unknown ggml type ${type}`); continue }
      const spec = GGML_TYPES[type]
      let size: number | null = null
      if (spec) {
        if (elems % spec[0] !== 0) p.push(`tensor ${name}: ${elems} elements is not a multiple of the block size ${spec[0]}`)
        size = Math.ceil(elems / spec[0]) * spec[1]
      }
      if (alignment > 0 && off % alignment !== 0) p.push(`tensor ${name}: offset ${off} not aligned to ${alignment}`)
      infos.push({name, off, size})
      if (p.length > 20) return res
    }
    const dataStart = Math.ceil(c.pos / alignment) * alignment
    const dataLen = r.size - dataStart
    infos.sort((a, b) => a.off - b.off)
    let end = 0
    for (const t of infos) {
      if (t.off < end) p.push(`tensor ${t.name} overlaps the previous tensor`)
      if (t.size !== null) {
        if (!Number.isFinite(t.size) || t.off + t.size > dataLen) p.push(`tensor ${t.name}: data [${t.off}, ${t.off + (t.size ?? 0)}) outside the ${dataLen}-byte data section`)
        end = Math.max(end, t.off + t.size)
      } else end = Math.max(end, t.off)
      if (p.length > 20) break
    }
  } catch (e) {
    p.push(e instanceof Truncated ? `truncated: ${e.message}` : (e as Error).message)
  }
  return res
}

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
  [/\bchr\s*\(|\|\s*format\s*\(.*%c/, 'character building (obfuscation)'],
  [/\b(lipsum|cycler|joiner|get_flashed_messages|url_for)\b/, 'Jinja global objects'],
  [/\bgetattr\b|\bmro\b|\bsubclasses\b|\bglobals\b|\bbuiltins\b/, 'introspection names'],
  [/\b(open|read|write)\s*\(\s*['"]\//, 'file access'],
]

export function checkTemplate(text: string): {threat: ThreatCategory; markers: string[]} | null {
  const mal = TEMPLATE_MALICIOUS.filter(([re]) => re.test(text)).map(([, d]) => d)
  if (mal.length) return {threat: 'PAIT-GGUF-101', markers: mal}
  const sus = TEMPLATE_SUSPICIOUS.filter(([re]) => re.test(text)).map(([, d]) => d)
  if (sus.length) return {threat: 'PAIT-GGUF-100', markers: sus}
  return null
}

// ---------------------------------------------------------------- NumPy

export interface NpyHeader { descr: string; shape: number[] | null; fortran: boolean; dataOffset: number; object: boolean; itemSize?: number }

export async function readNpyHeader(r: Reader): Promise<NpyHeader> {
  const h = await r.read(0, 12)
  if (h.length < 10) throw new Error('npy header truncated')
  const major = h[6]
  let hlen: number
  let start: number
  if (major === 1) { hlen = h.readUInt16LE(8); start = 10 } else if (major === 2 || major === 3) {
    if (h.length < 12) throw new Error('npy header truncated')
    hlen = h.readUInt32LE(8); start = 12
  } else throw new Error(`unsupported npy version ${major}`)
  if (hlen > 1 << 20 || start + hlen > r.size) throw new Error(`npy header length ${hlen} is invalid`)
  const text = (await r.read(start, hlen)).toString(major === 3 ? 'utf8' : 'latin1')
  const dm = /['"]descr['"]\s*:\s*('[^']*'|"[^"]*"|\[.*\])\s*,\s*['"]fortran_order/s.exec(text)
  if (!dm) throw new Error('npy header has no descr')
  const descr = dm[1]
  const sm = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)
  const shape = sm ? sm[1].split(',').map((s) => s.trim()).filter(Boolean).map((s) => parseInt(s.replace(/L$/, ''), 10)) : null
  const object = /(^|[^A-Za-z])O\d*['"]/.test(descr) || /['"]\|?O['"]/.test(descr)
  return {descr, shape, fortran: /fortran_order['"]\s*:\s*True/.test(text), dataOffset: start + hlen, object}
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

/**
 * Fallback for when the HDF5 reader (hdf5.ts) cannot read the root group's model_config attribute.
 * Find Keras model configs inside an HDF5 file by scanning its bytes (streaming, bounded): h5py stores
 * the `model_config` attribute as one contiguous JSON string. Every candidate object is returned (up to
 * 64), not just the first, so a decoy config placed earlier in the file cannot hide the real one.
 */
export async function findH5ModelConfig(r: Reader, maxScan = 4 * 1024 ** 3): Promise<{configs: unknown[]; mentioned: boolean}> {
  const needles = [Buffer.from('{"class_name"'), Buffer.from('{"module"'), Buffer.from('{ "class_name"')]
  const attr = Buffer.from('model_config')
  let mentioned = false
  const configs: unknown[] = []
  const seen = new Set<number>()
  const CH = 4 << 20
  for (let pos = 0; pos < Math.min(r.size, maxScan) && configs.length < 64; pos += CH - 64) {
    const b = await r.read(pos, CH)
    if (!mentioned && b.indexOf(attr) !== -1) mentioned = true
    for (const nd of needles) {
      let i = b.indexOf(nd)
      while (i !== -1 && configs.length < 64) {
        const at = pos + i
        if (!seen.has(at)) {
          seen.add(at)
          const json = await extractJson(r, at)
          if (json && typeof json === 'object' && ('config' in json)) configs.push(json)
        }
        i = b.indexOf(nd, i + 1)
      }
    }
    if (pos + CH >= r.size) break
  }
  return {configs, mentioned: mentioned || configs.length > 0}
}

async function extractJson(r: Reader, start: number): Promise<unknown> {
  const b = await r.read(start, Math.min(16 << 20, r.size - start))
  let depth = 0
  let inStr = false
  for (let i = 0; i < b.length; i++) {
    const ch = b[i]
    if (inStr) { if (ch === 0x5c) i++; else if (ch === 0x22) inStr = false; continue }
    if (ch === 0x22) inStr = true
    else if (ch === 0x7b || ch === 0x5b) depth++
    else if (ch === 0x7d || ch === 0x5d) { depth--; if (depth === 0) { try { return JSON.parse(b.subarray(0, i + 1).toString('utf8')) } catch { return null } } }
  }
  return null
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

/** Walk the fields of one message in [c.pos, end). The handler consumes length-delimited fields it wants (returns true). */
async function walkMessage(c: Cursor, end: number, h: FieldHandler, depth = 0): Promise<void> {
  if (depth > 100) throw new Error('protobuf nesting deeper than 100')
  while (c.pos < end) {
    const key = await varint(c)
    const field = Math.floor(key / 8)
    const wt = key & 7
    if (wt === 0) await varint(c)
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
export async function tfOps(r: Reader, graphDef = false): Promise<Set<string>> {
  const ops = new Set<string>()
  const c = new Cursor(r)
  const nodeDef: FieldHandler = async (f, cc, end) => { if (f === 2 && ops.size < 10000) { ops.add(await readStr(cc, end)); return true } return false }
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

export const ONNX_STANDARD_DOMAINS = new Set(['', 'ai.onnx', 'ai.onnx.ml', 'ai.onnx.training', 'ai.onnx.preview.training',
  'com.microsoft', 'com.microsoft.nchwc', 'com.microsoft.experimental', 'com.microsoft.dml', 'com.ms.internal.nhwc',
  'org.pytorch.aten', 'ai.onnx.preview'])

export interface OnnxInfo { customOps: Array<{domain: string; op: string}>; externalLocations: string[]; nodes: number; opsetDomains: string[]; hasGraph: boolean }

export async function onnxInfo(r: Reader): Promise<OnnxInfo> {
  const info: OnnxInfo = {customOps: [], externalLocations: [], nodes: 0, opsetDomains: [], hasGraph: false}
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
  const tensor: FieldHandler = async (f, cc, end) => { if (f === 13) { await kv(cc, end); return true } return false }
  const sparse: FieldHandler = async (f, cc, end) => { if (f === 1 || f === 2) { await walkMessage(cc, end, tensor, 6); return true } return false }
  let graphDepth = 0
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
    await walkMessage(cc, end, async (f, c2, e2) => {
      if (f === 4) { op = await readStr(c2, e2); return true }
      if (f === 7) { domain = await readStr(c2, e2); return true }
      if (f === 5) { await walkMessage(c2, e2, attribute, 7); return true }
      return false
    }, 6)
    if (!ONNX_STANDARD_DOMAINS.has(domain)) {
      const key = `${domain}::${op}`
      if (!seenOps.has(key) && seenOps.size < 1000) { seenOps.add(key); info.customOps.push({domain, op}) }
    }
  }
  const graph: FieldHandler = async (f, cc, end) => {
    if (f === 1) { await node(cc, end); return true }
    if (f === 5) { await walkMessage(cc, end, tensor, 5); return true }
    if (f === 15) { await walkMessage(cc, end, sparse, 5); return true }
    return false
  }
  const fn: FieldHandler = async (f, cc, end) => { if (f === 7) { await node(cc, end); return true } return false }
  await walkMessage(c, r.size, async (f, cc, end) => {
    if (f === 7) { info.hasGraph = true; await walkMessage(cc, end, graph, 1); return true }
    if (f === 8) {
      await walkMessage(cc, end, async (f2, c2, e2) => { if (f2 === 1) { info.opsetDomains.push(await readStr(c2, e2)); return true } return false }, 2)
      return true
    }
    if (f === 25) { await walkMessage(cc, end, fn, 1); return true }
    return false
  })
  return info
}

/** Strong sniff for an ONNX ModelProto: ir_version varint then a known field. */
export function looksOnnx(head: Buffer): boolean {
  return head.length > 4 && head[0] === 0x08 && head[1] >= 1 && head[1] <= 30 && [0x12, 0x1a, 0x22, 0x2a, 0x32, 0x3a, 0x42].includes(head[2])
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
