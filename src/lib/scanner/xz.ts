/**
 * Pure TypeScript decoder for .xz (LZMA2 filter only), legacy .lzma ("LZMA alone") streams and the raw
 * LZMA / LZMA2 streams of zip and 7z members, after the LZMA SDK specification. Decoding runs over an
 * in-memory input as a *generator* that yields after every LZMA2 chunk or 1 MB LZMA slice, so the caller
 * (archive.ts) can give the event loop a turn, honour an AbortSignal and charge decoding time to a
 * budget; output is handed out in chunks to `emit`, which may throw to abort (budget / bomb checks). The
 * dictionary is a circular window capped at `maxDict` (and at the declared output size when known), so
 * memory is bounded by input + window. Integrity checks (CRC32/CRC64/SHA-256) are skipped, like the
 * PyTorch reader's relaxed CRC: this is a scanner, not an archiver.
 */
export class XzError extends Error {}
/** Valid but unsupported (BCJ/delta filters, oversized dictionary): report, do not call it corrupt. */
export class XzUnsupported extends Error {}

const EMIT_EVERY = 1 << 20
/** Output produced by one LZMA decode step between two yields. */
const SLICE = 1 << 20

export type Emit = (b: Buffer) => void

class Input {
  pos: number
  constructor(readonly buf: Buffer, pos = 0, readonly end = buf.length) { this.pos = pos }
  byte(): number {
    if (this.pos >= this.end) throw new XzError('unexpected end of input')
    return this.buf[this.pos++]
  }
  varint(): number {
    let v = 0
    let mul = 1
    for (let i = 0; i < 9; i++) {
      const b = this.byte()
      v += (b & 0x7f) * mul
      if (!(b & 0x80)) return v
      mul *= 128
    }
    throw new XzError('varint too long')
  }
}

class Window {
  readonly buf: Buffer
  pos = 0
  full = false
  total = 0
  private flushed = 0
  // allocUnsafe: bytes are only read back after being written (has() guards), and untouched pages of a
  // large dictionary never become resident
  constructor(readonly size: number, private readonly emit: Emit) { this.buf = Buffer.allocUnsafe(size) }
  put(b: number): void {
    this.buf[this.pos++] = b
    this.total++
    if (this.pos === this.size) { this.flush(); this.pos = 0; this.flushed = 0; this.full = true } else if (this.pos - this.flushed >= EMIT_EVERY) this.flush()
  }
  /** Byte at distance `dist` back (1 = last byte). */
  get(dist: number): number {
    let i = this.pos - dist
    if (i < 0) i += this.size
    return this.buf[i]
  }
  has(dist: number): boolean { return dist <= (this.full ? this.size : this.pos) }
  flush(): void {
    if (this.pos > this.flushed) { this.emit(Buffer.from(this.buf.subarray(this.flushed, this.pos))); this.flushed = this.pos }
  }
  reset(): void { this.flush(); this.pos = 0; this.flushed = 0; this.full = false }
}

class RangeDecoder {
  range = 0xffffffff
  code = 0
  constructor(readonly inp: Input) {
    if (inp.byte() !== 0) throw new XzError('range coder init byte is not zero')
    for (let i = 0; i < 4; i++) this.code = ((this.code * 256) + inp.byte()) >>> 0
    if (this.code === this.range) throw new XzError('corrupted range coder')
  }
  bit(p: Uint16Array, i: number): number {
    const prob = p[i]
    const bound = (this.range >>> 11) * prob
    let r: number
    if (this.code < bound) {
      this.range = bound
      p[i] = prob + ((2048 - prob) >>> 5)
      r = 0
    } else {
      this.range -= bound
      this.code -= bound
      p[i] = prob - (prob >>> 5)
      r = 1
    }
    if (this.range < 0x1000000) { this.range = (this.range * 256) >>> 0; this.code = ((this.code * 256) + this.inp.byte()) >>> 0 }
    return r
  }
  direct(n: number): number {
    let res = 0
    for (let i = 0; i < n; i++) {
      this.range = this.range >>> 1
      let b = 0
      if (this.code >= this.range) { this.code -= this.range; b = 1 }
      res = res * 2 + b
      if (this.range < 0x1000000) { this.range = (this.range * 256) >>> 0; this.code = ((this.code * 256) + this.inp.byte()) >>> 0 }
    }
    return res
  }
  tree(p: Uint16Array, base: number, bits: number): number {
    let m = 1
    for (let i = 0; i < bits; i++) m = (m << 1) + this.bit(p, base + m)
    return m - (1 << bits)
  }
  reverse(p: Uint16Array, base: number, bits: number): number {
    let m = 1
    let sym = 0
    for (let i = 0; i < bits; i++) {
      const b = this.bit(p, base + m)
      m = (m << 1) + b
      sym |= b << i
    }
    return sym
  }
}

class LenDecoder {
  choice = new Uint16Array(2)
  low = new Uint16Array(16 << 3)
  mid = new Uint16Array(16 << 3)
  high = new Uint16Array(256)
  reset(): void { this.choice.fill(1024); this.low.fill(1024); this.mid.fill(1024); this.high.fill(1024) }
  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return rc.tree(this.low, posState << 3, 3)
    if (rc.bit(this.choice, 1) === 0) return 8 + rc.tree(this.mid, posState << 3, 3)
    return 16 + rc.tree(this.high, 0, 8)
  }
}

class Lzma {
  lc = 0; lp = 0; pb = 0
  literal = new Uint16Array(0)
  posSlot = new Uint16Array(4 << 6)
  posDec = new Uint16Array(115)
  align = new Uint16Array(16)
  isMatch = new Uint16Array(12 << 4)
  isRep = new Uint16Array(12)
  isRepG0 = new Uint16Array(12)
  isRepG1 = new Uint16Array(12)
  isRepG2 = new Uint16Array(12)
  isRep0Long = new Uint16Array(12 << 4)
  len = new LenDecoder()
  repLen = new LenDecoder()
  state = 0
  rep0 = 0; rep1 = 0; rep2 = 0; rep3 = 0
  /** Bytes of a match still to copy when the previous decode() stopped at its limit. */
  pendingLen = 0

  setProps(d: number): void {
    if (d >= 9 * 5 * 5) throw new XzError('invalid LZMA properties')
    this.lc = d % 9; d = Math.floor(d / 9)
    this.lp = d % 5; this.pb = Math.floor(d / 5)
    if (this.lc + this.lp > 12) throw new XzUnsupported('LZMA lc+lp above 12')
    this.literal = new Uint16Array(0x300 << (this.lc + this.lp))
  }
  resetState(): void {
    this.literal.fill(1024); this.posSlot.fill(1024); this.posDec.fill(1024); this.align.fill(1024)
    this.isMatch.fill(1024); this.isRep.fill(1024); this.isRepG0.fill(1024); this.isRepG1.fill(1024); this.isRepG2.fill(1024)
    this.isRep0Long.fill(1024); this.len.reset(); this.repLen.reset()
    this.state = 0; this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0; this.pendingLen = 0
  }

  /** Decode until `limit` bytes were produced (or the end marker when allowed). Returns bytes produced. */
  decode(rc: RangeDecoder, w: Window, limit: number, allowEndMarker: boolean): number {
    const pbMask = (1 << this.pb) - 1
    const lpMask = (1 << this.lp) - 1
    const start = w.total
    while (this.pendingLen > 0 && w.total - start < limit) { w.put(w.get(this.rep0 + 1)); this.pendingLen-- }
    while (w.total - start < limit) {
      const posState = w.total & pbMask
      const st = this.state
      if (rc.bit(this.isMatch, (st << 4) + posState) === 0) {
        const prev = w.has(1) ? w.get(1) : 0
        const base = 0x300 * (((w.total & lpMask) << this.lc) + (prev >>> (8 - this.lc)))
        let sym = 1
        if (st >= 7) {
          if (!w.has(this.rep0 + 1)) throw new XzError('match distance outside the window')
          let matchByte = w.get(this.rep0 + 1)
          do {
            const matchBit = (matchByte >>> 7) & 1
            matchByte <<= 1
            const b = rc.bit(this.literal, base + ((1 + matchBit) << 8) + sym)
            sym = (sym << 1) | b
            if (matchBit !== b) break
          } while (sym < 0x100)
        }
        while (sym < 0x100) sym = (sym << 1) | rc.bit(this.literal, base + sym)
        w.put(sym - 0x100)
        this.state = st < 4 ? 0 : st < 10 ? st - 3 : st - 6
        continue
      }
      let len: number
      if (rc.bit(this.isRep, st) !== 0) {
        if (w.total === 0 && !w.full) throw new XzError('repeat match at the start of the data')
        if (rc.bit(this.isRepG0, st) === 0) {
          if (rc.bit(this.isRep0Long, (st << 4) + posState) === 0) {
            this.state = st < 7 ? 9 : 11
            if (!w.has(this.rep0 + 1)) throw new XzError('match distance outside the window')
            w.put(w.get(this.rep0 + 1))
            continue
          }
        } else {
          let dist: number
          if (rc.bit(this.isRepG1, st) === 0) dist = this.rep1
          else {
            if (rc.bit(this.isRepG2, st) === 0) dist = this.rep2
            else { dist = this.rep3; this.rep3 = this.rep2 }
            this.rep2 = this.rep1
          }
          this.rep1 = this.rep0
          this.rep0 = dist
        }
        len = this.repLen.decode(rc, posState)
        this.state = st < 7 ? 8 : 11
      } else {
        this.rep3 = this.rep2; this.rep2 = this.rep1; this.rep1 = this.rep0
        len = this.len.decode(rc, posState)
        this.state = st < 7 ? 7 : 10
        const lenState = len < 3 ? len : 3
        const slot = rc.tree(this.posSlot, lenState << 6, 6)
        let dist: number
        if (slot < 4) dist = slot
        else {
          const direct = (slot >>> 1) - 1
          dist = (2 | (slot & 1)) * 2 ** direct
          if (slot < 14) dist += rc.reverse(this.posDec, dist - slot, direct)
          else dist += rc.direct(direct - 4) * 16 + rc.reverse(this.align, 0, 4)
        }
        if (dist === 0xffffffff) {
          if (allowEndMarker) return w.total - start
          throw new XzError('unexpected end marker')
        }
        this.rep0 = dist
      }
      len += 2
      if (!w.has(this.rep0 + 1)) throw new XzError('match distance outside the window')
      let i = 0
      for (; i < len && w.total - start < limit; i++) w.put(w.get(this.rep0 + 1))
      this.pendingLen = len - i
    }
    return w.total - start
  }
}

function dictSizeFromLzma2Prop(p: number): number {
  if (p > 40) throw new XzError('invalid LZMA2 dictionary size')
  if (p === 40) return 0xffffffff
  return (2 | (p & 1)) * 2 ** (Math.floor(p / 2) + 11)
}

/** The chunks of one LZMA2 stream, up to its end byte; yields after each chunk (at most 2 MB of output). */
function* lzma2Chunks(inp: Input, w: Window, lz: Lzma): Generator<void> {
  let needProps = true
  for (;;) {
    const c = inp.byte()
    if (c === 0x00) return
    if (c === 0x01 || c === 0x02) {
      if (c === 0x01) w.reset()
      const size = ((inp.byte() << 8) | inp.byte()) + 1
      for (let i = 0; i < size; i++) w.put(inp.byte())
      yield
      continue
    }
    if (c < 0x80) throw new XzError(`invalid LZMA2 control byte 0x${c.toString(16)}`)
    const unpacked = ((c & 0x1f) * 65536) + ((inp.byte() << 8) | inp.byte()) + 1
    const packed = ((inp.byte() << 8) | inp.byte()) + 1
    const reset = (c >>> 5) & 3
    if (reset === 3) w.reset()
    if (reset >= 2) { lz.setProps(inp.byte()); needProps = false }
    if (needProps) throw new XzError('LZMA2 chunk without properties')
    if (reset >= 1) lz.resetState()
    const chunkStart = inp.pos
    const sub = new Input(inp.buf, chunkStart, Math.min(inp.end, chunkStart + packed))
    const rc = new RangeDecoder(sub)
    lz.pendingLen = 0
    lz.decode(rc, w, unpacked, false)
    if (lz.pendingLen) throw new XzError('LZMA2 chunk ends inside a match')
    inp.pos = chunkStart + packed
    yield
  }
}

const CHECK_SIZE = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64]

/** Decode a complete .xz file (one or more streams, stream padding allowed), yielding between chunks. */
export function* xzGen(buf: Buffer, emit: Emit, maxDict: number): Generator<void> {
  const inp = new Input(buf)
  let streams = 0
  while (inp.pos < buf.length) {
    if (streams > 0) {
      // stream padding: zero bytes in multiples of four
      while (inp.pos < buf.length && buf[inp.pos] === 0) inp.pos++
      if (inp.pos >= buf.length) break
    }
    if (buf.length - inp.pos < 12 || !buf.subarray(inp.pos, inp.pos + 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
      throw new XzError('bad xz stream header')
    }
    const check = buf[inp.pos + 7] & 0x0f
    inp.pos += 12
    for (;;) {
      const blockStart = inp.pos
      const hs = inp.byte()
      if (hs === 0) break // index
      const headerEnd = blockStart + (hs + 1) * 4
      const flags = inp.byte()
      if (flags & 0x40) inp.varint()
      if (flags & 0x80) inp.varint()
      const nFilters = (flags & 3) + 1
      let dict = -1
      for (let f = 0; f < nFilters; f++) {
        const id = inp.varint()
        const psize = inp.varint()
        if (id !== 0x21 || nFilters !== 1) throw new XzUnsupported(`xz filter 0x${id.toString(16)} is not supported (LZMA2 only)`)
        if (psize !== 1) throw new XzError('bad LZMA2 filter properties')
        dict = dictSizeFromLzma2Prop(inp.byte())
      }
      if (dict > maxDict) throw new XzUnsupported(`xz dictionary of ${dict} bytes exceeds the ${maxDict}-byte limit`)
      inp.pos = headerEnd
      const w = new Window(Math.max(4096, dict), emit)
      yield* lzma2Chunks(inp, w, new Lzma())
      w.flush()
      while ((inp.pos - blockStart) % 4) inp.pos++
      inp.pos += CHECK_SIZE[check]
    }
    // index: records of (unpadded size, uncompressed size), padding, CRC32
    const records = inp.varint()
    for (let i = 0; i < records; i++) { inp.varint(); inp.varint() }
    while (inp.pos % 4) inp.pos++
    inp.pos += 4 // index CRC32
    inp.pos += 12 // stream footer
    if (inp.pos > buf.length) throw new XzError('truncated xz stream footer')
    streams++
  }
}

/**
 * Decode LZMA symbols in 1 MB slices until `size` bytes were produced (null: until the end marker).
 * Returns true when the stream ended with an end marker.
 */
function* lzmaSlices(lz: Lzma, rc: RangeDecoder, w: Window, size: number | null): Generator<void, boolean> {
  let left = size ?? Number.MAX_SAFE_INTEGER
  while (left > 0) {
    const want = Math.min(SLICE, left)
    const got = lz.decode(rc, w, want, true)
    left -= got
    if (got < want) return true
    yield
  }
  return false
}

/** Decode a legacy .lzma (LZMA alone) file: props byte, u32 dictionary size, u64 size (all ones = unknown). */
export function* lzmaAloneGen(buf: Buffer, emit: Emit, maxDict: number): Generator<void> {
  if (buf.length < 13) throw new XzError('lzma header truncated')
  const lz = new Lzma()
  lz.setProps(buf[0])
  const dict = buf.readUInt32LE(1)
  if (dict > maxDict) throw new XzUnsupported(`lzma dictionary of ${dict} bytes exceeds the ${maxDict}-byte limit`)
  const lo = buf.readUInt32LE(5)
  const hi = buf.readUInt32LE(9)
  const known = !(lo === 0xffffffff && hi === 0xffffffff)
  const size = hi * 0x100000000 + lo
  lz.resetState()
  const w = new Window(Math.max(4096, known ? Math.min(dict, size) : dict), emit)
  const rc = new RangeDecoder(new Input(buf, 13))
  const marker = yield* lzmaSlices(lz, rc, w, known ? size : null)
  if (!known && !marker) throw new XzError('lzma stream without end marker')
  w.flush()
}

export interface RawLzmaEnd {
  /** Bytes decoded past the declared size (the stream went on: the declared size was a lie). */
  extra: number
  /** The input ended before the declared size was reached (lenient mode keeps what was decoded). */
  short: boolean
}

/**
 * A raw LZMA stream (zip method 14, 7z coder 03 01 01): 5 property bytes (lc/lp/pb, u32 dictionary),
 * then range-coded data. `size` is the declared output size (null: until the end marker). With
 * `lenient`, decoding goes on past a declared size while input remains, and the extra output is counted
 * (a member whose directory entry understates its size is still scanned in full).
 */
export function* lzmaRawGen(input: Buffer, props: Buffer, size: number | null, emit: Emit, maxDict: number, lenient = false): Generator<void, RawLzmaEnd> {
  if (props.length < 5) throw new XzError('LZMA properties shorter than 5 bytes')
  const lz = new Lzma()
  lz.setProps(props[0])
  const dict = props.readUInt32LE(1)
  if (dict > maxDict) throw new XzUnsupported(`LZMA dictionary of ${dict} bytes exceeds the ${maxDict}-byte limit`)
  lz.resetState()
  const w = new Window(Math.max(4096, size !== null && !lenient ? Math.min(dict, size) : dict), emit)
  const inp = new Input(input)
  const rc = new RangeDecoder(inp)
  let marker: boolean
  try {
    marker = yield* lzmaSlices(lz, rc, w, size)
  } catch (e) {
    // a declared size larger than the data: keep what the data holds (the caller reports the disagreement)
    if (!(lenient && size !== null && e instanceof XzError && w.total > 0)) throw e
    w.flush()
    return {extra: 0, short: true}
  }
  let extra = 0
  if (size !== null && !marker && lenient && inp.pos < inp.end) {
    const before = w.total
    try {
      yield* lzmaSlices(lz, rc, w, null)
    } catch (e) {
      if (!(e instanceof XzError)) throw e // input exhausted or garbage after the real end: keep what was decoded
    }
    extra = w.total - before
  } else if (size === null && !marker) throw new XzError('LZMA stream without end marker')
  w.flush()
  return {extra, short: false}
}

/** A raw LZMA2 stream (7z coder 21): the dictionary-size property byte, then LZMA2 chunks up to the end byte. */
export function* lzma2RawGen(input: Buffer, dictProp: number, emit: Emit, maxDict: number): Generator<void> {
  const dict = dictSizeFromLzma2Prop(dictProp)
  if (dict > maxDict) throw new XzUnsupported(`LZMA2 dictionary of ${dict} bytes exceeds the ${maxDict}-byte limit`)
  const w = new Window(Math.max(4096, dict), emit)
  yield* lzma2Chunks(new Input(input), w, new Lzma())
  w.flush()
}

/** Run a decoder generator to completion (synchronous callers). */
export function runToEnd<R>(g: Generator<void, R>): R {
  for (;;) {
    const r = g.next()
    if (r.done) return r.value
  }
}

export function decodeXz(buf: Buffer, emit: Emit, maxDict: number): void { runToEnd(xzGen(buf, emit, maxDict)) }
export function decodeLzmaAlone(buf: Buffer, emit: Emit, maxDict: number): void { runToEnd(lzmaAloneGen(buf, emit, maxDict)) }
