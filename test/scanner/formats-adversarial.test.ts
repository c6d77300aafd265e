/**
 * Hostile inputs for the format analysers: the text that made the old matchers super-linear (checked for
 * the right verdict; their cost is measured in bench/scanner-adversarial.js, never asserted here), NumPy
 * headers read the way numpy reads them, and pure-data files where a malformed-but-harmless header is an
 * ERROR with its reason while a header that would make a loader over-allocate or read out of bounds is
 * an issue.
 */
import {expect} from 'chai'
import {checkTemplate, findH5ModelConfig, parsePyLiteral, readNpyHeader} from '../../src/lib/scanner/formats.js'
import {BufferReader} from '../../src/lib/scanner/io.js'
import {benign, fakeH5, gguf, hdf5, kerasConfig, lambdaCode, npy, payload, zip} from './fixtures.js'
import {expectClean, expectIssue, expectThreat, issues, scanOne} from './scan-helpers.js'

function npyRaw(header: string, data: Buffer, version = 1): Buffer {
  const pre = Buffer.alloc(version === 1 ? 10 : 12)
  pre.write('\x93NUMPY', 0, 'latin1'); pre[6] = version
  if (version === 1) pre.writeUInt16LE(header.length, 8); else pre.writeUInt32LE(header.length, 8)
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), data])
}

describe('scanner adversarial: super-linear text for the old matchers', () => {
  it('a 4 MB chat template of repeated |format( is clean, and a marker after it is still found', async () => {
    const filler = '|format('.repeat(512 * 1024)
    expect(checkTemplate(filler)).to.equal(null)
    const f = await scanOne('t.gguf', gguf({template: filler + "{{ ''.__class__.__mro__ }}"}))
    expectThreat(f, 'PAIT-GGUF-101', (i) => /dunder attribute access/.test(i.description))
    // "%c"|format(...) character building is caught even when the string comes before the filter
    expect(checkTemplate('{{ "%c%c"|format(95, 95) }}')?.markers).to.include('character building (obfuscation)')
  })

  it('a 1 MiB npy header of repeated descr keys is an ERROR with the parser\'s reason, examined as a possible pickle', async () => {
    const h = "{'descr': [" + "'descr': [], ".repeat(80000)
    const f = await scanOne('h.npy', npyRaw(h + '\n', Buffer.alloc(16), 2))
    expect(f.modelscan_status).to.equal('ERROR')
    expect(f.error_message).to.match(/invalid npy header: header is not a Python literal this scanner reads/)
    // the same unparseable header in front of a pickle: the data is still analysed
    const p = await scanOne('p.npy', npyRaw(h + '\n', payload(2), 2))
    expectThreat(p, 'PAIT-PKL-100')
  })

  it('an npz of such members keeps scanning the other members', async () => {
    const bad = npyRaw("{'descr': [" + "'descr': [], ".repeat(20000) + '\n', Buffer.alloc(8), 2)
    const f = await scanOne('a.npz', zip([...Array.from({length: 4}, (_v, i) => ({name: `junk${i}.npy`, data: bad, method: 8 as const})),
      {name: 'obj.npy', data: npy('|O', [1], payload(2)), method: 8}]))
    expectThreat(f, 'PAIT-PKL-100', (i) => i.source === 'a.npz:obj.npy')
  })

  it('1 MiB of unclosed {"class_name" candidates does not hide the real model_config after them', async () => {
    const cfg = kerasConfig([{class_name: 'Lambda', config: {name: 'l', function: [lambdaCode(['os', 'system']), null, null]}}])
    const junk = Buffer.from('{"class_name"'.repeat(80000))
    const file = Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64), Buffer.from('model_config'), junk,
      Buffer.from(JSON.stringify(cfg)), Buffer.alloc(64)])
    const search = await findH5ModelConfig(new BufferReader(file))
    expect(search.configs).to.have.length(1)
    expect(search.exhausted).to.equal(false)
    const f = await scanOne('m.h5', file)
    expectThreat(f, 'PAIT-KERAS-101')
  })

  it('candidates that each run to the end of the file exhaust the search budget, and the file says so', async () => {
    // after each candidate, `\"` puts every earlier scan and the new one inside a string: the next candidate
    // is resolved by none of them and starts its own scan to the end of the file, until the budget stops it
    const one = '{"class_name"\\"'
    const file = Buffer.concat([fakeH5({}).subarray(0, 100), Buffer.from('model_config'), Buffer.from(one.repeat(100_000))])
    const search = await findH5ModelConfig(new BufferReader(file))
    expect(search.exhausted).to.equal(true)
    expect(search.mentioned).to.equal(true)
    const f = await scanOne('x.h5', file)
    expect(f.modelscan_status).to.equal('SKIPPED')
    expect(f.error_message).to.match(/search budget exhausted/)
  })
})

describe('scanner adversarial: NumPy headers read the way numpy reads them', () => {
  it('parses the Python literals numpy writes (and Python 2 longs)', () => {
    const d = parsePyLiteral("{'descr': [('a', '<i4'), ('b', '|O', (2,))], 'fortran_order': False, 'shape': (3L, 4), }")
    expect(d && typeof d === 'object' && d.t === 'dict' && d.entries.get('fortran_order')).to.equal(false)
    expect(() => parsePyLiteral('[' .repeat(100) + ']'.repeat(100))).to.throw(/nesting deeper than 64/)
    expect(() => parsePyLiteral("{'a': 1} trailing")).to.throw(/trailing characters/)
  })

  it('object dtypes in every spelling are pickles: |O, object, a structured field, a subarray', async () => {
    for (const descr of ["'|O'", "'object'", "[('x', '<f8'), ('y', '|O')]", "('|O', (2,))", "'<O8'"]) {
      const hdr = `{'descr': ${descr}, 'fortran_order': False, 'shape': (1,), }`
      const h = await readNpyHeader(new BufferReader(npyRaw(hdr + '\n', Buffer.alloc(8))))
      expect(h.object, descr).to.equal(true)
      const f = await scanOne('o.npy', npyRaw(hdr + '\n', payload(2)))
      expectThreat(f, 'PAIT-PKL-100')
    }
  })

  it('plain arrays pass; an unrecognised dtype string is examined as a possible pickle without an error', async () => {
    expectClean(await scanOne('a.npy', npy('<f8', [2, 2], Buffer.alloc(32))))
    const odd = await scanOne('b.npy', npyRaw("{'descr': 'float64', 'fortran_order': False, 'shape': (2,), }\n", Buffer.alloc(16)))
    expect(odd.modelscan_status).to.equal('SCANNED')
    expectClean(odd)
    const hidden = await scanOne('c.npy', npyRaw("{'descr': 'i4,O', 'fortran_order': False, 'shape': (1,), }\n", payload(2)))
    expectThreat(hidden, 'PAIT-PKL-100')
  })

  it('a header numpy would refuse is an ERROR naming the reason', async () => {
    const keys = await scanOne('k.npy', npyRaw("{'descr': '<f4', 'shape': (1,), }\n", Buffer.alloc(4)))
    expect(keys.modelscan_status).to.equal('ERROR')
    expect(keys.error_message).to.match(/not descr, fortran_order and shape/)
    const ver = await scanOne('v.npy', Buffer.concat([Buffer.from('\x93NUMPY\x09\x00', 'latin1'), Buffer.alloc(16)]))
    expect(ver.error_message).to.match(/unsupported npy version 9\.0/)
  })

  it('truncated data is an ERROR; a shape that over-allocates is an issue; trailing bytes are only noted', async () => {
    const cut = await scanOne('cut.npy', npy('<f4', [100], Buffer.alloc(40)))
    expect(cut.modelscan_status).to.equal('ERROR')
    expect(cut.error_message).to.match(/truncated: npy header describes 400 data bytes/)
    expectClean(cut)
    const huge = await scanOne('huge.npy', npy('<f8', [2 ** 20, 2 ** 20], Buffer.alloc(8)))
    expectIssue(huge, (i) => i.module === 'numpy' && /over-allocates/.test(i.description), 'over-allocation')
    const extra = await scanOne('extra.npy', npy('<f4', [1], Buffer.alloc(12)))
    expect(extra.modelscan_status).to.equal('SCANNED')
    expectClean(extra)
  })

  it('an object array behind a header over numpy\'s 10000-byte default limit is still scanned', async () => {
    const hdr = `{'descr': '|O', 'fortran_order': False, 'shape': (1,), }${' '.repeat(20000)}\n`
    const f = await scanOne('big.npy', npyRaw(hdr, payload(2), 2))
    expectThreat(f, 'PAIT-PKL-100')
  })
})

describe('scanner adversarial: pure-data headers, malformed vs hostile', () => {
  it('GGUF truncated inside its tensor data is an ERROR, not an issue', async () => {
    const full = gguf({template: '{{ x }}'})
    const f = await scanOne('cut.gguf', full.subarray(0, full.length - 20))
    expect(f.modelscan_status).to.equal('ERROR')
    expect(f.error_message).to.match(/malformed GGUF \(not loadable\): truncated/)
    expectClean(f)
  })

  it('GGUF cut inside its vocabulary array is an ERROR, not an issue', async () => {
    const full = gguf({vocab: 5000})
    const f = await scanOne('cut2.gguf', full.subarray(0, 2000))
    expect(f.modelscan_status).to.equal('ERROR')
    expect(f.error_message).to.match(/truncated/)
    expectClean(f)
  })

  it('GGUF counts and lengths no file can hold are issues', async () => {
    const kv = await scanOne('kv.gguf', gguf({kvCount: 2n ** 60n}))
    expectIssue(kv, (i) => i.module === 'gguf' && /kv_count/.test(i.description), 'kv_count')
    // a string length of 2^40 in the vocabulary
    const b = gguf({vocab: 3})
    const at = b.indexOf(Buffer.from('tok0')) - 8
    b.writeBigUInt64LE(2n ** 40n, at)
    const s = await scanOne('str.gguf', b)
    expectIssue(s, (i) => i.module === 'gguf' && /over-allocation/.test(i.description), 'string length')
  })

  it('a GGUF whose alignment is zero is an issue (division by zero in the loader)', async () => {
    const b = gguf()
    const at = b.indexOf(Buffer.from('general.alignment')) + 'general.alignment'.length + 4
    b.writeUInt32LE(0, at)
    expectIssue(await scanOne('a.gguf', b), (i) => /alignment is 0/.test(i.description), 'alignment 0')
  })

  it('a GGUF tensor type this scanner does not know (a newer format) is noted, not an issue', async () => {
    const f = await scanOne('new.gguf', gguf({tensorType: 77}))
    expectClean(f)
    expect(f.modelscan_status).to.equal('SCANNED')
  })

  it('HDF5 weights-only files with a readable root group stay clean', async () => {
    expectClean(await scanOne('w.h5', hdf5({attrs: [{name: 'layer_names', value: 'x'}]})))
    expectClean(await scanOne('b.pkl', benign(2)))
    expect(issues(await scanOne('plain.h5', hdf5({attrs: [{name: 'title', value: 'x'}]})))).to.deep.equal([])
  })
})
