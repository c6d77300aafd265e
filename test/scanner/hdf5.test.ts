import {expect} from 'chai'
import {rmSync} from 'node:fs'
import {validateBody} from '../../src/lib/airs/validate.js'
import type {FileScanData} from '../../src/lib/airs/types.js'
import {scanPath, type ScanReport} from '../../src/lib/scanner/index.js'
import {findHdf5Superblock, Hdf5Error, readHdf5RootAttributes} from '../../src/lib/scanner/hdf5.js'
import {BufferReader} from '../../src/lib/scanner/io.js'
import {hdf5, type H5Opts, kerasH5, lambdaCode, lookup3, tempTree} from './fixtures.js'

// Fixtures are built byte by byte (test/scanner/fixtures.ts); nothing is imported from or executed in them.

const roots: string[] = []
after(() => { for (const r of roots) rmSync(r, {recursive: true, force: true}) })

async function scanOne(name: string, data: Buffer): Promise<{f: FileScanData; rep: ScanReport}> {
  const root = tempTree({[name]: data})
  roots.push(root)
  const rep = await scanPath(root, {})
  expect(validateBody('ScanDetails', rep.scanDetails)).to.deep.equal([])
  const f = rep.scanDetails.files.find((x) => x.file_path === name)
  expect(f, `no record for ${name}`).to.not.equal(undefined)
  return {f: f!, rep}
}
const threats = (f: FileScanData): string[] => (f.issues_detected ?? []).map((i) => String(i.threat))
const read = (b: Buffer): ReturnType<typeof readHdf5RootAttributes> => readHdf5RootAttributes(new BufferReader(b))
const attr = async (b: Buffer, name: string): Promise<string | null | undefined> => (await read(b)).attributes.find((a) => a.name === name)?.value

const DENSE = {class_name: 'Sequential', config: {name: 'seq', layers: [{class_name: 'Dense', config: {name: 'd', units: 4}}]}}
const LAMBDA = {class_name: 'Sequential', config: {name: 'seq', layers: [
  {class_name: 'Dense', config: {name: 'd'}},
  {class_name: 'Lambda', config: {name: 'evil', function: [lambdaCode(['os', 'system', 'x']), null, null]}},
]}}
/**
 * The same Lambda model with "config" before "class_name" in every object: no `{"class_name"` or
 * `{"module"` appears in the bytes, so the byte search cannot find it; only the HDF5 reader can.
 */
const LAMBDA_HIDDEN = {config: {name: 'seq', layers: [
  {config: {name: 'd'}, class_name: 'Dense'},
  {config: {name: 'evil', function: [lambdaCode(['os', 'system', 'x']), null, null]}, class_name: 'Lambda'},
]}, class_name: 'Sequential'}
const VARIANTS: Array<[string, Omit<H5Opts, 'attrs'> & {vlen?: boolean}]> = [
  ['superblock v0, v1 header, fixed-length string', {}],
  ['superblock v0, v1 header, variable-length string (global heap)', {vlen: true}],
  ['superblock v0, v1 header, attributes in a continuation block', {continuation: true}],
  ['superblock v2, OHDR, fixed-length string', {superblock: 2}],
  ['superblock v2, OHDR + OCHK continuation, variable-length string', {superblock: 2, vlen: true, continuation: true}],
  ['superblock v0 after a 512-byte user block', {userBlock: 512}],
  ['superblock v2 after a 1024-byte user block', {superblock: 2, userBlock: 1024}],
]

describe('scanner: HDF5 reader (Keras legacy .h5)', () => {
  it('fixture writer: lookup3 matches the reference vectors', () => {
    expect(lookup3(Buffer.alloc(0))).to.equal(0xdeadbeef)
    expect(lookup3(Buffer.from('Four score and seven years ago'))).to.equal(0x17770551)
  })

  for (const [label, opts] of VARIANTS) {
    it(`reads model_config, keras_version and backend: ${label}`, async () => {
      const b = kerasH5(LAMBDA_HIDDEN, opts)
      const info = await read(b)
      expect(info.superblockOffset).to.equal(opts.userBlock ?? 0)
      expect(info.superblockVersion).to.equal(opts.superblock ?? 0)
      expect(info.objectHeaderVersion).to.equal(opts.superblock === 2 ? 2 : 1)
      expect(info.attributes.map((a) => a.name)).to.deep.equal(['keras_version', 'backend', 'model_config'])
      expect(await attr(b, 'model_config')).to.equal(JSON.stringify(LAMBDA_HIDDEN))
      expect(await attr(b, 'keras_version')).to.equal('2.12.0')
      expect(await attr(b, 'backend')).to.equal('tensorflow')
      expect(info.problems).to.deep.equal([])
    })

    it(`scan flags the Lambda found only by the reader: ${label}`, async () => {
      const {f, rep} = await scanOne('model.h5', kerasH5(LAMBDA_HIDDEN, opts))
      expect(f.modelscan_status).to.equal('SCANNED')
      expect(f.formats).to.deep.equal(['keras_legacy_h5'])
      expect(threats(f)).to.include('PAIT-KERAS-101')
      expect(rep.notes.join('\n')).to.match(/model_config read from the HDF5 root group attributes .*keras_version 2\.12\.0, backend tensorflow/)
    })

    it(`benign Dense-only model is not flagged: ${label}`, async () => {
      const {f} = await scanOne('model.h5', kerasH5(DENSE, opts))
      expect(f.modelscan_status).to.equal('SCANNED')
      expect(f.formats).to.deep.equal(['keras_legacy_h5'])
      expect(f.issues_detected ?? []).to.deep.equal([])
    })
  }

  it('a benign decoy JSON elsewhere in the file does not hide the real attribute', async () => {
    const decoy = Buffer.from(JSON.stringify({class_name: 'Sequential', config: {layers: [{class_name: 'Dense', config: {name: 'decoy'}}]}}))
    for (const opts of [{filler: decoy}, {filler: decoy, vlen: true}, {filler: decoy, superblock: 2 as const}]) {
      const b = kerasH5(LAMBDA_HIDDEN, opts)
      expect(b.indexOf(decoy)).to.be.lessThan(b.indexOf(Buffer.from(JSON.stringify(LAMBDA_HIDDEN))))
      expect(await attr(b, 'model_config')).to.equal(JSON.stringify(LAMBDA_HIDDEN))
      const {f} = await scanOne('decoy.h5', b)
      expect(threats(f)).to.include('PAIT-KERAS-101')
    }
  })

  it('a weights-only file (no model_config attribute) is keras_weights and clean', async () => {
    const b = hdf5({attrs: [{name: 'layer_names', value: 'dense'}, {name: 'backend', value: 'tensorflow'}]})
    expect((await read(b)).attributes.map((a) => a.name)).to.deep.equal(['layer_names', 'backend'])
    const {f} = await scanOne('weights.h5', b)
    expect(f.modelscan_status).to.equal('SCANNED')
    expect(f.formats).to.deep.equal(['keras_weights'])
    expect(f.issues_detected ?? []).to.deep.equal([])
  })

  it('truncated root object header: the reader fails with the step, the byte search finds the JSON', async () => {
    // vlen: the JSON lives in the global heap, before the root object header, which the cut removes
    const full = kerasH5(LAMBDA, {vlen: true})
    const b = full.subarray(0, full.length - 40)
    let err: unknown
    try { await read(b) } catch (e) { err = e }
    expect(err).to.be.instanceOf(Hdf5Error)
    expect((err as Hdf5Error).step).to.equal('root object header')
    expect((err as Error).message).to.match(/outside the \d+-byte file/)
    const {f, rep} = await scanOne('cut.h5', b)
    expect(threats(f)).to.include('PAIT-KERAS-101')
    expect(rep.notes.join('\n')).to.match(/HDF5 reader failed at root object header: .*model_config JSON located by byte search instead/)
  })

  it('corrupt root object header and no JSON the byte search can see: SKIPPED naming the failed step', async () => {
    const b = Buffer.from(kerasH5(LAMBDA_HIDDEN))
    const info = await read(b)
    expect(info.attributes).to.have.length(3)
    // the root object header address sits at offset 64 in the v0 superblock's root symbol table entry
    const root = Number(b.readBigUInt64LE(64))
    b[root] = 7
    const {f} = await scanOne('bad.h5', b)
    expect(f.modelscan_status).to.equal('SKIPPED')
    expect(f.formats).to.deep.equal(['keras_legacy_h5'])
    expect(f.error_message).to.match(/HDF5 reader failed at root object header: unknown object header version 7/)
    expect(f.error_message).to.match(/byte search found no contiguous model_config JSON/)
  })

  it('an absurd header length is refused before any allocation', async () => {
    const b = Buffer.from(kerasH5(LAMBDA_HIDDEN))
    const root = Number(b.readBigUInt64LE(64))
    b.writeUInt32LE(0xffffffff, root + 8)
    const {f} = await scanOne('huge.h5', b)
    expect(f.modelscan_status).to.equal('SKIPPED')
    expect(f.error_message).to.match(/root object header: header chunk of 4294967295 bytes exceeds the \d+-byte cap/)
  })

  it('a root address past the end of the file is reported as truncation', async () => {
    const b = Buffer.from(kerasH5(LAMBDA_HIDDEN))
    b.writeBigUInt64LE(BigInt(b.length + 4096), 64)
    let err: unknown
    try { await read(b) } catch (e) { err = e }
    expect((err as Error).message).to.match(/root group symbol table entry: root object header address \d+ is past the end/)
  })

  it('a broken global heap is named in the SKIPPED reason', async () => {
    const b = Buffer.from(kerasH5(LAMBDA_HIDDEN, {vlen: true}))
    const at = b.indexOf(Buffer.from('GCOL'))
    b.write('XXXX', at, 'latin1')
    const info = await read(b)
    expect(info.attributes.find((a) => a.name === 'model_config')?.problem).to.match(/global heap: no GCOL signature/)
    const {f} = await scanOne('heap.h5', b)
    expect(f.modelscan_status).to.equal('SKIPPED')
    expect(f.error_message).to.match(/model_config attribute global heap: no GCOL signature at offset \d+/)
  })

  it('dense attribute storage is reported unsupported, then the byte search is used', async () => {
    const b = hdf5({superblock: 2, denseAttributeInfo: true, attrs: [], filler: Buffer.from(`model_config\0${JSON.stringify(LAMBDA)}`)})
    const info = await read(b)
    expect(info.denseAttributes).to.equal(true)
    expect(info.problems).to.deep.equal(['unsupported: dense attribute storage (fractal heap)'])
    const {f, rep} = await scanOne('dense.h5', b)
    expect(threats(f)).to.include('PAIT-KERAS-101')
    expect(rep.notes.join('\n')).to.match(/unsupported: dense attribute storage .*located by byte search instead/)
    const hidden = hdf5({superblock: 2, denseAttributeInfo: true, attrs: [], filler: Buffer.from(`model_config\0${JSON.stringify(LAMBDA_HIDDEN)}`)})
    const s = await scanOne('dense2.h5', hidden)
    expect(s.f.modelscan_status).to.equal('SKIPPED')
    expect(s.f.error_message).to.match(/unsupported: dense attribute storage/)
  })

  it('duplicate model_config attributes: every one is analysed', async () => {
    const b = hdf5({attrs: [{name: 'model_config', value: JSON.stringify(DENSE)}, {name: 'model_config', value: JSON.stringify(LAMBDA_HIDDEN), vlen: true}]})
    const {f, rep} = await scanOne('dup.h5', b)
    expect(threats(f)).to.include('PAIT-KERAS-101')
    expect(rep.notes.join('\n')).to.match(/2 model_config attributes on the root group; all were analysed/)
  })

  it('a continuation loop is cut off and named', async () => {
    const b = Buffer.from(kerasH5(LAMBDA_HIDDEN, {continuation: true}))
    const root = Number(b.readBigUInt64LE(64))
    const chunk0 = b.readUInt32LE(root + 8)
    // chunk #0: symbol table message (8 + 16 bytes), then the continuation message (8-byte header, offset, length)
    expect(b.readUInt16LE(root + 16 + 24)).to.equal(0x10)
    b.writeBigUInt64LE(BigInt(root + 16), root + 16 + 32)
    b.writeBigUInt64LE(BigInt(chunk0), root + 16 + 40)
    let err: unknown
    try { await read(b) } catch (e) { err = e }
    expect((err as Error).message).to.match(/continuation message: continuation block at \d+ visited twice \(loop\)/)
    const {f} = await scanOne('loop.h5', b)
    expect(f.modelscan_status).to.equal('SKIPPED')
    expect(f.error_message).to.match(/visited twice/)
  })

  it('finds the superblock at 0, 512, 1024, 2048 and nowhere else', async () => {
    const sb = kerasH5(DENSE)
    for (const ub of [0, 512, 1024, 2048]) expect(await findHdf5Superblock(new BufferReader(Buffer.concat([Buffer.alloc(ub), sb])))).to.equal(ub)
    expect(await findHdf5Superblock(new BufferReader(Buffer.concat([Buffer.alloc(700), sb])))).to.equal(-1)
    let err: unknown
    try { await read(Buffer.concat([Buffer.alloc(700), sb])) } catch (e) { err = e }
    expect((err as Error).message).to.match(/^superblock: no HDF5 signature/)
  })
})
