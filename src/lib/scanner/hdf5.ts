/**
 * A minimal, bounded, read-only HDF5 reader: just enough to list the root group's attributes and read
 * string values (Keras legacy `.h5`: `model_config`, `keras_version`, `backend`).
 *
 * Supported: superblock versions 0-3 (signature at 0, 512, 1024, 2048, ...), version 1 object headers
 * and version 2 "OHDR" headers with continuation messages (v1 raw blocks, v2 "OCHK" blocks), attribute
 * messages versions 1-3 with a fixed-length string (class 3) or variable-length string (class 9) value
 * whose bytes live in a global heap collection ("GCOL"). Not supported (reported, never guessed):
 * dense attribute storage (fractal heap), shared (committed) datatypes/dataspaces, other datatypes.
 * Checksums of version 2 structures are not verified.
 *
 * Every offset and length is checked against the file size before it is read, every allocation is
 * bounded by a cap, and the walk is iterative with caps on messages, continuation hops and bytes.
 */
import type {Reader} from './io.js'

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])

export const HDF5_LIMITS = {
  /** Header messages examined in the root object header (all chunks together). */
  maxMessages: 4096,
  /** Continuation blocks followed. */
  maxContinuations: 64,
  /** Bytes of one header chunk read at once, and of all chunks together. */
  maxChunkBytes: 16 << 20,
  maxHeaderBytes: 64 << 20,
  /** Attributes listed (names) and the largest attribute value decoded. */
  maxAttributes: 1024,
  maxValueBytes: 64 << 20,
  /** Wanted attribute values decoded in all (duplicates included), and their total bytes. */
  maxValueDecodes: 16,
  maxTotalValueBytes: 128 << 20,
  /** Objects walked in one global heap collection. */
  maxHeapObjects: 65536,
}

/** A structural failure; `step` names what was being read when it happened. */
export class Hdf5Error extends Error {
  constructor(readonly step: string, detail: string) {
    super(`${step}: ${detail}`)
  }
}

export interface Hdf5Attribute {
  name: string
  /** The decoded string, or null when not wanted or not decodable (see `problem`). */
  value: string | null
  problem?: string
}

export interface Hdf5RootInfo {
  superblockOffset: number
  superblockVersion: number
  objectHeaderVersion: number
  attributes: Hdf5Attribute[]
  /** Attribute info message pointing at a fractal heap: those attributes were not read. */
  denseAttributes: boolean
  /** Non-fatal problems (unsupported attribute encodings, truncation hints). */
  problems: string[]
}

export interface Hdf5Options {
  /** Attribute names whose values are decoded (others are only listed). */
  want?: string[]
  maxValueBytes?: number
}

/** File offset of the HDF5 superblock (signature at 0, 512, 1024, 2048, ...), or -1. */
export async function findHdf5Superblock(r: Reader): Promise<number> {
  for (let off = 0; off + SIGNATURE.length <= r.size; off = off === 0 ? 512 : off * 2) {
    const b = await r.read(off, SIGNATURE.length)
    if (b.length === SIGNATURE.length && b.equals(SIGNATURE)) return off
  }
  return -1
}

interface Ctx { r: Reader; base: number; so: number; sl: number }

async function readExact(r: Reader, pos: number, len: number, step: string, what: string): Promise<Buffer> {
  if (!Number.isSafeInteger(pos) || !Number.isSafeInteger(len) || pos < 0 || len < 0 || pos + len > r.size) {
    throw new Hdf5Error(step, `${what} at offset ${pos} (${len} bytes) lies outside the ${r.size}-byte file`)
  }
  const b = await r.read(pos, len)
  if (b.length !== len) throw new Hdf5Error(step, `short read of ${what} at offset ${pos}`)
  return b
}

/** Unsigned little-endian integer of n (1, 2, 4 or 8) bytes; null when every byte is 0xff (undefined address). */
function uint(b: Buffer, pos: number, n: number, step: string, what: string): number | null {
  if (pos < 0 || pos + n > b.length) throw new Hdf5Error(step, `${what} runs past the end of its structure`)
  let allOnes = true
  for (let i = 0; i < n; i++) if (b[pos + i] !== 0xff) { allOnes = false; break }
  if (allOnes) return null
  let v = 0
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[pos + i]
  if (!Number.isSafeInteger(v)) throw new Hdf5Error(step, `${what} ${v} is too large`)
  return v
}

function need(b: Buffer, pos: number, n: number, step: string, what: string): void {
  if (pos < 0 || n < 0 || pos + n > b.length) throw new Hdf5Error(step, `${what} runs past the end of its structure (${pos + n} > ${b.length})`)
}

/** Absolute file offset of a relative address, checked to lie in the file. */
function abs(c: Ctx, addr: number | null, step: string, what: string): number {
  if (addr === null) throw new Hdf5Error(step, `${what} address is undefined`)
  const a = c.base + addr
  if (a >= c.r.size) throw new Hdf5Error(step, `${what} address ${a} is past the end of the ${c.r.size}-byte file (truncated?)`)
  return a
}

interface Superblock { version: number; ctx: Ctx; rootHeader: number; eof: number | null }

async function readSuperblock(r: Reader, off: number): Promise<Superblock> {
  const step = 'superblock'
  const head = await readExact(r, off, Math.min(r.size - off, 128), step, 'superblock')
  need(head, 0, 16, step, 'superblock')
  const version = head[8]
  if (version === 0 || version === 1) {
    const so = head[13]
    const sl = head[14]
    checkSizes(so, sl)
    const ctx: Ctx = {r, base: off, so, sl}
    let p = 24 + (version === 1 ? 4 : 0)
    p += so // base address: libhdf5 treats the superblock's own offset as the base
    p += so // free-space info address
    const eof = uint(head, p, so, step, 'end-of-file address'); p += so
    p += so // driver info block address
    // root group symbol table entry: link name offset, object header address, cache type, reserved, scratch pad
    p += so
    const rootRel = uint(head, p, so, step, 'root group object header address')
    return {version, ctx, rootHeader: abs(ctx, rootRel, 'root group symbol table entry', 'root object header'), eof}
  }
  if (version === 2 || version === 3) {
    const so = head[9]
    const sl = head[10]
    checkSizes(so, sl)
    const ctx: Ctx = {r, base: off, so, sl}
    let p = 12 + so + so // base address, superblock extension address
    const eof = uint(head, p, so, step, 'end-of-file address'); p += so
    const rootRel = uint(head, p, so, step, 'root group object header address')
    return {version, ctx, rootHeader: abs(ctx, rootRel, step, 'root object header'), eof}
  }
  throw new Hdf5Error(step, `unsupported superblock version ${version}`)
}

function checkSizes(so: number, sl: number): void {
  if (![2, 4, 8].includes(so)) throw new Hdf5Error('superblock', `unsupported size of offsets ${so}`)
  if (![2, 4, 8].includes(sl)) throw new Hdf5Error('superblock', `unsupported size of lengths ${sl}`)
}

interface Message { type: number; flags: number; data: Buffer }

/** All messages of an object header, following continuations iteratively (bounded, loop-safe). */
async function readObjectHeader(c: Ctx, addr: number): Promise<{version: number; messages: Message[]}> {
  const step = 'root object header'
  const prefix = await readExact(c.r, addr, Math.min(c.r.size - addr, 64), step, 'object header prefix')
  const messages: Message[] = []
  const pending: Array<{pos: number; len: number}> = []
  const visited = new Set<number>()
  let totalBytes = 0
  let hops = 0
  let version: number
  let v2CreationOrder = false

  const loadChunk = async (pos: number, len: number, what: string): Promise<Buffer> => {
    if (len > HDF5_LIMITS.maxChunkBytes) throw new Hdf5Error(step, `${what} of ${len} bytes exceeds the ${HDF5_LIMITS.maxChunkBytes}-byte cap`)
    totalBytes += len
    if (totalBytes > HDF5_LIMITS.maxHeaderBytes) throw new Hdf5Error(step, `object header larger than ${HDF5_LIMITS.maxHeaderBytes} bytes`)
    return readExact(c.r, pos, len, step, what)
  }
  const addMessage = (m: Message): void => {
    if (messages.length >= HDF5_LIMITS.maxMessages) throw new Hdf5Error(step, `more than ${HDF5_LIMITS.maxMessages} header messages`)
    if (m.type === 0x10) {
      const off = uint(m.data, 0, c.so, 'continuation message', 'continuation offset')
      const len = uint(m.data, c.so, c.sl, 'continuation message', 'continuation length')
      if (len === null) throw new Hdf5Error('continuation message', 'undefined continuation length')
      pending.push({pos: abs(c, off, 'continuation message', 'continuation block'), len})
      return
    }
    messages.push(m)
  }

  const parseV1 = (chunk: Buffer): void => {
    let p = 0
    while (p + 8 <= chunk.length) {
      const type = chunk.readUInt16LE(p)
      const size = chunk.readUInt16LE(p + 2)
      const flags = chunk[p + 4]
      if (p + 8 + size > chunk.length) throw new Hdf5Error(step, `message type ${type} of ${size} bytes runs past its header chunk`)
      addMessage({type, flags, data: chunk.subarray(p + 8, p + 8 + size)})
      p += 8 + size
      p = Math.ceil(p / 8) * 8
    }
  }
  const parseV2 = (chunk: Buffer): void => {
    const hsz = v2CreationOrder ? 6 : 4
    let p = 0
    while (p + hsz <= chunk.length) {
      const type = chunk[p]
      const size = chunk.readUInt16LE(p + 1)
      const flags = chunk[p + 3]
      if (p + hsz + size > chunk.length) throw new Hdf5Error(step, `message type ${type} of ${size} bytes runs past its header chunk`)
      addMessage({type, flags, data: chunk.subarray(p + hsz, p + hsz + size)})
      p += hsz + size
    }
  }

  if (prefix.length >= 4 && prefix.subarray(0, 4).toString('latin1') === 'OHDR') {
    need(prefix, 0, 6, step, 'OHDR prefix')
    version = prefix[4]
    if (version !== 2) throw new Hdf5Error(step, `unsupported OHDR version ${version}`)
    const flags = prefix[5]
    v2CreationOrder = (flags & 0x04) !== 0
    let p = 6
    if (flags & 0x20) p += 16
    if (flags & 0x10) p += 4
    const w = 1 << (flags & 3)
    const size = uint(prefix, p, w, step, 'chunk #0 size')
    if (size === null) throw new Hdf5Error(step, 'undefined chunk #0 size')
    p += w
    parseV2(await loadChunk(addr + p, size, 'chunk #0'))
  } else {
    need(prefix, 0, 16, step, 'version 1 object header prefix')
    version = prefix[0]
    if (version !== 1) throw new Hdf5Error(step, `unknown object header version ${version} at offset ${addr}`)
    const size = prefix.readUInt32LE(8)
    parseV1(await loadChunk(addr + 16, size, 'header chunk'))
  }

  while (pending.length) {
    const {pos, len} = pending.shift()!
    if (++hops > HDF5_LIMITS.maxContinuations) throw new Hdf5Error('continuation message', `more than ${HDF5_LIMITS.maxContinuations} continuation blocks`)
    if (visited.has(pos) || pos === addr) throw new Hdf5Error('continuation message', `continuation block at ${pos} visited twice (loop)`)
    visited.add(pos)
    const chunk = await loadChunk(pos, len, 'continuation block')
    if (version === 1) parseV1(chunk)
    else {
      if (chunk.length < 8 || chunk.subarray(0, 4).toString('latin1') !== 'OCHK') throw new Hdf5Error('continuation message', `no OCHK signature at offset ${pos}`)
      parseV2(chunk.subarray(4, chunk.length - 4))
    }
  }
  return {version, messages}
}

// ---------------------------------------------------------------- attributes

interface DataType { cls: number; bits: number; size: number }

function parseDatatype(b: Buffer): DataType {
  need(b, 0, 8, 'attribute', 'datatype')
  return {cls: b[0] & 0x0f, bits: b[1] | (b[2] << 8) | (b[3] << 16), size: b.readUInt32LE(4)}
}

/** Number of elements of a dataspace message (capped), 0 for a null dataspace. */
function dataspaceElements(b: Buffer, sl: number): number {
  need(b, 0, 4, 'attribute', 'dataspace')
  const version = b[0]
  const ndims = b[1]
  let p: number
  if (version === 1) p = 8
  else if (version === 2) {
    if (b[3] === 2) return 0
    p = 4
  } else throw new Hdf5Error('attribute', `unsupported dataspace version ${version}`)
  if (ndims > 32) throw new Hdf5Error('attribute', `dataspace with ${ndims} dimensions`)
  let n = 1
  for (let i = 0; i < ndims; i++) {
    const d = uint(b, p + i * sl, sl, 'attribute', 'dataspace dimension') ?? 0
    n = Math.min(n * d, Number.MAX_SAFE_INTEGER)
  }
  return n
}

function decodeFixed(bytes: Buffer, pad: number): string {
  let end = bytes.length
  if (pad === 0) { const z = bytes.indexOf(0); if (z !== -1) end = z } else if (pad === 1) { while (end > 0 && bytes[end - 1] === 0) end-- } else if (pad === 2) { while (end > 0 && bytes[end - 1] === 0x20) end-- }
  return bytes.subarray(0, end).toString('utf8')
}

/** One object of a global heap collection ("GCOL"), walked object by object with bounds checks. */
async function readGlobalHeapObject(c: Ctx, collection: number, index: number, maxBytes: number): Promise<Buffer> {
  const step = 'global heap'
  const hdr = await readExact(c.r, collection, 8 + c.sl, step, 'collection header')
  if (hdr.subarray(0, 4).toString('latin1') !== 'GCOL') throw new Hdf5Error(step, `no GCOL signature at offset ${collection}`)
  if (hdr[4] !== 1) throw new Hdf5Error(step, `unsupported global heap version ${hdr[4]}`)
  const csize = uint(hdr, 8, c.sl, step, 'collection size')
  if (csize === null || csize < 8 + c.sl) throw new Hdf5Error(step, `invalid collection size ${csize}`)
  const end = collection + csize
  if (end > c.r.size) throw new Hdf5Error(step, `collection at ${collection} of ${csize} bytes runs past the end of the ${c.r.size}-byte file`)
  const ohs = 8 + c.sl
  let p = collection + 8 + c.sl
  for (let i = 0; i < HDF5_LIMITS.maxHeapObjects && p + ohs <= end; i++) {
    const oh = await readExact(c.r, p, ohs, step, 'heap object header')
    const idx = oh.readUInt16LE(0)
    const size = uint(oh, 8, c.sl, step, 'heap object size')
    if (idx === 0 || size === null) break
    if (idx === index) {
      if (size > maxBytes) throw new Hdf5Error(step, `heap object ${index} of ${size} bytes exceeds the ${maxBytes}-byte cap`)
      if (p + ohs + size > end) throw new Hdf5Error(step, `heap object ${index} of ${size} bytes runs past its collection`)
      return readExact(c.r, p + ohs, size, step, `heap object ${index}`)
    }
    const next = p + ohs + Math.ceil(size / 8) * 8
    if (next <= p) break
    p = next
  }
  throw new Hdf5Error(step, `object ${index} not found in the collection at offset ${collection}`)
}

interface Budget { decodes: number; bytes: number }

async function readAttribute(c: Ctx, m: Message, want: Set<string>, maxValue: number, budget: Budget): Promise<Hdf5Attribute> {
  const step = 'attribute'
  // a message stored in the shared object header message table: data is a reference, not an attribute
  if (m.flags & 0x02) return {name: '<shared message>', value: null, problem: 'unsupported: shared attribute message'}
  const d = m.data
  need(d, 0, 8, step, 'attribute message')
  const version = d[0]
  let flags = 0
  let p: number
  if (version === 1) p = 8
  else if (version === 2) { flags = d[1]; p = 8 } else if (version === 3) { flags = d[1]; p = 9 } else throw new Hdf5Error(step, `unsupported attribute message version ${version}`)
  const nameSize = d.readUInt16LE(2)
  const dtSize = d.readUInt16LE(4)
  const dsSize = d.readUInt16LE(6)
  const pad = (n: number): number => (version === 1 ? Math.ceil(n / 8) * 8 : n)
  need(d, p, nameSize, step, 'attribute name')
  const name = decodeFixed(d.subarray(p, p + nameSize), 0)
  p += pad(nameSize)
  need(d, p, dtSize, step, `attribute ${name} datatype`)
  const dtBuf = d.subarray(p, p + dtSize)
  p += pad(dtSize)
  need(d, p, dsSize, step, `attribute ${name} dataspace`)
  const dsBuf = d.subarray(p, p + dsSize)
  p += pad(dsSize)
  const data = d.subarray(Math.min(p, d.length))
  if (!want.has(name)) return {name, value: null}
  if (++budget.decodes > HDF5_LIMITS.maxValueDecodes) return {name, value: null, problem: `more than ${HDF5_LIMITS.maxValueDecodes} wanted attributes; not decoded`}
  try {
    const a = await readAttributeValue(c, name, flags, dtBuf, dsBuf, data, Math.min(maxValue, budget.bytes))
    if (a.value !== null) budget.bytes -= Buffer.byteLength(a.value)
    return a
  } catch (e) {
    if (!(e instanceof Hdf5Error)) throw e
    return {name, value: null, problem: e.message}
  }
}

async function readAttributeValue(c: Ctx, name: string, flags: number, dtBuf: Buffer, dsBuf: Buffer, data: Buffer,
  maxValue: number): Promise<Hdf5Attribute> {
  const step = 'attribute'
  if (flags & 0x03) return {name, value: null, problem: 'unsupported: shared (committed) datatype or dataspace'}
  const dt = parseDatatype(dtBuf)
  const count = dataspaceElements(dsBuf, c.sl)
  if (count === 0) return {name, value: null, problem: 'attribute has an empty dataspace'}
  if (dt.cls === 3) {
    if (dt.size > maxValue) return {name, value: null, problem: `fixed-length string of ${dt.size} bytes exceeds the ${maxValue}-byte cap`}
    need(data, 0, dt.size, step, `attribute ${name} value`)
    return {name, value: decodeFixed(data.subarray(0, dt.size), dt.bits & 0x0f)}
  }
  if (dt.cls === 9) {
    if ((dt.bits & 0x0f) !== 1) return {name, value: null, problem: 'unsupported: variable-length sequence (not a string)'}
    need(data, 0, 4 + c.so + 4, step, `attribute ${name} heap ID`)
    const len = data.readUInt32LE(0)
    const coll = uint(data, 4, c.so, step, 'global heap collection address')
    const index = data.readUInt32LE(4 + c.so)
    if (len === 0 || coll === null) return {name, value: ''}
    if (len > maxValue) return {name, value: null, problem: `variable-length string of ${len} bytes exceeds the ${maxValue}-byte cap`}
    const obj = await readGlobalHeapObject(c, abs(c, coll, 'global heap', 'collection'), index, maxValue)
    if (len > obj.length) throw new Hdf5Error('global heap', `string length ${len} exceeds its heap object of ${obj.length} bytes`)
    return {name, value: decodeFixed(obj.subarray(0, len), (dt.bits >> 4) & 0x0f)}
  }
  return {name, value: null, problem: `unsupported datatype class ${dt.cls}`}
}

/**
 * Read the root group's attributes. Throws Hdf5Error (with the failing step) on structural damage;
 * per-attribute problems are recorded on the attribute and in `problems`.
 */
export async function readHdf5RootAttributes(r: Reader, opts: Hdf5Options = {}): Promise<Hdf5RootInfo> {
  const want = new Set(opts.want ?? ['model_config', 'keras_version', 'backend'])
  const maxValue = opts.maxValueBytes ?? HDF5_LIMITS.maxValueBytes
  const off = await findHdf5Superblock(r)
  if (off < 0) throw new Hdf5Error('superblock', 'no HDF5 signature at offset 0, 512, 1024, 2048, ...')
  const sb = await readSuperblock(r, off)
  const problems: string[] = []
  if (sb.eof !== null && sb.ctx.base + sb.eof > r.size) problems.push(`file is ${r.size} bytes but the superblock says ${sb.ctx.base + sb.eof} (truncated)`)
  const {version, messages} = await readObjectHeader(sb.ctx, sb.rootHeader)
  const info: Hdf5RootInfo = {superblockOffset: off, superblockVersion: sb.version, objectHeaderVersion: version, attributes: [], denseAttributes: false, problems}
  const budget: Budget = {decodes: 0, bytes: HDF5_LIMITS.maxTotalValueBytes}
  for (const m of messages) {
    if (m.type === 0x15) {
      need(m.data, 0, 2, 'attribute info', 'attribute info message')
      const p = 2 + (m.data[1] & 0x01 ? 2 : 0)
      const heap = uint(m.data, p, sb.ctx.so, 'attribute info', 'fractal heap address')
      if (heap !== null && !info.denseAttributes) {
        info.denseAttributes = true
        problems.push('unsupported: dense attribute storage (fractal heap)')
      }
    } else if (m.type === 0x0c) {
      if (info.attributes.length >= HDF5_LIMITS.maxAttributes) { problems.push(`more than ${HDF5_LIMITS.maxAttributes} attributes; the rest not read`); break }
      let a: Hdf5Attribute
      try {
        a = await readAttribute(sb.ctx, m, want, maxValue, budget)
      } catch (e) {
        if (!(e instanceof Hdf5Error)) throw e
        a = {name: '<unreadable>', value: null, problem: e.message}
      }
      if (a.problem) problems.push(`attribute ${a.name}: ${a.problem}`)
      info.attributes.push(a)
    }
  }
  return info
}
