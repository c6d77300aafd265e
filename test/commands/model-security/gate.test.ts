import {expect} from 'chai'

import {EXIT} from '../../../src/lib/airs/errors.js'
import type {Scan} from '../../../src/lib/airs/types.js'
import {type Clock, FIRST_POLL_MS, gateExit, nextPollDelay, outcomeExit, parseFailOn, parseWaitFlags, waitForScans} from '../../../src/lib/command/gate.js'
import {apiRequests, expectConforming, jsonError, mockApi, mockToken, requests, resetRequests, run, useCredentials} from '../../helpers/api.js'
import {
  EVAL_FORMAT, SCAN2_ALLOWED, SCAN2_ERROR, SCAN2_PENDING, SCAN2_UUID, SCAN_ALLOWED, SCAN_BLOCKED, SCAN_ERROR, SCAN_PENDING, SCAN_UUID,
} from '../../fixtures/data.js'
import {GROUP_HF} from '../../fixtures/mgmt.js'

const FAST = ['--interval', '10ms', '--timeout', '5s']
const scanPath = `/v1/scans/${SCAN_UUID}`
const scan2Path = `/v1/scans/${SCAN2_UUID}`

describe('scan gate: --fail-on, outcomes and exit codes', () => {
  it('parses --fail-on', () => {
    expect([...parseFailOn(undefined)]).to.deep.equal(['blocked', 'error'])
    expect([...parseFailOn('error')]).to.deep.equal(['error'])
    expect([...parseFailOn('BLOCKED, error')]).to.deep.equal(['blocked', 'error'])
    expect([...parseFailOn('never')]).to.deep.equal([])
    expect(() => parseFailOn('never,error')).to.throw(/cannot be combined/)
    expect(() => parseFailOn('warn')).to.throw(/allowed: blocked, error, never/)
    expect(() => parseFailOn('')).to.throw(/empty/)
  })

  it('maps outcomes to exit codes; the worst decides; a timeout wins', () => {
    const all = parseFailOn('blocked,error')
    expect(outcomeExit('ALLOWED', all)).to.equal(EXIT.OK)
    expect(outcomeExit('BLOCKED', all)).to.equal(EXIT.BLOCKED)
    expect(outcomeExit('ERROR', all)).to.equal(EXIT.SCAN_ERROR)
    expect(outcomeExit('BLOCKED', parseFailOn('error'))).to.equal(EXIT.OK)
    expect(outcomeExit('ERROR', parseFailOn('never'))).to.equal(EXIT.OK)
    expect(gateExit([{eval_outcome: 'ALLOWED'}, {eval_outcome: 'BLOCKED'}], all)).to.equal(8)
    expect(gateExit([{eval_outcome: 'BLOCKED'}, {eval_outcome: 'ERROR'}, {eval_outcome: 'ALLOWED'}], all)).to.equal(9)
    expect(gateExit([{eval_outcome: 'BLOCKED'}, {eval_outcome: 'ERROR'}], parseFailOn('blocked'))).to.equal(8)
    expect(gateExit([{eval_outcome: 'ERROR'}, {eval_outcome: 'PENDING'}], all, true)).to.equal(11)
    expect(gateExit([{eval_outcome: 'ALLOWED'}, {eval_outcome: 'PENDING'}], parseFailOn('never'), true)).to.equal(11)
  })
})

/** A clock that never waits: sleep() moves time forward and records the pause. */
function fakeClock(start = 1_000_000): Clock & {sleeps: number[]; t: number} {
  const c = {
    t: start, sleeps: [] as number[],
    now: () => c.t,
    sleep(ms: number) {
      c.sleeps.push(ms)
      c.t += ms
      return Promise.resolve()
    },
  }
  return c
}

/** A client whose scans answer PENDING `pendingReads` times, then `final`; each read costs `readMs` of clock time. */
function scriptedClient(clock: {t: number}, outcomes: Record<string, {pendingReads: number; final: string}>, readMs = 0) {
  const reads: Array<{uuid: string; at: number}> = []
  return {
    reads,
    getScan(uuid: string): Promise<Scan> {
      reads.push({uuid, at: clock.t})
      clock.t += readMs
      const o = outcomes[uuid]
      const n = reads.filter(r => r.uuid === uuid).length
      return Promise.resolve({...SCAN_PENDING, uuid, eval_outcome: n > o.pendingReads ? o.final : 'PENDING'} as Scan)
    },
  }
}

describe('waiting: the adaptive poll schedule (injected clock)', () => {
  const settings = (interval: string, timeout = '10m') => parseWaitFlags({interval, timeout, 'fail-on': 'blocked,error'})

  it('nextPollDelay: 0.5s first, then doubling up to the interval', () => {
    const seq = (interval: number, n: number) => {
      const out: number[] = []
      let d: number | undefined
      for (let i = 0; i < n; i++) out.push(d = nextPollDelay(d, interval))
      return out
    }
    expect(seq(5000, 7)).to.deep.equal([500, 1000, 2000, 4000, 5000, 5000, 5000])
    expect(seq(60_000, 9)).to.deep.equal([500, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000])
    expect(seq(200, 3)).to.deep.equal([200, 200, 200]) // an interval under 0.5s is never exceeded
    expect(FIRST_POLL_MS).to.equal(500)
  })

  it('a scan just created is first checked after 0.5s, then 1s, 2s, 4s, then every --interval', async () => {
    const clock = fakeClock()
    const client = scriptedClient(clock, {[SCAN_UUID]: {pendingReads: 6, final: 'BLOCKED'}})
    const initial = new Map([[SCAN_UUID, {...SCAN_PENDING} as Scan]])
    const r = await waitForScans(client, [SCAN_UUID], settings('5s'), undefined, {initial, clock})
    expect(r.timedOut).to.equal(false)
    expect(r.scans[0].eval_outcome).to.equal('BLOCKED')
    expect(clock.sleeps).to.deep.equal([500, 1000, 2000, 4000, 5000, 5000, 5000])
    expect(client.reads.map(x => x.at - 1_000_000)).to.deep.equal([500, 1500, 3500, 7500, 12_500, 17_500, 22_500])
  })

  it('a fast verdict costs one pause of 0.5s', async () => {
    const clock = fakeClock()
    const client = scriptedClient(clock, {[SCAN_UUID]: {pendingReads: 0, final: 'ALLOWED'}})
    const r = await waitForScans(client, [SCAN_UUID], settings('5s'), undefined, {initial: new Map([[SCAN_UUID, {...SCAN_PENDING} as Scan]]), clock})
    expect(r.scans[0].eval_outcome).to.equal('ALLOWED')
    expect(clock.sleeps).to.deep.equal([500])
  })

  it('scans wait reads at once, then follows the same schedule, only for scans still PENDING', async () => {
    const clock = fakeClock()
    const client = scriptedClient(clock, {[SCAN_UUID]: {pendingReads: 1, final: 'ALLOWED'}, [SCAN2_UUID]: {pendingReads: 3, final: 'ERROR'}})
    const r = await waitForScans(client, [SCAN_UUID, SCAN2_UUID], settings('1500ms'), undefined, {clock})
    expect(r.scans.map(x => x.eval_outcome)).to.deep.equal(['ALLOWED', 'ERROR'])
    expect(clock.sleeps).to.deep.equal([500, 1000, 1500])
    expect(client.reads.filter(x => x.uuid === SCAN_UUID).map(x => x.at - 1_000_000)).to.deep.equal([0, 500])
    expect(client.reads.filter(x => x.uuid === SCAN2_UUID).map(x => x.at - 1_000_000)).to.deep.equal([0, 500, 1500, 3000])
  })

  it('the last pause is cut to the deadline, then the wait times out', async () => {
    const clock = fakeClock()
    const client = scriptedClient(clock, {[SCAN_UUID]: {pendingReads: 1000, final: 'ALLOWED'}}, 10)
    const r = await waitForScans(client, [SCAN_UUID], settings('5s', '4s'), undefined, {initial: new Map([[SCAN_UUID, {...SCAN_PENDING} as Scan]]), clock})
    expect(r.timedOut).to.equal(true)
    expect(r.scans[0].eval_outcome).to.equal('PENDING')
    // 500 + 10 (read) + 1000 + 10 + 2000 + 10 = 3530: 470ms were left for the last pause
    expect(clock.sleeps).to.deep.equal([500, 1000, 2000, 470])
    // one last read at the deadline, then no more
    expect(client.reads.map(x => x.at - 1_000_000)).to.deep.equal([500, 1510, 3520, 4000])
    expect(clock.t - 1_000_000).to.equal(4010)
  })
})

describe('model-security scans wait / scans create --wait', () => {
  beforeEach(() => {
    useCredentials()
    mockToken()
    resetRequests()
  })

  for (const [final, exit] of [[SCAN_ALLOWED, 0], [SCAN_BLOCKED, 8], [SCAN_ERROR, 9]] as const) {
    it(`PENDING -> ${final.eval_outcome}: exit ${exit}, the final record on stdout with --json`, async () => {
      mockApi('data', 'GET', scanPath, 200, SCAN_PENDING, {times: 2})
      mockApi('data', 'GET', scanPath, 200, final)
      const r = await run(['model-security', 'scans', 'wait', SCAN_UUID, ...FAST, '--json'])
      expect(r.exit, r.stderr).to.equal(exit)
      expect(JSON.parse(r.stdout)).to.deep.equal(final)
      expect(r.stderr).to.equal('')
      expect(apiRequests()).to.have.length(3)
      expectConforming()
    })
  }

  it('still PENDING at the timeout: exit 11 (even with --fail-on never)', async () => {
    mockApi('data', 'GET', scanPath, 200, SCAN_PENDING, {times: 1000})
    const started = Date.now()
    const r = await run(['model-security', 'scans', 'wait', SCAN_UUID, '--interval', '10ms', '--timeout', '150ms', '--fail-on', 'never', '--json'])
    expect(r.exit).to.equal(11)
    expect(JSON.parse(r.stdout)).to.deep.equal(SCAN_PENDING)
    expect(Date.now() - started).to.be.lessThan(3000)
    expect(apiRequests().length).to.be.greaterThan(1)
  })

  it('retries a transient 503 during polling (DAYSTROM_RETRIES=2) and still gates', async () => {
    process.env.DAYSTROM_RETRIES = '2'
    process.env.DAYSTROM_RETRY_BASE_MS = '5'
    mockApi('data', 'GET', scanPath, 200, SCAN_PENDING)
    mockApi('data', 'GET', scanPath, 503, {detail: 'Service Unavailable'})
    mockApi('data', 'GET', scanPath, 200, SCAN_BLOCKED)
    const r = await run(['model-security', 'scans', 'wait', SCAN_UUID, ...FAST, '--json'])
    expect(r.exit, r.stderr).to.equal(8)
    expect(JSON.parse(r.stdout)).to.deep.equal(SCAN_BLOCKED)
    expect(apiRequests().map(x => x.path)).to.deep.equal([scanPath, scanPath, scanPath])
  })

  it('--fail-on error lets BLOCKED pass; --fail-on never always exits 0 after printing', async () => {
    mockApi('data', 'GET', scanPath, 200, SCAN_BLOCKED)
    const r = await run(['model-security', 'scans', 'wait', SCAN_UUID, ...FAST, '--fail-on', 'error', '--json'])
    expect(r.exit).to.equal(0)
    expect(JSON.parse(r.stdout)).to.deep.equal(SCAN_BLOCKED)
    mockApi('data', 'GET', scanPath, 200, SCAN_ERROR)
    const n = await run(['model-security', 'scans', 'wait', SCAN_UUID, ...FAST, '--fail-on', 'never'])
    expect(n.exit).to.equal(0)
    expect(n.stdout).to.match(/^Outcome:\s+ERROR/)
  })

  it('several scans: an array on stdout, the worst outcome decides', async () => {
    mockApi('data', 'GET', scanPath, 200, SCAN_PENDING)
    mockApi('data', 'GET', scan2Path, 200, SCAN2_PENDING)
    mockApi('data', 'GET', scanPath, 200, SCAN_BLOCKED)
    mockApi('data', 'GET', scan2Path, 200, SCAN2_ERROR)
    const r = await run(['model-security', 'scans', 'wait', SCAN_UUID, SCAN2_UUID, ...FAST, '--json'])
    expect(r.exit).to.equal(9)
    expect(JSON.parse(r.stdout)).to.deep.equal([SCAN_BLOCKED, SCAN2_ERROR])
    mockApi('data', 'GET', scanPath, 200, SCAN_ALLOWED)
    mockApi('data', 'GET', scan2Path, 200, SCAN2_ALLOWED)
    const ok = await run(['model-security', 'scans', 'wait', SCAN_UUID, SCAN2_UUID, ...FAST])
    expect(ok.exit).to.equal(0)
    expect(ok.stdout).to.match(/OUTCOME/)
    expect(ok.stdout.match(/ALLOWED/g)).to.have.length(2)
  })

  it('several scans: a timeout on one wins over BLOCKED on another (exit 11)', async () => {
    mockApi('data', 'GET', scanPath, 200, SCAN_BLOCKED)
    mockApi('data', 'GET', scan2Path, 200, SCAN2_PENDING, {times: 1000})
    const r = await run(['model-security', 'scans', 'wait', SCAN_UUID, SCAN2_UUID, '--interval', '10ms', '--timeout', '100ms', '--json'])
    expect(r.exit).to.equal(11)
    expect(JSON.parse(r.stdout).map((s: {eval_outcome: string}) => s.eval_outcome)).to.deep.equal(['BLOCKED', 'PENDING'])
  })

  it('prints one plain progress line per change on a non-TTY stderr, the result on stdout', async () => {
    mockApi('data', 'GET', scanPath, 200, SCAN_PENDING, {times: 3})
    mockApi('data', 'GET', scanPath, 200, SCAN_BLOCKED)
    mockApi('data', 'GET', `${scanPath}/evaluations`, 200, {pagination: {total_items: 1}, evaluations: [EVAL_FORMAT]})
    const r = await run(['model-security', 'scans', 'wait', SCAN_UUID, ...FAST])
    expect(r.exit).to.equal(8)
    expect(r.stdout).to.match(/Failed rules:\s+Stored In Approved File Format \(BLOCKING, 2 violations\)/)
    const lines = r.stderr.trim().split('\n').filter(l => l.startsWith('scan '))
    expect(lines).to.have.length(2)
    expect(lines[0]).to.match(/PENDING/)
    expect(lines[1]).to.match(/BLOCKED \(1 of 11 rules failed\)/)
    expect(r.stdout).to.match(/^Outcome:\s+BLOCKED/)
  })

  it('a 404 while waiting is final (exit 4); bad UUIDs and durations exit 2 with nothing sent', async () => {
    mockApi('data', 'GET', scanPath, 404, {detail: 'Scan not found'})
    const r = await run(['model-security', 'scans', 'wait', SCAN_UUID, ...FAST, '--json'])
    expect(r.exit).to.equal(4)
    expect(jsonError(r.stderr).code).to.equal('E_NOT_FOUND')
    resetRequests()
    expect((await run(['model-security', 'scans', 'wait', SCAN_UUID, 'oops'])).exit).to.equal(2)
    expect((await run(['model-security', 'scans', 'wait', SCAN_UUID, '--interval', 'often'])).exit).to.equal(2)
    expect((await run(['model-security', 'scans', 'wait', SCAN_UUID, '--timeout', '0'])).exit).to.equal(2)
    expect((await run(['model-security', 'scans', 'wait'])).exit).to.equal(2)
    expect(requests).to.have.length(0)
  })

  for (const [final, exit] of [[SCAN_ALLOWED, 0], [SCAN_BLOCKED, 8], [SCAN_ERROR, 9]] as const) {
    it(`scans create --wait: PENDING -> ${final.eval_outcome} exits ${exit}`, async () => {
      mockApi('mgmt', 'GET', `/v1/security-groups/${GROUP_HF.uuid}`, 200, GROUP_HF)
      mockApi('data', 'POST', '/v1/scans', 201, SCAN_PENDING)
      mockApi('data', 'GET', scanPath, 200, SCAN_PENDING)
      mockApi('data', 'GET', scanPath, 200, final)
      const r = await run(['model-security', 'scans', 'create', '--model-uri', SCAN_BLOCKED.model_uri, '--group', GROUP_HF.uuid, '--wait', ...FAST, '--json'])
      expect(r.exit, r.stderr).to.equal(exit)
      expect(JSON.parse(r.stdout)).to.deep.equal(final)
      expect(apiRequests().map(x => `${x.method} ${x.path}`)).to.deep.equal([
        `GET /v1/security-groups/${GROUP_HF.uuid}`, 'POST /v1/scans', `GET ${scanPath}`, `GET ${scanPath}`])
      expectConforming()
    })
  }

  it('scans create --wait times out with exit 11', async () => {
    mockApi('mgmt', 'GET', `/v1/security-groups/${GROUP_HF.uuid}`, 200, GROUP_HF)
    mockApi('data', 'POST', '/v1/scans', 201, SCAN_PENDING)
    mockApi('data', 'GET', scanPath, 200, SCAN_PENDING, {times: 1000})
    const r = await run(['model-security', 'scans', 'create', '--model-uri', SCAN_BLOCKED.model_uri, '--group', GROUP_HF.uuid, '--wait', '--interval', '10ms', '--timeout', '100ms'])
    expect(r.exit).to.equal(11)
    expect(r.stdout).to.match(/^Outcome:\s+PENDING/)
  })
})
