/** Minimal typing for the pure-JS bzip2 decoder `seek-bzip` (used by archive.ts, block by block). */
declare module 'seek-bzip' {
  interface ByteOutput { writeByte(b: number): void }
  interface ByteInput { readByte(): number; read(buf: Buffer, off: number, len: number): number; seek(p: number): void; eof(): boolean }
  class Bunzip {
    constructor(input: ByteInput, output: ByteOutput)
    reader: {read(bits: number): number}
    streamCRC: number
    _init_block(): boolean
    _read_bunzip(): number
    _start_bunzip(input: ByteInput, output: ByteOutput): void
    static decode(input: Buffer, output?: ByteOutput, multistream?: boolean): Buffer | undefined
  }
  export = Bunzip
}
