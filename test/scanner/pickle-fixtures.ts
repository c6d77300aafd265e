/**
 * Pickle fixtures for the pickle-engine tests (adversarial, bypass and precision cases), written opcode by
 * opcode with the PW writer of fixtures.ts. Nothing here is ever unpickled; malicious inputs exist only in
 * memory / temp dirs during the tests.
 */
import {deflateSync} from 'node:zlib'
import {PW} from './fixtures.js'

/** PROTO 2, then `os.system("id")` called (no STOP): what every "finding first" case starts with. */
export function systemCallHead(proto = 2): PW {
  return new PW(proto).call('os', 'system', ['id'])
}

/** After the os.system call: an argument nested `depth` tuples deep, passed to a second (unknown) call. */
export function deepArgument(depth = 100_000): Buffer {
  const p = systemCallHead().op('0').global('mypkg.mod', 'consume')
  for (let i = 0; i < depth; i++) p.mark()
  p.int(1)
  for (let i = 0; i < depth; i++) p.tuple()
  return p.op(0x85).reduce().stop().toBuffer()
}

/** After the os.system call: a protocol-0 UNICODE argument holding \U00110000 (not a code point). */
export function invalidCodePoint(): Buffer {
  return Buffer.concat([systemCallHead().op('0').toBuffer(), Buffer.from('V\\U00110000\n.', 'latin1')])
}

/** After the os.system call: a FRAME whose declared length runs past the end of the data. */
export function frameOverrunAfterCall(): Buffer {
  return systemCallHead(4).op('0').frame(1 << 20).none().stop().toBuffer()
}

/**
 * The amplification case: a 1 KiB string memoised once, then `tuples` tuples of 16 memo reads each.
 * mode 'list': appended to one list; 'stack': left on the stack; 'memo': each tuple memoised too.
 */
export function memoAmplification(tuples: number, mode: 'list' | 'stack' | 'memo' = 'list'): Buffer {
  const parts: Buffer[] = [Buffer.from([0x80, 0x04])]
  const s = Buffer.alloc(1024, 0x61)
  const h = Buffer.alloc(5); h[0] = 0x58; h.writeUInt32LE(s.length, 1)
  parts.push(h, s, Buffer.from([0x94])) // memo[0] = 'aaa…'
  if (mode === 'list') parts.push(Buffer.from([0x5d, 0x94])) // EMPTY_LIST, memo[1]
  const one: number[] = [0x28]
  for (let j = 0; j < 16; j++) one.push(0x68, 0) // BINGET 0
  one.push(0x74) // TUPLE
  if (mode === 'memo') one.push(0x94)
  if (mode === 'list') one.push(0x61) // APPEND
  const unit = Buffer.from(one)
  for (let i = 0; i < tuples; i++) parts.push(unit)
  if (mode === 'stack') for (let i = 0; i < tuples; i++) parts.push(Buffer.from([0x30])) // POP them all again
  parts.push(new PW(0).call('os', 'system', ['after the amplification']).stop().toBuffer())
  return Buffer.concat(parts)
}

/** coldwaterq's "globalLaughs" shape: `layers` nested lists of `fan` DUPs of the previous layer. */
export function dupLaughs(layers = 9, fan = 9): Buffer {
  const p = new PW(4)
  for (let i = 0; i < layers; i++) p.mark()
  p.str('lol')
  for (let i = 0; i < layers; i++) {
    for (let j = 0; j < fan; j++) p.op('2') // DUP
    p.op('l') // LIST
  }
  return p.stop().toBuffer()
}

/** coldwaterq's "billionLaughsAlt" shape: memo PUT/GET instead of DUP, `layers` of `fan` reads. */
export function memoLaughs(layers = 10, fan = 10): Buffer {
  const p = new PW(4)
  for (let i = 0; i < layers; i++) p.mark()
  p.str('lol')
  for (let i = 0; i < layers; i++) {
    p.put(i)
    for (let j = 0; j < fan - 1; j++) p.get(i)
    p.op('l')
  }
  return p.stop().toBuffer()
}

/** The same shape through dicts (SETITEMS of one memoised dict under `fan` keys, nested). */
export function dictLaughs(layers = 8, fan = 16): Buffer {
  const p = new PW(4).str('lol').put(0)
  for (let i = 1; i <= layers; i++) {
    p.emptyDict().mark()
    for (let j = 0; j < fan; j++) p.int(j).get(i - 1)
    p.setitems().put(i)
  }
  return p.stop().toBuffer()
}

/** `n` values pushed and never consumed, then the payload (CPython runs it: the stack is just a list). */
export function stackFlood(n: number): Buffer {
  return Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.alloc(n, 0x4e), new PW(0).call('os', 'system', ['id']).stop().toBuffer()])
}

/** `n` MARKs never closed, then the payload. */
export function markFlood(n: number): Buffer {
  return Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.alloc(n, 0x28), new PW(0).call('os', 'system', ['id']).stop().toBuffer()])
}

/** A joblib NumpyArrayWrapper of an object array: the inline nested pickle follows its BUILD. */
function joblibObjectWrapper(p: PW): PW {
  p.global('joblib.numpy_pickle', 'NumpyArrayWrapper').emptyTuple().op(0x81)
  p.emptyDict().mark()
  p.str('subclass').global('numpy', 'ndarray')
  p.str('shape').int(1).op(0x85)
  p.str('order').str('C')
  p.str('dtype').global('numpy', 'dtype').mark().str('O8').op(0x89).op(0x88).tuple().reduce()
  p.str('allow_mmap').op(0x89)
  return p.setitems().build()
}

/** joblib object arrays nested `depth` deep (each level's array holds the next), a payload at the bottom. */
export function nestedJoblib(depth: number): Buffer {
  const parts: Buffer[] = []
  for (let i = 0; i < depth; i++) parts.push(joblibObjectWrapper(new PW(2).emptyList().mark()).toBuffer())
  parts.push(new PW(2).call('os', 'system', ['deep']).stop().toBuffer())
  for (let i = 0; i < depth; i++) parts.push(new PW(0).appends().stop().toBuffer())
  return Buffer.concat(parts)
}

// ------------------------------------------------------------------ bypasses

/** Pickle (protocol 4) whose payload hides in a str value, encoded by `encode`, passed to a benign-looking dict. */
export function hiddenInString(encoded: string): Buffer {
  return new PW(4).emptyDict().mark().str('config').str(encoded).setitems().stop().toBuffer()
}

export const encoders = {
  base64: (b: Buffer): string => b.toString('base64'),
  hex: (b: Buffer): string => b.toString('hex'),
  base64zlib: (b: Buffer): string => deflateSync(b).toString('base64'),
  hexbase64: (b: Buffer): string => Buffer.from(b.toString('base64')).toString('hex'),
}

/** An opcode that straddles the end of its FRAME (frame declared `short` bytes too short). */
export function straddlingFrame(short = 3): Buffer {
  const body = new PW(4).call('os', 'system', ['id']).stop().toBuffer().subarray(2)
  return Buffer.concat([Buffer.from([0x80, 0x04]), new PW(0).frame(body.length - short).toBuffer(), body])
}

/**
 * A FRAME that covers pickle 1 and runs on past its STOP over a hidden pickle 2; pickle 3 follows the frame.
 * The C unpickler's next load starts after STOP (pickle 2), the pure-Python one after the frame (pickle 3).
 */
export function frameRunsPastStop(): Buffer {
  const p1 = new PW(4).emptyDict().stop().toBuffer().subarray(2)
  const p2 = new PW(4).call('subprocess', 'check_output', ['id']).stop().toBuffer()
  const p3 = new PW(4).call('posix', 'system', ['id']).stop().toBuffer()
  return Buffer.concat([Buffer.from([0x80, 0x04]), new PW(0).frame(p1.length + p2.length).toBuffer(), p1, p2, p3])
}

/** A FRAME that starts inside the previous frame (the pure-Python unpickler refuses it, C runs on). */
export function nestedFrame(): Buffer {
  const body = new PW(4).call('os', 'system', ['id']).stop().toBuffer().subarray(2)
  const inner = Buffer.concat([new PW(0).frame(body.length).toBuffer(), body])
  // the outer frame covers 'N0', the inner FRAME opcode and 3 bytes of the inner frame's content
  return Buffer.concat([Buffer.from([0x80, 0x04]), new PW(0).frame(2 + 9 + 3).toBuffer(), Buffer.from('N0'), inner])
}

// ------------------------------------------------------------------ precision (benign shapes)

/** numpy array reconstruction as the pickler writes it (`_reconstruct` + BUILD of the array state). */
function ndarray(p: PW, dtype = 'f8', n = 4): PW {
  // raw bytes: BINBYTES from protocol 3, `_codecs.encode(str, 'latin1')` before (what numpy's pickles hold)
  const raw = (b: Buffer): PW => (p.proto >= 3 ? p.bytes(b) : p.global('_codecs', 'encode').mark().str(b.toString('latin1')).str('latin1').tuple().reduce())
  p.global('numpy.core.multiarray', '_reconstruct').mark().global('numpy', 'ndarray').mark().int(0).tuple()
  raw(Buffer.from('b')).tuple().reduce()
  p.mark().int(1).mark().int(n).tuple().global('numpy', 'dtype').mark().str(dtype).int(0).int(1).tuple().reduce()
  p.mark().int(3).str('<').none().none().none().int(-1).int(-1).int(0).tuple().build()
  p.int(0)
  raw(Buffer.alloc(n * 8, 1))
  return p.tuple().build()
}

/**
 * scipy.sparse.coo_matrix as pickle/joblib write it: default object reduction, i.e. NEWOBJ of the class
 * (protocol 2+) or copyreg._reconstructor(cls, object, None) (protocol 0/1), then BUILD of the state dict.
 */
export function sparseMatrix(proto: number, module = 'scipy.sparse._coo', cls = 'coo_matrix'): Buffer {
  const p = new PW(proto)
  if (proto >= 2) p.imp(module, cls).emptyTuple().op(0x81)
  else p.global('copy_reg', '_reconstructor').mark().global(module, cls).global('__builtin__', 'object').none().tuple().reduce()
  p.emptyDict().mark()
  p.str('_shape').mark().int(3).int(4).tuple()
  p.str('maxprint').int(50)
  p.str('data'); ndarray(p)
  p.str('row'); ndarray(p, 'i4')
  p.str('col'); ndarray(p, 'i4')
  p.str('has_canonical_format').int(0)
  return p.setitems().build().stop().toBuffer()
}

/** networkx DiGraph: NEWOBJ + BUILD of {'graph', '_node', '_adj', '_pred', '_succ' (same dict as _adj)}. */
export function networkxGraph(proto = 4): Buffer {
  const p = new PW(proto)
  p.imp('networkx.classes.digraph', 'DiGraph').emptyTuple().op(0x81)
  p.emptyDict().mark()
  p.str('graph').emptyDict()
  p.str('_node').emptyDict().mark().str('a').emptyDict().str('b').emptyDict().setitems()
  p.str('_adj').emptyDict().put(200).mark().str('a').emptyDict().mark().str('b').emptyDict().mark().str('weight').int(3).setitems().setitems().setitems()
  p.str('_pred').emptyDict().mark().str('b').emptyDict().setitems()
  p.str('_succ').get(200)
  return p.setitems().build().stop().toBuffer()
}

export type ReconPath = 'NEWOBJ' | 'NEWOBJ_EX' | '__newobj__' | '__newobj_ex__' | '_reconstructor' | 'INST' | 'OBJ' | 'cython'

/** An object of an unknown library class, rebuilt through `path`, then BUILD of plain state. */
export function reconstructed(path: ReconPath, module = 'chemlib.molecule', cls = 'Molecule', state = true): Buffer {
  const p = new PW(path === 'INST' || path === 'OBJ' ? 1 : 4)
  switch (path) {
    case 'NEWOBJ': p.imp(module, cls).emptyTuple().op(0x81); break
    case 'NEWOBJ_EX': p.imp(module, cls).emptyTuple().emptyDict().op(0x92); break
    case '__newobj__': p.imp('copyreg', '__newobj__').mark().imp(module, cls).tuple().reduce(); break
    case '__newobj_ex__': p.imp('copyreg', '__newobj_ex__').mark().imp(module, cls).emptyTuple().emptyDict().tuple().reduce(); break
    case '_reconstructor': p.imp('copyreg', '_reconstructor').mark().imp(module, cls).imp('builtins', 'object').none().tuple().reduce(); break
    case 'INST': p.mark().inst(module, cls); break
    case 'OBJ': p.mark().global(module, cls).op('o'); break
    case 'cython': p.imp(module, `__pyx_unpickle_${cls}`).mark().imp(module, cls).int(0x1234567).none().tuple().reduce(); break
  }
  if (state) p.emptyDict().mark().str('name').str('caffeine').str('atoms').int(24).str('weights').emptyList().mark().int(1).int(2).appends().setitems().build()
  return p.stop().toBuffer()
}

/** A namedtuple-style class of an unknown module: NEWOBJ with plain field values, or _reconstructor with base tuple. */
export function namedTuple(viaReconstructor: boolean): Buffer {
  const p = new PW(viaReconstructor ? 1 : 2)
  if (viaReconstructor) p.global('copy_reg', '_reconstructor').mark().global('geom.types', 'Point').global('__builtin__', 'tuple').mark().int(1).int(2).tuple().tuple().reduce()
  else p.global('geom.types', 'Point').mark().int(1).int(2).tuple().op(0x81)
  return p.stop().toBuffer()
}

/** A joblib dump of a sparse matrix: arrays as NumpyArrayWrapper followed by their raw bytes (joblib >= 0.12). */
export function joblibSparse(): Buffer {
  const p = new PW(4)
  p.imp('scipy.sparse._csr', 'csr_matrix').emptyTuple().op(0x81).memoize()
  p.emptyDict().memoize().mark()
  p.str('_shape').int(2).int(3).op(0x86)
  p.str('maxprint').int(50)
  const arr = (name: string, n: number): void => {
    p.str(name)
    p.imp('joblib.numpy_pickle', 'NumpyArrayWrapper').emptyTuple().op(0x81)
    p.emptyDict().mark()
    p.str('subclass').imp('numpy', 'ndarray')
    p.str('shape').int(n).op(0x85)
    p.str('order').str('C')
    p.str('dtype').imp('numpy', 'dtype').mark().str('i8').op(0x89).op(0x88).tuple().reduce()
    p.mark().int(3).str('<').none().none().none().int(-1).int(-1).int(0).tuple().build()
    p.str('allow_mmap').op(0x88)
    p.str('numpy_array_alignment_bytes').int(16)
    p.setitems().build()
    p.raw(Buffer.from([7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))
    p.raw(Buffer.alloc(n * 8, 0x2e)) // array bytes that look like STOP opcodes
  }
  arr('data', 3); arr('indices', 3); arr('indptr', 3)
  return p.setitems().build().stop().toBuffer()
}

/** A small valid GGUF (v3) with extra string key/values (for the metadata hidden-content hook). */
export function ggufWithStrings(kvs: Array<[string, string]>): Buffer {
  const str = (s: string): Buffer => { const b = Buffer.from(s, 'utf8'); const l = Buffer.alloc(8); l.writeBigUInt64LE(BigInt(b.length)); return Buffer.concat([l, b]) }
  const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b }
  const u64 = (n: number): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b }
  const all: Array<[string, string]> = [['general.architecture', 'llama'], ...kvs]
  const kv = all.map(([k, v]) => Buffer.concat([str(k), u32(8), str(v)]))
  const tensors = Buffer.concat([str('w'), u32(2), u64(4), u64(4), u32(0), u64(0)])
  const head = Buffer.concat([Buffer.from('GGUF'), u32(3), u64(1), u64(all.length), ...kv, tensors])
  return Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32), Buffer.alloc(64)])
}
