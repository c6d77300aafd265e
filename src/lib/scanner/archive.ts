/**
 * Container readers: zip (central directory, ZIP64, relaxed CRC, local/central consistency), tar
 * (ustar/GNU/pax), and decompression (gzip, zlib, raw deflate, brotli natively; bzip2, xz, lzma, raw
 * LZMA/LZMA2 in pure JS, stepped and paced) with byte, ratio and time budgets.
 * Members are exposed as Readers: stored zip members and tar members are slices of the parent (nothing
 * copied); compressed members are inflated into memory when small, or spooled to a temp file.
 */
import {closeSync, mkdtempSync, openSync, writeSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import zlib from 'node:zlib'
import Bunzip from 'seek-bzip'
import {lzma2RawGen, lzmaAloneGen, lzmaRawGen, xzGen, XzError, XzUnsupported} from './xz.js'
import {BufferReader, EMPTY, FileReader, type Reader, ScanAborted, SliceReader} from './io.js'

export class BombError extends Error {}
export class ArchiveError extends Error {}

export interface ZipEntry {
  name: string
  method: number
  /** Central-directory general-purpose flags (bit 0 encrypted, bit 1 LZMA end marker, bit 3 data descriptor). */
  flags: number
  compSize: number
  size: number
  crc: number
  localOffset: number
  dataOffset: number
  problems: string[]
  /** AES encryption (method 99 / extra field 0x9901): the data is really encrypted. */
  aes: boolean
}

export interface ZipListing {
  entries: ZipEntry[]
  problems: string[]
  /** Entry count the end-of-central-directory record (or its ZIP64 record) declares. */
  declaredCount: number
  /** Entries found after the central-directory size the end record declares (readers that trust it miss them). */
  beyondDeclaredSize: number
}

const EOCD_SIG = 0x06054b50
const CEN_SIG = 0x02014b50
const LOC_SIG = 0x04034b50
const MAX_CD_BYTES = 256 << 20

/**
 * Read a zip's central directory the way Python's zipfile does, and more: the end record's entry
 * count and central-directory size are *not* trusted as bounds. Every consecutive central-directory
 * entry is read (up to `maxEntries`), so an end record that understates the count cannot hide the last
 * entries; disagreements are returned for the caller to report.
 */
export async function readZipDirectory(r: Reader, maxEntries: number, budget?: Budget): Promise<ZipListing> {
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
  let endPos = eocdAbs // where the central directory must end (EOCD or ZIP64 end record)
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) {
    // ZIP64 locator sits 20 bytes before the EOCD
    const locPos = eocdAbs - 20
    if (locPos >= 0) {
      const loc = await r.read(locPos, 20)
      if (loc.readUInt32LE(0) === 0x07064b50) {
        const recPos = Number(loc.readBigUInt64LE(8))
        const rec = recPos >= 0 && recPos + 56 <= r.size ? await r.read(recPos, 56) : Buffer.alloc(0)
        if (rec.length === 56 && rec.readUInt32LE(0) === 0x06064b50) {
          count = Number(rec.readBigUInt64LE(32))
          cdSize = Number(rec.readBigUInt64LE(40))
          cdOffset = Number(rec.readBigUInt64LE(48))
          endPos = recPos
        } else problems.push('ZIP64 end record missing or invalid')
      }
    }
  }
  const isCen = async (pos: number): Promise<boolean> => {
    if (!Number.isSafeInteger(pos) || pos < 0 || pos + 46 > r.size) return false
    return (await r.read(pos, 4)).readUInt32LE(0) === CEN_SIG
  }
  // Python's zipfile: the directory starts cdSize bytes before the end record, whatever cdOffset says
  // (data prepended to a zip shifts every offset by the same amount)
  let shift = 0
  const concat = endPos - cdSize - cdOffset
  if (!(await isCen(cdOffset)) && concat !== 0 && (await isCen(cdOffset + concat))) {
    shift = concat
    problems.push(`central directory offset is off by ${shift} bytes (data ${shift > 0 ? 'prepended to' : 'cut from'} the zip)`)
  } else if (cdOffset + cdSize > r.size && !(await isCen(cdOffset))) {
    throw new ArchiveError('zip central directory lies outside the file')
  }
  const cdStart = cdOffset + shift
  const regionEnd = Math.max(Math.min(endPos, r.size), Math.min(cdStart + cdSize, r.size))
  if (regionEnd - cdStart > MAX_CD_BYTES) throw new BombError(`zip central directory of ${regionEnd - cdStart} bytes`)
  const cd = cdStart >= 0 && regionEnd > cdStart ? Buffer.from(await r.read(cdStart, regionEnd - cdStart)) : Buffer.alloc(0)
  const entries: ZipEntry[] = []
  let beyondDeclaredSize = 0
  let p = 0
  while (p + 46 <= cd.length && cd.readUInt32LE(p) === CEN_SIG) {
    if (entries.length >= maxEntries) throw new BombError(`zip has more than ${maxEntries} entries`)
    if (p >= cdSize) beyondDeclaredSize++
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
    let aes = method === 99
    // ZIP64 and AES extras
    let e = p + 46 + nameLen
    const eEnd = e + extraLen
    while (e + 4 <= eEnd && e + 4 <= cd.length) {
      const id = cd.readUInt16LE(e)
      const len = cd.readUInt16LE(e + 2)
      if (id === 1) {
        let q = e + 4
        const qEnd = Math.min(e + 4 + len, cd.length)
        if (size === 0xffffffff && q + 8 <= qEnd) { size = Number(cd.readBigUInt64LE(q)); q += 8 }
        if (compSize === 0xffffffff && q + 8 <= qEnd) { compSize = Number(cd.readBigUInt64LE(q)); q += 8 }
        if (localOffset === 0xffffffff && q + 8 <= qEnd) { localOffset = Number(cd.readBigUInt64LE(q)); q += 8 }
      } else if (id === 0x9901) aes = true
      e += 4 + len
    }
    p = eEnd + commentLen
    entries.push({name, method, flags, compSize, size, crc, localOffset: localOffset + shift, dataOffset: -1, problems: [], aes})
  }
  if (entries.length < count && p + 4 <= cd.length) problems.push(`bad central directory signature at entry ${entries.length}`)
  // local headers
  let n = 0
  for (const en of entries) {
    if (budget && ++n % 1024 === 0) await pace(budget)
    const loc = en.localOffset >= 0 && en.localOffset + 30 <= r.size ? await r.read(en.localOffset, 30) : Buffer.alloc(0)
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
  return {entries, problems, declaredCount: count, beyondDeclaredSize}
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

/** bzip2/xz/lzma input is decoded from memory (the decoders are pure JS): larger streams are not decoded. */
export const SYNC_DECODER_MAX_INPUT = 128 << 20
/** Largest LZMA dictionary (window) accepted; xz -9 uses 64 MB. */
export const XZ_MAX_DICT = 64 << 20
export class DecoderLimit extends Error {}
/** The file's decoding-time budget ran out (a resource-exhaustion attempt, or a file too costly to decode). */
export class TimeBudgetError extends BombError {}

/**
 * Per top-level file: what decompression may still produce and cost. Bytes are checked per stream
 * (ratio against that stream's compressed size) *and* cumulatively for the whole file (ratio against
 * the size of the file the attacker actually ships), so a small archive of many members each sized just
 * under a per-stream limit is stopped after the first few. Decoding time (pure-JS decoders) is charged
 * to `decodeMs`; long decoders yield to the event loop (`pace`) so an AbortSignal stops them promptly.
 */
export interface Budget {
  /** Bytes that may still be produced by decompression for the current top-level file. */
  remainingBytes: number
  /** Per-stream and cumulative: abort when expanded/compressed exceeds this and the output exceeds ratioFloor bytes. */
  maxRatio: number
  ratioFloor: number
  /** Cumulative only: beyond `largeFloor` expanded bytes, the ratio may not exceed `maxRatioLarge`. */
  maxRatioLarge?: number
  largeFloor?: number
  /** Size of the top-level file (0: unknown, no cumulative ratio check). */
  inputSize?: number
  /** Bytes produced by every decoder so far for this file. */
  expanded?: number
  /** Milliseconds spent in pure-JS decoders so far, and the limit. */
  decodeMs?: number
  maxDecodeMs?: number
  signal?: AbortSignal
  lastYield?: number
}

/** Give the event loop a turn every ~20 ms of synchronous work, and stop when the scan is aborted. */
export async function pace(b: Budget): Promise<void> {
  const now = performance.now()
  if (b.lastYield === undefined) b.lastYield = now
  if (now - b.lastYield >= 20) {
    await new Promise<void>((res) => { setImmediate(res) })
    b.lastYield = performance.now()
  }
  if (b.signal?.aborted) throw new ScanAborted()
}

/** Charge `n` more expanded bytes to the file; throws BombError when a cumulative limit is crossed. */
function chargeExpansion(b: Budget, n: number): void {
  b.expanded = (b.expanded ?? 0) + n
  const input = b.inputSize ?? 0
  if (input <= 0) return
  const e = b.expanded
  if (e > b.ratioFloor && e > input * b.maxRatio) {
    throw new BombError(`the file's decompressed content reached ${e} bytes, over ${b.maxRatio}:1 of its ${input} bytes`)
  }
  const large = b.largeFloor ?? Infinity
  const ratioLarge = b.maxRatioLarge ?? b.maxRatio
  if (e > large && e > input * ratioLarge) {
    throw new BombError(`the file's decompressed content reached ${e} bytes, over ${ratioLarge}:1 of its ${input} bytes`)
  }
}

function checkTime(b: Budget): void {
  if (b.maxDecodeMs !== undefined && (b.decodeMs ?? 0) > b.maxDecodeMs) {
    throw new TimeBudgetError(`decoding time budget of ${(b.maxDecodeMs / 1000).toFixed(1)} s exhausted`)
  }
}

/** The byte budget ran out without a bomb-like ratio: the rest is too large to analyse, not hostile. */
export class BudgetExhausted extends DecoderLimit {}

export interface Decompressed { reader: Reader; size: number; cleanup: () => Promise<void> }

const IN_MEMORY_LIMIT = 32 << 20

/** Stream-decompress `src` with budgets; small outputs stay in memory, large ones go to a temp file. */
export async function decompress(src: Reader, codec: StreamCodec, budget: Budget, signal?: AbortSignal): Promise<Decompressed> {
  if (signal && !budget.signal) budget.signal = signal
  if (codec === 'bzip2') return decompressBzip2(src, budget)
  if (codec === 'xz') return decodeGen(src, 'xz', (input, emit) => xzGen(input, emit, XZ_MAX_DICT), budget)
  if (codec === 'lzma') return decodeGen(src, 'lzma', (input, emit) => lzmaAloneGen(input, emit, XZ_MAX_DICT), budget)
  if (codec !== 'brotli' && src.size <= SMALL_NATIVE_INPUT) {
    const small = await inflateSmall(src, codec, budget)
    if (small) return small
  }
  const z = codec === 'gzip' ? zlib.createGunzip() : codec === 'zlib' ? zlib.createInflate()
    : codec === 'deflate-raw' ? zlib.createInflateRaw() : zlib.createBrotliDecompress()
  const sig = budget.signal
  async function* input(): AsyncGenerator<Buffer> {
    for (let p = 0; p < src.size; p += 1 << 20) {
      if (sig?.aborted) throw new ScanAborted()
      yield Buffer.from(await src.read(p, Math.min(1 << 20, src.size - p)))
    }
  }
  const inStream = Readable.from(input())
  inStream.on('error', (e) => z.destroy(e))
  inStream.pipe(z)
  const sink = new Sink(src.size, budget)
  try {
    for await (const chunk of z as AsyncIterable<Buffer>) {
      if (sig?.aborted) throw new ScanAborted()
      await sink.add(chunk)
    }
  } catch (e) {
    inStream.destroy(); z.destroy()
    await sink.abort()
    if (e instanceof BombError || e instanceof DecoderLimit || e instanceof ScanAborted) throw e
    throw new ArchiveError(`${codec} data is corrupt: ${(e as Error).message}`)
  }
  return sink.finish()
}

/** Compressed inputs up to this size are inflated in one synchronous call (an archive of many small members). */
const SMALL_NATIVE_INPUT = 1 << 20

/**
 * Inflate a small deflate/gzip/zlib input synchronously (a zlib stream per member costs far more than the
 * data), its output capped at the in-memory limit; null when the output would be larger (the streaming
 * path then takes over). The call's time is charged to the file's decoding budget.
 */
async function inflateSmall(src: Reader, codec: 'gzip' | 'zlib' | 'deflate-raw', budget: Budget): Promise<Decompressed | null> {
  checkTime(budget)
  if (budget.signal?.aborted) throw new ScanAborted()
  const input = await src.read(0, src.size)
  const maxOutputLength = Math.max(1, Math.min(IN_MEMORY_LIMIT, budget.remainingBytes + 1))
  const t0 = performance.now()
  let out: Buffer
  try {
    out = codec === 'deflate-raw' ? zlib.inflateRawSync(input, {maxOutputLength}) : codec === 'gzip' ? zlib.gunzipSync(input, {maxOutputLength})
      : zlib.inflateSync(input, {maxOutputLength})
  } catch (e) {
    if ((e as {code?: string}).code === 'ERR_BUFFER_TOO_LARGE') return null
    throw new ArchiveError(`${codec} data is corrupt: ${(e as Error).message}`)
  } finally {
    budget.decodeMs = (budget.decodeMs ?? 0) + (performance.now() - t0)
  }
  const sink = new Sink(src.size, budget)
  try {
    sink.addSync(out)
  } catch (e) {
    await sink.abort()
    throw e
  }
  await pace(budget)
  return sink.finish()
}

/**
 * Output sink for every decoder: each chunk is budget-checked (per stream, cumulatively, and against
 * the byte budget; a bomb aborts the decode by throwing) and output past IN_MEMORY_LIMIT is spilled
 * to a temp file, so memory stays bounded by the input cap plus ~33 MB. `addSync` serves the
 * synchronous decoders (called from inside a generator step), `add` the streaming ones.
 */
class Sink {
  private chunks: Buffer[] = []
  total = 0
  private tmpDir: string | null = null
  private fd: number | null = null
  constructor(private readonly srcSize: number, private readonly budget: Budget) {}
  addSync(b: Buffer): void {
    if (!b.length) return
    this.total += b.length
    const bud = this.budget
    if (this.total > bud.remainingBytes) {
      const input = bud.inputSize ?? 0
      const ratio = input > 0 ? ((bud.expanded ?? 0) + b.length) / input : Infinity
      if (ratio > (bud.maxRatioLarge ?? bud.maxRatio)) throw new BombError(`decompressed data exceeds the remaining budget of ${bud.remainingBytes} bytes`)
      throw new BudgetExhausted(`decompressed data beyond the remaining budget of ${bud.remainingBytes} bytes not analysed`)
    }
    if (this.total > bud.ratioFloor && this.total > this.srcSize * bud.maxRatio) {
      throw new BombError(`expansion ratio above ${bud.maxRatio}:1 (${this.srcSize} compressed bytes already produced ${this.total})`)
    }
    chargeExpansion(bud, b.length)
    if (this.fd !== null) { writeSync(this.fd, b); return }
    this.chunks.push(b)
    if (this.total > IN_MEMORY_LIMIT) {
      this.tmpDir = mkdtempSync(join(tmpdir(), 'daystrom-scan-'))
      this.fd = openSync(join(this.tmpDir, 'member'), 'w')
      for (const c of this.chunks) writeSync(this.fd, c)
      this.chunks = []
    }
  }
  async add(b: Buffer): Promise<void> {
    this.addSync(b)
    await pace(this.budget)
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
    return {reader: new BufferReader(this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks)), size: this.total, cleanup: async () => {}}
  }
}

/** Drive a decoder generator: charge each step's time to the budget and pace between steps. */
async function drive<R>(g: Generator<void, R>, budget: Budget): Promise<R> {
  for (;;) {
    const t0 = performance.now()
    const r = g.next()
    budget.decodeMs = (budget.decodeMs ?? 0) + (performance.now() - t0)
    if (r.done) return r.value
    checkTime(budget)
    await pace(budget)
  }
}

export interface DecodeResult<R> { out: Decompressed; end: R }

/** Run a generator decoder over the (capped) in-memory input with a Sink. */
async function decodeGenEx<R>(src: Reader, name: string, make: (input: Buffer, emit: (b: Buffer) => void) => Generator<void, R>, budget: Budget): Promise<DecodeResult<R>> {
  if (src.size > SYNC_DECODER_MAX_INPUT) throw new DecoderLimit(`${name} stream larger than ${SYNC_DECODER_MAX_INPUT >> 20} MB is not decoded`)
  checkTime(budget)
  const input = Buffer.from(await src.read(0, src.size))
  const sink = new Sink(src.size, budget)
  let end: R
  try {
    end = await drive(make(input, (b) => { sink.addSync(b) }), budget)
  } catch (e) {
    await sink.abort()
    if (e instanceof BombError || e instanceof DecoderLimit || e instanceof ScanAborted) throw e
    if (e instanceof XzUnsupported) throw new DecoderLimit(`decoder unavailable: ${e.message}`)
    throw new ArchiveError(`${name} data is corrupt: ${(e as Error).message ?? String(e)}`)
  }
  return {out: await sink.finish(), end}
}

async function decodeGen(src: Reader, name: string, make: (input: Buffer, emit: (b: Buffer) => void) => Generator<void>, budget: Budget): Promise<Decompressed> {
  return (await decodeGenEx(src, name, make, budget)).out
}

interface BzInput { pos: number; readByte(): number; read(buf: Buffer, off: number, len: number): number; seek(p: number): void; eof(): boolean }

/** bzip2 through the pure-JS `seek-bzip` decoder, one block per generator step (multi-stream). */
function* bzip2Gen(input: Buffer, emit: (b: Buffer) => void): Generator<void> {
  const ins: BzInput = {
    pos: 0,
    readByte() { return this.pos < input.length ? input[this.pos++] : -1 },
    read(buf, off, len) {
      let n = 0
      while (n < len && this.pos < input.length) buf[off + n++] = input[this.pos++]
      return n === 0 && len > 0 ? -1 : n
    },
    seek(p) { this.pos = p },
    eof() { return this.pos >= input.length },
  }
  let cur = Buffer.allocUnsafe(1 << 20)
  let at = 0
  const out = {
    writeByte(b: number): void {
      cur[at++] = b
      if (at === cur.length) { emit(cur); cur = Buffer.allocUnsafe(1 << 20); at = 0 }
    },
  }
  const bz = new Bunzip(ins, out)
  for (;;) {
    if (ins.eof()) break
    if (bz._init_block()) {
      bz._read_bunzip()
      yield
    } else {
      const crc = bz.reader.read(32) >>> 0
      if (crc !== bz.streamCRC) throw new Error(`Bad stream CRC (got ${bz.streamCRC.toString(16)} expected ${crc.toString(16)})`)
      if (ins.eof()) break
      bz._start_bunzip(ins, out)
    }
  }
  if (at) emit(cur.subarray(0, at))
}

/** bzip2 (stream, zip method 12, 7z coder 04 02 02). */
export async function decompressBzip2(src: Reader, budget: Budget): Promise<Decompressed> {
  return decodeGen(src, 'bzip2', bzip2Gen, budget)
}

export interface LzmaDecompressed extends Decompressed {
  /** Bytes decoded past the declared size (the directory entry understated it). */
  extra: number
}

/** LZMA member of a zip (method 14): u16 version, u16 props size, props (5 bytes), LZMA data; `eos` = flag bit 1. */
export async function decompressZipLzma(src: Reader, size: number, eos: boolean, budget: Budget): Promise<LzmaDecompressed> {
  const r = await decodeGenEx(src, 'zip lzma', (input, emit) => {
    if (input.length < 9) throw new XzError('zip lzma header truncated')
    const propsSize = input.readUInt16LE(2)
    if (propsSize !== 5) throw new XzError('zip lzma properties are not 5 bytes')
    return lzmaRawGen(input.subarray(9), input.subarray(4, 9), eos ? null : size, emit, XZ_MAX_DICT, true)
  }, budget)
  return {...r.out, extra: r.end.extra}
}

/** Raw LZMA stream (7z coder 03 01 01) with 5 property bytes and the folder's declared unpack size. */
export async function decompressLzmaRaw(src: Reader, props: Buffer, size: number, budget: Budget): Promise<LzmaDecompressed> {
  const r = await decodeGenEx(src, 'lzma', (input, emit) => lzmaRawGen(input, props, size, emit, XZ_MAX_DICT, true), budget)
  return {...r.out, extra: r.end.extra}
}

/** Raw LZMA2 stream (7z coder 21) with its dictionary property byte. */
export async function decompressLzma2Raw(src: Reader, dictProp: number, budget: Budget): Promise<Decompressed> {
  return decodeGen(src, 'lzma2', (input, emit) => lzma2RawGen(input, dictProp, emit, XZ_MAX_DICT), budget)
}

/**
 * A small block cache over an archive's reader: directory walks and members read in offset order turn
 * hundreds of thousands of tiny reads (local headers, names, member data) into few 64 KB reads. Reads
 * larger than a block go straight to the parent.
 */
export class BlockCacheReader implements Reader {
  private readonly blocks = new Map<number, Buffer>()
  constructor(private readonly parent: Reader, private readonly blockSize = 64 << 10, private readonly maxBlocks = 16) {}
  get size(): number { return this.parent.size }
  private async block(i: number): Promise<Buffer> {
    const hit = this.blocks.get(i)
    if (hit) { this.blocks.delete(i); this.blocks.set(i, hit); return hit }
    const b = await this.parent.read(i * this.blockSize, this.blockSize)
    if (this.blocks.size >= this.maxBlocks) this.blocks.delete(this.blocks.keys().next().value as number)
    this.blocks.set(i, b)
    return b
  }
  async read(pos: number, len: number): Promise<Buffer> {
    const n = Math.min(len, this.size - pos)
    if (n <= 0) return EMPTY
    if (n > this.blockSize) return this.parent.read(pos, n)
    const first = Math.floor(pos / this.blockSize)
    const last = Math.floor((pos + n - 1) / this.blockSize)
    const off = pos - first * this.blockSize
    if (first === last) return (await this.block(first)).subarray(off, off + n)
    return Buffer.concat([(await this.block(first)).subarray(off), (await this.block(last)).subarray(0, pos + n - last * this.blockSize)])
  }
}

export function zipMemberReader(parent: Reader, e: ZipEntry): Reader {
  return new SliceReader(parent, e.dataOffset, e.compSize)
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c
  }
  return t
})()

/** CRC-32 (zip, 7z) of a reader's bytes, read in 1 MB chunks with pacing. */
export async function crc32Of(r: Reader, budget?: Budget): Promise<number> {
  let c = -1
  for (let p = 0; p < r.size; p += 1 << 20) {
    const b = await r.read(p, Math.min(1 << 20, r.size - p))
    for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8)
    if (budget) await pace(budget)
  }
  return (c ^ -1) >>> 0
}
