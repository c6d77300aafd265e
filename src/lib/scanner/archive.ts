/**
 * Container readers: zip (central directory, ZIP64, relaxed CRC, local/central consistency), tar
 * (ustar/GNU/pax), and streaming decompression (gzip, zlib, raw deflate, brotli) with byte budgets.
 * Members are exposed as Readers: stored zip members and tar members are slices of the parent (nothing
 * copied); compressed members are inflated into memory when small, or spooled to a temp file.
 */
import {closeSync, createWriteStream, mkdtempSync, openSync, writeSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {finished} from 'node:stream/promises'
import zlib from 'node:zlib'
import Bunzip from 'seek-bzip'
import {decodeLzmaAlone, decodeXz, XzError, XzUnsupported} from './xz.js'
import {BufferReader, FileReader, type Reader, SliceReader} from './io.js'

export class BombError extends Error {}
export class ArchiveError extends Error {}

export interface ZipEntry {
  name: string
  method: number
  flags: number
  compSize: number
  size: number
  crc: number
  localOffset: number
  dataOffset: number
  problems: string[]
}

export interface ZipListing {
  entries: ZipEntry[]
  problems: string[]
}

const EOCD_SIG = 0x06054b50
const CEN_SIG = 0x02014b50
const LOC_SIG = 0x04034b50

export async function readZipDirectory(r: Reader, maxEntries: number): Promise<ZipListing> {
  const problems: string[] = []
  const tailLen = Math.min(r.size, 65557)
  const tail = await r.read(r.size - tailLen, tailLen)
  let eocd = -1
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG) { eocd = i; break }
  }
  if (eocd < 0) throw new ArchiveError('zip end-of-central-directory record not found')
  const eocdAbs = r.size - tailLen + eocd
  let count = tail.readUInt16LE(eocd + 10)
  let cdSize = tail.readUInt32LE(eocd + 12)
  let cdOffset = tail.readUInt32LE(eocd + 16)
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) {
    // ZIP64 locator sits 20 bytes before the EOCD
    const locPos = eocdAbs - 20
    if (locPos >= 0) {
      const loc = await r.read(locPos, 20)
      if (loc.readUInt32LE(0) === 0x07064b50) {
        const recPos = Number(loc.readBigUInt64LE(8))
        const rec = await r.read(recPos, 56)
        if (rec.length === 56 && rec.readUInt32LE(0) === 0x06064b50) {
          count = Number(rec.readBigUInt64LE(32))
          cdSize = Number(rec.readBigUInt64LE(40))
          cdOffset = Number(rec.readBigUInt64LE(48))
        } else problems.push('ZIP64 end record missing or invalid')
      }
    }
  }
  if (count > maxEntries) throw new BombError(`zip declares ${count} entries (limit ${maxEntries})`)
  if (cdOffset + cdSize > r.size) {
    // prepended data (polyglot / self-extracting): shift by the difference
    const shift = eocdAbs - (cdOffset + cdSize)
    if (shift > 0 && cdOffset + shift + cdSize <= r.size) { problems.push(`central directory offset is off by ${shift} bytes (data prepended to the zip)`); cdOffset += shift }
    else throw new ArchiveError('zip central directory lies outside the file')
  }
  if (cdSize > 256 << 20) throw new BombError(`zip central directory of ${cdSize} bytes`)
  const cd = Buffer.from(await r.read(cdOffset, cdSize))
  const entries: ZipEntry[] = []
  let p = 0
  while (p + 46 <= cd.length && entries.length < Math.max(count, 1) + 16) {
    if (cd.readUInt32LE(p) !== CEN_SIG) { if (entries.length < count) problems.push(`bad central directory signature at entry ${entries.length}`); break }
    const flags = cd.readUInt16LE(p + 8)
    const method = cd.readUInt16LE(p + 10)
    const crc = cd.readUInt32LE(p + 16)
    let compSize = cd.readUInt32LE(p + 20)
    let size = cd.readUInt32LE(p + 24)
    const nameLen = cd.readUInt16LE(p + 28)
    const extraLen = cd.readUInt16LE(p + 30)
    const commentLen = cd.readUInt16LE(p + 32)
    let localOffset = cd.readUInt32LE(p + 42)
    const nameBuf = cd.subarray(p + 46, p + 46 + nameLen)
    const name = (flags & 0x800) ? nameBuf.toString('utf8') : nameBuf.toString('latin1')
    // ZIP64 extra
    let e = p + 46 + nameLen
    const eEnd = e + extraLen
    while (e + 4 <= eEnd && e + 4 <= cd.length) {
      const id = cd.readUInt16LE(e)
      const len = cd.readUInt16LE(e + 2)
      if (id === 1) {
        let q = e + 4
        if (size === 0xffffffff && q + 8 <= e + 4 + len) { size = Number(cd.readBigUInt64LE(q)); q += 8 }
        if (compSize === 0xffffffff && q + 8 <= e + 4 + len) { compSize = Number(cd.readBigUInt64LE(q)); q += 8 }
        if (localOffset === 0xffffffff && q + 8 <= e + 4 + len) { localOffset = Number(cd.readBigUInt64LE(q)); q += 8 }
      }
      e += 4 + len
    }
    p = eEnd + commentLen
    entries.push({name, method, flags, compSize, size, crc, localOffset, dataOffset: -1, problems: []})
  }
  if (entries.length !== count) problems.push(`central directory lists ${entries.length} entries but the end record declares ${count}`)
  // local headers
  for (const en of entries) {
    const loc = await r.read(en.localOffset, 30)
    if (loc.length < 30 || loc.readUInt32LE(0) !== LOC_SIG) { en.problems.push('local header missing'); continue }
    const lMethod = loc.readUInt16LE(8)
    const lFlags = loc.readUInt16LE(6)
    const nameLen = loc.readUInt16LE(26)
    const extraLen = loc.readUInt16LE(28)
    const lname = (await r.read(en.localOffset + 30, nameLen)).toString((lFlags & 0x800) ? 'utf8' : 'latin1')
    if (lname !== en.name) en.problems.push(`local header name ${JSON.stringify(lname)} differs from central directory name`)
    if (lMethod !== en.method) en.problems.push(`local header method ${lMethod} differs from central method ${en.method}`)
    if ((lFlags & 1) !== (en.flags & 1)) en.problems.push('local and central encryption flags differ')
    if (!(lFlags & 8)) {
      const lcomp = loc.readUInt32LE(18)
      const lsize = loc.readUInt32LE(22)
      if (lcomp !== 0xffffffff && lcomp !== en.compSize) en.problems.push(`local compressed size ${lcomp} differs from central ${en.compSize}`)
      if (lsize !== 0xffffffff && lsize !== en.size) en.problems.push(`local size ${lsize} differs from central ${en.size}`)
    }
    en.dataOffset = en.localOffset + 30 + nameLen + extraLen
    if (en.dataOffset + en.compSize > r.size) en.problems.push('member data runs past the end of the archive')
  }
  return {entries, problems}
}

/** Names that would escape the extraction directory. Returns the reason or null. */
export function slipReason(name: string): string | null {
  if (name.includes('\u0000')) return 'contains a NUL byte'
  if (/^[\\/]/.test(name)) return 'is an absolute path'
  if (/^[A-Za-z]:/.test(name)) return 'has a drive letter'
  if (/^~/.test(name)) return 'starts with ~'
  if (/^\$/.test(name)) return 'starts with an environment variable'
  const parts = name.split(/[\\/]+/)
  if (parts.includes('..')) return 'contains a .. segment'
  return null
}

/** Tar link targets outside the archive root. */
export function linkEscapes(member: string, target: string): boolean {
  if (/^[\\/]/.test(target) || /^[A-Za-z]:/.test(target)) return true
  const stack = member.split('/').filter((s) => s && s !== '.')
  stack.pop()
  for (const part of target.split(/[\\/]+/)) {
    if (!part || part === '.') continue
    if (part === '..') { if (!stack.length) return true; stack.pop() } else stack.push(part)
  }
  return false
}

export interface TarEntry { name: string; type: string; size: number; dataOffset: number; linkname: string }

function octal(b: Buffer, off: number, len: number): number {
  if (b[off] & 0x80) { // base-256
    let v = 0
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i]
    return v
  }
  const s = b.subarray(off, off + len).toString('latin1').replace(/\0.*$/s, '').trim()
  if (!s) return 0
  if (!/^[0-7]+$/.test(s)) throw new ArchiveError(`bad octal field ${JSON.stringify(s)}`)
  return parseInt(s, 8)
}

export function isTarHeader(h: Buffer): boolean {
  if (h.length < 512) return false
  const magic = h.subarray(257, 262).toString('latin1')
  if (magic !== 'ustar') return false
  try {
    const sum = octal(h, 148, 8)
    let s = 0
    for (let i = 0; i < 512; i++) s += i >= 148 && i < 156 ? 32 : h[i]
    return s === sum
  } catch { return false }
}

export async function* iterTar(r: Reader, maxEntries: number): AsyncGenerator<TarEntry> {
  let pos = 0
  let longName: string | null = null
  let longLink: string | null = null
  let pax: Record<string, string> = {}
  let n = 0
  while (pos + 512 <= r.size) {
    const h = Buffer.from(await r.read(pos, 512))
    if (h.every((b) => b === 0)) return
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]
    if (octal(h, 148, 8) !== sum) throw new ArchiveError(`tar header checksum mismatch at offset ${pos}`)
    const type = String.fromCharCode(h[156] || 0x30)
    const size = octal(h, 124, 12)
    let name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '')
    const prefix = h.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '')
    if (h.subarray(257, 263).toString('latin1') === 'ustar\0' && prefix) name = prefix + '/' + name
    const linkname = h.subarray(157, 257).toString('utf8').replace(/\0.*$/s, '')
    const dataOffset = pos + 512
    if (dataOffset + size > r.size) throw new ArchiveError(`tar member ${JSON.stringify(name)} runs past the end of the archive`)
    pos = dataOffset + Math.ceil(size / 512) * 512
    if (type === 'L' || type === 'K' || type === 'x' || type === 'g') {
      if (size > 1 << 20) throw new ArchiveError('oversized tar extended header')
      const data = (await r.read(dataOffset, size)).toString('utf8')
      if (type === 'L') longName = data.replace(/\0.*$/s, '')
      else if (type === 'K') longLink = data.replace(/\0.*$/s, '')
      else if (type === 'x') {
        pax = {}
        for (const rec of data.split('\n')) {
          const m = /^\d+ ([^=]+)=(.*)$/s.exec(rec)
          if (m) pax[m[1]] = m[2]
        }
      }
      continue
    }
    if (++n > maxEntries) throw new BombError(`tar has more than ${maxEntries} entries`)
    const entry: TarEntry = {name: pax.path ?? longName ?? name, type, size, dataOffset, linkname: pax.linkpath ?? longLink ?? linkname}
    longName = null; longLink = null; pax = {}
    yield entry
  }
}

export type StreamCodec = 'gzip' | 'zlib' | 'deflate-raw' | 'brotli' | 'bzip2' | 'xz' | 'lzma'

/** bzip2/xz/lzma input is decoded from memory (the decoders are synchronous): larger streams are not decoded. */
export const SYNC_DECODER_MAX_INPUT = 128 << 20
/** Largest LZMA dictionary (window) accepted; xz -9 uses 64 MB. */
export const XZ_MAX_DICT = 64 << 20
export class DecoderLimit extends Error {}

export interface Budget {
  /** Bytes that may still be produced by decompression for the current top-level file. */
  remainingBytes: number
  /** Abort when expanded/compressed exceeds this and the output exceeds ratioFloor bytes. */
  maxRatio: number
  ratioFloor: number
}

export interface Decompressed { reader: Reader; size: number; cleanup: () => Promise<void> }

const IN_MEMORY_LIMIT = 32 << 20

/** Stream-decompress `src` with budgets; small outputs stay in memory, large ones go to a temp file. */
export async function decompress(src: Reader, codec: StreamCodec, budget: Budget, signal?: AbortSignal): Promise<Decompressed> {
  if (codec === 'bzip2') return decompressBzip2(src, budget)
  if (codec === 'xz') return decodeSync(src, 'xz', (input, sink) => decodeXz(input, (b) => sink.add(b), XZ_MAX_DICT), budget)
  if (codec === 'lzma') return decodeSync(src, 'lzma', (input, sink) => decodeLzmaAlone(input, (b) => sink.add(b), XZ_MAX_DICT), budget)
  const z = codec === 'gzip' ? zlib.createGunzip() : codec === 'zlib' ? zlib.createInflate()
    : codec === 'deflate-raw' ? zlib.createInflateRaw() : zlib.createBrotliDecompress()
  async function* input(): AsyncGenerator<Buffer> {
    for (let p = 0; p < src.size; p += 1 << 20) {
      if (signal?.aborted) throw new Error('scan aborted')
      yield Buffer.from(await src.read(p, Math.min(1 << 20, src.size - p)))
    }
  }
  const inStream = Readable.from(input())
  inStream.on('error', (e) => z.destroy(e))
  inStream.pipe(z)
  const chunks: Buffer[] = []
  let total = 0
  let tmpDir: string | null = null
  let out: ReturnType<typeof createWriteStream> | null = null
  const cleanup = async (): Promise<void> => { if (tmpDir) await rm(tmpDir, {recursive: true, force: true}) }
  try {
    for await (const chunk of z as AsyncIterable<Buffer>) {
      total += chunk.length
      if (total > budget.remainingBytes) throw new BombError(`decompressed data exceeds the remaining budget of ${budget.remainingBytes} bytes`)
      if (total > budget.ratioFloor && total > src.size * budget.maxRatio) {
        throw new BombError(`expansion ratio above ${budget.maxRatio}:1 (${src.size} compressed bytes already produced ${total})`)
      }
      if (!out && total > IN_MEMORY_LIMIT) {
        tmpDir = await mkdtemp(join(tmpdir(), 'daystrom-scan-'))
        out = createWriteStream(join(tmpDir, 'member'))
        for (const c of chunks) if (!out.write(c)) await new Promise<void>((res) => out!.once('drain', () => res()))
        chunks.length = 0
      }
      if (out) { if (!out.write(chunk)) await new Promise<void>((res) => out!.once('drain', () => res())) } else chunks.push(chunk)
    }
  } catch (e) {
    budget.remainingBytes -= total
    inStream.destroy(); z.destroy()
    if (out) { out.destroy() }
    await cleanup()
    if (e instanceof BombError) throw e
    throw new ArchiveError(`${codec} data is corrupt: ${(e as Error).message}`)
  }
  budget.remainingBytes -= total
  if (out) {
    out.end()
    await finished(out)
    const fr = await FileReader.open(join(tmpDir!, 'member'))
    return {reader: fr, size: total, cleanup: async () => { await fr.close(); await cleanup() }}
  }
  return {reader: new BufferReader(Buffer.concat(chunks)), size: total, cleanup: async () => {}}
}

/**
 * Output sink for the synchronous decoders (bzip2, xz, lzma): every chunk is budget-checked (a bomb
 * aborts the decode by throwing) and output past IN_MEMORY_LIMIT is spilled synchronously to a temp
 * file, so memory stays bounded by the input cap plus ~33 MB.
 */
class SyncSink {
  private chunks: Buffer[] = []
  total = 0
  private tmpDir: string | null = null
  private fd: number | null = null
  constructor(private readonly srcSize: number, private readonly budget: Budget) {}
  add(b: Buffer): void {
    this.total += b.length
    if (this.total > this.budget.remainingBytes) throw new BombError(`decompressed data exceeds the remaining budget of ${this.budget.remainingBytes} bytes`)
    if (this.total > this.budget.ratioFloor && this.total > this.srcSize * this.budget.maxRatio) {
      throw new BombError(`expansion ratio above ${this.budget.maxRatio}:1 (${this.srcSize} compressed bytes already produced ${this.total})`)
    }
    if (this.fd !== null) { writeSync(this.fd, b); return }
    this.chunks.push(b)
    if (this.total > IN_MEMORY_LIMIT) {
      this.tmpDir = mkdtempSync(join(tmpdir(), 'daystrom-scan-'))
      this.fd = openSync(join(this.tmpDir, 'member'), 'w')
      for (const c of this.chunks) writeSync(this.fd, c)
      this.chunks = []
    }
  }
  async abort(): Promise<void> {
    this.budget.remainingBytes -= this.total
    if (this.fd !== null) { try { closeSync(this.fd) } catch { /* closed */ } this.fd = null }
    if (this.tmpDir) await rm(this.tmpDir, {recursive: true, force: true})
  }
  async finish(): Promise<Decompressed> {
    this.budget.remainingBytes -= this.total
    if (this.fd !== null) {
      closeSync(this.fd)
      this.fd = null
      const dir = this.tmpDir!
      const fr = await FileReader.open(join(dir, 'member'))
      return {reader: fr, size: this.total, cleanup: async () => { await fr.close(); await rm(dir, {recursive: true, force: true}) }}
    }
    return {reader: new BufferReader(Buffer.concat(this.chunks)), size: this.total, cleanup: async () => {}}
  }
}

/** Run a synchronous decoder over the (capped) in-memory input with a SyncSink. */
async function decodeSync(src: Reader, name: string, run: (input: Buffer, sink: SyncSink) => void, budget: Budget): Promise<Decompressed> {
  if (src.size > SYNC_DECODER_MAX_INPUT) throw new DecoderLimit(`${name} stream larger than ${SYNC_DECODER_MAX_INPUT >> 20} MB is not decoded`)
  const input = Buffer.from(await src.read(0, src.size))
  const sink = new SyncSink(src.size, budget)
  try {
    run(input, sink)
  } catch (e) {
    await sink.abort()
    if (e instanceof BombError) throw e
    if (e instanceof XzUnsupported) throw new DecoderLimit(`decoder unavailable: ${e.message}`)
    throw new ArchiveError(`${name} data is corrupt: ${(e as Error).message ?? String(e)}`)
  }
  return sink.finish()
}

/** bzip2 via the pure-JS `seek-bzip` decoder (writeByte output collected in 1 MB blocks). */
async function decompressBzip2(src: Reader, budget: Budget): Promise<Decompressed> {
  return decodeSync(src, 'bzip2', (input, sink) => {
    let cur = Buffer.allocUnsafe(1 << 20)
    let pos = 0
    Bunzip.decode(input, {
      writeByte(b: number): void {
        cur[pos++] = b
        if (pos === cur.length) { sink.add(cur); cur = Buffer.allocUnsafe(1 << 20); pos = 0 }
      },
    }, true)
    if (pos) sink.add(cur.subarray(0, pos))
  }, budget)
}

/** LZMA member of a zip (method 14): u16 version, u16 props size, props (5 bytes), LZMA data. */
function decodeZipLzma(input: Buffer, emit: (b: Buffer) => void, size: number, eos: boolean): void {
  if (input.length < 9) throw new XzError('zip lzma header truncated')
  const propsSize = input.readUInt16LE(2)
  if (propsSize !== 5) throw new XzError('zip lzma properties are not 5 bytes')
  const alone = Buffer.alloc(13 + input.length - 9)
  input.copy(alone, 0, 4, 9)
  if (eos) alone.fill(0xff, 5, 13)
  else { alone.writeUInt32LE(size % 0x100000000, 5); alone.writeUInt32LE(Math.floor(size / 0x100000000), 9) }
  input.copy(alone, 13, 9)
  decodeLzmaAlone(alone, emit, XZ_MAX_DICT)
}

/** Decode a zip member stored with method 14 (LZMA); `eos` = general-purpose flag bit 1. */
export async function decompressZipLzma(src: Reader, size: number, eos: boolean, budget: Budget): Promise<Decompressed> {
  return decodeSync(src, 'zip lzma', (input, sink) => decodeZipLzma(input, (b) => sink.add(b), size, eos), budget)
}

export function zipMemberReader(parent: Reader, e: ZipEntry): Reader {
  return new SliceReader(parent, e.dataOffset, e.compSize)
}
