/**
 * Random-access byte sources with bounded memory, and a sequential cursor over them.
 *
 * `HashingFileReader` is the only reader that touches a top-level file: it reads the file strictly
 * front to back in fixed chunks, feeding sha256 as it goes, and serves analysis reads from the current
 * chunk (or by pread from the page cache for regions already passed). A read ahead of the hashed
 * position advances the sequential pass; `finish()` hashes whatever the analysis did not need. So every
 * byte of a large file is read from disk once and hashed once, whatever the analysers do.
 */
import {createHash, type Hash} from 'node:crypto'
import {open, type FileHandle} from 'node:fs/promises'

export const EMPTY = Buffer.alloc(0)

export interface Reader {
  readonly size: number
  /** Exactly min(len, size - pos) bytes at pos. The returned buffer must not be written to. */
  read(pos: number, len: number): Promise<Buffer>
}

export class BufferReader implements Reader {
  constructor(private readonly buf: Buffer) {}
  get size(): number { return this.buf.length }
  read(pos: number, len: number): Promise<Buffer> {
    return Promise.resolve(this.buf.subarray(pos, Math.min(this.buf.length, pos + len)))
  }
}

export class SliceReader implements Reader {
  readonly size: number
  constructor(private readonly parent: Reader, private readonly start: number, size: number) {
    this.size = Math.max(0, Math.min(size, parent.size - start))
  }
  async read(pos: number, len: number): Promise<Buffer> {
    const n = Math.min(len, this.size - pos)
    if (n <= 0) return EMPTY
    return this.parent.read(this.start + pos, n)
  }
}

async function preadFull(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const b = Buffer.allocUnsafe(len)
  let off = 0
  while (off < len) {
    const {bytesRead} = await fh.read(b, off, len - off, pos + off)
    if (bytesRead === 0) throw new Error(`file shrank while being scanned (short read at ${pos + off})`)
    off += bytesRead
  }
  return b
}

/** Plain file reader (temp files, no hashing). */
export class FileReader implements Reader {
  private constructor(private readonly fh: FileHandle, readonly size: number) {}
  static async open(path: string): Promise<FileReader> {
    const fh = await open(path, 'r')
    const st = await fh.stat()
    return new FileReader(fh, st.size)
  }
  async read(pos: number, len: number): Promise<Buffer> {
    const n = Math.min(len, this.size - pos)
    if (n <= 0) return EMPTY
    return preadFull(this.fh, pos, n)
  }
  async close(): Promise<void> { await this.fh.close() }
}

export class HashingFileReader implements Reader {
  static CHUNK = 4 << 20
  private readonly hash: Hash = createHash('sha256')
  private hashedTo = 0
  private cache: Buffer = EMPTY
  private cacheStart = 0
  private digest?: string
  private constructor(
    private readonly fh: FileHandle, readonly size: number, private readonly onBytes?: (n: number) => void,
    private readonly signal?: AbortSignal,
  ) {}

  static async open(path: string, onBytes?: (n: number) => void, signal?: AbortSignal): Promise<HashingFileReader> {
    const fh = await open(path, 'r')
    const st = await fh.stat()
    return new HashingFileReader(fh, st.size, onBytes, signal)
  }

  /** Read-ahead: the next chunk is requested before the current one is hashed, so I/O overlaps hashing. */
  private pending: {pos: number; p: Promise<Buffer>} | null = null

  private async advance(): Promise<void> {
    if (this.signal?.aborted) throw new ScanAborted()
    const len = Math.min(HashingFileReader.CHUNK, this.size - this.hashedTo)
    let b: Buffer
    if (this.pending && this.pending.pos === this.hashedTo) b = await this.pending.p
    else b = await preadFull(this.fh, this.hashedTo, len)
    this.pending = null
    const nextPos = this.hashedTo + len
    if (nextPos < this.size) {
      const p = preadFull(this.fh, nextPos, Math.min(HashingFileReader.CHUNK, this.size - nextPos))
      p.catch(() => {})
      this.pending = {pos: nextPos, p}
    }
    this.hash.update(b)
    this.cache = b
    this.cacheStart = this.hashedTo
    this.hashedTo += len
    this.onBytes?.(len)
  }

  async read(pos: number, len: number): Promise<Buffer> {
    const n = Math.min(len, this.size - pos)
    if (n <= 0) return EMPTY
    const end = pos + n
    while (this.hashedTo < end) await this.advance()
    if (pos >= this.cacheStart && end <= this.cacheStart + this.cache.length) {
      return this.cache.subarray(pos - this.cacheStart, end - this.cacheStart)
    }
    return preadFull(this.fh, pos, n)
  }

  /** Hash the rest of the file (one sequential pass overall) and return the sha256 hex. */
  async finish(): Promise<string> {
    if (this.digest) return this.digest
    while (this.hashedTo < this.size) await this.advance()
    this.cache = EMPTY
    this.digest = this.hash.digest('hex')
    return this.digest
  }

  async close(): Promise<void> {
    if (this.pending) { await this.pending.p.catch(() => {}); this.pending = null }
    await this.fh.close()
  }
}

export class ScanAborted extends Error {
  constructor() { super('scan aborted') }
}

/** Thrown when input ends early or is structurally invalid. */
export class Truncated extends Error {}

/**
 * Sequential cursor with a window buffer. Hot paths test `c.pos + k <= c.winEnd` and index `c.win`
 * directly; `need(k)` refills. Large skips only move the position.
 */
export class Cursor {
  static WINDOW = 1 << 20
  win: Buffer = EMPTY
  winStart = 0
  winEnd = 0
  pos: number
  readonly end: number
  constructor(readonly reader: Reader, start = 0, end = reader.size) {
    this.pos = start
    this.end = Math.min(end, reader.size)
  }

  get remaining(): number { return this.end - this.pos }

  /** Make sure k bytes at pos are in the window; false when fewer than k remain. */
  async need(k: number): Promise<boolean> {
    if (this.pos + k <= this.winEnd && this.pos >= this.winStart) return true
    if (this.pos + k > this.end) return false
    const len = Math.min(Math.max(k, Cursor.WINDOW), this.end - this.pos)
    this.win = await this.reader.read(this.pos, len)
    this.winStart = this.pos
    this.winEnd = this.pos + this.win.length
    return this.win.length >= k
  }

  async mustNeed(k: number): Promise<void> {
    if (!(await this.need(k))) throw new Truncated(`unexpected end of data at offset ${this.pos} (needed ${k} bytes)`)
  }

  /** Callers must have called need(). */
  u8(): number { return this.win[this.pos++ - this.winStart] }
  u16(): number { const v = this.win.readUInt16LE(this.pos - this.winStart); this.pos += 2; return v }
  u32(): number { const v = this.win.readUInt32LE(this.pos - this.winStart); this.pos += 4; return v }
  i32(): number { const v = this.win.readInt32LE(this.pos - this.winStart); this.pos += 4; return v }
  /** u64 as a JS number (exact up to 2^53; larger values become >= 2^53, which always fails bounds checks). */
  u64(): number {
    const lo = this.win.readUInt32LE(this.pos - this.winStart)
    const hi = this.win.readUInt32LE(this.pos - this.winStart + 4)
    this.pos += 8
    return hi * 0x100000000 + lo
  }
  bytes(n: number): Buffer { const b = this.win.subarray(this.pos - this.winStart, this.pos - this.winStart + n); this.pos += n; return b }
  skip(n: number): void { this.pos += n }

  async readBytes(n: number): Promise<Buffer> { await this.mustNeed(n); return Buffer.from(this.bytes(n)) }
  async readU8(): Promise<number> { await this.mustNeed(1); return this.u8() }
  async readU32(): Promise<number> { await this.mustNeed(4); return this.u32() }
  async readU64(): Promise<number> { await this.mustNeed(8); return this.u64() }

  /**
   * Read up to and including '\n'. Returns the line (without '\n') when it is at most `keep` bytes,
   * otherwise null (the bytes are still consumed). Throws Truncated when no newline before end.
   */
  async readLine(keep = 1 << 16): Promise<string | null> {
    const parts: Buffer[] = []
    let kept = 0
    let overflow = false
    for (;;) {
      if (!(await this.need(1))) throw new Truncated(`unterminated line at offset ${this.pos}`)
      const off = this.pos - this.winStart
      const nl = this.win.indexOf(10, off)
      const stop = nl === -1 ? this.win.length : nl
      const chunk = this.win.subarray(off, stop)
      if (!overflow) {
        if (kept + chunk.length > keep) overflow = true
        else { parts.push(chunk); kept += chunk.length }
      }
      this.pos += chunk.length
      if (nl !== -1) {
        this.pos += 1
        return overflow ? null : Buffer.concat(parts).toString('latin1')
      }
    }
  }
}

export async function readAll(reader: Reader, max: number): Promise<Buffer | null> {
  if (reader.size > max) return null
  return Buffer.from(await reader.read(0, reader.size))
}
