/**
 * Pure TypeScript decoder for .xz (LZMA2 filter only) and legacy .lzma ("LZMA alone") streams, after
 * the LZMA SDK specification. Synchronous over an in-memory input; output is handed out in chunks to
 * `emit`, which may throw to abort (budget / bomb checks). The dictionary is a circular window capped
 * at `maxDict`, so memory is bounded by input + window. Integrity checks (CRC32/CRC64/SHA-256) are
 * skipped, like the PyTorch reader's relaxed CRC: this is a scanner, not an archiver.
 */
export class XzError extends Error {}
/** Valid but unsupported (BCJ/delta filters, oversized dictionary): report, do not call it corrupt. */
export class XzUnsupported extends Error {}

const EMIT_EVERY = 1 << 20

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
  constructor(readonly size: number, private readonly emit: (b: Buffer) => void) { this.buf = Buffer.alloc(size) }
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
  constructor(private readonly inp: Input) {
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
    this.state = 0; this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0
  }

  /** Decode until `limit` bytes were produced (or the end marker when allowed). Returns bytes produced. */
  decode(rc: RangeDecoder, w: Window, limit: number, allowEndMarker: boolean): number {
    const pbMask = (1 << this.pb) - 1
    const lpMask = (1 << this.lp) - 1
    const start = w.total
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
      for (let i = 0; i < len && w.total - start < limit; i++) w.put(w.get(this.rep0 + 1))
    }
    return w.total - start
  }
}

function dictSizeFromLzma2Prop(p: number): number {
  if (p > 40) throw new XzError('invalid LZMA2 dictionary size')
  if (p === 40) return 0xffffffff
  return (2 | (p & 1)) * 2 ** (Math.floor(p / 2) + 11)
}

function decodeLzma2(inp: Input, w: Window, lz: Lzma): void {
  let needProps = true
  for (;;) {
    const c = inp.byte()
    if (c === 0x00) return
    if (c === 0x01 || c === 0x02) {
      if (c === 0x01) w.reset()
      const size = ((inp.byte() << 8) | inp.byte()) + 1
      for (let i = 0; i < size; i++) w.put(inp.byte())
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
    lz.decode(rc, w, unpacked, false)
    inp.pos = chunkStart + packed
  }
}

const CHECK_SIZE = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64]

/** Decode a complete .xz file (one or more streams, stream padding allowed). */
export function decodeXz(buf: Buffer, emit: (b: Buffer) => void, maxDict: number): void {
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
      decodeLzma2(inp, w, new Lzma())
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

/** Decode a legacy .lzma (LZMA alone) file: props byte, u32 dictionary size, u64 size (all ones = unknown). */
export function decodeLzmaAlone(buf: Buffer, emit: (b: Buffer) => void, maxDict: number): void {
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
  const w = new Window(Math.max(4096, dict), emit)
  const rc = new RangeDecoder(new Input(buf, 13))
  lz.decode(rc, w, known ? size : Number.MAX_SAFE_INTEGER, !known)
  w.flush()
}
