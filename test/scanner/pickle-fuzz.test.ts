/**
 * Mutation fuzz of the scanner over seeds of every format (pickle protocols, joblib, legacy and zip torch,
 * numpy, zip, tar, gzip, safetensors, GGUF, ONNX, TFLite, Keras, HDF5, SavedModel). Deterministic: the
 * PRNG seed is DAYSTROM_FUZZ_SEED (default 20260601) and every failure names the mutant index, so
 * `DAYSTROM_FUZZ_SEED=<seed> DAYSTROM_FUZZ_ONLY=<index>` reproduces it. `npm test` runs
 * DAYSTROM_FUZZ_MUTANTS (default 300) mutants, `npm run fuzz` thousands.
 *
 * For every mutant: no exception escapes `scanPath`, the file finishes within a generous per-file bound
 * (a hang detector, not a speed test), the result is valid against the service's ScanDetails schema, and
 * when the seed has a finding made at a known point of a streaming format and the mutation only touches
 * bytes after that point, the finding is still reported.
 */
import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {validateBody} from '../../src/lib/airs/validate.js'
import type {ModelScanIssue} from '../../src/lib/airs/types.js'
import {scanPath} from '../../src/lib/scanner/index.js'
import {benign, fakeH5, gguf, gzip, kerasConfig, kerasH5, lambdaCode, npy, onnxModel, payload, PW, savedModel, tar, tflite, torchStateDict,
  validSafetensors, zip} from './fixtures.js'
import {encoders, frameRunsPastStop, ggufWithStrings, joblibSparse, networkxGraph, reconstructed, sparseMatrix, systemCallHead} from './pickle-fixtures.js'

const MUTANTS = Number(process.env.DAYSTROM_FUZZ_MUTANTS ?? 300)
const SEED = Number(process.env.DAYSTROM_FUZZ_SEED ?? 20260601)
const ONLY = process.env.DAYSTROM_FUZZ_ONLY === undefined ? null : Number(process.env.DAYSTROM_FUZZ_ONLY)
const FILE_MS = Number(process.env.DAYSTROM_FUZZ_FILE_MS ?? 30000)

interface Seed {
  name: string
  data: Buffer
  /** The seed's finding, and the offset after which mutations must leave it reported. */
  keeps?: {after: number; issue: (i: ModelScanIssue) => boolean}
}

const isSystem = (i: ModelScanIssue): boolean => i.module === 'os' && i.operator === 'system'

/** Payload first, then more pickle after it. */
function payloadFirst(proto: number, tail: Buffer): Seed {
  const head = systemCallHead(proto).toBuffer()
  return {name: `first-p${proto}.pkl`, data: Buffer.concat([head, Buffer.from('0'), tail]), keeps: {after: head.length, issue: isSystem}}
}

function seeds(): Seed[] {
  const out: Seed[] = []
  const benignTail = (proto: number): Buffer => new PW(proto).emptyDict().mark().str('weights').mark().int(1).int(2).int(3).tuple().str('name').str('layer.0')
    .setitems().stop().toBuffer().subarray(proto >= 2 ? 2 : 0)
  for (const proto of [0, 1, 2, 3, 4, 5]) out.push(payloadFirst(proto, benignTail(proto)))
  // joblib: the call, then a sparse matrix whose arrays are raw bytes inline
  const jh = systemCallHead(2).toBuffer()
  out.push({name: 'first.joblib', data: Buffer.concat([jh, Buffer.from('0'), joblibSparse()]), keeps: {after: jh.length, issue: isSystem}})
  // stacked pickles (legacy torch style): the payload pickle first
  const p1 = payload(2)
  out.push({name: 'stacked.pt', data: Buffer.concat([p1, benign(2), torchStateDict(2, 2), Buffer.alloc(64, 0x80)]), keeps: {after: p1.length - 1, issue: isSystem}})
  // tar: the payload member first
  const t = tar([{name: 'a/payload.pkl', data: payload(2)}, {name: 'b/readme.txt', data: Buffer.from('hello')}, {name: 'c/w.pkl', data: benign(4)}])
  out.push({name: 'bundle.tar', data: t, keeps: {after: 512 + 512, issue: isSystem}})
  // npy object array
  const n = npy('|O', [1], payload(2))
  out.push({name: 'obj.npy', data: n, keeps: {after: n.length - 1, issue: isSystem}})
  // a hidden base64 payload, then more data
  const hidden = new PW(4).emptyList().str(encoders.base64(payload(4))).toBuffer()
  out.push({name: 'hidden.pkl', data: Buffer.concat([hidden, new PW(0).op('a').raw(benignTail(4).subarray(0, -1)).op('a').stop().toBuffer()]),
    keeps: {after: hidden.length, issue: isSystem}})
  // GGUF: the SSTI template finding is made before the tensor infos
  const ssti = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
  const g = gguf({template: ssti})
  out.push({name: 'ssti.gguf', data: g, keeps: {after: g.indexOf(Buffer.from(ssti)) + ssti.length, issue: (i) => i.threat === 'PAIT-GGUF-101'}})
  // formats without a streaming finding point: crash / hang / schema only
  out.push(
    {name: 'benign.pkl', data: benign(2)}, {name: 'sd.pt', data: torchStateDict(4, 3)}, {name: 'sparse.pkl', data: sparseMatrix(2)},
    {name: 'graph.pkl', data: networkxGraph(4)}, {name: 'recon.pkl', data: reconstructed('_reconstructor')}, {name: 'frames.pkl', data: frameRunsPastStop()},
    {name: 'ckpt.pt', data: zip([{name: 'archive/data.pkl', data: torchStateDict()}, {name: 'archive/data/0', data: Buffer.alloc(64)}, {name: 'archive/version', data: Buffer.from('3\n')}])},
    {name: 'arrs.npz', data: zip([{name: 'a.npy', data: npy('<f4', [2], Buffer.alloc(8))}, {name: 'b.npy', data: npy('|O', [1], payload(2)), method: 8}])},
    {name: 'nested.zip', data: zip([{name: 'inner.zip', data: zip([{name: 'p.pkl', data: payload(0), method: 8}]), method: 8}])},
    {name: 'model.pkl.gz', data: gzip(payload(3))}, {name: 'm.safetensors', data: validSafetensors()},
    {name: 'meta.gguf', data: ggufWithStrings([['general.name', 'x'], ['x.blob', encoders.hex(payload(2))]])},
    {name: 'm.onnx', data: onnxModel([{op: 'Relu'}, {op: 'X', domain: 'custom.x'}])}, {name: 'm.tflite', data: tflite([{builtin: 3}, {builtin: 32, custom: 'Op'}])},
    {name: 'saved_model.pb', data: savedModel(['MatMul', 'ReadFile'])},
    {name: 'model.keras', data: zip([{name: 'config.json', data: Buffer.from(JSON.stringify(kerasConfig([{class_name: 'Lambda', config: {name: 'l', function: {config: {code: lambdaCode(['os', 'system'])}}}}]))), method: 8},
      {name: 'metadata.json', data: Buffer.from('{}')}])},
    {name: 'legacy.h5', data: kerasH5({class_name: 'Sequential', config: {layers: [{class_name: 'Dense', config: {name: 'd'}}]}})},
    {name: 'fake.h5', data: fakeH5({class_name: 'Sequential', config: {layers: []}})},
  )
  return out
}

/** Deterministic PRNG (xorshift32). */
function prng(seed: number): (n: number) => number {
  let x = (seed >>> 0) || 1
  return (n: number): number => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0
    return n <= 0 ? 0 : x % n
  }
}

interface Mutant { name: string; data: Buffer; what: string; keeps?: Seed['keeps'] }

/** One to three mutations, all at or after the seed's finding point (the prefix stays byte-identical). */
function mutate(s: Seed, rnd: (n: number) => number): Mutant {
  let m = mutateOnce(s, rnd)
  for (let i = rnd(3); i > 0; i--) {
    const next = mutateOnce({...s, data: m.data}, rnd)
    m = {...next, what: `${m.what}; ${next.what}`}
  }
  return m
}

function mutateOnce(s: Seed, rnd: (n: number) => number): Mutant {
  const from = s.keeps ? s.keeps.after : 0
  const len = s.data.length
  const at = (): number => from + rnd(Math.max(1, len - from))
  const d = Buffer.from(s.data)
  const kind = rnd(7)
  switch (kind) {
    case 0: { // flip bytes
      const k = 1 + rnd(8)
      const where: number[] = []
      for (let i = 0; i < k; i++) { const p = at(); if (p < len) { d[p] = rnd(256); where.push(p) } }
      return {name: s.name, data: d, what: `set bytes at ${where.join(',')}`, keeps: s.keeps}
    }
    case 1: { const p = at(); return {name: s.name, data: d.subarray(0, p), what: `truncate at ${p}`, keeps: s.keeps} }
    case 2: { // append garbage
      const g = Buffer.from(Array.from({length: 1 + rnd(300)}, () => rnd(256)))
      return {name: s.name, data: Buffer.concat([d, g]), what: `append ${g.length} bytes`, keeps: s.keeps}
    }
    case 3: { // insert garbage
      const p = at()
      const g = Buffer.from(Array.from({length: 1 + rnd(64)}, () => rnd(256)))
      return {name: s.name, data: Buffer.concat([d.subarray(0, p), g, d.subarray(p)]), what: `insert ${g.length} bytes at ${p}`, keeps: s.keeps}
    }
    case 4: { // extreme length-like values
      const p = at()
      const v = [0xff, 0x00, 0x7f, 0x80][rnd(4)]
      const n = 1 + rnd(8)
      for (let i = p; i < Math.min(len, p + n); i++) d[i] = v
      return {name: s.name, data: d, what: `fill ${n} bytes at ${p} with 0x${v.toString(16)}`, keeps: s.keeps}
    }
    case 5: { // duplicate a chunk after the point
      const p = at()
      const q = Math.min(len, p + 1 + rnd(256))
      return {name: s.name, data: Buffer.concat([d.subarray(0, q), d.subarray(p, q), d.subarray(q)]), what: `duplicate [${p}, ${q})`, keeps: s.keeps}
    }
    default: { // delete a chunk after the point
      const p = at()
      const q = Math.min(len, p + 1 + rnd(64))
      return {name: s.name, data: Buffer.concat([d.subarray(0, p), d.subarray(q)]), what: `delete [${p}, ${q})`, keeps: s.keeps}
    }
  }
}

describe(`scanner mutation fuzz (${MUTANTS} mutants, seed ${SEED})`, function () {
  this.timeout(0)
  let dir = ''
  before(() => { dir = mkdtempSync(join(tmpdir(), 'daystrom-fuzz-')) })
  after(() => { if (dir) rmSync(dir, {recursive: true, force: true}) })

  it('no exception, no hang, valid scan_details, and findings made before the mutation are kept', async () => {
    const all = seeds()
    const rnd = prng(SEED)
    const failures: string[] = []
    let checkedKeeps = 0
    for (let k = 0; k < MUTANTS; k++) {
      const m = mutate(all[k % all.length], rnd)
      if (ONLY !== null && k !== ONLY) continue
      const file = join(dir, `${k}-${m.name}`)
      writeFileSync(file, m.data)
      const label = `mutant ${k} (${m.name}: ${m.what}; reproduce with DAYSTROM_FUZZ_SEED=${SEED} DAYSTROM_FUZZ_ONLY=${k})`
      const t0 = performance.now()
      try {
        const rep = await scanPath(file)
        const ms = performance.now() - t0
        if (ms > FILE_MS) failures.push(`${label}: took ${Math.round(ms)} ms`)
        const problems = validateBody('ScanDetails', rep.scanDetails)
        if (problems.length) failures.push(`${label}: invalid scan_details ${JSON.stringify(problems).slice(0, 300)}`)
        const f = rep.scanDetails.files[0]
        if (/scanner failure/.test(f.error_message ?? '')) failures.push(`${label}: ${f.error_message}`)
        if (m.keeps) {
          checkedKeeps++
          if (!(f.issues_detected ?? []).some(m.keeps.issue)) failures.push(`${label}: the seed's finding was lost (${f.modelscan_status}: ${f.error_message ?? ''})`)
        }
      } catch (e) {
        failures.push(`${label}: threw ${(e as Error).stack ?? String(e)}`)
      }
      rmSync(file, {force: true})
    }
    expect(failures, failures.join('\n')).to.deep.equal([])
    if (ONLY === null) expect(checkedKeeps).to.be.above(MUTANTS / 4)
  })
})
