/**
 * The pickle engine's guarantees under hostile input: a finding, once made, survives whatever follows it
 * (parse errors, invalid code points, frames and lengths past the end, deep nesting, budget trips, an
 * analyser exception), memory-heavy constructs are summarised instead of materialised, and memo/DUP
 * expansion is reported as resource exhaustion. Speed is measured in bench/scanner.js, not here; the
 * mocha timeout is the hang guard.
 */
import {expect} from 'chai'
import {analyze, newFileCtx} from '../../src/lib/scanner/engine.js'
import {BufferReader} from '../../src/lib/scanner/io.js'
import {evaluatePolicy, type PolicyInstance} from '../../src/lib/sandbox/policy.js'
import {RULES_BY_NAME} from '../../src/lib/sandbox/catalog.js'
import {RULE_FOR_UNCLASSIFIED, RULE_LOAD_TIME, RULE_SUSPICIOUS} from '../../src/lib/scanner/threats.js'
import {benign, payload, PW, zip} from './fixtures.js'
import {deepArgument, dictLaughs, dupLaughs, frameOverrunAfterCall, invalidCodePoint, markFlood, memoAmplification, memoLaughs, nestedJoblib,
  stackFlood, systemCallHead} from './pickle-fixtures.js'
import {cleanTrees, expectClean, expectIssue, isSystem, issues, scanOne, scanTree} from './pickle-support.js'

after(cleanTrees)

const resource = (kind: string) => (i: {operator?: string | null; description: string}): boolean =>
  i.operator === `resource_exhaustion:${kind}` && /^resource exhaustion: /.test(i.description)

describe('pickle engine: a finding survives everything after it', () => {
  it('(a) an argument nested 100,000 tuples deep after the os.system call', async function () {
    this.timeout(120000)
    const f = await scanOne('deep.pkl', deepArgument(100_000))
    expect(f.modelscan_status).to.equal('SCANNED')
    expectIssue(f, 'PAIT-PKL-100', isSystem)
    // the deep value is an argument of an unknown callable: reported as a call with arguments, rendered briefly
    const call = expectIssue(f, 'PAIT-PKL-101', (i) => i.module === 'mypkg.mod' && i.operator === 'consume')
    expect(call.description.length).to.be.below(2000)
  })

  it('(b) a protocol-0 \\U00110000 after the os.system call: the error is the status, the finding stays', async () => {
    const f = await scanOne('cp.pkl', invalidCodePoint())
    expect(f.modelscan_status).to.equal('SCANNED')
    expect(f.error_message).to.match(/U00110000.*not a valid code point.*finding/)
    expectIssue(f, 'PAIT-PKL-100', isSystem)
  })

  it('(c) a FRAME whose declared length runs past the end, after the os.system call', async () => {
    const f = await scanOne('frame.pkl', frameOverrunAfterCall())
    expect(f.modelscan_status).to.equal('SCANNED')
    expectIssue(f, 'PAIT-PKL-100', isSystem)
    expectIssue(f, 'PAIT-PKL-101', (i) => i.operator === 'frame' && /longer than the data/.test(i.description))
  })

  it('every truncation and every garbage tail after the call keeps the finding', async function () {
    this.timeout(120000)
    const head = systemCallHead().toBuffer()
    const full = Buffer.concat([head, new PW(0).op('0').raw('cposix\nsystem\n(Vx\ntR.').toBuffer()])
    const files: Record<string, Buffer> = {}
    for (let cut = head.length; cut < full.length; cut++) files[`cut-${cut}.pkl`] = full.subarray(0, cut)
    let seed = 7
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
    for (let k = 0; k < 40; k++) files[`tail-${k}.pkl`] = Buffer.concat([head, Buffer.from(Array.from({length: 1 + rnd(200)}, () => rnd(256)))])
    const rep = await scanTree(files)
    for (const f of rep.scanDetails.files) {
      expect(f.modelscan_status, f.file_path).to.equal('SCANNED')
      expectIssue(f, 'PAIT-PKL-100', isSystem, `${f.file_path}: `)
    }
  })

  it('more values than any stack limit, or more open MARKs, before the payload: compacted, the payload is found', async function () {
    this.timeout(120000)
    const s = await scanOne('stack.pkl', stackFlood(2_500_000))
    expectIssue(s, 'PAIT-PKL-100', isSystem)
    expect(s.error_message ?? null).to.equal(null)
    const m = await scanOne('marks.pkl', markFlood(2_500_000))
    expectIssue(m, 'PAIT-PKL-100', isSystem)
  })

  it('joblib object arrays nested beyond the cap: a resource finding, and the call before them is kept', async function () {
    this.timeout(60000)
    const ok = await scanOne('nested.joblib', nestedJoblib(5))
    expectIssue(ok, 'PAIT-JOBLIB-100', (i) => i.module === 'os' && /deep/.test(i.description))
    const f = await scanOne('deep.joblib', Buffer.concat([systemCallHead().op('0').toBuffer(), nestedJoblib(40)]))
    expectIssue(f, 'PAIT-JOBLIB-100', isSystem)
    expectIssue(f, null, resource('joblib-nesting'))
    expect(f.modelscan_status).to.equal('SCANNED')
  })

  it('an exception from an analyser after its findings keeps them and says what failed (engine level)', async () => {
    // a pickle/zip polyglot whose reads fail once the pickle's finding is made: the zip probe throws
    const data = Buffer.concat([payload(2), zip([{name: 'x.pkl', data: benign(2)}])])
    const fx = newFileCtx('/nonexistent/poly.pkl', '/nonexistent')
    class Failing extends BufferReader {
      override async read(pos: number, len: number): Promise<Buffer> {
        if (fx.findings.length > 0) throw new Error('device error while reading')
        return super.read(pos, len)
      }
    }
    const out = await analyze(new Failing(data), 'poly.pkl', 'poly.pkl', 0, fx, {topLevel: true})
    expect(out.status).to.equal('error')
    expect(out.status === 'error' ? out.message : '').to.match(/device error while reading.*after 1 finding/)
    expect(fx.findings.some((x) => x.module === 'os' && x.operator === 'system' && x.threat === 'PAIT-PKL-100')).to.equal(true)
  })

  it('a file with findings that also failed is SCANNED with the error, and its findings become violations', async () => {
    const f = await scanOne('g.pkl', Buffer.concat([payload(2).subarray(0, -1), Buffer.from([0xff, 0xfe])]))
    expect(f.modelscan_status).to.equal('SCANNED')
    expect(f.error_message).to.match(/malformed pickle.*finding/)
    const instance = (name: string): PolicyInstance => ({uuid: `u-${name}`, state: 'BLOCKING', rule: RULES_BY_NAME.get(name)!, field_values: {}})
    const res = evaluatePolicy({
      modelUri: '/models/g', sourceType: 'LOCAL', instances: [instance(RULE_LOAD_TIME), instance(RULE_SUSPICIOUS)],
      details: {scanner_version: 't', time_started: new Date().toISOString(), files: [f], total_files_scanned: 1, total_files_skipped: 0, model_formats: ['pickle'], model_size_bytes: 1, scan_duration_ms: 1},
    })
    expect(res.outcome).to.equal('BLOCKED')
    const lt = res.evaluations.find((e) => e.instance.rule.name === RULE_LOAD_TIME)!
    expect(lt.result).to.equal('FAILED')
    expect(lt.violations.some((v) => v.module === 'os' && v.operator === 'system' && v.file === 'g.pkl')).to.equal(true)
  })
})

describe('pickle engine: bounded by construction', () => {
  it('the issue\'s case: a 1 KiB string memoised once, 300,000 tuples of 16 memo reads (10 MB), then a call', async function () {
    this.timeout(180000)
    const data = memoAmplification(300_000, 'list')
    expect(data.length).to.be.above(10_000_000)
    const f = await scanOne('amp.pkl', data)
    expect(f.modelscan_status).to.equal('SCANNED')
    expectIssue(f, 'PAIT-PKL-100', isSystem)
    // one level of reuse is what a DataFrame column of one repeated string looks like too: not an expansion finding
    expect(issues(f).some(resource('expansion'))).to.equal(false)
  })

  it('the same tuples kept on the stack or each memoised are summarised, and the call after them is found', async function () {
    this.timeout(180000)
    const s = await scanOne('stack.pkl', memoAmplification(150_000, 'stack'))
    expectIssue(s, 'PAIT-PKL-100', isSystem)
    const m = await scanOne('memo.pkl', memoAmplification(150_000, 'memo'))
    expectIssue(m, 'PAIT-PKL-100', isSystem)
  })

  it('memo/DUP "billion laughs" (lists by DUP, lists by memo reads, dicts) are resource-exhaustion findings', async () => {
    for (const [name, data] of [['dup.pkl', dupLaughs(9, 9)], ['memo.pkl', memoLaughs(10, 10)], ['dict.pkl', dictLaughs(8, 16)]] as const) {
      const f = await scanOne(name, data)
      expect(f.modelscan_status, name).to.equal('SCANNED')
      const i = expectIssue(f, null, resource('expansion'), `${name}: `)
      expect(i.description).to.match(/billion laughs/)
    }
  })

  it('a resource-exhaustion issue has no PAIT code and fails Suspicious Model Components in the sandbox', async () => {
    const f = await scanOne('laughs.pkl', dupLaughs(9, 9))
    expect(RULE_FOR_UNCLASSIFIED).to.equal(RULE_SUSPICIOUS)
    const res = evaluatePolicy({
      modelUri: '/models/l', sourceType: 'LOCAL',
      instances: [RULE_LOAD_TIME, RULE_SUSPICIOUS].map((name) => ({uuid: `u-${name}`, state: 'BLOCKING', rule: RULES_BY_NAME.get(name)!, field_values: {}})),
      details: {scanner_version: 't', time_started: new Date().toISOString(), files: [f], total_files_scanned: 1, total_files_skipped: 0, model_formats: ['pickle'], model_size_bytes: 1, scan_duration_ms: 1},
    })
    const byRule = new Map(res.evaluations.map((e) => [e.instance.rule.name, e]))
    expect(byRule.get(RULE_SUSPICIOUS)!.result).to.equal('FAILED')
    expect(byRule.get(RULE_SUSPICIOUS)!.violations.some((v) => v.threat === null && /billion laughs/.test(v.description))).to.equal(true)
    expect(byRule.get(RULE_LOAD_TIME)!.result).to.equal('PASSED')
  })

  it('small or linear reuse is not an expansion finding', async () => {
    expectClean(await scanOne('small.pkl', dupLaughs(3, 3)))
    expectClean(await scanOne('small2.pkl', memoLaughs(4, 4)))
    // one big list referenced from 1000 places: linear in the input
    const p = new PW(4).emptyList().mark()
    for (let i = 0; i < 5000; i++) p.int(i % 200)
    p.appends().put(1).op('0').emptyList().mark()
    for (let i = 0; i < 1000; i++) p.get(1)
    expectClean(await scanOne('shared.pkl', p.appends().stop().toBuffer()))
  })
})

describe('pickle engine: text decoding', () => {
  it('decodes short and long strings exactly, ASCII or not (the short-ASCII fast path agrees with the UTF-8 decoder)', async () => {
    const letters = 'abcdefghijklmnopqrstuvwxyz'
    const texts = ['']
    for (let n = 1; n <= 20; n++) {
      texts.push(letters.slice(0, n), `é${letters.slice(0, Math.max(0, n - 2))}`, `${letters.slice(0, Math.max(0, n - 2))}é`, `${letters.slice(0, n - 1)}\u007f`)
    }
    for (const proto of [2, 4]) {
      const p = new PW(proto)
      texts.forEach((t, i) => p.call('mypkg', `f${i}`, [t]).op('0'))
      const f = await scanOne(`text${proto}.pkl`, p.emptyDict().stop().toBuffer())
      const described = issues(f).map((i) => i.description)
      texts.forEach((t, i) => {
        const call = `mypkg.f${i}(${JSON.stringify(t)})`
        expect(described.some((d) => d.includes(call)), `protocol ${proto}: ${call}`).to.equal(true)
      })
    }
  })
})
