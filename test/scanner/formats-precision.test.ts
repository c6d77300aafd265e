/**
 * Precision on real-world files: benign fixtures that must produce no issue (vendor operators that ship
 * with the runtimes, ONNX identified by content, scientific data formats recognised as data), with the
 * counter-checks that keep the rules from becoming blanket exemptions.
 */
import {expect} from 'chai'
import {hdf5, idlSave, matlab5, netcdfClassic, onnxModel, payload, pb, tflite} from './fixtures.js'
import {expectClean, expectIssue, expectThreat, issues, scanOne, scanTree} from './scan-helpers.js'

const MEDIAPIPE_OPS = ['Landmarks2TransformMatrix', 'TransformTensorBilinear', 'TransformLandmarks', 'Convolution2DTransposeBias',
  'MaxPoolingWithArgmax2D', 'MaxUnpooling2D', 'Resampler', 'NGramHash', 'KmeansEmbeddingLookup']

describe('scanner precision: TFLite custom operators', () => {
  it('MediaPipe\'s published custom ops and TFLite\'s own are known, not unknown', async () => {
    const ops = [...MEDIAPIPE_OPS, 'TFLite_Detection_PostProcess', 'Mfcc', 'AudioSpectrogram'].map((custom) => ({builtin: 32, custom}))
    const f = await scanOne('face_landmarker.tflite', tflite([{builtin: 3}, ...ops]))
    expect(f.formats).to.deep.equal(['litert'])
    expect(f.modelscan_status).to.equal('SCANNED')
    expectClean(f)
  })

  it('an unknown custom op next to them is still reported, alone', async () => {
    const f = await scanOne('m.tflite', tflite([{builtin: 32, custom: 'TransformLandmarks'}, {builtin: 32, custom: 'TransformLandmarksEvil'}]))
    expect(issues(f).map((i) => `${i.threat}:${i.operator}`)).to.deep.equal(['PAIT-LITERT-300:TransformLandmarksEvil'])
  })
})

describe('scanner precision: ONNX vendor domains and content identification', () => {
  const vendor = [
    {op: 'Gelu', domain: 'com.microsoft'}, {op: 'SkipLayerNormalization', domain: 'com.microsoft'},
    {op: 'MatMulNBits', domain: 'com.microsoft'}, {op: 'GroupQueryAttention', domain: 'com.microsoft'},
    {op: 'ReorderInput', domain: 'com.microsoft.nchwc'}, {op: 'Conv', domain: 'com.microsoft.nchwc'},
    {op: 'StringRegexReplace', domain: 'ai.onnx.contrib'}, {op: 'GPT2Tokenizer', domain: 'ai.onnx.contrib'},
    {op: 'LinearRegressor', domain: 'ai.onnx.ml'}, {op: 'Relu', domain: ''},
  ]

  it('known contrib / extension / NCHWc ops in their vendor domains produce no issue', async () => {
    const f = await scanOne('model.onnx', onnxModel(vendor))
    expect(f.formats).to.deep.equal(['onnx'])
    expectClean(f)
  })

  it('an unknown op in a vendor domain, and ops that load or run outside code, stay flagged', async () => {
    const f = await scanOne('model.onnx', onnxModel([{op: 'Gelu', domain: 'com.microsoft'}, {op: 'TotallyCustomOp', domain: 'com.microsoft'},
      {op: 'EPContext', domain: 'com.microsoft'}, {op: 'PyOp', domain: 'ai.onnx.contrib'}, {op: 'ImageReader', domain: 'ai.onnx.contrib'},
      {op: 'Gelu', domain: 'com.example.ops'}]))
    const flagged = issues(f).map((i) => `${i.module}::${i.operator}`).sort()
    expect(flagged).to.deep.equal(['ai.onnx.contrib::ImageReader', 'ai.onnx.contrib::PyOp', 'com.example.ops::Gelu', 'com.microsoft::EPContext',
      'com.microsoft::TotallyCustomOp'])
    expectIssue(f, (i) => i.operator === 'TotallyCustomOp' && /not a known operator of the runtime domain "com.microsoft"/.test(i.description), 'vendor-domain wording')
    expectIssue(f, (i) => i.operator === 'PyOp' && /PyOp runs Python code/.test(i.description), 'PyOp wording')
  })

  it('identifies ONNX by its ModelProto structure, without the extension', async () => {
    const rep = await scanTree({'model': onnxModel(vendor), 'weights/model.bin': onnxModel([{op: 'Gelu', domain: 'com.microsoft'}]),
      'evil.bin': onnxModel([{op: 'Relu'}, {op: 'Backdoor', domain: 'com.evil'}])})
    const byPath = (p: string) => rep.scanDetails.files.find((x) => x.file_path === p)!
    expect(byPath('model').formats).to.deep.equal(['onnx'])
    expectClean(byPath('model'))
    expect(byPath('weights/model.bin').formats).to.deep.equal(['onnx'])
    expectClean(byPath('weights/model.bin'))
    expectIssue(byPath('evil.bin'), (i) => i.module === 'com.evil' && i.operator === 'Backdoor', 'custom domain without the extension')
  })

  it('a protobuf-looking file that is not a ModelProto is not taken for ONNX', async () => {
    // field 1 varint, then field 7 as a varint (ONNX's graph is length-delimited): not a model
    const f = await scanOne('blob.bin', Buffer.concat([pb.vint(1, 8), pb.ld(2, 'x'), pb.vint(7, 3)]))
    expect(f.formats).to.deep.equal(['not_model'])
    // a ModelProto without a graph is not a model either
    const g = await scanOne('nograph.bin', Buffer.concat([pb.vint(1, 8), pb.ld(2, 'tool')]))
    expect(g.formats).to.deep.equal(['not_model'])
  })
})

describe('scanner precision: scientific data formats are data, never pickles or Keras', () => {
  it('an IDL save file is SKIPPED as data (not parsed as a protocol-0 pickle), whatever its extension', async () => {
    for (const name of ['results.sav', 'data.idl', 'model.pkl']) {
      const f = await scanOne(name, idlSave())
      expect(f.modelscan_status, name).to.equal('SKIPPED')
      expect(f.error_message, name).to.match(/IDL save file/)
      expect(f.formats, name).to.deep.equal(['not_model'])
      expectClean(f)
    }
  })

  it('a MATLAB 5.0 MAT-file and a netCDF classic file are SKIPPED as data', async () => {
    const m = await scanOne('signals.mat', matlab5())
    expect(m.modelscan_status).to.equal('SKIPPED')
    expect(m.error_message).to.match(/MATLAB 5\.0 MAT-file/)
    expectClean(m)
    const n = await scanOne('climate.nc', netcdfClassic())
    expect(n.modelscan_status).to.equal('SKIPPED')
    expect(n.error_message).to.match(/netCDF classic file/)
    expectClean(n)
  })

  it('plain HDF5, netCDF-4 and MATLAB v7.3 files are data; Keras markers make keras_weights', async () => {
    const plain = await scanOne('measurements.h5', hdf5({attrs: [{name: 'title', value: 'spectra'}, {name: 'units', value: 'nm'}]}))
    expect(plain.modelscan_status).to.equal('SKIPPED')
    expect(plain.error_message).to.match(/^HDF5 file without Keras model markers: data, not a model$/)
    expect(plain.formats).to.deep.equal(['not_model'])
    expectClean(plain)

    const nc4 = await scanOne('ocean.nc', hdf5({attrs: [{name: '_NCProperties', value: 'version=2,netcdf=4.9.2,hdf5=1.14.0'}], superblock: 2}))
    expect(nc4.error_message).to.match(/^netCDF-4 file \(HDF5\)/)
    expectClean(nc4)

    const mat = hdf5({attrs: [], userBlock: 512})
    mat.write('MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 .', 0, 'latin1')
    const m73 = await scanOne('big.mat', mat)
    expect(m73.error_message).to.match(/^MATLAB v7\.3 MAT-file \(HDF5\)/)
    expectClean(m73)

    const w = await scanOne('weights.h5', hdf5({attrs: [{name: 'layer_names', value: 'dense_1'}, {name: 'backend', value: 'tensorflow'}, {name: 'keras_version', value: '2.15.0'}]}))
    expect(w.formats).to.deep.equal(['keras_weights'])
    expect(w.modelscan_status).to.equal('SCANNED')
  })

  it('a pickle is still a pickle: content identification does not hide one behind a data extension', async () => {
    const f = await scanOne('values.sav', payload(0))
    expectThreat(f, 'PAIT-PKL-100')
    const n = await scanOne('grid.nc', payload(2))
    expectThreat(n, 'PAIT-PKL-100')
  })
})

describe('scanner precision: text that a protocol-0 parse would take for a pickle', () => {
  const sitePth = "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; enabled and __import__('_distutils_hack').add_shim(); \n"

  it('a site .pth file (Python statements) is SKIPPED as not a model, not an ERROR', async () => {
    for (const name of ['distutils-precedence.pth', 'notes.pkl']) {
      const f = await scanOne(name, Buffer.from(sitePth))
      expect(f.modelscan_status, name).to.equal('SKIPPED')
      expect(f.error_message, name).to.equal('not a model file (Python statements, e.g. a site .pth file)')
      expectClean(f)
    }
  })

  it('counter-checks: a truncated pickle naming a real module stays an ERROR; a protocol-0 payload in a .pth is still found', async () => {
    const cut = await scanOne('cut.pth', Buffer.from('cos\nsys'))
    expect(cut.modelscan_status).to.equal('ERROR')
    expect(cut.error_message).to.match(/truncated pickle/)
    expectThreat(await scanOne('evil.pth', payload(0)), 'PAIT-PKL-100')
  })
})
