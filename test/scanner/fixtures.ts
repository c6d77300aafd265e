/**
 * Fixture builders for the scanner tests. Everything is produced byte by byte: a tiny pickle *writer*
 * (opcodes only; nothing is ever unpickled), zip/tar writers, a protobuf writer, GGUF/safetensors
 * builders. No Python, no model library, nothing executed.
 */
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import zlib from 'node:zlib'

// ------------------------------------------------------------------ pickle writer

export class PW {
  private parts: Buffer[] = []
  constructor(readonly proto: number = 2) {
    if (proto >= 2) this.raw(Buffer.from([0x80, proto]))
  }
  raw(b: Buffer | string): this { this.parts.push(typeof b === 'string' ? Buffer.from(b, 'latin1') : b); return this }
  op(...codes: Array<number | string>): this {
    for (const c of codes) this.raw(typeof c === 'number' ? Buffer.from([c]) : c)
    return this
  }
  mark(): this { return this.op('(') }
  stop(): this { return this.op('.') }
  reduce(): this { return this.op('R') }
  build(): this { return this.op('b') }
  tuple(): this { return this.op('t') }
  tuple1(): this { return this.proto >= 2 ? this.op(0x85) : this.op(')') }
  emptyTuple(): this { return this.op(')') }
  emptyDict(): this { return this.op('}') }
  emptyList(): this { return this.op(']') }
  setitems(): this { return this.op('u') }
  appends(): this { return this.op('e') }
  none(): this { return this.op('N') }
  /** GLOBAL with two text lines (all protocols). */
  global(module: string, name: string): this { return this.raw(`c${module}\n${name}\n`) }
  inst(module: string, name: string): this { return this.raw(`i${module}\n${name}\n`) }
  stackGlobal(): this { return this.op(0x93) }
  memoize(): this { return this.op(0x94) }
  put(i: number): this {
    if (this.proto === 0) return this.raw(`p${i}\n`)
    if (i < 256) return this.raw(Buffer.from([0x71, i]))
    const b = Buffer.alloc(5); b[0] = 0x72; b.writeUInt32LE(i, 1); return this.raw(b)
  }
  get(i: number): this {
    if (this.proto === 0) return this.raw(`g${i}\n`)
    if (i < 256) return this.raw(Buffer.from([0x68, i]))
    const b = Buffer.alloc(5); b[0] = 0x6a; b.writeUInt32LE(i, 1); return this.raw(b)
  }
  int(n: number): this {
    if (this.proto === 0) return this.raw(`I${n}\n`)
    if (n >= 0 && n < 256) return this.raw(Buffer.from([0x4b, n]))
    if (n >= 0 && n < 65536) { const b = Buffer.alloc(3); b[0] = 0x4d; b.writeUInt16LE(n, 1); return this.raw(b) }
    const b = Buffer.alloc(5); b[0] = 0x4a; b.writeInt32LE(n, 1); return this.raw(b)
  }
  /** A text string with the opcode the protocol would use. */
  str(s: string): this {
    const u = Buffer.from(s, 'utf8')
    if (this.proto === 0) return this.raw(`V${s}\n`)
    if (this.proto >= 4 && u.length < 256) return this.raw(Buffer.concat([Buffer.from([0x8c, u.length]), u]))
    const h = Buffer.alloc(5); h[0] = 0x58; h.writeUInt32LE(u.length, 1)
    return this.raw(Buffer.concat([h, u]))
  }
  /** Protocol-0 quoted STRING. */
  pyString(s: string): this { return this.raw(`S'${s}'\n`) }
  bytes(b: Buffer): this {
    if (b.length < 256) return this.raw(Buffer.concat([Buffer.from([0x43, b.length]), b]))
    const h = Buffer.alloc(5); h[0] = 0x42; h.writeUInt32LE(b.length, 1)
    return this.raw(Buffer.concat([h, b]))
  }
  frame(len: number): this { const b = Buffer.alloc(9); b[0] = 0x95; b.writeBigUInt64LE(BigInt(len), 1); return this.raw(b) }
  /** Import module.name the way the protocol would (STACK_GLOBAL from 4 on). */
  imp(module: string, name: string): this {
    if (this.proto >= 4) return this.str(module).memoize().str(name).memoize().stackGlobal().memoize()
    return this.global(module, name)
  }
  /** callable(*args) with string args. */
  call(module: string, name: string, args: Array<string | number>): this {
    this.imp(module, name).mark()
    for (const a of args) {
      if (typeof a === 'number') this.int(a)
      else this.str(a)
    }
    return this.tuple().reduce()
  }
  toBuffer(): Buffer { return Buffer.concat(this.parts) }
}

/** A complete pickle calling module.name(*args). */
export function payload(proto: number, module = 'os', name = 'system', args: Array<string | number> = ['echo pwned']): Buffer {
  return new PW(proto).call(module, name, args).stop().toBuffer()
}

/** A benign dict {'a': 1, 'b': 'text', 'c': [1, 2, 3]} in the given protocol. */
export function benign(proto: number): Buffer {
  const p = new PW(proto)
  p.emptyDict()
  if (proto >= 1) p.put(0)
  p.mark().str('a').int(1).str('b').str('text').str('c').emptyList().mark().int(1).int(2).int(3).appends().setitems()
  return p.stop().toBuffer()
}

/** OrderedDict state dict with torch tensors rebuilt from persistent storages (torch.save style). */
export function torchStateDict(proto = 2, tensors = 2): Buffer {
  const p = new PW(proto)
  p.global('collections', 'OrderedDict').emptyTuple().reduce().put(0).mark()
  for (let i = 0; i < tensors; i++) {
    p.str(`layer${i}.weight`)
    p.global('torch._utils', '_rebuild_tensor_v2')
    p.mark()
    // persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)
    p.mark().str('storage').global('torch', 'FloatStorage').str(String(i)).str('cpu').int(16).tuple().op('Q')
    p.int(0)
    p.mark().int(4).int(4).tuple()
    p.mark().int(4).int(1).tuple()
    p.op(0x89) // False
    p.global('collections', 'OrderedDict').emptyTuple().reduce()
    p.tuple().reduce()
  }
  p.setitems()
  return p.stop().toBuffer()
}

// ------------------------------------------------------------------ zip / tar / gzip

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()
export function crc32(b: Buffer): number {
  let c = 0xffffffff
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

export interface ZipIn {
  name: string
  data: Buffer
  /** 0 stored, 8 deflate (compressed here); any other method number needs `stored` (the bytes written as the member's data). */
  method?: number
  badCrc?: boolean
  localName?: string
  flags?: number
  reuseDataOf?: number
  /** Bytes written as the member data instead of (deflated) `data` (pre-compressed or "encrypted" data). */
  stored?: Buffer
  /** Uncompressed size written in both headers (default data.length). */
  declaredSize?: number
  /** Uncompressed size written in the central directory only (a lying directory). */
  centralSize?: number
  /** Central directory: size 0xffffffff and a ZIP64 extra field with this size. */
  zip64Size?: number
  /** CRC-32 computed over these bytes instead of `data`. */
  crcOf?: Buffer
}

export interface ZipOpts {
  /** Entry count written in the end-of-central-directory record (default: the real count). */
  eocdCount?: number
  /** Added to the central-directory size written in the end record. */
  cdSizeDelta?: number
}

export function zip(entries: ZipIn[], opts: ZipOpts = {}): Buffer {
  const locals: Buffer[] = []
  const cds: Buffer[] = []
  let offset = 0
  const offsets: number[] = []
  const meta: Array<{comp: Buffer; crc: number}> = []
  const size = (e: ZipIn): number => e.declaredSize ?? e.data.length
  for (const e of entries) {
    const comp = e.stored ?? (e.method === 8 ? zlib.deflateRawSync(e.data) : e.data)
    const crc = e.badCrc ? (crc32(e.data) ^ 0xdeadbeef) >>> 0 : crc32(e.crcOf ?? e.data)
    meta.push({comp, crc})
    if (e.reuseDataOf !== undefined) { offsets.push(offsets[e.reuseDataOf]); continue }
    const lname = Buffer.from(e.localName ?? e.name, 'utf8')
    const h = Buffer.alloc(30)
    h.writeUInt32LE(0x04034b50, 0); h.writeUInt16LE(20, 4); h.writeUInt16LE((e.flags ?? 0) | 0x800, 6); h.writeUInt16LE(e.method ?? 0, 8)
    h.writeUInt32LE(crc, 14); h.writeUInt32LE(comp.length, 18); h.writeUInt32LE(size(e), 22); h.writeUInt16LE(lname.length, 26)
    offsets.push(offset)
    locals.push(h, lname, comp)
    offset += 30 + lname.length + comp.length
  }
  entries.forEach((e, i) => {
    const name = Buffer.from(e.name, 'utf8')
    const {comp, crc} = meta[e.reuseDataOf ?? i]
    const src = entries[e.reuseDataOf ?? i]
    const extra = e.zip64Size !== undefined ? Buffer.concat([Buffer.from([1, 0, 8, 0]), u64(e.zip64Size)]) : Buffer.alloc(0)
    const c = Buffer.alloc(46)
    c.writeUInt32LE(0x02014b50, 0); c.writeUInt16LE(20, 4); c.writeUInt16LE(20, 6); c.writeUInt16LE((e.flags ?? 0) | 0x800, 8)
    c.writeUInt16LE(src.method ?? 0, 10)
    c.writeUInt32LE(crc, 16); c.writeUInt32LE(comp.length, 20)
    c.writeUInt32LE(e.zip64Size !== undefined ? 0xffffffff : e.centralSize ?? size(src), 24)
    c.writeUInt16LE(name.length, 28); c.writeUInt16LE(extra.length, 30); c.writeUInt32LE(offsets[i], 42)
    cds.push(c, name, extra)
  })
  const cd = Buffer.concat(cds)
  const eocd = Buffer.alloc(22)
  const count = opts.eocdCount ?? entries.length
  eocd.writeUInt32LE(0x06054b50, 0); eocd.writeUInt16LE(count, 8); eocd.writeUInt16LE(count, 10)
  eocd.writeUInt32LE(cd.length + (opts.cdSizeDelta ?? 0), 12); eocd.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, cd, eocd])
}

export interface TarIn { name: string; data?: Buffer; type?: string; linkname?: string }

export function tar(entries: TarIn[]): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0)
    const h = Buffer.alloc(512)
    h.write(e.name, 0, 100, 'utf8')
    h.write('0000644\0', 100); h.write('0000000\0', 108); h.write('0000000\0', 116)
    h.write(data.length.toString(8).padStart(11, '0') + '\0', 124)
    h.write('00000000000\0', 136)
    h.write(e.type ?? '0', 156)
    if (e.linkname) h.write(e.linkname, 157, 100, 'utf8')
    h.write('ustar\0', 257); h.write('00', 263)
    h.fill(32, 148, 156)
    let sum = 0
    for (let i = 0; i < 512; i++) sum += h[i]
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148)
    parts.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512))
  }
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

export const gzip = (b: Buffer): Buffer => zlib.gzipSync(b)

// ------------------------------------------------------------------ protobuf

function varint(n: number): Buffer {
  const out: number[] = []
  while (n >= 0x80) { out.push((n % 128) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  return Buffer.from(out)
}
export const pb = {
  ld: (field: number, b: Buffer | string): Buffer => {
    const v = typeof b === 'string' ? Buffer.from(b, 'utf8') : b
    return Buffer.concat([varint(field * 8 + 2), varint(v.length), v])
  },
  vint: (field: number, n: number): Buffer => Buffer.concat([varint(field * 8), varint(n)]),
  msg: (...parts: Buffer[]): Buffer => Buffer.concat(parts),
}

export function savedModel(ops: string[], fnOps: string[] = []): Buffer {
  const nodes = ops.map((op, i) => pb.ld(1, pb.msg(pb.ld(1, `n${i}`), pb.ld(2, op))))
  const fnNodes = fnOps.map((op, i) => pb.ld(3, pb.msg(pb.ld(1, `f${i}`), pb.ld(2, op))))
  const library = fnOps.length ? [pb.ld(2, pb.ld(1, pb.msg(...fnNodes)))] : []
  const graph = pb.msg(...nodes, ...library)
  const meta = pb.msg(pb.ld(1, Buffer.from([0x0a, 0x00])), pb.ld(2, graph))
  return pb.msg(pb.vint(1, 1), pb.ld(2, meta))
}

export function onnxModel(nodes: Array<{op: string; domain?: string}>, externalLocation?: string): Buffer {
  const ns = nodes.map((n) => pb.ld(1, pb.msg(pb.ld(1, 'x'), pb.ld(2, 'y'), pb.ld(4, n.op), ...(n.domain !== undefined ? [pb.ld(7, n.domain)] : []))))
  const inits = externalLocation ? [pb.ld(5, pb.msg(pb.vint(1, 4), pb.vint(2, 1), pb.ld(8, 'w'),
    pb.ld(13, pb.msg(pb.ld(1, 'location'), pb.ld(2, externalLocation))), pb.vint(14, 1)))] : []
  const graph = pb.msg(...ns, pb.ld(2, 'g'), ...inits)
  return pb.msg(pb.vint(1, 8), pb.ld(2, 'test'), pb.ld(7, graph), pb.ld(8, pb.msg(pb.ld(1, ''), pb.vint(2, 17))))
}

// ------------------------------------------------------------------ safetensors / GGUF / npy / h5

export function safetensors(header: unknown, data: Buffer, opts: {rawHeader?: string; declaredLen?: number} = {}): Buffer {
  const h = Buffer.from(opts.rawHeader ?? JSON.stringify(header), 'utf8')
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(opts.declaredLen ?? h.length))
  return Buffer.concat([len, h, data])
}

export function validSafetensors(): Buffer {
  return safetensors({__metadata__: {format: 'pt'}, a: {dtype: 'F32', shape: [2, 2], data_offsets: [0, 16]}, b: {dtype: 'I8', shape: [4], data_offsets: [16, 20]}}, Buffer.alloc(20))
}

function ggufStr(s: string): Buffer {
  const b = Buffer.from(s, 'utf8')
  const l = Buffer.alloc(8); l.writeBigUInt64LE(BigInt(b.length))
  return Buffer.concat([l, b])
}
function u32(n: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b }
function u64(n: number | bigint): Buffer { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b }

export function gguf(opts: {template?: string; kvCount?: number | bigint; tensorType?: number; vocab?: number; badOffset?: boolean} = {}): Buffer {
  const kvs: Buffer[] = []
  kvs.push(Buffer.concat([ggufStr('general.architecture'), u32(8), ggufStr('llama')]))
  kvs.push(Buffer.concat([ggufStr('general.alignment'), u32(4), u32(32)]))
  const vocab = opts.vocab ?? 3
  kvs.push(Buffer.concat([ggufStr('tokenizer.ggml.tokens'), u32(9), u32(8), u64(vocab),
    ...Array.from({length: vocab}, (_v, i) => ggufStr(`tok${i}`))]))
  if (opts.template !== undefined) kvs.push(Buffer.concat([ggufStr('tokenizer.chat_template'), u32(8), ggufStr(opts.template)]))
  const tensors = Buffer.concat([ggufStr('w'), u32(2), u64(4), u64(4), u32(opts.tensorType ?? 0), u64(opts.badOffset ? 7 : 0)])
  const head = Buffer.concat([Buffer.from('GGUF'), u32(3), u64(1), u64(opts.kvCount ?? kvs.length), ...kvs, tensors])
  const pad = Buffer.alloc((32 - (head.length % 32)) % 32)
  return Buffer.concat([head, pad, Buffer.alloc(64)])
}

export function npy(descr: string, shape: number[], data: Buffer): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`
  const total = 10 + header.length + 1
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n'
  const h = Buffer.alloc(10)
  h.write('\x93NUMPY', 0, 'latin1'); h[6] = 1; h[7] = 0; h.writeUInt16LE(header.length, 8)
  return Buffer.concat([h, Buffer.from(header, 'latin1'), data])
}

export function fakeH5(modelConfig: unknown): Buffer {
  return Buffer.concat([
    Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200), Buffer.from('model_config\0\0\0\0'),
    Buffer.alloc(64), Buffer.from(JSON.stringify(modelConfig)), Buffer.alloc(300),
  ])
}

export function lambdaCode(names: string[]): string {
  // marshal-like bytes: short ASCII names with length prefixes (what Keras stores, base64-encoded)
  const parts = names.map((n) => Buffer.concat([Buffer.from([0x7a, n.length]), Buffer.from(n)]))
  return Buffer.concat([Buffer.from([0xe3, 0, 0, 0, 0]), ...parts, Buffer.from([0x4e, 0x29])]).toString('base64')
}

export function kerasConfig(layers: unknown[]): unknown {
  return {module: 'keras', class_name: 'Sequential', config: {name: 'seq', layers}, registered_name: null}
}

// ------------------------------------------------------------------ temp tree

export function tempTree(files: Record<string, Buffer | string>): string {
  const root = mkdtempSync(join(tmpdir(), 'daystrom-scanner-'))
  for (const [rel, data] of Object.entries(files)) {
    const p = join(root, rel)
    mkdirSync(dirname(p), {recursive: true})
    writeFileSync(p, data)
  }
  return root
}

/** A minimal TFLite flatbuffer: Model{version, operator_codes[OperatorCode{deprecated_builtin_code, custom_code, builtin_code}]}. */
export function tflite(ops: Array<{builtin: number; custom?: string}>): Buffer {
  const b = Buffer.alloc(64 + ops.length * 64 + ops.reduce((a, o) => a + (o.custom?.length ?? 0) + 8, 0))
  b.writeUInt32LE(16, 0)
  b.write('TFL3', 4, 'latin1')
  b.writeUInt16LE(8, 8); b.writeUInt16LE(12, 10); b.writeUInt16LE(4, 12); b.writeUInt16LE(8, 14) // Model vtable
  b.writeInt32LE(16 - 8, 16); b.writeUInt32LE(3, 20) // Model table, version 3
  const vec = 28
  b.writeUInt32LE(vec - 24, 24)
  b.writeUInt32LE(ops.length, vec)
  let p = vec + 4 + 4 * ops.length
  ops.forEach((o, i) => {
    const vt = p
    b.writeUInt16LE(12, vt); b.writeUInt16LE(16, vt + 2); b.writeUInt16LE(4, vt + 4)
    b.writeUInt16LE(o.custom !== undefined ? 8 : 0, vt + 6); b.writeUInt16LE(0, vt + 8); b.writeUInt16LE(12, vt + 10)
    const t = vt + 12
    b.writeInt32LE(t - vt, t)
    b.writeInt8(Math.min(o.builtin, 127), t + 4)
    b.writeInt32LE(o.builtin, t + 12)
    const ep = vec + 4 + 4 * i
    b.writeUInt32LE(t - ep, ep)
    p = t + 16
    if (o.custom !== undefined) {
      b.writeUInt32LE(p - (t + 8), t + 8)
      b.writeUInt32LE(o.custom.length, p)
      b.write(o.custom, p + 4, 'utf8')
      p += 4 + o.custom.length + 1
      p = Math.ceil(p / 4) * 4
    }
  })
  return b.subarray(0, p + 8)
}

// ------------------------------------------------------------------ HDF5 writer (minimal, for the h5 reader tests)

/** Bob Jenkins' lookup3 hashlittle (the checksum of HDF5 version 2 structures). */
export function lookup3(k: Buffer, init = 0): number {
  const rot = (x: number, n: number): number => ((x << n) | (x >>> (32 - n))) >>> 0
  let a = (0xdeadbeef + k.length + init) >>> 0
  let b = a
  let c = a
  let o = 0
  let len = k.length
  while (len > 12) {
    a = (a + k.readUInt32LE(o)) >>> 0; b = (b + k.readUInt32LE(o + 4)) >>> 0; c = (c + k.readUInt32LE(o + 8)) >>> 0
    a = (a - c) >>> 0; a = (a ^ rot(c, 4)) >>> 0; c = (c + b) >>> 0
    b = (b - a) >>> 0; b = (b ^ rot(a, 6)) >>> 0; a = (a + c) >>> 0
    c = (c - b) >>> 0; c = (c ^ rot(b, 8)) >>> 0; b = (b + a) >>> 0
    a = (a - c) >>> 0; a = (a ^ rot(c, 16)) >>> 0; c = (c + b) >>> 0
    b = (b - a) >>> 0; b = (b ^ rot(a, 19)) >>> 0; a = (a + c) >>> 0
    c = (c - b) >>> 0; c = (c ^ rot(b, 4)) >>> 0; b = (b + a) >>> 0
    len -= 12; o += 12
  }
  if (len === 0) return c
  const t = Buffer.alloc(12)
  k.copy(t, 0, o, o + len)
  a = (a + t.readUInt32LE(0)) >>> 0; b = (b + t.readUInt32LE(4)) >>> 0; c = (c + t.readUInt32LE(8)) >>> 0
  c = (c ^ b) >>> 0; c = (c - rot(b, 14)) >>> 0
  a = (a ^ c) >>> 0; a = (a - rot(c, 11)) >>> 0
  b = (b ^ a) >>> 0; b = (b - rot(a, 25)) >>> 0
  c = (c ^ b) >>> 0; c = (c - rot(b, 16)) >>> 0
  a = (a ^ c) >>> 0; a = (a - rot(c, 4)) >>> 0
  b = (b ^ a) >>> 0; b = (b - rot(a, 14)) >>> 0
  c = (c ^ b) >>> 0; c = (c - rot(b, 24)) >>> 0
  return c
}

export interface H5AttrIn { name: string; value: string; vlen?: boolean }
export interface H5Opts {
  attrs: H5AttrIn[]
  /** 0: superblock v0 + root symbol table entry + v1 object header (default); 2: superblock v2 + OHDR. */
  superblock?: 0 | 2
  /** Put the attribute messages in a continuation block. */
  continuation?: boolean
  /** Bytes of zeros before the superblock (HDF5 user block: 512, 1024, ...). */
  userBlock?: number
  /** Raw bytes placed between the superblock and the root object header (e.g. a decoy JSON). */
  filler?: Buffer
  /** Superblock v2 only: add an attribute info message pointing at a (non-existent) fractal heap (dense storage). */
  denseAttributeInfo?: boolean
}

const UNDEF8 = Buffer.alloc(8, 0xff)
const pad8 = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((8 - (b.length % 8)) % 8)])
const le16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b }
const le32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b }

/**
 * A minimal HDF5 file (8-byte offsets and lengths) whose root group carries string attributes, fixed-length
 * (class 3, null-padded, as h5py writes numpy bytes) or variable-length (class 9, bytes in a global heap
 * collection). Superblock v0: root symbol table entry, v1 object header with a symbol table message (empty
 * v1 B-tree + local heap), attribute messages v1. Superblock v2: OHDR with link info + group info messages,
 * attribute messages v3, lookup3 checksums.
 */
export function hdf5(opts: H5Opts): Buffer {
  const v2 = opts.superblock === 2
  const out: Buffer[] = []
  let at = 0
  const place = (b: Buffer): number => { const a = at; out.push(b); at += b.length; const p = (8 - (at % 8)) % 8; if (p) { out.push(Buffer.alloc(p)); at += p } return a }
  const sbSize = v2 ? 48 : 96
  place(Buffer.alloc(sbSize)) // superblock, patched at the end
  if (opts.filler) place(opts.filler)
  // global heap collection holding every vlen value
  const vlenIdx = new Map<number, number>()
  const vl = opts.attrs.map((a, i) => ({a, i})).filter(({a}) => a.vlen)
  let gcolAddr = 0
  if (vl.length) {
    const objs: Buffer[] = []
    vl.forEach(({a, i}, k) => {
      const data = Buffer.from(a.value, 'utf8')
      const h = Buffer.alloc(16); h.writeUInt16LE(k + 1, 0); h.writeUInt16LE(1, 2); h.writeBigUInt64LE(BigInt(data.length), 8)
      objs.push(h, pad8(data))
      vlenIdx.set(i, k + 1)
    })
    let body = Buffer.concat(objs)
    const total = Math.max(4096, 16 + body.length + 16)
    const free = Buffer.alloc(16); free.writeBigUInt64LE(BigInt(total - 16 - body.length), 8)
    body = Buffer.concat([body, free, Buffer.alloc(total - 16 - body.length - 16)])
    const h = Buffer.alloc(16); h.write('GCOL', 0, 'latin1'); h[4] = 1; h.writeBigUInt64LE(BigInt(total), 8)
    gcolAddr = place(Buffer.concat([h, body]))
  }
  const addr8 = (n: number): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b }

  const datatype = (a: H5AttrIn, len: number): Buffer => {
    if (!a.vlen) {
      // version 1, class 3 string; padding 1 (null pad), charset 0 (ascii); size = length
      return Buffer.concat([Buffer.from([0x13, 0x01, 0x00, 0x00]), le32(len)])
    }
    // version 1, class 9 vlen; type 1 (string), padding 0, charset 1 (UTF-8); size 16; base: 1-byte unsigned fixed-point
    const base = Buffer.concat([Buffer.from([0x10, 0, 0, 0]), le32(1), le16(0), le16(8)])
    return Buffer.concat([Buffer.from([0x19, 0x01, 0x01, 0x00]), le32(16), base])
  }
  const scalar = v2 ? Buffer.from([2, 0, 0, 0]) : Buffer.from([1, 0, 0, 0, 0, 0, 0, 0])
  const attrMsg = (a: H5AttrIn, i: number): Buffer => {
    const val = Buffer.from(a.value, 'utf8')
    const data = a.vlen ? Buffer.concat([le32(val.length), addr8(gcolAddr), le32(vlenIdx.get(i)!)]) : val
    const name = Buffer.concat([Buffer.from(a.name, 'utf8'), Buffer.from([0])])
    const dt = datatype(a, val.length)
    if (v2) {
      const h = Buffer.concat([Buffer.from([3, 0]), le16(name.length), le16(dt.length), le16(scalar.length), Buffer.from([0])])
      return Buffer.concat([h, name, dt, scalar, data])
    }
    const h = Buffer.concat([Buffer.from([1, 0]), le16(name.length), le16(dt.length), le16(scalar.length)])
    return Buffer.concat([h, pad8(name), pad8(dt), pad8(scalar), data])
  }
  const msgV1 = (type: number, data: Buffer): Buffer => {
    const d = pad8(data)
    return Buffer.concat([le16(type), le16(d.length), Buffer.from([0, 0, 0, 0]), d])
  }
  const msgV2 = (type: number, data: Buffer): Buffer => Buffer.concat([Buffer.from([type]), le16(data.length), Buffer.from([0]), data])
  const withSum = (b: Buffer): Buffer => Buffer.concat([b, le32(lookup3(b))])

  let rootAddr: number
  let btree = 0
  let heap = 0
  if (!v2) {
    // local heap: 24-byte data segment ("" at 0, one free block at 8) and an empty v1 group B-tree (K = 16)
    const seg = Buffer.alloc(24); seg.writeBigUInt64LE(1n, 8); seg.writeBigUInt64LE(16n, 16)
    const segAddr = place(seg)
    heap = place(Buffer.concat([Buffer.from('HEAP', 'latin1'), Buffer.from([0, 0, 0, 0]), addr8(24), addr8(8), addr8(segAddr)]))
    btree = place(Buffer.concat([Buffer.from('TREE', 'latin1'), Buffer.from([0, 0]), le16(0), UNDEF8, UNDEF8, Buffer.alloc(33 * 8 + 32 * 8)]))
    const attrs = Buffer.concat(opts.attrs.map((a, i) => msgV1(0x0c, attrMsg(a, i))))
    const stab = msgV1(0x11, Buffer.concat([addr8(btree), addr8(heap)]))
    let msgs: Buffer
    let count = 1 + opts.attrs.length
    if (opts.continuation) {
      const cont = place(attrs)
      msgs = Buffer.concat([stab, msgV1(0x10, Buffer.concat([addr8(cont), addr8(attrs.length)]))])
      count = 2 + opts.attrs.length
    } else msgs = Buffer.concat([stab, attrs])
    const h = Buffer.alloc(16); h[0] = 1; h.writeUInt16LE(count, 2); h.writeUInt32LE(1, 4); h.writeUInt32LE(msgs.length, 8)
    rootAddr = place(Buffer.concat([h, msgs]))
  } else {
    const linfo = msgV2(0x02, Buffer.concat([Buffer.from([0, 0]), UNDEF8, UNDEF8]))
    let ginfo = msgV2(0x0a, Buffer.from([0, 0]))
    if (opts.denseAttributeInfo) ginfo = Buffer.concat([ginfo, msgV2(0x15, Buffer.concat([Buffer.from([0, 0]), addr8(sbSize), UNDEF8]))])
    const attrs = Buffer.concat(opts.attrs.map((a, i) => msgV2(0x0c, attrMsg(a, i))))
    let msgs: Buffer
    if (opts.continuation) {
      const block = withSum(Buffer.concat([Buffer.from('OCHK', 'latin1'), attrs]))
      const cont = place(block)
      msgs = Buffer.concat([linfo, ginfo, msgV2(0x10, Buffer.concat([addr8(cont), addr8(block.length)]))])
    } else msgs = Buffer.concat([linfo, ginfo, attrs])
    // flags 0x02: chunk #0 size stored in 4 bytes
    rootAddr = place(withSum(Buffer.concat([Buffer.from('OHDR', 'latin1'), Buffer.from([2, 0x02]), le32(msgs.length), msgs])))
  }
  const body = Buffer.concat(out)
  const eof = body.length
  const sb = body.subarray(0, sbSize)
  if (!v2) {
    sb.writeUInt32LE(0x46444889, 0); sb.write('\r\n\x1a\n', 4, 'latin1')
    sb[8] = 0; sb[9] = 0; sb[10] = 0; sb[11] = 0; sb[12] = 0; sb[13] = 8; sb[14] = 8; sb[15] = 0
    sb.writeUInt16LE(4, 16); sb.writeUInt16LE(16, 18); sb.writeUInt32LE(0, 20)
    sb.writeBigUInt64LE(0n, 24); UNDEF8.copy(sb, 32); sb.writeBigUInt64LE(BigInt(eof), 40); UNDEF8.copy(sb, 48)
    // root symbol table entry: link name offset 0, header address, cache type 1 (B-tree and heap in the scratch pad)
    sb.writeBigUInt64LE(0n, 56); sb.writeBigUInt64LE(BigInt(rootAddr), 64); sb.writeUInt32LE(1, 72); sb.writeUInt32LE(0, 76)
    sb.writeBigUInt64LE(BigInt(btree), 80); sb.writeBigUInt64LE(BigInt(heap), 88)
  } else {
    sb.writeUInt32LE(0x46444889, 0); sb.write('\r\n\x1a\n', 4, 'latin1')
    sb[8] = 2; sb[9] = 8; sb[10] = 8; sb[11] = 0
    sb.writeBigUInt64LE(0n, 12); UNDEF8.copy(sb, 20); sb.writeBigUInt64LE(BigInt(eof), 28); sb.writeBigUInt64LE(BigInt(rootAddr), 36)
    sb.writeUInt32LE(lookup3(sb.subarray(0, 44)), 44)
  }
  return Buffer.concat([Buffer.alloc(opts.userBlock ?? 0), body])
}

/** A Keras-legacy-style .h5: model_config (+ keras_version, backend) on the root group. */
export function kerasH5(modelConfig: unknown, opts: Omit<H5Opts, 'attrs'> & {vlen?: boolean} = {}): Buffer {
  const vlen = opts.vlen ?? false
  return hdf5({...opts, attrs: [
    {name: 'keras_version', value: '2.12.0', vlen},
    {name: 'backend', value: 'tensorflow', vlen},
    {name: 'model_config', value: JSON.stringify(modelConfig), vlen},
  ]})
}

// ------------------------------------------------------------------ LZMA / LZMA2 (literal-only encoder) and 7z

/**
 * A minimal LZMA *encoder* for test fixtures: every byte is coded as a literal (no matches), with the
 * same range coder and probability model as the decoder (lc=3, lp=0, pb=2). Valid LZMA that any
 * decoder reads; compression is poor, which does not matter for fixtures.
 */
export function lzmaLiteral(data: Buffer, prevByte = 0): Buffer {
  const out: number[] = []
  let low = 0
  let range = 0xffffffff
  let cache = 0
  let cacheSize = 1
  const shiftLow = (): void => {
    if (low < 0xff000000 || low >= 0x100000000) {
      const carry = low >= 0x100000000 ? 1 : 0
      let temp = cache
      do { out.push((temp + carry) & 0xff); temp = 0xff } while (--cacheSize !== 0)
      cache = Math.floor(low / 0x1000000) & 0xff
    }
    cacheSize++
    low = (low % 0x1000000) * 256
  }
  const bit = (probs: Uint16Array, i: number, b: number): void => {
    const p = probs[i]
    const bound = (range >>> 11) * p
    if (b === 0) { range = bound; probs[i] = p + ((2048 - p) >>> 5) } else { low += bound; range -= bound; probs[i] = p - (p >>> 5) }
    while (range < 0x1000000) { range = (range * 256) >>> 0; shiftLow() }
  }
  const lc = 3
  const isMatch = new Uint16Array(12 << 4).fill(1024)
  const literal = new Uint16Array(0x300 << lc).fill(1024)
  let prev = prevByte
  for (let pos = 0; pos < data.length; pos++) {
    bit(isMatch, pos & 3, 0) // state 0 (only literals), posState = pos & pbMask
    const base = 0x300 * (prev >>> (8 - lc))
    let sym = 1
    for (let k = 7; k >= 0; k--) {
      const b = (data[pos] >>> k) & 1
      bit(literal, base + sym, b)
      sym = (sym << 1) | b
    }
    prev = data[pos]
  }
  for (let k = 0; k < 5; k++) shiftLow()
  return Buffer.from(out)
}

/** LZMA properties byte for lc=3, lp=0, pb=2, and a dictionary size. */
export function lzmaProps(dict = 1 << 20): Buffer {
  const b = Buffer.alloc(5); b[0] = 0x5d; b.writeUInt32LE(dict, 1); return b
}

/** A legacy .lzma ("LZMA alone") file with the size in the header. */
export function lzmaAlone(data: Buffer): Buffer {
  return Buffer.concat([lzmaProps(), u64(data.length), lzmaLiteral(data)])
}

/** An LZMA2 stream: literal-only LZMA chunks (state, props and dictionary reset on the first), then the end byte. */
export function lzma2Literal(data: Buffer): Buffer {
  const parts: Buffer[] = []
  const CH = 16 << 10
  for (let off = 0, first = true; off < data.length; off += CH, first = false) {
    const piece = data.subarray(off, off + CH)
    const packed = lzmaLiteral(piece, off > 0 ? data[off - 1] : 0)
    const u = piece.length - 1
    const p = packed.length - 1
    const ctrl = (first ? 0xe0 : 0xa0) | (u >>> 16) // first: dict reset + new props; then: state reset
    const head = Buffer.from([ctrl, (u >>> 8) & 0xff, u & 0xff, (p >>> 8) & 0xff, p & 0xff])
    parts.push(first ? Buffer.concat([head, Buffer.from([0x5d])]) : head, packed)
  }
  parts.push(Buffer.from([0]))
  return Buffer.concat(parts)
}

/** 7z variable-length number. */
function szNum(v: number): Buffer {
  for (let n = 0; n <= 8; n++) {
    if (n === 8 || v < 2 ** (8 * n + 7 - n)) {
      const out = Buffer.alloc(n + 1)
      const high = n === 8 ? 0 : Math.floor(v / 2 ** (8 * n))
      out[0] = ((0xff << (8 - n)) & 0xff) | high
      let rest = n === 8 ? v : v % 2 ** (8 * n)
      for (let i = 1; i <= n; i++) { out[i] = rest % 256; rest = Math.floor(rest / 256) }
      return out
    }
  }
  throw new Error('unreachable')
}

export type SevenZipCoder = 'copy' | 'lzma' | 'lzma2' | 'bcj+lzma' | 'aes'

function szFolder(coder: SevenZipCoder, unpackSize: number): Buffer {
  const one = (id: Buffer, props?: Buffer): Buffer => Buffer.concat([Buffer.from([id.length | (props ? 0x20 : 0)]), id,
    ...(props ? [szNum(props.length), props] : [])])
  let coders: Buffer
  let outs = 1
  if (coder === 'copy') coders = Buffer.concat([szNum(1), one(Buffer.from([0]))])
  else if (coder === 'lzma') coders = Buffer.concat([szNum(1), one(Buffer.from([3, 1, 1]), lzmaProps())])
  else if (coder === 'lzma2') coders = Buffer.concat([szNum(1), one(Buffer.from([0x21]), Buffer.from([16]))])
  else if (coder === 'aes') coders = Buffer.concat([szNum(1), one(Buffer.from([6, 0xf1, 7, 1]), Buffer.alloc(18))])
  else {
    // BCJ (x86) fed by LZMA: two coders, one bind pair (coder 0 input 0 <- coder 1 output 1)
    coders = Buffer.concat([szNum(2), one(Buffer.from([3, 3, 1, 3])), one(Buffer.from([3, 1, 1]), lzmaProps()), szNum(1), szNum(0)])
    outs = 2
  }
  return Buffer.concat([coders, Buffer.from([0x0c]), ...Array.from({length: outs}, () => szNum(unpackSize))])
}

function szStreams(packPos: number, packSize: number, coder: SevenZipCoder, unpackSize: number, subSizes?: number[]): Buffer {
  const parts: Buffer[] = [
    Buffer.from([0x06]), szNum(packPos), szNum(1), Buffer.from([0x09]), szNum(packSize), Buffer.from([0x00]),
    Buffer.from([0x07, 0x0b]), szNum(1), Buffer.from([0x00]), szFolder(coder, unpackSize), Buffer.from([0x00]),
  ]
  if (subSizes) {
    parts.push(Buffer.from([0x08, 0x0d]), szNum(subSizes.length))
    if (subSizes.length > 1) parts.push(Buffer.from([0x09]), ...subSizes.slice(0, -1).map(szNum))
    parts.push(Buffer.from([0x00]))
  }
  parts.push(Buffer.from([0x00]))
  return Buffer.concat(parts)
}

function szPack(coder: SevenZipCoder, data: Buffer): Buffer {
  if (coder === 'copy') return data
  if (coder === 'lzma2') return lzma2Literal(data)
  if (coder === 'aes') return Buffer.concat([data, Buffer.alloc(16 - (data.length % 16))]).map((b) => b ^ 0x5a) as Buffer
  return lzmaLiteral(data) // lzma, and the LZMA stage of bcj+lzma (BCJ is never applied: the scanner does not decode it)
}

export interface SevenZipOpts {
  coder?: SevenZipCoder
  /** Pack the header itself (kEncodedHeader) with this coder. */
  encodeHeader?: SevenZipCoder
  /** Folder unpack size written in the header (a lie when it differs from the data). */
  declaredUnpack?: number
  /** Extra entries: directories (no stream). */
  dirs?: string[]
}

/** A solid 7z archive: every file in one folder with the chosen coder, names in the header. */
export function sevenZip(files: Array<{name: string; data: Buffer}>, opts: SevenZipOpts = {}): Buffer {
  const coder = opts.coder ?? 'copy'
  const all = Buffer.concat(files.map((f) => f.data))
  const packed = szPack(coder, all)
  const dirs = opts.dirs ?? []
  const names = [...files.map((f) => f.name), ...dirs]
  const nameBytes = Buffer.concat([Buffer.from([0]), ...names.map((n) => Buffer.from(n + '\0', 'utf16le'))])
  const fileProps: Buffer[] = []
  if (dirs.length) {
    // kEmptyStream: the directories (listed last) have no stream
    const bits = Buffer.alloc(Math.ceil(names.length / 8))
    names.forEach((_n, i) => { if (i >= files.length) bits[i >> 3] |= 0x80 >> (i % 8) })
    fileProps.push(Buffer.from([0x0e]), szNum(bits.length), bits)
  }
  fileProps.push(Buffer.from([0x11]), szNum(nameBytes.length), nameBytes, Buffer.from([0x00]))
  const header = Buffer.concat([
    Buffer.from([0x01, 0x04]), szStreams(0, packed.length, coder, opts.declaredUnpack ?? all.length, files.map((f) => f.data.length)),
    Buffer.from([0x05]), szNum(names.length), ...fileProps, Buffer.from([0x00]),
  ])
  let body = packed
  let next = header
  if (opts.encodeHeader) {
    const ph = szPack(opts.encodeHeader, header)
    next = Buffer.concat([Buffer.from([0x17]), szStreams(packed.length, ph.length, opts.encodeHeader, header.length)])
    body = Buffer.concat([packed, ph])
  }
  const sig = Buffer.alloc(32)
  Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4]).copy(sig, 0)
  sig.writeBigUInt64LE(BigInt(body.length), 12)
  sig.writeBigUInt64LE(BigInt(next.length), 20)
  sig.writeUInt32LE(crc32(next), 28)
  sig.writeUInt32LE(crc32(sig.subarray(12, 32)), 8)
  return Buffer.concat([sig, body, next])
}

// ------------------------------------------------------------------ data formats, joblib ZF, nesting

/** The start of an IDL save file: "SR", record format 0x0004, then a TIMESTAMP record header. */
export function idlSave(): Buffer {
  const rec = Buffer.alloc(32)
  rec.writeUInt32BE(10, 0) // RECTYPE 10 = TIMESTAMP
  rec.writeUInt32BE(36, 4) // next record offset
  return Buffer.concat([Buffer.from([0x53, 0x52, 0x00, 0x04]), rec, Buffer.from('Mon Jan 01 00:00:00 2024\0\0\0\0user\0\0\0\0')])
}

/** A MATLAB 5.0 MAT-file: the 128-byte header and one small miMATRIX element. */
export function matlab5(): Buffer {
  const h = Buffer.alloc(128, 0x20)
  h.write('MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024', 0, 'latin1')
  h.fill(0, 116, 124)
  h.writeUInt16LE(0x0100, 124)
  h.write('IM', 126, 'latin1')
  const el = Buffer.alloc(16); el.writeUInt32LE(14, 0); el.writeUInt32LE(8, 4) // miMATRIX, 8 bytes
  return Buffer.concat([h, el])
}

/** A netCDF classic file: one dimension "x" of length 3, no attributes, no variables. */
export function netcdfClassic(): Buffer {
  const be = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b }
  return Buffer.concat([Buffer.from('CDF\x01', 'latin1'), be(0), be(0x0a), be(1), be(1), Buffer.from('x\0\0\0'), be(3), be(0), be(0), be(0), be(0)])
}

/** joblib's old compressed container: "ZF" + hex length padded to 19 characters + zlib stream. */
export function joblibZf(data: Buffer, declared = data.length): Buffer {
  return Buffer.concat([Buffer.from('ZF' + `0x${declared.toString(16)}`.padEnd(19, ' '), 'latin1'), zlib.deflateSync(data)])
}

/** `depth` zips each holding the next, the innermost holding `leaf` as `name`. */
export function nestedZip(depth: number, name: string, leaf: Buffer): Buffer {
  let cur = zip([{name, data: leaf}])
  for (let i = 1; i < depth; i++) cur = zip([{name: `level${depth - i}.zip`, data: cur}])
  return cur
}
