/** Minimal typing for the pure-JS bzip2 decoder `seek-bzip` (used by archive.ts). */
declare module 'seek-bzip' {
  interface ByteOutput { writeByte(b: number): void }
  const Bunzip: {
    decode(input: Buffer, output?: ByteOutput, multistream?: boolean): Buffer | undefined
  }
  export = Bunzip
}
