/**
 * The scan worker pool (src/lib/scanner/pool.ts, worker.ts): the same scan_details whatever the number of
 * workers (or none), findings that survive a worker that dies after making them, the per-file watchdog,
 * abort, the pool size, the in-thread rule for small scans, the fallback when workers cannot start, and
 * temp files of a stopped worker. Faults are injected through pool.ts's test hook (a field of the
 * task message that only `testHooks` sets), never through file content.
 */
import {expect} from 'chai'
import {createHash} from 'node:crypto'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync} from 'node:fs'
import {availableParallelism, tmpdir} from 'node:os'
import {join} from 'node:path'
import {validateBody} from '../../src/lib/airs/validate.js'
import type {FileScanData, ModelScanIssue} from '../../src/lib/airs/types.js'
import {IN_THREAD_MAX_BYTES, scanPath, ScanAborted, type ScanOptions, type ScanReport} from '../../src/lib/scanner/index.js'
import {closeIdleWorkers, poolStats, testHooks} from '../../src/lib/scanner/pool.js'
import {deadlineSignal} from '../../src/lib/scanner/file-scan.js'
import {cli, ensureBuilt} from '../helpers/cli.js'
import {benign, fakeH5, gguf, gzip, kerasConfig, kerasH5, lambdaCode, npy, onnxModel, payload, PW, safetensors, savedModel, tar,
  tempTree, tflite, torchStateDict, validSafetensors, zip} from './fixtures.js'

const roots: string[] = []
function tree(files: Record<string, Buffer | string>): string {
  const root = tempTree(files)
  roots.push(root)
  return root
}

afterEach(() => {
  delete testHooks.fault
  delete testHooks.onLease
  delete testHooks.workerUrl
})
after(async () => {
  await closeIdleWorkers()
  for (const r of roots) rmSync(r, {recursive: true, force: true})
})

async function scan(root: string, opts: ScanOptions = {}): Promise<ScanReport> {
  const rep = await scanPath(root, opts)
  const problems = validateBody('ScanDetails', rep.scanDetails)
  expect(problems, JSON.stringify(problems)).to.deep.equal([])
  return rep
}

/** scan_details and notes without the two fields that depend on the clock. */
function comparable(rep: ScanReport): unknown {
  const rest: Partial<ScanReport['scanDetails']> = {...rep.scanDetails}
  delete rest.time_started
  delete rest.scan_duration_ms
  return {scanDetails: rest, notes: rep.notes, truncated: rep.truncated}
}

const byPath = (rep: ScanReport, p: string): FileScanData => {
  const f = rep.scanDetails.files.find((x) => x.file_path === p)
  expect(f, `no record for ${p}`).to.not.equal(undefined)
  return f!
}
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex')
const lambdaLayer = {class_name: 'Lambda', config: {name: 'l', function: [lambdaCode(['os', 'system']), null, null]}}

/** The fixture corpus: every format the scanner knows, benign and malicious, plus damaged and non-model files. */
function corpus(): Record<string, Buffer | string> {
  const files: Record<string, Buffer | string> = {}
  for (let p = 0; p <= 5; p++) {
    files[`pickles/evil-p${p}.pkl`] = payload(p)
    files[`pickles/ok-p${p}.pkl`] = benign(p)
  }
  files['pickles/eval.pkl'] = payload(2, 'builtins', 'eval', ['1+1'])
  files['pickles/getattr.pkl'] = payload(4, 'builtins', 'getattr', ['x', 'y'])
  files['pickles/truncated.pkl'] = payload(2).subarray(0, 9)
  files['pickles/stacked.pkl'] = Buffer.concat([benign(2), payload(2)])
  files['pickles/memo.pkl'] = new PW(2).emptyList().put(0).get(0).get(0).tuple().stop().toBuffer()
  files['torch/model.pt'] = zip([{name: 'archive/data.pkl', data: torchStateDict()}, {name: 'archive/version', data: Buffer.from('3\n')},
    {name: 'archive/data/0', data: Buffer.alloc(64)}, {name: 'archive/data/1', data: Buffer.alloc(64)}])
  files['torch/evil.pt'] = zip([{name: 'archive/data.pkl', data: payload(2), method: 8}, {name: 'archive/version', data: Buffer.from('3\n')}])
  files['archives/bundle.tar'] = tar([{name: 'x.pkl', data: payload(2)}, {name: 'ok.pkl', data: benign(3)}, {name: '../escape.txt', data: Buffer.from('x')}])
  files['archives/p.pkl.gz'] = gzip(payload(3))
  files['archives/nested.zip'] = zip([{name: 'inner.zip', data: zip([{name: 'deep.pkl', data: payload(4), method: 8}])}, {name: 'readme.txt', data: Buffer.from('hi')}])
  files['gguf/ok.gguf'] = gguf({template: '{{ x }}'})
  files['gguf/ssti.gguf'] = gguf({template: "{{ ''.__class__.__mro__[1].__subclasses__() }}"})
  files['gguf/bad.gguf'] = gguf({kvCount: 10n ** 12n})
  files['st/ok.safetensors'] = validSafetensors()
  files['st/bad.safetensors'] = safetensors({a: {dtype: 'F32', shape: [4], data_offsets: [0, 999]}}, Buffer.alloc(16))
  files['onnx/model.onnx'] = onnxModel([{op: 'Relu'}])
  files['onnx/custom.onnx'] = onnxModel([{op: 'PyOp', domain: 'ai.onnx.contrib'}], '../../etc/passwd')
  files['tf/saved_model.pb'] = savedModel(['ReadFile', 'MatMul'])
  files['tflite/model.tflite'] = tflite([{builtin: 32, custom: 'X'}, {builtin: 0}])
  files['npy/obj.npy'] = npy('|O', [1], payload(2))
  files['npy/floats.npy'] = npy('<f4', [2], Buffer.alloc(8))
  files['keras/model.keras'] = zip([{name: 'config.json', data: Buffer.from(JSON.stringify(kerasConfig([lambdaLayer]))), method: 8},
    {name: 'metadata.json', data: Buffer.from('{}')}])
  files['keras/fake.h5'] = fakeH5(kerasConfig([lambdaLayer]))
  files['keras/real.h5'] = kerasH5(kerasConfig([lambdaLayer]))
  files['config/hydra.yaml'] = 'hook:\n  _target_: os.system\n  command: id\n'
  files['config/cfg.json'] = JSON.stringify({trainer: {_target_: 'builtins.eval', x: 1}})
  files['config/broken.json'] = '{"a": '
  files['README.md'] = '# a model\n'
  files['empty.bin'] = Buffer.alloc(0)
  return files
}

/** A generated multi-file directory: the corpus repeated in subdirectories, with bulk files of various sizes. */
function multiFileDir(): Record<string, Buffer | string> {
  const files: Record<string, Buffer | string> = {}
  const base = corpus()
  for (let d = 0; d < 3; d++) for (const [k, v] of Object.entries(base)) files[`set${d}/${k}`] = v
  let seed = 7
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed }
  for (let i = 0; i < 12; i++) {
    const n = (rnd() % (600 << 10)) + 1
    const b = Buffer.alloc(n)
    for (let j = 0; j < n; j += 4096) b[j] = rnd() & 0xff
    files[`bulk/blob-${String(i).padStart(2, '0')}.bin`] = b
  }
  files['bulk/weights.safetensors'] = safetensors({w: {dtype: 'F32', shape: [1 << 18], data_offsets: [0, 1 << 20]}}, Buffer.alloc(1 << 20))
  return files
}

describe('scanner workers: equivalence', function () {
  this.timeout(180000)

  it('the fixture corpus gets the same scan_details and notes in-thread, with 1 worker and with N workers', async () => {
    const root = tree(corpus())
    symlinkSync('/etc/hostname', join(root, 'outside-link'))
    const inThread = await scan(root, {workers: 'never'})
    const one = await scan(root, {workers: 'always', concurrency: 1})
    const many = await scan(root, {workers: 'always', concurrency: 4})
    // the comparison is not vacuous: findings, errors, skips and several formats are in it
    const files = inThread.scanDetails.files
    expect(files.filter((f) => (f.issues_detected ?? []).length > 0).length).to.be.greaterThan(15)
    expect(files.some((f) => f.modelscan_status === 'ERROR')).to.equal(true)
    expect(files.some((f) => f.modelscan_status === 'SKIPPED')).to.equal(true)
    expect(inThread.scanDetails.model_formats.length).to.be.greaterThan(10)
    expect(inThread.notes.length).to.be.greaterThan(0)
    expect(comparable(one)).to.deep.equal(comparable(inThread))
    expect(comparable(many)).to.deep.equal(comparable(inThread))
  })

  it('a generated multi-file directory gets the same scan_details with 1 and N workers (default mode and pool size)', async () => {
    const root = tree(multiFileDir())
    const leases: number[] = []
    testHooks.onLease = (id) => leases.push(id)
    const auto = await scan(root)
    expect(leases.length, 'the directory is over 1 MiB: auto mode uses workers').to.equal(Math.min(availableParallelism(), 64))
    const one = await scan(root, {workers: 'always', concurrency: 1})
    const many = await scan(root, {workers: 'always', concurrency: 5})
    expect(auto.scanDetails.files.length).to.be.greaterThan(100)
    expect(comparable(one)).to.deep.equal(comparable(auto))
    expect(comparable(many)).to.deep.equal(comparable(auto))
    expect(byPath(auto, 'bulk/weights.safetensors').sha256).to.equal(sha(readFileSync(join(root, 'bulk/weights.safetensors'))))
  })

  it('what a worker streams is exactly the finished record: issues, formats and hash of every corpus file', async () => {
    const root = tree(corpus())
    const normal = await scan(root, {workers: 'always', concurrency: 2})
    // every worker withholds its result after the analysis: each record is rebuilt from what was streamed
    testHooks.fault = {file: '*', kind: 'fail', at: 'end'}
    const streamed = await scan(root, {workers: 'always', concurrency: 2})
    for (const f of normal.scanDetails.files) {
      const s = byPath(streamed, f.file_path)
      expect(s.issues_detected, f.file_path).to.deep.equal(f.issues_detected)
      expect(s.formats, f.file_path).to.deep.equal((f.formats ?? []).filter((x) => x !== 'not_model'))
      expect(s.sha256, f.file_path).to.equal(f.sha256)
      expect(s.modelscan_status, f.file_path).to.equal((f.issues_detected ?? []).length ? 'SCANNED' : 'ERROR')
      expect(s.error_message, f.file_path).to.match(/^analysis stopped: scanner worker failed after (\d+ bytes|[\d.]+ MB) of (\d+ bytes|[\d.]+ MB) read: scanner failure: injected fault: result withheld$/)
    }
  })
})

describe('scanner workers: findings survive a worker that stops', function () {
  this.timeout(180000)

  const files = (): Record<string, Buffer | string> => ({'a.pkl': benign(2), 'b.pkl': payload(2), 'c.pkl': benign(4), 'd.safetensors': validSafetensors()})

  async function reference(): Promise<ModelScanIssue[]> {
    const rep = await scan(tree(files()), {workers: 'never'})
    const issues = byPath(rep, 'b.pkl').issues_detected ?? []
    expect(issues.map((i) => i.threat)).to.include('PAIT-PKL-100')
    return issues
  }

  function expectOthersIntact(rep: ScanReport): void {
    for (const p of ['a.pkl', 'c.pkl', 'd.safetensors']) {
      const f = byPath(rep, p)
      expect(f.modelscan_status, p).to.equal('SCANNED')
      expect(f.issues_detected, p).to.deep.equal([])
      expect(f.error_message, p).to.equal(undefined)
    }
  }

  for (const [kind, message, exhaustion] of [
    ['oom', /^analysis stopped: worker ran out of memory \(heap limit 64 MB\) after \d+ bytes of \d+ bytes read$/, true],
    ['throw', /^analysis stopped: scanner worker failed after \d+ bytes of \d+ bytes read: injected fault: uncaught exception in the scan worker$/, false],
    ['exit', /^analysis stopped: scanner worker failed after \d+ bytes of \d+ bytes read: worker exited with code 70$/, false],
  ] as const) {
    it(`a worker that dies right after a finding (${kind}) keeps the finding; the pool goes on with the other files`, async () => {
      const expected = await reference()
      const root = tree(files())
      testHooks.fault = {file: 'b.pkl', kind, at: 'finding'}
      const rep = await scan(root, {workers: 'always', concurrency: 2, workerHeapMb: 64})
      const b = byPath(rep, 'b.pkl')
      expect(b.modelscan_status).to.equal('SCANNED')
      expect(b.error_message).to.match(message)
      expect(b.sha256, 'hash from a fresh read').to.equal(sha(readFileSync(join(root, 'b.pkl'))))
      expect(b.formats).to.deep.equal(['pickle'])
      const issues = b.issues_detected ?? []
      // the first finding was streamed before the fault (the pickle analyser hands its findings over together)
      expect(issues.length).to.be.greaterThan(0)
      // the same findings as a full analysis (the pickle analyser may still refine a description after a finding is
      // first made, e.g. "imports os.system" -> "... and calls it": the finding itself is what must survive)
      const identity = ({source, threat, module, operator}: ModelScanIssue) => ({source, threat, module, operator})
      for (const i of issues.filter((x) => x.operator !== 'resource_exhaustion')) expect(expected.map(identity)).to.deep.include(identity(i))
      expect(issues.some((i) => i.operator === 'resource_exhaustion' && i.module === 'scanner' && i.threat === null)).to.equal(exhaustion)
      expect(rep.notes.some((n) => n.startsWith('b.pkl: analysis stopped'))).to.equal(true)
      expectOthersIntact(rep)
      expect(rep.scanDetails.total_files_scanned).to.equal(4)
    })
  }

  it('a file stopped before any finding ends ERROR, or SCANNED with the resource-exhaustion issue when it ran out of memory', async () => {
    const root = tree(files())
    testHooks.fault = {file: 'c.pkl', kind: 'throw', at: 'start'}
    const thrown = byPath(await scan(root, {workers: 'always', concurrency: 2}), 'c.pkl')
    expect(thrown.modelscan_status).to.equal('ERROR')
    expect(thrown.issues_detected).to.deep.equal([])
    expect(thrown.sha256).to.equal(sha(benign(4)))
    testHooks.fault = {file: 'c.pkl', kind: 'oom', at: 'start'}
    const oom = byPath(await scan(root, {workers: 'always', concurrency: 2, workerHeapMb: 64}), 'c.pkl')
    expect(oom.modelscan_status).to.equal('SCANNED')
    expect(oom.issues_detected).to.have.length(1)
    expect(oom.issues_detected![0]).to.include({module: 'scanner', operator: 'resource_exhaustion', threat: null, source: 'c.pkl'})
    expect(oom.issues_detected![0].description).to.match(/exhausted the scanner's memory \(heap limit 64 MB/)
  })
})

describe('scanner workers: watchdog and abort', function () {
  this.timeout(180000)

  it('a stuck worker is terminated at the per-file time budget: the finding, a resource-exhaustion issue, and the other files', async () => {
    const root = tree({'a.pkl': benign(2), 'b.pkl': payload(2), 'c.pkl': benign(3)})
    testHooks.fault = {file: 'b.pkl', kind: 'hang', at: 'finding'}
    const rep = await scan(root, {workers: 'always', concurrency: 2, fileTimeoutMs: 2000})
    const b = byPath(rep, 'b.pkl')
    expect(b.modelscan_status).to.equal('SCANNED')
    expect(b.error_message).to.match(/^analysis stopped: time budget of 2\.0 s exceeded after \d+ bytes of \d+ bytes read$/)
    const threats = (b.issues_detected ?? []).map((i) => i.threat)
    expect(threats).to.include('PAIT-PKL-100')
    const ex = (b.issues_detected ?? []).find((i) => i.operator === 'resource_exhaustion')
    expect(ex?.description).to.match(/exceeded the scanner's time budget \(2\.0 s/)
    expect(b.sha256).to.equal(sha(payload(2)))
    for (const p of ['a.pkl', 'c.pkl']) expect(byPath(rep, p).modelscan_status).to.equal('SCANNED')
  })

  it('in-thread, the same budget is read from the clock at the analysers\' abort checks: the file is stopped and reported, and still hashed', async () => {
    const members = Array.from({length: 3000}, (_v, i) => ({name: `m/${String(i).padStart(4, '0')}.pkl`, data: i === 1500 ? payload(2) : benign(2)}))
    const data = zip(members)
    const root = tree({'many.zip': data})
    const full = byPath(await scan(root, {workers: 'never'}), 'many.zip')
    expect(full.error_message).to.equal(undefined)
    expect((full.issues_detected ?? []).map((i) => i.threat)).to.deep.equal(['PAIT-PKL-100'])
    const cut = byPath(await scan(root, {workers: 'never', fileTimeoutMs: 1}), 'many.zip')
    expect(cut.modelscan_status).to.equal('SCANNED')
    expect(cut.error_message).to.match(/^analysis stopped: time budget of 1 ms exceeded after \d+ bytes of \d+ bytes read$/)
    expect((cut.issues_detected ?? []).some((i) => i.operator === 'resource_exhaustion' && i.threat === null)).to.equal(true)
    expect(cut.formats).to.deep.equal(['zip'])
    expect(cut.sha256).to.equal(sha(data))
  })

  it('the in-thread budget holds inside synchronous code and microtask chains, where no timer can fire', () => {
    const spin = (ms: number): void => { const end = performance.now() + ms; while (performance.now() < end) { /* no timer can run */ } }
    const d = deadlineSignal(5)
    expect(d.signal.aborted).to.equal(false)
    spin(10)
    expect(d.signal.aborted).to.equal(true)
    expect(d.expired()).to.equal(true)
    expect((d.signal.reason as Error).message).to.equal('time budget exceeded')
    d.dispose()
    // the scan's own abort aborts the analysis too, but is not the budget
    const ac = new AbortController()
    const p = deadlineSignal(60_000, ac.signal)
    ac.abort()
    expect(p.signal.aborted).to.equal(true)
    expect(p.expired()).to.equal(false)
    p.dispose()
  })

  it('abort terminates busy workers at once and rejects with ScanAborted', async function () {
    this.timeout(60000)
    const root = tree({'a.pkl': benign(2), 'b.pkl': payload(2), 'c.pkl': benign(3), 'd.pkl': benign(4)})
    testHooks.fault = {file: 'b.pkl', kind: 'hang', at: 'start'}
    const ac = new AbortController()
    let done = 0
    // abort once the other three files are done (b.pkl's worker is spinning by then)
    const onProgress = (p: {filesDone: number}): void => { if (p.filesDone === 3 && done++ === 0) setTimeout(() => ac.abort(), 300) }
    let err: unknown
    // the budget is 10 minutes, the test's timeout 60 s: only termination on abort can end the scan in time
    try { await scanPath(root, {workers: 'always', concurrency: 2, fileTimeoutMs: 600_000, signal: ac.signal, onProgress}) } catch (e) { err = e }
    expect(err).to.be.instanceOf(ScanAborted)
    expect(done).to.equal(1)
    // no busy worker is left: every live worker is an idle one
    const stats = poolStats()
    expect(stats.live).to.equal(stats.idle)
  })

  it('a signal aborted before the scan rejects at once (in workers and in-thread)', async () => {
    const root = tree({'a.pkl': benign(2)})
    const ac = new AbortController()
    ac.abort()
    for (const workers of ['always', 'never'] as const) {
      let err: unknown
      try { await scanPath(root, {workers, signal: ac.signal}) } catch (e) { err = e }
      expect(err, workers).to.be.instanceOf(ScanAborted)
    }
  })
})

describe('scanner workers: pool size, mode and fallback', function () {
  this.timeout(180000)

  const six = (): Record<string, Buffer> => Object.fromEntries(Array.from({length: 6}, (_v, i) => [`f${i}.pkl`, benign(i % 6)]))

  it('the pool size comes from the concurrency option, else os.availableParallelism(), never more than the files', async () => {
    const root = tree(six())
    for (const [concurrency, want] of [[3, 3], [1, 1], [undefined, Math.min(availableParallelism(), 6)], [20, 6]] as const) {
      const leases: number[] = []
      testHooks.onLease = (id) => leases.push(id)
      const rep = await scan(root, {workers: 'always', concurrency})
      expect(rep.scanDetails.total_files_scanned).to.equal(6)
      expect(new Set(leases).size, `concurrency ${concurrency}`).to.equal(want)
      expect(leases.length, `concurrency ${concurrency}`).to.equal(want)
    }
  })

  it('auto mode scans small inputs in the calling thread and larger ones in workers', async () => {
    const leases: number[] = []
    testHooks.onLease = (id) => leases.push(id)
    const small = await scan(tree({'m.pkl': payload(2)}))
    expect(byPath(small, 'm.pkl').issues_detected!.length).to.be.greaterThan(0)
    expect(leases, 'one small file: no worker').to.deep.equal([])
    await scan(tree({'m.pkl': payload(2), 'w.bin': Buffer.alloc(IN_THREAD_MAX_BYTES)}))
    expect(leases.length, 'over 1 MiB in all: workers').to.equal(Math.min(availableParallelism(), 2))
  })

  it('when workers cannot start, files are scanned in-thread with the same results and a note', async () => {
    const root = tree(corpus())
    const reference = await scan(root, {workers: 'never'})
    await closeIdleWorkers()
    testHooks.workerUrl = new URL('./no-such-worker.js', import.meta.url)
    const rep = await scan(root, {workers: 'always', concurrency: 2})
    const k = rep.notes.findIndex((n) => n.startsWith('worker threads unavailable'))
    expect(rep.notes[k]).to.match(/^worker threads unavailable \(.*\): files were scanned in the main thread, without the per-file memory limit and with the time budget checked only between analysis steps$/)
    rep.notes.splice(k, 1)
    expect(comparable(rep)).to.deep.equal(comparable(reference))
  })

  it('rejects invalid pool options before scanning', async () => {
    const root = tree({'a.pkl': benign(2)})
    for (const [opts, re] of [
      [{concurrency: 0}, /concurrency must be an integer from 1 to 64 \(got 0\)/],
      [{concurrency: 2.5}, /concurrency must be an integer from 1 to 64 \(got 2\.5\)/],
      [{concurrency: 65}, /concurrency must be an integer from 1 to 64 \(got 65\)/],
      [{workerHeapMb: 8}, /workerHeapMb must be an integer from 16 to 16384 \(got 8\)/],
      [{fileTimeoutMs: 0}, /fileTimeoutMs must be an integer/],
      [{workers: 'sometimes'}, /workers must be auto, always or never \(got sometimes\)/],
    ] as Array<[ScanOptions, RegExp]>) {
      let err: unknown
      try { await scanPath(root, opts) } catch (e) { err = e }
      expect(err, JSON.stringify(opts)).to.be.instanceOf(RangeError)
      expect((err as Error).message).to.match(re)
    }
  })
})

describe('scanner workers: temp files of a stopped worker', function () {
  this.timeout(180000)

  it('a worker stopped while an archive member is spilled to disk leaves nothing behind', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'daystrom-workers-tmp-'))
    roots.push(tmp)
    // a gzip whose payload pickle is followed by 33 MB of padding: decompression spills to a temp file
    const root = tree({'big.pkl.gz': gzip(Buffer.concat([payload(2), Buffer.alloc(33 << 20)])), 'ok.pkl': benign(2)})
    await closeIdleWorkers()
    process.env.TMPDIR = tmp // the workers' temp directories go here (restored after the test)
    // the worker spins once it has found the payload, i.e. while the decompressed member is on disk
    testHooks.fault = {file: 'big.pkl.gz', kind: 'hang', at: 'finding'}
    const ac = new AbortController()
    const spilled: string[] = []
    const t0 = Date.now()
    const poll = setInterval(() => {
      for (const w of readdirSync(tmp).filter((n) => n.startsWith('daystrom-worker-'))) {
        const dir = join(tmp, w)
        if (existsSync(dir)) for (const s of readdirSync(dir)) if (s.startsWith('daystrom-scan-')) spilled.push(join(w, s))
      }
      if (spilled.length || Date.now() - t0 > 90_000) ac.abort()
    }, 50)
    let err: unknown
    try {
      await scanPath(root, {workers: 'always', concurrency: 2, fileTimeoutMs: 600_000, signal: ac.signal})
    } catch (e) {
      err = e
    } finally {
      clearInterval(poll)
    }
    expect(err).to.be.instanceOf(ScanAborted)
    expect(spilled.length, 'the member was spilled inside the worker\'s temp directory').to.be.greaterThan(0)
    await closeIdleWorkers()
    expect(readdirSync(tmp).filter((n) => n.startsWith('daystrom-'))).to.deep.equal([])
  })
})

describe('scanner workers: the built CLI', function () {
  this.timeout(180000)

  it('scans in workers from dist (worker.js found next to pool.js): findings reported, no fallback', async () => {
    ensureBuilt()
    const dir = tree({'weights.bin': Buffer.alloc(2 << 20, 1), 'evil.pkl': payload(2), 'ok.pkl': benign(2)})
    const r = await cli(['model-security', 'scans', 'create', '--model-path', dir, '--dry-run'])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/evil\.pkl\s+SCANNED\s+pickle\s+\d+\s+1\s+PAIT-PKL-100/)
    expect(r.stderr).to.match(/Scanning .*3\/3 files/)
    // the directory is over 1 MiB, so the files went to workers; had worker.js not loaded, this note would say so
    expect(r.stderr).to.not.match(/worker threads unavailable/)
  })
})
