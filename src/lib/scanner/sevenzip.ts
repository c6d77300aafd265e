/**
 * 7z archives: the signature header, plain and encoded (packed) headers, pack info, folders (coders,
 * bind pairs, packed streams), unpack sizes, substreams and file names — read with bounds checks on
 * every number against the bytes that remain, and caps on counts. Folders whose single coder is Copy,
 * LZMA, LZMA2, Deflate or BZip2 are decoded through archive.ts (byte, ratio and time budgets); any other
 * coder (BCJ/BCJ2/Delta filters, PPMd, AES, zstd, ...) or a multi-coder chain is reported by name and
 * its files are not analysed. Nothing is written to disk except spill files of the shared decoders.
 */
import {ArchiveError, BombError, type Budget, type Decompressed, decompress, decompressBzip2, decompressLzma2Raw,
  decompressLzmaRaw} from './archive.js'
import {type Reader, SliceReader} from './io.js'

export const SEVENZIP_SIG = Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])
/** Largest (decoded) header accepted. */
const MAX_HEADER = 64 << 20

const ID = {
  End: 0x00, Header: 0x01, ArchiveProperties: 0x02, AdditionalStreamsInfo: 0x03, MainStreamsInfo: 0x04, FilesInfo: 0x05,
  PackInfo: 0x06, UnPackInfo: 0x07, SubStreamsInfo: 0x08, Size: 0x09, CRC: 0x0a, Folder: 0x0b, CodersUnPackSize: 0x0c,
  NumUnPackStream: 0x0d, EmptyStream: 0x0e, EmptyFile: 0x0f, Anti: 0x10, Name: 0x11, WinAttributes: 0x15,
  EncodedHeader: 0x17, Dummy: 0x19,
}

/** Coder ids (hex) this module decodes, and names for the ones it reports. */
const CODER_NAMES: Record<string, string> = {
  '00': 'Copy', '030101': 'LZMA', '21': 'LZMA2', '040108': 'Deflate', '040109': 'Deflate64', '040202': 'BZip2',
  '03': 'Delta', '03030103': 'BCJ (x86)', '0303011b': 'BCJ2', '03030205': 'PPC', '03030401': 'IA64', '03030501': 'ARM',
  '03030701': 'ARMT', '03030805': 'SPARC', '0a': 'ARM64', '0b': 'RISCV', '030401': 'PPMd', '06f10701': 'AES-256',
  '04f71101': 'Zstandard', '04f71104': 'LZ4', '04f71102': 'Brotli',
}
const DECODABLE = new Set(['00', '030101', '21', '040108', '040202'])

export class SevenZipError extends ArchiveError {}

export interface SevenZipCoder { id: string; name: string; props: Buffer; numIn: number; numOut: number }
export interface SevenZipFolder {
  coders: SevenZipCoder[]
  /** Absolute offset and size of the folder's packed stream(s) (one stream when decodable). */
  packOffset: number
  packSize: number
  /** Final output size (the unbound output stream). */
  unpackSize: number
  /** Why the folder cannot be decoded, or null. */
  unsupported: string | null
}
export interface SevenZipEntry {
  name: string
  /** -1 for an empty stream (directory or empty file). */
  folder: number
  offset: number
  size: number
  isDir: boolean
  anti: boolean
}
export interface SevenZipListing {
  folders: SevenZipFolder[]
  entries: SevenZipEntry[]
  headerEncoded: boolean
  problems: string[]
}

class Buf {
  pos = 0
  constructor(readonly b: Buffer, readonly what: string) {}
  get left(): number { return this.b.length - this.pos }
  byte(): number {
    if (this.pos >= this.b.length) throw new SevenZipError(`${this.what} truncated at byte ${this.pos}`)
    return this.b[this.pos++]
  }
  bytes(n: number): Buffer {
    if (n < 0 || n > this.left) throw new SevenZipError(`${this.what}: ${n} bytes requested, ${this.left} left`)
    const out = this.b.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }
  /** 7z variable-length UINT64 (first byte's leading one bits = extra bytes). */
  num(): number {
    const first = this.byte()
    let mask = 0x80
    let value = 0
    for (let i = 0; i < 8; i++) {
      if ((first & mask) === 0) {
        const high = first & (mask - 1)
        return value + high * 2 ** (8 * i)
      }
      value += this.byte() * 2 ** (8 * i)
      mask >>>= 1
    }
    return value
  }
  /** A count that must fit in the remaining bytes at `minBytesEach` per item. */
  count(what: string, minBytesEach = 1, cap = 1_000_000): number {
    const n = this.num()
    if (!Number.isSafeInteger(n) || n > cap || n * minBytesEach > this.left + 1) throw new SevenZipError(`${what} count ${n} is impossible here`)
    return n
  }
  u32(): number { const v = this.bytes(4).readUInt32LE(0); return v }
  bits(n: number): boolean[] {
    const out: boolean[] = []
    let cur = 0
    for (let i = 0; i < n; i++) {
      if (i % 8 === 0) cur = this.byte()
      out.push((cur & (0x80 >> (i % 8))) !== 0)
    }
    return out
  }
  /** AllAreDefined byte, then a bit vector when it is 0. */
  definedVector(n: number): boolean[] {
    const all = this.byte()
    return all ? new Array<boolean>(n).fill(true) : this.bits(n)
  }
  /** A digest list: which of n streams have a CRC (returned), then the CRCs. */
  digests(n: number): boolean[] {
    const def = this.definedVector(n)
    for (const d of def) if (d) this.u32()
    return def
  }
  expect(id: number, what: string): void {
    const b = this.byte()
    if (b !== id) throw new SevenZipError(`${this.what}: expected ${what} (0x${id.toString(16)}), found 0x${b.toString(16)}`)
  }
}

interface RawFolder { coders: SevenZipCoder[]; bindPairs: Array<[number, number]>; packedIndices: number[]; numOutTotal: number; numInTotal: number; unpackSizes: number[] }
interface StreamsInfo { packPos: number; packSizes: number[]; folders: RawFolder[]; folderCrc: boolean[]; subCounts: number[]; subSizes: number[][] }

function readFolder(h: Buf): RawFolder {
  const numCoders = h.count('coder', 1, 64)
  if (numCoders === 0) throw new SevenZipError('folder without coders')
  const coders: SevenZipCoder[] = []
  let numInTotal = 0
  let numOutTotal = 0
  for (let i = 0; i < numCoders; i++) {
    const flag = h.byte()
    if (flag & 0x80) throw new SevenZipError('7z alternative coder methods are not supported')
    const id = h.bytes(flag & 0x0f).toString('hex')
    let numIn = 1
    let numOut = 1
    if (flag & 0x10) { numIn = h.count('coder input', 0, 64); numOut = h.count('coder output', 0, 64) }
    let props = Buffer.alloc(0)
    if (flag & 0x20) props = Buffer.from(h.bytes(h.count('coder property byte', 1, 1 << 16)))
    coders.push({id, name: CODER_NAMES[id] ?? `coder ${id || '(empty)'}`, props, numIn, numOut})
    numInTotal += numIn
    numOutTotal += numOut
  }
  if (numOutTotal === 0) throw new SevenZipError('folder without output streams')
  const bindPairs: Array<[number, number]> = []
  for (let i = 0; i < numOutTotal - 1; i++) bindPairs.push([h.num(), h.num()])
  const numPacked = numInTotal - bindPairs.length
  if (numPacked < 1 || numPacked > 64) throw new SevenZipError(`folder with ${numPacked} packed streams`)
  const packedIndices: number[] = []
  if (numPacked === 1) {
    for (let i = 0; i < numInTotal; i++) if (!bindPairs.some(([inIdx]) => inIdx === i)) { packedIndices.push(i); break }
  } else for (let i = 0; i < numPacked; i++) packedIndices.push(h.num())
  return {coders, bindPairs, packedIndices, numOutTotal, numInTotal, unpackSizes: []}
}

function readStreamsInfo(h: Buf): StreamsInfo {
  const si: StreamsInfo = {packPos: 0, packSizes: [], folders: [], folderCrc: [], subCounts: [], subSizes: []}
  let id = h.byte()
  if (id === ID.PackInfo) {
    si.packPos = h.num()
    const n = h.count('pack stream', 1)
    for (id = h.byte(); id !== ID.End; id = h.byte()) {
      if (id === ID.Size) for (let i = 0; i < n; i++) si.packSizes.push(h.num())
      else if (id === ID.CRC) h.digests(n)
      else throw new SevenZipError(`unexpected property 0x${id.toString(16)} in pack info`)
    }
    if (si.packSizes.length !== n) throw new SevenZipError('pack info without sizes')
    id = h.byte()
  }
  if (id === ID.UnPackInfo) {
    h.expect(ID.Folder, 'folder list')
    const n = h.count('folder', 2)
    if (h.byte() !== 0) throw new SevenZipError('external folder lists are not supported')
    for (let i = 0; i < n; i++) si.folders.push(readFolder(h))
    h.expect(ID.CodersUnPackSize, 'unpack sizes')
    for (const f of si.folders) for (let i = 0; i < f.numOutTotal; i++) f.unpackSizes.push(h.num())
    for (id = h.byte(); id !== ID.End; id = h.byte()) {
      if (id === ID.CRC) si.folderCrc = h.digests(n)
      else throw new SevenZipError(`unexpected property 0x${id.toString(16)} in unpack info`)
    }
    id = h.byte()
  }
  si.subCounts = si.folders.map(() => 1)
  if (id === ID.SubStreamsInfo) {
    id = h.byte()
    if (id === ID.NumUnPackStream) {
      si.subCounts = si.folders.map(() => h.count('substream', 0))
      id = h.byte()
    }
    const sizesGiven = id === ID.Size
    si.subSizes = si.folders.map((f, i) => {
      const total = folderUnpackSize(f)
      const k = si.subCounts[i]
      if (k === 0) return []
      const sizes: number[] = []
      let sum = 0
      if (sizesGiven) for (let j = 0; j < k - 1; j++) { const s = h.num(); sizes.push(s); sum += s }
      else if (k > 1) throw new SevenZipError('substream sizes missing')
      if (sum > total) throw new SevenZipError(`substream sizes (${sum}) exceed the folder's unpack size (${total})`)
      sizes.push(total - sum)
      return sizes
    })
    if (sizesGiven) id = h.byte()
    while (id !== ID.End) {
      if (id === ID.CRC) {
        // CRCs for every substream whose CRC is not already the folder's
        let unknown = 0
        si.folders.forEach((_f, i) => { unknown += si.subCounts[i] === 1 && si.folderCrc[i] ? 0 : si.subCounts[i] })
        h.digests(unknown)
      } else throw new SevenZipError(`unexpected property 0x${id.toString(16)} in substreams info`)
      id = h.byte()
    }
    id = h.byte()
  } else {
    si.subSizes = si.folders.map((f) => [folderUnpackSize(f)])
  }
  if (id !== ID.End) throw new SevenZipError(`unexpected property 0x${id.toString(16)} in streams info`)
  return si
}

/** The folder's final output: the output stream that is not bound to another coder's input. */
function folderUnpackSize(f: RawFolder): number {
  for (let i = f.unpackSizes.length - 1; i >= 0; i--) if (!f.bindPairs.some(([, out]) => out === i)) return f.unpackSizes[i]
  return f.unpackSizes[f.unpackSizes.length - 1] ?? 0
}

/** Absolute position of every folder's packed stream(s) and what stops it from being decoded. */
function layoutFolders(si: StreamsInfo, fileSize: number): SevenZipFolder[] {
  let packIndex = 0
  let pos = 32 + si.packPos
  const packStarts: number[] = []
  for (const s of si.packSizes) { packStarts.push(pos); pos += s }
  return si.folders.map((f) => {
    const first = packIndex
    packIndex += f.packedIndices.length
    const packOffset = packStarts[first] ?? -1
    const packSize = f.packedIndices.length === 1 ? (si.packSizes[first] ?? 0) : 0
    let unsupported: string | null = null
    if (f.coders.length !== 1 || f.packedIndices.length !== 1 || f.coders[0].numIn !== 1 || f.coders[0].numOut !== 1) {
      unsupported = `decoder unavailable: 7z coder chain ${f.coders.map((c) => c.name).join(' + ')}`
    } else if (!DECODABLE.has(f.coders[0].id)) {
      unsupported = `decoder unavailable: 7z coder ${f.coders[0].name}`
    } else if (packOffset < 32 || packOffset + packSize > fileSize) {
      unsupported = `packed stream [${packOffset}, +${packSize}) lies outside the ${fileSize}-byte archive`
    }
    return {coders: f.coders, packOffset, packSize, unpackSize: folderUnpackSize(f), unsupported}
  })
}

/** Decode one folder (Copy/LZMA/LZMA2/Deflate/BZip2) within the budget. */
export async function decode7zFolder(r: Reader, f: SevenZipFolder, budget: Budget): Promise<Decompressed & {extra?: number}> {
  if (f.unsupported) throw new SevenZipError(f.unsupported)
  const c = f.coders[0]
  const packed = new SliceReader(r, f.packOffset, f.packSize)
  switch (c.id) {
    case '00':
      return {reader: new SliceReader(r, f.packOffset, f.packSize), size: f.packSize, cleanup: async () => {}}
    case '030101':
      if (c.props.length < 5) throw new SevenZipError('LZMA coder without its 5 property bytes')
      return decompressLzmaRaw(packed, c.props, f.unpackSize, budget)
    case '21':
      if (c.props.length < 1) throw new SevenZipError('LZMA2 coder without its property byte')
      return decompressLzma2Raw(packed, c.props[0], budget)
    case '040108':
      return decompress(packed, 'deflate-raw', budget)
    case '040202':
      return decompressBzip2(packed, budget)
    default:
      throw new SevenZipError(`decoder unavailable: 7z coder ${c.name}`)
  }
}

function readFilesInfo(h: Buf, si: StreamsInfo, problems: string[]): SevenZipEntry[] {
  const numFiles = h.count('file', 0)
  let emptyStream: boolean[] = new Array<boolean>(numFiles).fill(false)
  let emptyFile: boolean[] = []
  let anti: boolean[] = []
  let names: string[] = []
  for (;;) {
    const type = h.num()
    if (type === ID.End) break
    const size = h.num()
    if (size > h.left) throw new SevenZipError(`file property 0x${type.toString(16)} of ${size} bytes runs past the header`)
    const p = new Buf(Buffer.from(h.bytes(size)), '7z file property')
    const numEmpty = (): number => emptyStream.filter(Boolean).length
    if (type === ID.EmptyStream) emptyStream = p.bits(numFiles)
    else if (type === ID.EmptyFile) emptyFile = p.bits(numEmpty())
    else if (type === ID.Anti) anti = p.bits(numEmpty())
    else if (type === ID.Name) {
      if (p.byte() !== 0) throw new SevenZipError('external file names are not supported')
      const text = p.b.subarray(p.pos).toString('utf16le')
      names = text.split('\u0000').slice(0, numFiles)
    }
    // times, attributes, start positions, dummy padding: not needed
  }
  if (names.length < numFiles) problems.push(`${numFiles - names.length} file(s) without a name`)
  const entries: SevenZipEntry[] = []
  let folder = 0
  let sub = 0
  let offset = 0
  let emptyIndex = 0
  for (let i = 0; i < numFiles; i++) {
    const name = names[i] ?? `<unnamed ${i}>`
    if (emptyStream[i]) {
      const isFile = emptyFile[emptyIndex] ?? false
      entries.push({name, folder: -1, offset: 0, size: 0, isDir: !isFile, anti: anti[emptyIndex] ?? false})
      emptyIndex++
      continue
    }
    while (folder < si.folders.length && sub >= si.subCounts[folder]) { folder++; sub = 0; offset = 0 }
    if (folder >= si.folders.length) { problems.push(`file ${JSON.stringify(name)} has no stream (more files than substreams)`); continue }
    const size = si.subSizes[folder][sub]
    entries.push({name, folder, offset, size, isDir: false, anti: false})
    offset += size
    sub++
  }
  return entries
}

/**
 * Read the archive's directory. Encoded (packed) headers are decoded with the same coders and budget
 * as the data (at most four levels). Throws SevenZipError on structural damage, BombError on budgets.
 */
export async function read7zDirectory(r: Reader, budget: Budget, maxEntries: number): Promise<SevenZipListing> {
  const problems: string[] = []
  if (r.size < 32) throw new SevenZipError('7z signature header truncated')
  const sh = await r.read(0, 32)
  if (!sh.subarray(0, 6).equals(SEVENZIP_SIG)) throw new SevenZipError('no 7z signature')
  if (sh[6] !== 0) problems.push(`7z format version ${sh[6]}.${sh[7]}`)
  const nextOff = Number(sh.readBigUInt64LE(12))
  const nextSize = Number(sh.readBigUInt64LE(20))
  if (nextSize === 0) return {folders: [], entries: [], headerEncoded: false, problems} // empty archive
  if (!Number.isSafeInteger(nextOff) || !Number.isSafeInteger(nextSize) || 32 + nextOff + nextSize > r.size) {
    throw new SevenZipError(`header [${32 + nextOff}, +${nextSize}) lies outside the ${r.size}-byte archive (truncated?)`)
  }
  if (nextSize > MAX_HEADER) throw new BombError(`7z header of ${nextSize} bytes`)
  let header = Buffer.from(await r.read(32 + nextOff, nextSize))
  let encoded = false
  for (let level = 0; ; level++) {
    const h = new Buf(header, '7z header')
    const id = h.byte()
    if (id === ID.Header) {
      let si: StreamsInfo = {packPos: 0, packSizes: [], folders: [], folderCrc: [], subCounts: [], subSizes: []}
      let entries: SevenZipEntry[] = []
      for (let p = h.byte(); p !== ID.End; p = h.byte()) {
        if (p === ID.ArchiveProperties) {
          for (let t = h.byte(); t !== 0; t = h.byte()) h.bytes(h.num())
        } else if (p === ID.AdditionalStreamsInfo) readStreamsInfo(h)
        else if (p === ID.MainStreamsInfo) si = readStreamsInfo(h)
        else if (p === ID.FilesInfo) entries = readFilesInfo(h, si, problems)
        else throw new SevenZipError(`unexpected property 0x${p.toString(16)} in the header`)
      }
      if (entries.length > maxEntries) throw new BombError(`7z archive has ${entries.length} entries (limit ${maxEntries})`)
      if (!entries.length && si.folders.length) {
        // streams without file records: expose them so their content is still analysed
        si.folders.forEach((f, i) => { entries.push({name: `<stream ${i}>`, folder: i, offset: 0, size: folderUnpackSize(f), isDir: false, anti: false}) })
      }
      return {folders: layoutFolders(si, r.size), entries, headerEncoded: encoded, problems}
    }
    if (id !== ID.EncodedHeader) throw new SevenZipError(`unknown header type 0x${id.toString(16)}`)
    if (level >= 4) throw new SevenZipError('encoded headers nested more than four levels')
    encoded = true
    const si = readStreamsInfo(h)
    const folders = layoutFolders(si, r.size)
    if (folders.length !== 1) throw new SevenZipError(`encoded header with ${folders.length} folders`)
    if (folders[0].unsupported) throw new SevenZipError(`encoded header: ${folders[0].unsupported}`)
    if (folders[0].unpackSize > MAX_HEADER) throw new BombError(`7z encoded header unpacks to ${folders[0].unpackSize} bytes`)
    const d = await decode7zFolder(r, folders[0], budget)
    try {
      header = Buffer.from(await d.reader.read(0, Math.min(d.size, MAX_HEADER)))
    } finally {
      await d.cleanup()
    }
  }
}
