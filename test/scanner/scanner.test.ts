import {expect} from 'chai'
import {readdirSync, readFileSync, rmSync, symlinkSync} from 'node:fs'
import {join} from 'node:path'
import {createHash} from 'node:crypto'
import zlib from 'node:zlib'
import {validateBody} from '../../src/lib/airs/validate.js'
import {THREAT_CATEGORIES} from '../../src/lib/airs/enums.js'
import type {FileScanData, ScanDetails} from '../../src/lib/airs/types.js'
import {ruleForThreat, SCANNER_VERSION, scanPath, THREATS, type ScanReport} from '../../src/lib/scanner/index.js'
import {classifyGlobal} from '../../src/lib/scanner/policy.js'
import {compileGlob} from '../../src/lib/scanner/glob.js'
import {benign, fakeH5, gguf, gzip, kerasConfig, lambdaCode, npy, onnxModel, payload, PW, safetensors, savedModel, tar,
  tempTree, tflite, torchStateDict, validSafetensors, zip, pb} from './fixtures.js'

const roots: string[] = []
after(() => { for (const r of roots) rmSync(r, {recursive: true, force: true}) })

async function scanTree(files: Record<string, Buffer | string>, opts = {}): Promise<ScanReport> {
  const root = tempTree(files)
  roots.push(root)
  const rep = await scanPath(root, opts)
  const problems = validateBody('ScanDetails', rep.scanDetails)
  expect(problems, JSON.stringify(problems)).to.deep.equal([])
  return rep
}

async function scanOne(name: string, data: Buffer | string): Promise<FileScanData> {
  const rep = await scanTree({[name]: data})
  const f = rep.scanDetails.files.find((x) => x.file_path === name)
  expect(f, `no record for ${name}`).to.not.equal(undefined)
  return f!
}

const threats = (f: FileScanData): string[] => (f.issues_detected ?? []).map((i) => String(i.threat))
function expectThreat(f: FileScanData, code: string, extra?: (i: NonNullable<FileScanData['issues_detected']>[number]) => boolean): void {
  const hit = (f.issues_detected ?? []).find((i) => i.threat === code && (!extra || extra(i)))
  expect(hit, `${code} expected in ${JSON.stringify(f.issues_detected, null, 1)}`).to.not.equal(undefined)
}
function expectClean(f: FileScanData): void {
  expect(f.issues_detected ?? [], JSON.stringify(f.issues_detected, null, 1)).to.deep.equal([])
}

describe('scanner: threat table', () => {
  it('covers every ThreatCategory with a rule and exact rule names', () => {
    for (const c of THREAT_CATEGORIES) {
      expect(THREATS[c].code).to.equal(c)
      expect(THREATS[c].rule).to.be.a('string').and.not.equal('')
    }
    expect(ruleForThreat('PAIT-PKL-100')).to.equal('Load Time Code Execution Check')
    expect(ruleForThreat('UNAPPROVED_FORMATS')).to.equal('Stored In Approved File Format')
    expect(ruleForThreat('PAIT-TF-300')).to.equal('Known Framework Operators Check')
    expect(ruleForThreat('PAIT-ONNX-200')).to.equal('Model Architecture Backdoor Check')
    expect(ruleForThreat('PAIT-TF-301')).to.equal('Runtime Code Execution Check')
    expect(ruleForThreat('PAIT-KERAS-100')).to.equal('Suspicious Model Components Check')
    expect(ruleForThreat('PAIT-NEWFMT-201')).to.equal('Model Architecture Backdoor Check')
    expect(ruleForThreat('nonsense')).to.equal(undefined)
    expect(THREATS['PAIT-PKL-100'].kbUrl).to.equal('https://protectai.com/insights/knowledge-base/deserialization-threats/PAIT-PKL-100')
    expect(THREATS.UNAPPROVED_FORMATS.kbUrl).to.equal(null)
    expect(SCANNER_VERSION.length).to.be.at.most(64)
  })
})

describe('scanner: policy', () => {
  it('denies whole modules, sub-modules, py2 aliases and dotted traversal; allows tensor helpers', () => {
    expect(classifyGlobal('posix', 'system').tier).to.equal('deny')
    expect(classifyGlobal('asyncio.unix_events', '_UnixSubprocessTransport').tier).to.equal('deny')
    expect(classifyGlobal('__builtin__', 'eval').severity).to.equal('critical')
    expect(classifyGlobal('pathlib', 'os.system').tier).to.equal('deny')
    expect(classifyGlobal('collections', 'OrderedDict.__init__.__globals__').tier).to.equal('deny')
    expect(classifyGlobal('torch._utils', '_rebuild_tensor_v2').tier).to.equal('safe')
    expect(classifyGlobal('collections', 'OrderedDict').tier).to.equal('safe')
    expect(classifyGlobal('sklearn.linear_model._logistic', 'LogisticRegression').tier).to.equal('safe')
    expect(classifyGlobal('mypkg.helpers', 'do_things').tier).to.equal('unknown')
    expect(classifyGlobal('builtins', 'getattr').tier).to.equal('deny')
    expect(classifyGlobal('builtins', 'list').tier).to.equal('safe')
    expect(classifyGlobal('uuid', 'UUID').tier).to.equal('safe')
    expect(classifyGlobal('uuid', '_get_command_stdout').tier).to.equal('deny')
    expect(classifyGlobal('pandas._libs.internals', '_unpickle_block').tier).to.equal('safe')
    expect(classifyGlobal('pathlib', 'PosixPath').tier).to.equal('safe')
  })
})

describe('scanner: glob', () => {
  it('supports **, *, ? and classes', () => {
    expect(compileGlob('*.pkl')('a/b/c.pkl')).to.equal(true)
    expect(compileGlob('*.pkl')('a/b/c.pt')).to.equal(false)
    expect(compileGlob('models/**/*.bin')('models/x/y/z.bin')).to.equal(true)
    expect(compileGlob('models/**/*.bin')('models/z.bin')).to.equal(true)
    expect(compileGlob('models/**/*.bin')('other/z.bin')).to.equal(false)
    expect(compileGlob('model-?.pt')('model-1.pt')).to.equal(true)
    expect(compileGlob('model-?.pt')('model-12.pt')).to.equal(false)
    expect(compileGlob('[ab].txt')('b.txt')).to.equal(true)
    expect(compileGlob('.git')('.git/objects/aa')).to.equal(true)
    expect(compileGlob('docs/')('docs/readme.md')).to.equal(true)
    expect(compileGlob('a/*.txt')('a/b/c.txt')).to.equal(false)
  })
})

describe('scanner: pickle protocols and import opcodes', () => {
  for (const proto of [0, 1, 2, 3, 4, 5]) {
    it(`finds os.system in protocol ${proto} and passes a benign protocol-${proto} dict`, async () => {
      const bad = await scanOne('model.pkl', payload(proto))
      expect(bad.modelscan_status).to.equal('SCANNED')
      expectThreat(bad, 'PAIT-PKL-100', (i) => i.module === 'os' && i.operator === 'system' && i.source === 'model.pkl')
      expect(bad.formats).to.deep.equal(['pickle'])
      const good = await scanOne('model.pkl', benign(proto))
      expect(good.modelscan_status).to.equal('SCANNED')
      expectClean(good)
    })
  }

  it('handles INST (protocol 0)', async () => {
    const p = new PW(0).mark().str('print(1)').inst('builtins', 'exec').stop().toBuffer()
    const f = await scanOne('a.pkl', p)
    expectThreat(f, 'PAIT-PKL-100', (i) => i.module === 'builtins' && i.operator === 'exec')
  })

  it('handles OBJ, NEWOBJ and NEWOBJ_EX: unknown calls with arguments are suspicious, code-like arguments escalate', async () => {
    const obj = new PW(2).mark().global('evilpkg.mod', 'Runner').str('x').op('o').stop().toBuffer()
    expectThreat(await scanOne('obj.pkl', obj), 'PAIT-PKL-101', (i) => i.module === 'evilpkg.mod' && /OBJ/.test(i.description))
    // argument-less allocation of an unknown class is how libraries pickle their objects (pickle-precision.test.ts)
    expectClean(await scanOne('nobj.pkl', new PW(2).global('evilpkg.mod', 'Runner').emptyTuple().op(0x81).stop().toBuffer()))
    const code = "__import__('os').system('id')"
    const nobj = new PW(2).global('evilpkg.mod', 'Runner').mark().str(code).tuple().op(0x81).stop().toBuffer()
    expectThreat(await scanOne('nobj.pkl', nobj), 'PAIT-PKL-100', (i) => i.module === 'evilpkg.mod' && /NEWOBJ/.test(i.description) && /Python code/.test(i.description))
    const nobjx = new PW(4).imp('evilpkg.mod', 'Runner').emptyTuple().emptyDict().str('cmd').str(code).op('s').op(0x92).stop().toBuffer()
    expectThreat(await scanOne('nobjx.pkl', nobjx), 'PAIT-PKL-100', (i) => /NEWOBJ_EX/.test(i.description))
  })

  it('does not report an unknown import that is never called', async () => {
    const p = new PW(2).mark().global('mypkg.things', 'Config').str('k').op('d').op('0').emptyDict().stop().toBuffer()
    // the global is on the stack but never reaches a call opcode
    const q = new PW(2).global('mypkg.things', 'helper').op('0').emptyDict().stop().toBuffer()
    expectClean(await scanOne('p.pkl', p))
    expectClean(await scanOne('q.pkl', q))
  })

  it('reports EXT1/EXT2/EXT4 registry imports', async () => {
    for (const [code, arg] of [[0x82, [7]], [0x83, [7, 1]], [0x84, [7, 0, 0, 0]]] as const) {
      const p = new PW(2).op(code).raw(Buffer.from(arg)).emptyTuple().reduce().stop().toBuffer()
      const f = await scanOne('ext.pkl', p)
      expectThreat(f, 'PAIT-PKL-101', (i) => i.module === 'copyreg')
    }
  })

  it('resolves STACK_GLOBAL operands through BINPUT/BINGET, LONG_BINGET, MEMOIZE and overwritten memo slots', async () => {
    // memo: slot 0 = 'builtins' (later overwritten by 'os'), slot 300 = 'system' via LONG_BINPUT
    const p = new PW(4)
    p.str('builtins').put(0).op('0').str('system').put(300).op('0').str('os').put(0).op('0')
    p.get(0).get(300).stackGlobal().mark().str('id').tuple().reduce().stop()
    const f = await scanOne('memo.pkl', p.toBuffer())
    expectThreat(f, 'PAIT-PKL-100', (i) => i.module === 'os' && i.operator === 'system')
    expect((f.issues_detected ?? []).some((i) => i.module === 'builtins')).to.equal(false)
    // MEMOIZE uses len(memo): after two MEMOIZEs the next index is 2 even if slot 7 was PUT explicitly
    const q = new PW(4)
    q.str('nothing').put(7).op('0').str('subprocess').memoize().op('0').str('check_output').memoize().op('0')
    q.get(1).get(2).stackGlobal().mark().str('id').tuple().reduce().stop()
    expectThreat(await scanOne('memoize.pkl', q.toBuffer()), 'PAIT-PKL-100', (i) => i.module === 'subprocess' && i.operator === 'check_output')
  })

  it('handles GET/PUT text opcodes in protocol 0', async () => {
    const p = new PW(0).str('os').put(3).op('0').str('system').put(4).op('0').raw('g3\ng4\n').op(0x93).mark().str('id').tuple().reduce().stop()
    expectThreat(await scanOne('p0memo.pkl', p.toBuffer()), 'PAIT-PKL-100', (i) => i.module === 'os')
  })

  it('flags STACK_GLOBAL operands computed at load time (codecs.decode rot13)', async () => {
    const p = new PW(4)
    p.imp('codecs', 'decode').mark().str('bf').str('rot13').tuple().reduce() // module = decode('bf') -> 'os'
    p.str('system').stackGlobal().mark().str('id').tuple().reduce().stop()
    const f = await scanOne('computed.pkl', p.toBuffer())
    expectThreat(f, 'PAIT-PKL-100', (i) => /computed at load time/.test(i.description))
  })

  it('follows nested reduce: getattr(__import__("os"), "system")("id")', async () => {
    const p = new PW(2)
    p.global('builtins', 'getattr').mark()
    p.global('builtins', '__import__').mark().str('os').tuple().reduce()
    p.str('system').tuple().reduce()
    p.mark().str('id').tuple().reduce().stop()
    const f = await scanOne('nested.pkl', p.toBuffer())
    expectThreat(f, 'PAIT-PKL-100', (i) => i.operator === '__import__')
    expectThreat(f, 'PAIT-PKL-100', (i) => i.operator === 'getattr')
    expectThreat(f, 'PAIT-PKL-100', (i) => i.module === '<computed>')
  })

  it('checks every dotted component (pathlib + os.system, os.path + os.system)', async () => {
    const a = new PW(4).call('pathlib', 'os.system', ['id']).stop().toBuffer()
    expectThreat(await scanOne('dotted.pkl', a), 'PAIT-PKL-100', (i) => i.module === 'pathlib' && i.operator === 'os.system')
    const b = new PW(4).call('collections', 'OrderedDict.__init__.__globals__', []).stop().toBuffer()
    expectThreat(await scanOne('dotted2.pkl', b), 'PAIT-PKL-100')
  })

  const gadgets: Array<[string, string, Array<string | number>]> = [
    ['builtins', '__import__', ['os']], ['importlib', 'import_module', ['os']], ['marshal', 'loads', ['x']],
    ['inspect', 'getattr_static', ['x']], ['pkgutil', 'resolve_name', ['os:system']], ['torch.utils.collect_env', 'run', ['id']],
    ['multiprocessing.util', 'spawnv_passfds', ['/bin/sh']], ['mailcap', 'findmatch', ['x']], ['cProfile', 'run', ['x']],
    ['ensurepip', '_run_pip', ['x']], ['idlelib.pyshell', 'ModifiedInterpreter.runcode', ['x']], ['torch.jit.unsupported_tensor_ops', 'execWrapper', ['x']],
    ['torch._inductor.codecache', 'compile_file', ['x']], ['doctest', 'debug_script', ['x']], ['numpy.testing._private.utils', 'runstring', ['x']],
    ['timeit', 'timeit', ['x']], ['pip', 'main', ['install']], ['webbrowser', 'open', ['http://x']], ['functools', 'partial', ['x']],
    ['operator', 'attrgetter', ['x']], ['trace', 'Trace.runctx', ['x']], ['code', 'InteractiveInterpreter.runcode', ['x']],
    ['torch.serialization', 'load', ['x']], ['ctypes', 'CDLL', ['libc.so.6']], ['uuid', '_get_command_stdout', ['id']],
    ['socket', 'create_connection', ['x']], ['runpy', 'run_path', ['x']], ['shutil', 'rmtree', ['/']], ['nt', 'system', ['x']],
    ['posix', 'system', ['x']], ['requests.api', 'get', ['http://x']], ['_pickle', 'loads', ['x']], ['pty', 'spawn', ['/bin/sh']],
  ]
  for (const [m, n, args] of gadgets) {
    it(`flags the gadget ${m}.${n}`, async () => {
      const f = await scanOne('g.pkl', new PW(4).call(m, n, args).stop().toBuffer())
      expectThreat(f, 'PAIT-PKL-100', (i) => i.module === m && i.operator === n)
    })
  }

  it('resolves STACK_GLOBAL operands memoised behind 26 MB of strings (the memo keeps them off the heap)', async function () {
    this.timeout(60000)
    const parts: Buffer[] = [Buffer.from('(')]
    const filler = 'x'.repeat(1000)
    for (let i = 0; i < 26000; i++) parts.push(Buffer.from(`V${filler}\np${i}\n0`))
    parts.push(Buffer.from('0Vos\np999999\n0g999999\nVsystem\n\x93(Vid\ntR.', 'latin1'))
    const f = await scanOne('budget.pkl', Buffer.concat(parts))
    expectThreat(f, 'PAIT-PKL-100', (i) => i.module === 'os' && i.operator === 'system')
  })

  it('fails closed when a STACK_GLOBAL operand comes from a memo slot that was not retained', async function () {
    this.timeout(60000)
    // more far-apart memo indices than any pickler writes: later ones are not retained (and that is flagged)
    const parts: Buffer[] = [Buffer.from([0x80, 4]), Buffer.from('N')]
    for (let i = 0; i < 262_200; i++) { const b = Buffer.alloc(5); b[0] = 0x72; b.writeUInt32LE(0xf0000000 + i * 7, 1); parts.push(b) }
    const get = Buffer.alloc(5); get[0] = 0x6a; get.writeUInt32LE(0xf0000000 + 262_199 * 7, 1)
    parts.push(Buffer.from('0'), get, Buffer.from([0x8c, 6]), Buffer.from('system'), Buffer.from([0x93]), Buffer.from('(Vid\ntR.', 'latin1'))
    const f = await scanOne('budget.pkl', Buffer.concat(parts))
    expectThreat(f, 'PAIT-PKL-100', (i) => i.operator === 'system' && /not retained|memory budget/.test(i.description))
    expect((f.issues_detected ?? []).some((i) => i.threat === null && /resource exhaustion: memo indices/.test(i.description))).to.equal(true)
  })

  it('flags BUILD that overwrites attributes of an imported object', async () => {
    const p = new PW(2).global('collections', 'OrderedDict').emptyDict().mark().str('x').int(1).setitems().build().stop().toBuffer()
    expectThreat(await scanOne('build.pkl', p), 'PAIT-PKL-100', (i) => /BUILD/.test(i.description))
  })

  it('scans pickles passed as bytes arguments (nested pickle.loads / _load_from_bytes)', async () => {
    const inner = payload(2)
    const p = new PW(3).global('torch.storage', '_load_from_bytes').mark().bytes(inner).tuple().reduce().stop().toBuffer()
    const f = await scanOne('outer.pkl', p)
    expectThreat(f, 'PAIT-PKL-100', (i) => i.module === 'os' && /^outer\.pkl:bytes@\d+$/.test(i.source))
  })

  it('scans a pickle smuggled as a protocol-2 str (_codecs.encode(..., "latin1"))', async () => {
    const inner = payload(2).toString('latin1')
    const p = new PW(2).global('torch.storage', '_load_from_bytes').mark()
      .global('_codecs', 'encode').mark().str(inner).str('latin1').tuple().reduce().tuple().reduce().stop().toBuffer()
    const f = await scanOne('codecs.pkl', p)
    expectThreat(f, 'PAIT-PKL-100', (i) => i.module === 'os' && /^codecs\.pkl:str@\d+$/.test(i.source))
  })

  it('finds a payload in a second (stacked) pickle', async () => {
    const f = await scanOne('stacked.pkl', Buffer.concat([benign(2), payload(2)]))
    expectThreat(f, 'PAIT-PKL-100')
    // protocol-1 pickles have no header: the third pickle follows a '}'-initial second one
    const g = await scanOne('stacked1.pkl', Buffer.concat([benign(4), benign(1), payload(1)]))
    expectThreat(g, 'PAIT-PKL-100', (i) => i.module === 'os')
    expect(g.modelscan_status).to.equal('SCANNED')
  })
})

describe('scanner: malformed vs malicious', () => {
  it('reports a payload without STOP (truncated) and a payload followed by garbage', async () => {
    const p = payload(2)
    const trunc = await scanOne('t.pkl', p.subarray(0, p.length - 1))
    expect(trunc.modelscan_status).to.equal('SCANNED')
    expectThreat(trunc, 'PAIT-PKL-100', (i) => i.module === 'os')
    const garbage = await scanOne('g.pkl', Buffer.concat([p.subarray(0, p.length - 1), Buffer.from([0xff, 0xfe, 0x00, 0x01])]))
    expectThreat(garbage, 'PAIT-PKL-100', (i) => i.module === 'os')
    expectThreat(garbage, 'PAIT-PKL-101', (i) => /malformed/.test(i.description))
  })

  it('reports a truncated benign pickle as ERROR, not as malicious', async () => {
    const b = benign(2)
    const f = await scanOne('b.pkl', b.subarray(0, b.length - 4))
    expect(f.modelscan_status).to.equal('ERROR')
    expect(f.error_message).to.match(/truncated|malformed/)
    expectClean(f)
  })

  it('reports a framed payload whose FRAME runs past the end (the C unpickler refuses it, the pure-Python one runs it)', async () => {
    const body = new PW(4).call('os', 'system', ['id']).stop().toBuffer().subarray(2)
    const framed = Buffer.concat([Buffer.from([0x80, 0x04]), new PW(0).frame(body.length + 50).toBuffer(), body.subarray(0, body.length - 1)])
    const f = await scanOne('framed.pkl', framed)
    expect(f.modelscan_status).to.equal('SCANNED')
    expect(f.error_message).to.match(/truncated/)
    expectThreat(f, 'PAIT-PKL-100', (i) => i.module === 'os' && i.operator === 'system')
    // a benign truncated framed pickle is an error, not an issue
    const b = new PW(4).emptyDict().mark().str('a').int(1).setitems().stop().toBuffer().subarray(2)
    const g = await scanOne('benign.pkl', Buffer.concat([Buffer.from([0x80, 0x04]), new PW(0).frame(b.length + 50).toBuffer(), b.subarray(0, b.length - 1)]))
    expect(g.modelscan_status).to.equal('ERROR')
    expectClean(g)
  })

  it('treats random bytes and text as not a model file', async () => {
    const f = await scanOne('notes.txt', 'hello world, this is not a pickle\n')
    expect(f.modelscan_status).to.equal('SKIPPED')
    expect(f.error_message).to.equal('not a model file')
    expect(f.formats).to.deep.equal(['not_model'])
  })
})

function joblibFile(withPayload: boolean): Buffer {
  const p = new PW(2)
  p.emptyList().put(0).mark()
  p.global('joblib.numpy_pickle', 'NumpyArrayWrapper').emptyTuple().op(0x81).put(1)
  p.emptyDict().put(2).mark()
  p.str('subclass').global('numpy', 'ndarray')
  p.str('shape').int(3).op(0x85)
  p.str('order').str('C')
  p.str('dtype').global('numpy', 'dtype').mark().str('f8').op(0x89).op(0x88).tuple().reduce()
  p.mark().int(3).str('<').none().none().none().int(-1).int(-1).int(0).tuple().build()
  p.str('allow_mmap').op(0x88)
  p.str('numpy_array_alignment_bytes').int(16)
  p.setitems().build()
  // inline array bytes: 1 padding-length byte, padding, 3 float64 -- chosen to break a naive opcode parser
  p.raw(Buffer.from([4, 0xff, 0xff, 0xff, 0xff]))
  p.raw(Buffer.from('c\x00\xff\x80\x02garbage\xfe\xfd\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09', 'latin1')) // 24 bytes
  if (withPayload) p.call('os', 'system', ['id'])
  p.appends().stop()
  return p.toBuffer()
}

function legacyTorch(withPayload: boolean): Buffer {
  const magic = Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e])
  const version = new PW(2).int(1001).stop().toBuffer()
  const sys = new PW(2).emptyDict().mark().str('protocol_version').int(1001).str('little_endian').op(0x88).setitems().stop().toBuffer()
  let obj = torchStateDict(2, 2)
  if (withPayload) {
    const p = new PW(2).emptyList().mark()
    p.raw(obj.subarray(2, obj.length - 1)) // the state dict object without PROTO/STOP
    p.call('subprocess', 'Popen', ['id']).appends().stop()
    obj = p.toBuffer()
  }
  const keys = new PW(2).emptyList().mark().str('0').str('1').appends().stop().toBuffer()
  const storage = Buffer.concat([Buffer.from([16, 0, 0, 0, 0, 0, 0, 0]), Buffer.alloc(64, 0x80)])
  return Buffer.concat([magic, version, sys, obj, keys, storage, storage])
}

function torchZip(dataPkl: Buffer, extra: Array<{name: string; data: Buffer; method?: 0 | 8; badCrc?: boolean}> = [], opts: {badCrc?: boolean} = {}): Buffer {
  return zip([
    {name: 'archive/data.pkl', data: dataPkl, badCrc: opts.badCrc},
    {name: 'archive/data/0', data: Buffer.alloc(64, 0x80)},
    {name: 'archive/data/1', data: Buffer.from([0x80, 0x02, 0x11, 0x22, 0x33, ...Buffer.alloc(59)])},
    ...extra,
    {name: 'archive/version', data: Buffer.from('3\n')},
  ])
}

describe('scanner: containers', () => {
  it('skips joblib array bytes and finds a payload after the array', async () => {
    const bad = await scanOne('model.joblib', joblibFile(true))
    expect(bad.formats).to.deep.equal(['joblib'])
    expectThreat(bad, 'PAIT-JOBLIB-100', (i) => i.module === 'os')
    const good = await scanOne('model.joblib', joblibFile(false))
    expect(good.modelscan_status).to.equal('SCANNED')
    expectClean(good)
  })

  it('reads every pickle of a legacy torch file', async () => {
    const bad = await scanOne('old.pt', legacyTorch(true))
    expect(bad.formats).to.deep.equal(['pytorch_v0_1_10'])
    expectThreat(bad, 'PAIT-PYTCH-100', (i) => i.module === 'subprocess' && i.operator === 'Popen')
    const good = await scanOne('old.pt', legacyTorch(false))
    expect(good.modelscan_status).to.equal('SCANNED')
    expectClean(good)
  })

  it('passes a benign torch zip checkpoint and reports payloads in data.pkl (bad CRC) and in non-pickle member names', async () => {
    const good = await scanOne('model.pt', torchZip(torchStateDict(2, 3)))
    expect(good.modelscan_status).to.equal('SCANNED')
    expect(good.formats).to.deep.equal(['pytorch_v1_13'])
    expectClean(good)
    const crc = await scanOne('model.pt', torchZip(payload(2), [], {badCrc: true}))
    expectThreat(crc, 'PAIT-PYTCH-100', (i) => i.source === 'model.pt:archive/data.pkl')
    const hidden = await scanOne('model.pt', torchZip(torchStateDict(), [{name: 'archive/data/evil', data: payload(0)}]))
    expectThreat(hidden, 'PAIT-PYTCH-100', (i) => i.source === 'model.pt:archive/data/evil')
    const other = await scanOne('model.bin', torchZip(torchStateDict(), [{name: 'archive/extra/blob', data: payload(1), method: 8}]))
    expectThreat(other, 'PAIT-PYTCH-100', (i) => i.source === 'model.bin:archive/extra/blob')
  })

  it('reads the legacy tar checkpoint layout (pytorch_v0_1_1)', async () => {
    const t = tar([{name: 'sys_info', data: new PW(2).emptyDict().stop().toBuffer()}, {name: 'pickle', data: payload(2, 'runpy', 'run_path', ['/tmp/x'])},
      {name: 'tensors', data: new PW(2).emptyList().stop().toBuffer()}, {name: 'storages', data: Buffer.from([0x80, 0x02, 1, 2, 3, 4, 5, 6, 7, 8])}])
    const f = await scanOne('old.tar', t)
    expect(f.formats).to.deep.equal(['pytorch_v0_1_1'])
    expectThreat(f, 'PAIT-PYTCH-100', (i) => i.module === 'runpy' && i.source === 'old.tar:pickle')
    expect(f.error_message ?? null).to.equal(null)
  })

  it('scans TorchScript archives (code and pickles)', async () => {
    const ts = zip([
      {name: 'm/data.pkl', data: torchStateDict()},
      {name: 'm/constants.pkl', data: payload(2)},
      {name: 'm/code/__torch__/m.py', data: Buffer.from('def forward(self, x):\n  return torch.ops.evilns.run(x)\n')},
      {name: 'm/version', data: Buffer.from('3')},
    ])
    const f = await scanOne('script.pt', ts)
    expect(f.formats).to.deep.equal(['pytorch_torch_script'])
    expectThreat(f, 'PAIT-TCHST-300', (i) => i.source === 'script.pt:m/constants.pkl')
    expectThreat(f, 'PAIT-TCHST-301', (i) => i.operator === 'torch.ops.evilns')
  })

  it('finds payloads inside tar, tar.gz, gzip and nested zips', async () => {
    const t = await scanOne('bundle.tar', tar([{name: 'readme.txt', data: Buffer.from('hi')}, {name: 'weights/model.bin', data: payload(2)}]))
    expectThreat(t, 'PAIT-PKL-100', (i) => i.source === 'bundle.tar:weights/model.bin')
    expect(t.formats).to.include('tar')
    const tgz = await scanOne('bundle.tar.gz', gzip(tar([{name: 'x/p.pkl', data: payload(4)}])))
    expectThreat(tgz, 'PAIT-PKL-100', (i) => i.source === 'bundle.tar.gz:x/p.pkl')
    expect(tgz.formats).to.include.members(['gzip', 'tar', 'pickle'])
    const gz = await scanOne('model.pkl.gz', gzip(payload(3)))
    expectThreat(gz, 'PAIT-PKL-100')
    const inner = zip([{name: 'deep/payload.data', data: payload(0), method: 8}])
    const middle = zip([{name: 'inner.zip', data: inner}])
    const outer = zip([{name: 'middle.zip', data: middle, method: 8}, {name: 'ok.txt', data: Buffer.from('ok')}])
    const nz = await scanOne('outer.zip', outer)
    expectThreat(nz, 'PAIT-PKL-100', (i) => i.source === 'outer.zip:middle.zip:inner.zip:deep/payload.data')
    const zl = await scanOne('model.joblib', zlib.deflateSync(joblibFile(true)))
    expectThreat(zl, 'PAIT-JOBLIB-100')
    expect(zl.formats).to.include('zlib')
  })

  it('reports zip-slip and tar links escaping the tree', async () => {
    const z = await scanOne('slip.zip', zip([{name: '../../etc/cron.d/x', data: Buffer.from('* * * * * root id')}, {name: '/abs/path', data: Buffer.from('x')}]))
    expectThreat(z, 'PAIT-ARV-100', (i) => /\.\. segment/.test(i.description))
    expectThreat(z, 'PAIT-ARV-100', (i) => /absolute/.test(i.description))
    const t = await scanOne('slip.tar', tar([{name: 'link', type: '2', linkname: '../../../etc/passwd'}, {name: 'ok/file', data: Buffer.from('x')}]))
    expectThreat(t, 'PAIT-ARV-100', (i) => i.operator === 'symlink')
    const ok = await scanOne('ok.tar', tar([{name: 'a/link', type: '2', linkname: '../b/file'}, {name: 'b/file', data: Buffer.from('x')}]))
    expectClean(ok)
  })

  it('reports zip bombs (ratio, overlapping entries) without following them', async function () {
    this.timeout(60000)
    const big = Buffer.alloc(100 << 20)
    const bomb = zip([{name: 'zeros.bin', data: big, method: 8}])
    const t0 = Date.now()
    const f = await scanOne('bomb.zip', bomb)
    expect(f.modelscan_status).to.equal('SCANNED')
    expect((f.issues_detected ?? []).some((i) => /bomb/.test(i.description))).to.equal(true)
    expect(Date.now() - t0).to.be.below(30000)
    // 113 bytes of bzip2 that expand to 100 MB of zeros (system bzip2 -9 of /dev/zero)
    const bz = Buffer.from('QlpoOTFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1mKltepAGQGRADAABAAAAggADDMBSmmKARbEoBF4u5IpwoSFdRTLWA=', 'base64')
    const b = await scanOne('zeros.bz2', bz)
    expect((b.issues_detected ?? []).some((i) => /decompression bomb/.test(i.description))).to.equal(true)
    const small = Buffer.from('x'.repeat(1000))
    const overlap = zip([{name: 'a', data: small, method: 8}, {name: 'b', data: small, reuseDataOf: 0}, {name: 'c', data: small, reuseDataOf: 0}])
    const o = await scanOne('overlap.zip', overlap)
    expect((o.issues_detected ?? []).some((i) => i.operator === 'overlapping_entries')).to.equal(true)
  })

  it('stops decompressing after the first bomb in a recursive (nested) zip bomb', async function () {
    this.timeout(60000)
    const leaf = zip([{name: 'zeros.bin', data: Buffer.alloc(70 << 20), method: 8}])
    const l2 = zip(Array.from({length: 8}, (_v, i) => ({name: `l${i}.zip`, data: leaf, method: 8 as const})))
    const l3 = zip(Array.from({length: 8}, (_v, i) => ({name: `m${i}.zip`, data: l2, method: 8 as const})))
    const t0 = Date.now()
    const f = await scanOne('42.zip', l3)
    expect(Date.now() - t0).to.be.below(20000)
    const bombs = (f.issues_detected ?? []).filter((i) => /bomb/.test(i.description))
    expect(bombs.length).to.equal(1)
    expect(f.error_message).to.match(/partially scanned: 14 part\(s\).*bomb was already found/)
  })

  it('scans the zip side of a pickle/zip polyglot', async () => {
    const pk = benign(2)
    const z = zip([{name: 'hidden/evil.pkl', data: payload(2)}])
    // shift the central directory offset by the prepended pickle so that zipfile-style readers open it
    const poly = Buffer.concat([pk, z])
    const eocd = poly.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
    poly.writeUInt32LE(poly.readUInt32LE(eocd + 16) + pk.length, eocd + 16)
    const cd = poly.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))
    poly.writeUInt32LE(poly.readUInt32LE(cd + 42) + pk.length, cd + 42)
    const f = await scanOne('poly.pkl', poly)
    expect(f.formats).to.deep.equal(['pickle'])
    expect((f.issues_detected ?? []).some((i) => i.operator === 'polyglot')).to.equal(true)
    expectThreat(f, 'PAIT-PKL-100', (i) => i.source === 'poly.pkl:hidden/evil.pkl')
  })

  it('reports local/central header mismatches and still scans the member', async () => {
    const z = zip([{name: 'archive/data.pkl', localName: 'archive/other.pkl', data: payload(2)}])
    const f = await scanOne('mismatch.zip', z)
    expect((f.issues_detected ?? []).some((i) => i.operator === 'header_mismatch')).to.equal(true)
    expectThreat(f, 'PAIT-PYTCH-100')
  })

  // produced once with the system bzip2 from payload(2) / benign(2) of fixtures.ts (kept inline: no decoder-side tool at test time)
  const BZ2_PAYLOAD = Buffer.from('QlpoOTFBWSZTWdA0vGEAAA/TwFAQQEEQQA5DzKBAACAAMUDTQyMmIU0ANNMCUCUaJUwLCYgK3OztVOwTnAR8XckU4UJDQNLxhA==', 'base64')
  const BZ2_BENIGN = Buffer.from('QlpoOTFBWSZTWThGfgkAABbXwHwAAEEACABCOgAmQkAAIAAhoU9Jp6aCep+qFMJpoDTEVHYDagQkIVaXqdYnpq574nHJcjB/F3JFOFCQOEZ+CQ==', 'base64')

  it('decodes bzip2 streams and bzip2 zip members (pure-JS decoder) and reports corrupt ones', async () => {
    const bad = await scanOne('model.pkl.bz2', BZ2_PAYLOAD)
    expect(bad.formats).to.deep.equal(['bzip2', 'pickle'])
    expectThreat(bad, 'PAIT-PKL-100', (i) => i.module === 'os')
    const good = await scanOne('model.pkl.bz2', BZ2_BENIGN)
    expect(good.modelscan_status).to.equal('SCANNED')
    expectClean(good)
    const z = zip([{name: 'inner.pkl', data: BZ2_PAYLOAD}])
    z.writeUInt16LE(12, 8)
    z.writeUInt16LE(12, z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 10)
    expectThreat(await scanOne('bz.zip', z), 'PAIT-PKL-100', (i) => i.source === 'bz.zip:inner.pkl')
    const corrupt = Buffer.from(BZ2_PAYLOAD); corrupt[20] ^= 0xff
    const c = await scanOne('broken.bz2', corrupt)
    expect(c.modelscan_status).to.equal('ERROR')
    expect(c.error_message).to.match(/bzip2 data is corrupt/)
  })

  // produced once with the system xz from payload(2) / benign(2): .xz (-0), .lzma (LZMA alone), .xz with the x86 BCJ filter
  const XZ_PAYLOAD = Buffer.from('/Td6WFoAAATm1rRGAgAhAQwAAACPmEGcAQAfgAJjb3MKc3lzdGVtCihYCgAAAGVjaG8gcHduZWR0Ui4ABJKBZ0WLtxcAATggGCl3DB+2830BAAAAAARZWg==', 'base64')
  const XZ_BENIGN = Buffer.from('/Td6WFoAAATm1rRGAgAhAQwAAACPmEGc4AAtACxdAEAAiynXgKBj95Am6jNmDI9nkKZY7kKV6RY5S5c16uOlteynzAHNC+XtH8AAAGxT2Cw11me3AAFILul98MQftvN9AQAAAAAEWVo=', 'base64')
  const LZMA_PAYLOAD = Buffer.from('XQAAgAD//////////wBAAIgDvDC9NN4vXibQafM/sPsFPXMC5ljjMjgYyjE94dSlaSf//8cAAAA=', 'base64')
  const XZ_BCJ = Buffer.from('/Td6WFoAAATm1rRGAgEEACEBFgANhjUfAQAfgAJjb3MKc3lzdGVtCihYCgAAAGVjaG8gcHduZWR0Ui4ABJKBZ0WLtxcAATggGCl3DB+2830BAAAAAARZWg==', 'base64')

  it('decodes xz and legacy lzma streams (built-in LZMA/LZMA2 decoder) and xz zip members', async () => {
    const bad = await scanOne('model.joblib.xz', XZ_PAYLOAD)
    expect(bad.formats).to.deep.equal(['xz', 'joblib'])
    expectThreat(bad, 'PAIT-JOBLIB-100', (i) => i.module === 'os')
    const good = await scanOne('model.pkl.xz', XZ_BENIGN)
    expect(good.modelscan_status).to.equal('SCANNED')
    expectClean(good)
    const lz = await scanOne('model.lzma', LZMA_PAYLOAD)
    expect(lz.formats).to.deep.equal(['lzma', 'pickle'])
    expectThreat(lz, 'PAIT-PKL-100')
    const z = zip([{name: 'inner.pkl', data: XZ_PAYLOAD}])
    z.writeUInt16LE(95, 8)
    z.writeUInt16LE(95, z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 10)
    expectThreat(await scanOne('xz.zip', z), 'PAIT-PKL-100', (i) => i.source === 'xz.zip:inner.pkl')
    const bcj = await scanOne('filtered.xz', XZ_BCJ)
    expect(bcj.modelscan_status).to.equal('SKIPPED')
    expect(bcj.error_message).to.match(/decoder unavailable: xz filter/)
    const c = await scanOne('broken.xz', XZ_PAYLOAD.subarray(0, 40)) // cut inside the LZMA2 chunk
    expect(c.modelscan_status).to.equal('ERROR')
    expect(c.error_message).to.match(/xz data is corrupt: unexpected end of input/)
  })

  it('reports lz4/7z as SKIPPED with the reason and zip methods it cannot decode as partial', async () => {
    const x = await scanOne('m.lz4', Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18]), Buffer.alloc(40)]))
    expect(x.modelscan_status).to.equal('SKIPPED')
    expect(x.error_message).to.match(/decoder unavailable: lz4/)
    const z = zip([{name: 'a.pkl', data: benign(2)}])
    z.writeUInt16LE(93, 8) // local method = zstd
    const cdPos = z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))
    z.writeUInt16LE(93, cdPos + 10)
    const p = await scanOne('m.zip', z)
    expect(p.modelscan_status).to.equal('SCANNED')
    expect(p.error_message).to.match(/partially scanned.*decoder unavailable: zip method 93/)
  })

  it('scans NumPy object arrays as pickles and passes plain arrays', async () => {
    const good = await scanOne('a.npy', npy('<f4', [2, 3], Buffer.alloc(24)))
    expect(good.formats).to.deep.equal(['numpy'])
    expectClean(good)
    const bad = await scanOne('o.npy', npy('|O', [1], payload(2)))
    expectThreat(bad, 'PAIT-PKL-100')
    const npz = await scanOne('arrs.npz', zip([{name: 'a.npy', data: npy('<i8', [2], Buffer.alloc(16))}, {name: 'b.npy', data: npy('|O', [1], payload(2)), method: 8}]))
    expect(npz.formats).to.deep.equal(['numpy_zip'])
    expectThreat(npz, 'PAIT-PKL-100', (i) => i.source === 'arrs.npz:b.npy')
  })
})

describe('scanner: framework formats', () => {
  it('Keras .keras: Lambda with malicious code, benign Lambda, callable modules, custom layers', async () => {
    const cfg = kerasConfig([
      {module: 'keras.layers', class_name: 'Dense', config: {name: 'd'}, registered_name: null},
      {module: 'keras.layers', class_name: 'Lambda', config: {name: 'evil', function: {class_name: '__lambda__', config: {code: lambdaCode(['os', 'system', 'x'])}}}},
      {module: 'keras.layers', class_name: 'Lambda', config: {name: 'scale', function: {class_name: '__lambda__', config: {code: lambdaCode(['x', 'mul'])}}}},
      {module: 'os', class_name: 'system', config: {name: 'cve'}},
      {module: 'my_layers', class_name: 'Fancy', config: {name: 'f'}, registered_name: 'my_layers>Fancy'},
    ])
    const k = zip([{name: 'metadata.json', data: Buffer.from('{"keras_version":"3.5.0"}')}, {name: 'config.json', data: Buffer.from(JSON.stringify(cfg)), method: 8},
      {name: 'model.weights.h5', data: Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])}])
    const f = await scanOne('model.keras', k)
    expect(f.formats).to.deep.equal(['keras3'])
    expectThreat(f, 'PAIT-KERAS-101', (i) => /evil/.test(i.description))
    expectThreat(f, 'PAIT-KERAS-100', (i) => /scale/.test(i.description))
    expectThreat(f, 'PAIT-KERAS-101', (i) => i.module === 'os' && i.operator === 'system')
    expectThreat(f, 'PAIT-KERAS-301', (i) => i.module === 'my_layers')
    expect(threats(f).filter((t) => t === 'PAIT-KERAS-101')).to.have.length(2)
  })

  it('Keras legacy .h5: finds a Lambda in model_config', async () => {
    const cfg = {class_name: 'Sequential', config: {layers: [{class_name: 'Lambda', config: {name: 'l', function: [lambdaCode(['eval']), null, null]}}]}}
    const f = await scanOne('model.h5', fakeH5(cfg))
    expect(f.formats).to.deep.equal(['keras_legacy_h5'])
    expectThreat(f, 'PAIT-KERAS-101')
    // a benign decoy config earlier in the file does not hide the real one
    const decoy = Buffer.concat([fakeH5({class_name: 'Sequential', config: {layers: [{class_name: 'Dense', config: {name: 'd'}}]}}), Buffer.from(JSON.stringify(cfg))])
    expectThreat(await scanOne('decoy.h5', decoy), 'PAIT-KERAS-101')
    // an HDF5 file with no Keras marker at all is data, not keras_weights
    const w = await scanOne('weights.h5', fakeH5({notkeras: true}).subarray(0, 100))
    expect(w.formats).to.deep.equal(['not_model'])
    expect(w.modelscan_status).to.equal('SKIPPED')
    expect(w.error_message).to.match(/HDF5 file without Keras model markers/)
    expectClean(w)
  })

  it('Keras legacy .h5 whose model_config cannot be located is SKIPPED with the reason', async () => {
    const b = Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100), Buffer.from('model_config'), Buffer.alloc(100)])
    const f = await scanOne('model.h5', b)
    expect(f.modelscan_status).to.equal('SKIPPED')
    expect(f.error_message).to.match(/model_config/)
    expect(f.formats).to.deep.equal(['keras_legacy_h5'])
  })

  it('TensorFlow SavedModel: callback and file ops reported, standard ops pass', async () => {
    const bad = await scanTree({'sm/saved_model.pb': savedModel(['Placeholder', 'ReadFile', 'MatMul'], ['PyFunc', 'WriteFile'])})
    const f = bad.scanDetails.files.find((x) => x.file_path === 'sm/saved_model.pb')!
    expect(f.formats).to.deep.equal(['tensorflow'])
    expectThreat(f, 'PAIT-TF-302', (i) => i.operator === 'ReadFile')
    expectThreat(f, 'PAIT-TF-301', (i) => i.operator === 'PyFunc')
    expectThreat(f, 'PAIT-TF-301', (i) => i.operator === 'WriteFile')
    const good = await scanOne('saved_model.pb', savedModel(['Placeholder', 'MatMul', 'SaveV2', 'RestoreV2']))
    expect(good.modelscan_status).to.equal('SCANNED')
    expectClean(good)
  })

  it('LiteRT: custom, callback and file-reading operators are reported, builtins pass', async () => {
    const bad = await scanOne('m.tflite', tflite([{builtin: 3}, {builtin: 32, custom: 'MyFancyOp'}, {builtin: 32, custom: 'FlexReadFile'}, {builtin: 32, custom: 'FlexPyFunc'}]))
    expect(bad.formats).to.deep.equal(['litert'])
    expectThreat(bad, 'PAIT-LITERT-300', (i) => i.operator === 'MyFancyOp')
    expectThreat(bad, 'PAIT-LITERT-302', (i) => i.operator === 'FlexReadFile')
    expectThreat(bad, 'PAIT-LITERT-301', (i) => i.operator === 'FlexPyFunc')
    const good = await scanOne('m.tflite', tflite([{builtin: 3}, {builtin: 9}, {builtin: 32, custom: 'FlexConv2D'}]))
    expect(good.modelscan_status).to.equal('SCANNED')
    expectClean(good)
    const broken = tflite([{builtin: 3}])
    broken.writeUInt32LE(0x7fffff00, 0)
    expect((await scanOne('x.tflite', broken)).modelscan_status).to.equal('ERROR')
  })

  it('ONNX: custom domains and external data escaping the directory', async () => {
    const bad = await scanOne('m.onnx', onnxModel([{op: 'Relu'}, {op: 'PyOp', domain: 'ai.onnx.contrib'}], '../../../../etc/passwd'))
    expect(bad.formats).to.deep.equal(['onnx'])
    expect((bad.issues_detected ?? []).some((i) => i.module === 'ai.onnx.contrib' && i.operator === 'PyOp')).to.equal(true)
    expect((bad.issues_detected ?? []).some((i) => i.operator === 'external_data' && /etc\/passwd/.test(i.description))).to.equal(true)
    const rep = await scanTree({'m.onnx': onnxModel([{op: 'Relu'}, {op: 'FusedGemm', domain: 'com.microsoft'}], 'weights.bin'), 'weights.bin': Buffer.alloc(64)})
    expectClean(rep.scanDetails.files.find((x) => x.file_path === 'm.onnx')!)
  })

  it('safetensors: valid file passes; malformed headers are ERROR with the reason, out-of-bounds ones are issues', async () => {
    const ok = await scanOne('m.safetensors', validSafetensors())
    expect(ok.formats).to.deep.equal(['safetensors'])
    expectClean(ok)
    const t = (shape: number[], offs: number[], dtype = 'F32'): unknown => ({dtype, shape, data_offsets: offs})
    // malformed but harmless: not loadable, so ERROR with the reason, no issue
    const cases: Array<[string, Buffer, RegExp]> = [
      ['bad json', safetensors(null, Buffer.alloc(4), {rawHeader: '{"a": {"dtype": '}), /not valid JSON/],
      ['overlap', safetensors({a: t([2], [0, 8]), b: t([2], [4, 12])}, Buffer.alloc(12)), /overlaps/],
      ['gap', safetensors({a: t([1], [0, 4]), b: t([1], [8, 12])}, Buffer.alloc(12)), /gap of 4 bytes/],
      ['dtype', safetensors({a: t([1], [0, 4], 'F99')}, Buffer.alloc(4)), /unknown dtype/],
      ['shape', safetensors({a: t([3], [0, 4])}, Buffer.alloc(4)), /needs 12/],
      ['trailing', safetensors({a: t([1], [0, 4])}, Buffer.alloc(9)), /5 trailing bytes/],
      ['duplicate', safetensors(null, Buffer.alloc(8), {rawHeader: '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'}), /duplicate/],
      ['metadata', safetensors({__metadata__: {n: 1}, a: t([1], [0, 4])}, Buffer.alloc(4)), /__metadata__\.n is not a string/],
      ['truncated', safetensors({a: t([2], [0, 8]), b: t([4], [8, 24])}, Buffer.alloc(12)), /truncated/],
    ]
    for (const [what, buf, reason] of cases) {
      const f = await scanOne('m.safetensors', buf)
      expect(f.issues_detected ?? [], what).to.deep.equal([])
      expect(f.modelscan_status, what).to.equal('ERROR')
      expect(f.error_message, what).to.match(reason)
      expect(f.formats, what).to.deep.equal(['safetensors'])
    }
    // out of bounds for the loader: an issue
    const hostile: Array<[string, Buffer]> = [
      ['out of range', safetensors({a: t([2], [0, 80])}, Buffer.alloc(8))],
      ['end before begin', safetensors({a: t([0], [8, 0])}, Buffer.alloc(8))],
      ['huge shape', safetensors({a: t([2 ** 26, 2 ** 26], [0, 4])}, Buffer.alloc(4))],
    ]
    for (const [what, buf] of hostile) {
      const f = await scanOne('m.safetensors', buf)
      expect((f.issues_detected ?? []).some((i) => i.module === 'safetensors' && /out of bounds|over-allocat/.test(i.description)), what).to.equal(true)
    }
    // a header length beyond the 100 MB limit (and the file): a loader that trusts it over-allocates
    const huge = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]), Buffer.from('{}')])
    const h = await scanOne('huge.safetensors', huge)
    expect((h.issues_detected ?? []).some((i) => i.module === 'safetensors' && /100 MB limit/.test(i.description))).to.equal(true)
  })

  it('Hydra _target_ entries naming dangerous callables are reported (yaml and json)', async () => {
    const y = await scanOne('model_config.yaml', 'model:\n  _target_: nemo.collections.asr.models.EncDecCTCModel\nhook:\n  _target_: os.system\n  command: id\n')
    expect(y.formats).to.deep.equal(['yaml'])
    expect((y.issues_detected ?? []).map((i) => `${i.module}.${i.operator}`)).to.deep.equal(['os.system'])
    const j = await scanOne('cfg.json', JSON.stringify({trainer: {_target_: 'builtins.eval', x: 1}}))
    expect((j.issues_detected ?? []).some((i) => i.operator === 'eval')).to.equal(true)
  })

  it('a pickle renamed .safetensors is scanned as a pickle', async () => {
    const f = await scanOne('model.safetensors', payload(2))
    expect(f.formats).to.deep.equal(['pickle'])
    expectThreat(f, 'PAIT-PKL-100')
  })

  it('GGUF: valid file and benign template pass; SSTI template and corrupt headers are reported', async () => {
    const benignTpl = "{% for message in messages %}{{ '<|' + message['role'] + '|>' + message['content'] | trim }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
    const ok = await scanOne('m.gguf', gguf({template: benignTpl, vocab: 2000}))
    expect(ok.formats).to.deep.equal(['gguf'])
    expectClean(ok)
    const ssti = await scanOne('m.gguf', gguf({template: "{{ ''.__class__.__mro__[1].__subclasses__() }}"}))
    expectThreat(ssti, 'PAIT-GGUF-101', (i) => i.operator === 'tokenizer.chat_template')
    const sus = await scanOne('m.gguf', gguf({template: "{{ messages|attr('x') }}"}))
    expectThreat(sus, 'PAIT-GGUF-100')
    const kv = await scanOne('m.gguf', gguf({kvCount: 2n ** 60n}))
    expect((kv.issues_detected ?? []).some((i) => i.module === 'gguf' && /kv_count/.test(i.description))).to.equal(true)
    const ty = await scanOne('m.gguf', gguf({tensorType: 999}))
    expect((ty.issues_detected ?? []).some((i) => /unknown ggml type/.test(i.description))).to.equal(true)
    // a misaligned offset is malformed (named in the status message); here it also runs the tensor past the
    // end of the file in a non-contiguous layout, which is an out-of-bounds read for the loader (an issue)
    const off = await scanOne('m.gguf', gguf({badOffset: true}))
    expect(off.error_message).to.match(/not aligned/)
    expect((off.issues_detected ?? []).some((i) => /outside the 64-byte data section \(out-of-bounds read\)/.test(i.description))).to.equal(true)
  })
})

describe('scanner: benign look-alikes are not flagged', () => {
  it('OrderedDict, torch rebuild checkpoints, sklearn-like objects, large vocabularies, dense pickles', async function () {
    this.timeout(60000)
    const od = new PW(2).global('collections', 'OrderedDict').emptyTuple().reduce().mark().str('a').int(1).setitems().stop().toBuffer()
    expectClean(await scanOne('od.pkl', od))
    expectClean(await scanOne('sd.pkl', torchStateDict(4, 5)))
    const sk = new PW(2).global('copyreg', '_reconstructor').mark().global('sklearn.linear_model._logistic', 'LogisticRegression')
      .global('builtins', 'object').none().tuple().reduce().emptyDict().mark().str('C').int(1).setitems().build().stop().toBuffer()
    expectClean(await scanOne('sk.pkl', sk))
    // 200k-entry vocabulary, protocol 4 with MEMOIZE after every string
    const v = new PW(4).emptyDict().memoize()
    for (let i = 0; i < 200; i++) {
      v.mark()
      for (let j = 0; j < 1000; j++) v.str(`token_${i}_${j}`).memoize().int(i * 1000 + j)
      v.setitems()
    }
    const vocab = await scanOne('vocab.pkl', v.stop().toBuffer())
    expect(vocab.modelscan_status).to.equal('SCANNED')
    expectClean(vocab)
    // dense: 1M small ints appended in batches
    const d = new PW(2).emptyList()
    for (let i = 0; i < 1000; i++) {
      d.mark()
      for (let j = 0; j < 1000; j++) d.int(j % 250)
      d.appends()
    }
    const dense = await scanOne('dense.pkl', d.stop().toBuffer())
    expect(dense.modelscan_status).to.equal('SCANNED')
    expectClean(dense)
    // big byte strings are skipped by position
    const bigBytes = new PW(3).bytes(Buffer.alloc(5 << 20, 0x41)).stop().toBuffer()
    const bb = await scanOne('bytes.pkl', Buffer.concat([bigBytes, Buffer.alloc(9 << 20, 7)]))
    expectClean(bb)
    // multi-chunk file: the single-pass hash (with read-ahead) equals a plain sha256
    expect(bb.sha256).to.equal(createHash('sha256').update(Buffer.concat([bigBytes, Buffer.alloc(9 << 20, 7)])).digest('hex'))
  })
})

describe('scanner: walk, patterns, scan_details', () => {
  it('produces valid scan_details with totals, formats, sha256 and relative POSIX paths', async () => {
    const rep = await scanTree({
      'model/pytorch_model.bin': torchZip(torchStateDict()),
      'model/config.json': '{"architectures": ["X"]}',
      'model/README.md': '# hello\n',
      'model/evil/payload.pkl': payload(2),
    })
    const sd: ScanDetails = rep.scanDetails
    expect(sd.scanner_version).to.equal(SCANNER_VERSION)
    expect(sd.files.map((f) => f.file_path)).to.deep.equal(['model/README.md', 'model/config.json', 'model/evil/payload.pkl', 'model/pytorch_model.bin'])
    expect(sd.total_files_scanned).to.equal(3)
    expect(sd.total_files_skipped).to.equal(1)
    expect(sd.model_formats).to.deep.equal(['json', 'pickle', 'pytorch_v1_13'])
    const p = sd.files.find((f) => f.file_path === 'model/evil/payload.pkl')!
    expect(p.sha256).to.equal(createHash('sha256').update(payload(2)).digest('hex'))
    expect(p.blob_id).to.equal(p.sha256)
    expect(p.size_bytes).to.equal(payload(2).length)
    expect(rep.truncated).to.equal(false)
  })

  it('applies allow and ignore patterns', async () => {
    const rep = await scanTree({'a/x.pkl': payload(2), 'a/y.bin': benign(2), 'b/z.pkl': benign(2), '.git/objects/o': payload(2)},
      {allowPatterns: ['*.pkl', '*.bin'], ignorePatterns: ['b/**', '.git']})
    expect(rep.scanDetails.files.map((f) => f.file_path)).to.deep.equal(['a/x.pkl', 'a/y.bin'])
  })

  it('reports symlinks out of the tree as SKIPPED and never follows them', async () => {
    const outside = tempTree({'secret.pkl': payload(2)})
    roots.push(outside)
    const root = tempTree({'m.pkl': benign(2)})
    roots.push(root)
    symlinkSync(join(outside, 'secret.pkl'), join(root, 'link.pkl'))
    symlinkSync(outside, join(root, 'linkdir'))
    const rep = await scanPath(root)
    expect(validateBody('ScanDetails', rep.scanDetails)).to.deep.equal([])
    const l = rep.scanDetails.files.find((f) => f.file_path === 'link.pkl')!
    expect(l.modelscan_status).to.equal('SKIPPED')
    expect(l.error_message).to.match(/outside the scanned directory/)
    expect(rep.scanDetails.files.some((f) => (f.issues_detected ?? []).length > 0)).to.equal(false)
    expect(rep.scanDetails.files.find((f) => f.file_path === 'linkdir')!.modelscan_status).to.equal('SKIPPED')
  })

  it('single-file target uses the file name as file_path', async () => {
    const root = tempTree({'x/model.pkl': payload(2)})
    roots.push(root)
    const rep = await scanPath(join(root, 'x/model.pkl'))
    expect(rep.scanDetails.files.map((f) => f.file_path)).to.deep.equal(['model.pkl'])
    expectThreat(rep.scanDetails.files[0], 'PAIT-PKL-100', (i) => i.source === 'model.pkl')
  })

  it('beyond 1000 files keeps findings and errors first, counts everything, and says so', async function () {
    this.timeout(120000)
    const files: Record<string, Buffer | string> = {}
    for (let i = 0; i < 1010; i++) files[`f/${String(i).padStart(4, '0')}.txt`] = 'text'
    files['z/last-evil.pkl'] = payload(2)
    files['z/last-broken.pkl'] = benign(2).subarray(0, 6)
    const rep = await scanTree(files, {concurrency: 4})
    const sd = rep.scanDetails
    expect(rep.truncated).to.equal(true)
    expect(sd.files).to.have.length(1000)
    expect(sd.files.some((f) => f.file_path === 'z/last-evil.pkl')).to.equal(true)
    expect(sd.files.some((f) => f.file_path === 'z/last-broken.pkl')).to.equal(true)
    expect(sd.total_files_skipped).to.equal(1010)
    expect(sd.total_files_scanned).to.equal(1)
    expect(rep.notes[0]).to.match(/lists 1000 of 1012 files/)
  })

  it('reports progress and honours abort', async () => {
    const seen: number[] = []
    const rep = await scanTree({'a.pkl': benign(2), 'b.pkl': benign(3)}, {onProgress: (p: {filesDone: number; filesTotal: number}) => { seen.push(p.filesDone); expect(p.filesTotal).to.equal(2) }})
    expect(rep.scanDetails.files).to.have.length(2)
    expect(seen[seen.length - 1]).to.equal(2)
    const ac = new AbortController()
    ac.abort()
    const root = tempTree({'a.pkl': benign(2)})
    roots.push(root)
    let err: unknown
    try { await scanPath(root, {signal: ac.signal}) } catch (e) { err = e }
    expect(err).to.be.instanceOf(Error)
  })
})

describe('scanner: static-only guarantee', () => {
  const dir = join(process.cwd(), 'src/lib/scanner')
  // code without comments (prose may say "import (GLOBAL ...)")
  const code = (t: string): string => t.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1')
  const sources = (): Array<[string, string]> => readdirSync(dir).filter((n) => /\.(ts|mjs|js|cjs)$/.test(n)).map((n) => [n, code(readFileSync(join(dir, n), 'utf8'))])

  it('the scanner sources never spawn processes, evaluate code or load modules named by data', () => {
    const files = sources()
    expect(files.map(([n]) => n)).to.include.members(['engine.ts', 'pickle.ts', 'pool.ts', 'worker.ts', 'worker-tsx.mjs'])
    for (const [f, text] of files) {
      expect(text, f).to.not.match(/child_process|node:vm|\beval\s*\(|\bFunction\s*\(|\brequire\s*\(|\beval\s*:/)
      // dynamic import only of our own modules, by a literal relative name (never a value from a scanned file)
      for (const m of text.matchAll(/\bimport\s*\(([^)]*)\)/g)) expect(m[1], `${f}: ${m[0]}`).to.match(/^'\.\/[\w-]+\.(js|ts)'$/)
    }
  })

  it('worker threads run only our own worker entry, found next to the pool', () => {
    for (const [f, text] of sources()) {
      if (f !== 'pool.ts' && f !== 'worker.ts') expect(text, f).to.not.match(/worker_threads/)
      if (f !== 'pool.ts') expect(text, f).to.not.match(/new\s+Worker\b/)
    }
    const pool = code(readFileSync(join(dir, 'pool.ts'), 'utf8'))
    expect([...pool.matchAll(/new\s+Worker\s*\(([^,]*),/g)].map((m) => m[1])).to.deep.equal(['testHooks.workerUrl ?? WORKER_URL'])
    expect(pool).to.match(/execArgv: \[\],/)
    expect(pool).to.match(/export const WORKER_URL = new URL\(FROM_SOURCES \? '\.\/worker-tsx\.mjs' : '\.\/worker\.js', import\.meta\.url\)/)
    const boot = code(readFileSync(join(dir, 'worker-tsx.mjs'), 'utf8'))
    expect([...boot.matchAll(/\bimport\b[^'\n]*'([^']+)'/g)].map((m) => m[1])).to.deep.equal(['tsx/esm/api', './worker.ts'])
  })
})

describe('scanner: hostile input robustness', () => {
  it('bounds recursion: deeply nested ONNX subgraphs end as ERROR with a reason, not a crash', async () => {
    let g = pb.msg(pb.ld(1, pb.msg(pb.ld(4, 'Relu'))))
    for (let i = 0; i < 300; i++) g = pb.msg(pb.ld(1, pb.msg(pb.ld(4, 'If'), pb.ld(5, pb.msg(pb.ld(1, 'then_branch'), pb.ld(6, g))))))
    const f = await scanOne('deep.onnx', pb.msg(pb.vint(1, 8), pb.ld(7, g)))
    expect(f.modelscan_status).to.equal('ERROR')
    expect(f.error_message).to.match(/nested deeper than 64/)
  })

  it('never throws and always returns schema-valid records for mutated fixtures', async function () {
    this.timeout(120000)
    let seed = 12345
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
    const bases: Array<[string, Buffer]> = [
      ['a.pkl', payload(4)], ['b.pkl', benign(2)], ['c.pt', torchZip(torchStateDict())], ['d.joblib', joblibFile(true)],
      ['e.gguf', gguf({template: '{{ x }}'})], ['f.safetensors', validSafetensors()], ['g.tar', tar([{name: 'x.pkl', data: payload(2)}])],
      ['h.onnx', onnxModel([{op: 'Relu'}], 'w.bin')], ['i.pb', savedModel(['ReadFile'])], ['j.pt', legacyTorch(true)], ['k.tflite', tflite([{builtin: 32, custom: 'X'}])],
      ['l.npy', npy('|O', [1], payload(2))], ['m.keras', zip([{name: 'config.json', data: Buffer.from(JSON.stringify(kerasConfig([]))), method: 8}, {name: 'metadata.json', data: Buffer.from('{}')}])],
    ]
    const files: Record<string, Buffer> = {}
    for (let k = 0; k < 300; k++) {
      const [name, b] = bases[k % bases.length]
      const m = Buffer.from(b)
      const kind = rnd(3)
      if (kind === 0) for (let j = 0; j < 1 + rnd(8); j++) m[rnd(m.length)] = rnd(256)
      const out = kind === 1 ? m.subarray(0, rnd(m.length)) : kind === 2 ? Buffer.concat([m, Buffer.from(Array.from({length: rnd(64)}, () => rnd(256)))]) : m
      files[`fuzz/${k}-${name}`] = out
    }
    const rep = await scanTree(files)
    expect(rep.scanDetails.files).to.have.length(300)
    for (const f of rep.scanDetails.files) {
      expect(['SCANNED', 'SKIPPED', 'ERROR']).to.include(f.modelscan_status)
      if (f.modelscan_status !== 'SCANNED') expect(f.error_message, f.file_path).to.be.a('string')
      expect(f.error_message ?? '').to.not.match(/scanner failure/)
    }
  })
})
