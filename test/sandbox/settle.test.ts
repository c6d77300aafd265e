import {expect} from 'chai'

import {settleAtFor} from '../../src/lib/sandbox/scans.js'
import {type TestSandbox, groupByName, maliciousPickleDetails, startTestSandbox} from './support.js'

describe('sandbox: when scans settle', () => {
  let t: TestSandbox
  before(async () => {
    // a settle delay far longer than the test: only scans that are due at once can settle here
    t = await startTestSandbox({settleDelayMs: 60_000})
  })
  after(async () => t.close())

  it('a LOCAL scan with scan_details is PENDING in the create answer and settled by the first read', async () => {
    const g = await groupByName(t, 'Default LOCAL')
    const created = await t.data('POST', '/v1/scans', {model_uri: '/models/fast', security_group_uuid: g.uuid, scan_details: maliciousPickleDetails()})
    expect(created.status).to.equal(201)
    expect(created.body.eval_outcome).to.equal('PENDING')
    expect(created.body.eval_summary).to.equal(null)
    const read = await t.data('GET', `/v1/scans/${created.body.uuid}`)
    expect(read.body.eval_outcome).to.equal('BLOCKED')
    expect(read.body.eval_summary.rules_failed).to.be.greaterThan(0)
    const evals = await t.data('GET', `/v1/scans/${created.body.uuid}/evaluations`, undefined, {query: 'limit=100&result=FAILED'})
    expect(evals.body.evaluations.map((e: {rule_name: string}) => e.rule_name)).to.include('Load Time Code Execution Check')
  })

  it('a read of another resource settles it too (any data-plane request settles due scans first)', async () => {
    const g = await groupByName(t, 'Default LOCAL')
    const created = await t.data('POST', '/v1/scans', {model_uri: '/models/fast-2', security_group_uuid: g.uuid, scan_details: maliciousPickleDetails()})
    await t.data('GET', '/v1/scans', undefined, {query: 'limit=1'})
    const row = t.sb.db.prepare('SELECT eval_outcome FROM scans WHERE uuid = ?').get(created.body.uuid) as {eval_outcome: string}
    expect(row.eval_outcome).to.equal('BLOCKED')
  })

  it('scans without scan_details keep the settle delay: a LOCAL path, and a remote source', async () => {
    const local = await groupByName(t, 'Default LOCAL')
    const hf = await groupByName(t, 'Default HUGGING_FACE')
    const a = await t.data('POST', '/v1/scans', {model_uri: '/models/not-here', security_group_uuid: local.uuid})
    const b = await t.data('POST', '/v1/scans', {model_uri: 'https://huggingface.co/org/model', security_group_uuid: hf.uuid})
    for (const s of [a, b]) expect((await t.data('GET', `/v1/scans/${s.body.uuid}`)).body.eval_outcome).to.equal('PENDING')
  })

  it('settleAtFor: due now only for LOCAL + scan_details', () => {
    const body = {model_uri: '/m', security_group_uuid: '00000000-0000-4000-8000-000000000000'}
    expect(settleAtFor({...body, scan_details: maliciousPickleDetails()}, 'LOCAL', 250, 1000)).to.equal(1000)
    expect(settleAtFor(body, 'LOCAL', 250, 1000)).to.equal(1250)
    expect(settleAtFor({...body, scan_details: maliciousPickleDetails()}, 'S3', 250, 1000)).to.equal(1250)
  })
})
