/**
 * `model-security scans diff` against a mocked service: the requests the fetcher sends (checked against the
 * OpenAPI document: scans, evaluations, violations, the file tree walk, paging, model-version lookup), the
 * output formats, --fail-on-new, and the validation that happens before any request.
 */
import {expect} from 'chai'
import nock from 'nock'

import {assertRequestConforms, openapiAvailable} from '../../helpers/openapi.js'
import {apiRequests, ENDPOINTS, expectConforming, jsonError, mockApi, mockToken, type Recorded, requests, resetRequests, run, useCredentials} from '../../helpers/api.js'
import {
  EVAL_FORMAT, EVAL_LOADTIME, FILE_CONFIG, FILE_ONNX, FILE_ONNX_DIR, FILE_PICKLE, page, SCAN_ALLOWED, SCAN_BLOCKED, SCAN_ERROR, SCAN_PENDING,
  SCAN_UUID, SCAN2_UUID, VERSION_UUID, VIOLATION_ONNX, VIOLATION_PICKLE,
} from '../../fixtures/data.js'
import {GROUP_LOCAL} from '../../fixtures/mgmt.js'

const ms = (...a: string[]) => ['model-security', ...a]
/** oclif wraps warnings (` ›   ` continuation lines): join them back. */
const unwrap = (text: string) => text.replaceAll(/\s*\n\s*›\s*/g, ' ')
const VERSION2_UUID = '09ca1da2-0839-4a2a-8f60-58cd5c52f3b4'

/** Scan a: ALLOWED, both rules passed, no violations, three files. Scan b: BLOCKED with two new violations. */
const A = {...SCAN_ALLOWED, uuid: SCAN_UUID, model_version_uuid: VERSION_UUID}
const B = {...SCAN_BLOCKED, uuid: SCAN2_UUID, model_version_uuid: VERSION2_UUID, created_at: '2026-03-04T08:00:00.000000Z'}
const EVALS_A = [{...EVAL_FORMAT, result: 'PASSED', violation_count: 0}, EVAL_LOADTIME]
const EVALS_B = [{...EVAL_FORMAT, uuid: 'a0a0a0a0-0000-4000-8000-000000000001', scan_uuid: SCAN2_UUID},
  {...EVAL_LOADTIME, uuid: 'a0a0a0a0-0000-4000-8000-000000000002', scan_uuid: SCAN2_UUID}]
const VIOLATIONS_B = [VIOLATION_PICKLE, {...VIOLATION_ONNX, rule_instance_state: 'ALLOWING'}]
const b = (f: object) => ({...f, uuid: f === FILE_CONFIG ? 'b0b0b0b0-0000-4000-8000-000000000001' : (f as {uuid: string}).uuid.replace(/^./, 'e'), scan_uuid: SCAN2_UUID})

/** Mock everything `diff A B` fetches; b's violations come in two pages. */
function mockPair(opts: {a?: object; b?: object} = {}): void {
  mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, opts.a ?? A)
  mockApi('data', 'GET', `/v1/scans/${SCAN2_UUID}`, 200, opts.b ?? B)
  mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/evaluations`, 200, page('evaluations', EVALS_A))
  mockApi('data', 'GET', `/v1/scans/${SCAN2_UUID}/evaluations`, 200, page('evaluations', EVALS_B))
  mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/rule-violations`, 200, page('violations', []))
  mockApi('data', 'GET', `/v1/scans/${SCAN2_UUID}/rule-violations`, 200, page('violations', [VIOLATIONS_B[0]], 2))
  mockApi('data', 'GET', `/v1/scans/${SCAN2_UUID}/rule-violations`, 200, page('violations', [VIOLATIONS_B[1]], 2))
  mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 200, page('files', [FILE_CONFIG, {...FILE_PICKLE, result: 'SUCCESS'}]))
  mockApi('data', 'GET', `/v1/scans/${SCAN2_UUID}/files`, 200, page('files', [b(FILE_CONFIG), b(FILE_ONNX_DIR), {...b(FILE_PICKLE), blob_id: 'ffff0000ffff'}]))
  mockApi('data', 'GET', `/v1/scans/${SCAN2_UUID}/files`, 200, page('files', [b(FILE_ONNX)]))
}

/** GET /v1/scans answered by model_version_uuid (the two lookups run concurrently). */
function mockLatestScans(byVersion: Record<string, object[]>): void {
  const base = new URL(ENDPOINTS.data)
  nock(base.origin).get(`${base.pathname}/v1/scans`).query(true).times(Object.keys(byVersion).length).reply(function (uri) {
    const url = new URL(uri, base.origin)
    const rec: Recorded = {plane: 'data', method: 'GET', path: '/v1/scans', query: url.searchParams, body: undefined, headers: this.req.headers}
    if (openapiAvailable) {
      try {
        assertRequestConforms('data', 'GET', '/v1/scans', url.searchParams)
      } catch (error) {
        rec.conformance = (error as Error).message
      }
    }
    requests.push(rec)
    const items = byVersion[url.searchParams.get('model_version_uuid') ?? ''] ?? []
    return [200, page('scans', items), {'content-type': 'application/json'}]
  })
}

describe('model-security scans diff', () => {
  beforeEach(() => {
    useCredentials()
    resetRequests()
  })

  it('fetches both scans completely (evaluations, every violation page, the whole file tree) with conforming requests; --json is the diff', async () => {
    mockToken()
    mockPair()
    const r = await run(ms('scans', 'diff', SCAN_UUID, SCAN2_UUID, '--json'))
    expect(r.exit, r.stderr).to.equal(0)
    const d = JSON.parse(r.stdout)
    expect(Object.keys(d)).to.deep.equal(['a', 'b', 'outcome', 'violations', 'rules', 'files', 'summary', 'warnings'])
    expect(d.a).to.include({uuid: SCAN_UUID, eval_outcome: 'ALLOWED', model_version_uuid: VERSION_UUID})
    expect(d.b).to.include({uuid: SCAN2_UUID, eval_outcome: 'BLOCKED', security_group_name: 'Default HUGGING_FACE'})
    expect(d.outcome).to.deep.equal({before: 'ALLOWED', after: 'BLOCKED', changed: true})
    expect(d.violations.new.map((v: {file: string; rule_instance_state: string}) => [v.file, v.rule_instance_state])).to.deep.equal([
      ['onnx/decoder model.onnx', 'ALLOWING'], ['pytorch_model.bin', 'BLOCKING'],
    ])
    expect(d.violations.resolved).to.deep.equal([])
    expect(d.rules.map((x: {rule_name: string; change: string}) => [x.rule_name, x.change])).to.deep.equal([['Stored In Approved File Format', 'result']])
    expect(d.files.added.map((f: {path: string}) => f.path)).to.deep.equal(['onnx/decoder model.onnx'])
    expect(d.files.changed.map((f: {path: string}) => f.path)).to.deep.equal(['pytorch_model.bin'])
    expect(d.files.unchanged).to.equal(1)
    expect(d.summary).to.include({violations_new: 2, violations_new_blocking: 1, identical: false})

    const calls = apiRequests()
    const evals = calls.filter(c => c.path.endsWith('/evaluations'))
    expect(evals).to.have.length(2)
    for (const e of evals) expect(Object.fromEntries(e.query)).to.deep.equal({skip: '0', limit: '100', sort_field: 'created_at', sort_order: 'asc'})
    expect(calls.filter(c => c.path === `/v1/scans/${SCAN2_UUID}/rule-violations`).map(c => c.query.get('skip'))).to.deep.equal(['0', '1'])
    const files = calls.filter(c => c.path === `/v1/scans/${SCAN2_UUID}/files`)
    expect(files.map(c => c.query.get('query_path'))).to.deep.equal([null, '/onnx'])
    expectConforming()
  })

  it('prints readable sections with counts on stdout and the warnings on stderr', async () => {
    mockToken()
    mockPair({b: {...B, security_group_uuid: GROUP_LOCAL.uuid, security_group_name: GROUP_LOCAL.name}})
    const r = await run(ms('scans', 'diff', SCAN_UUID, SCAN2_UUID, '--no-truncate'))
    expect(r.exit, r.stderr).to.equal(0)
    expect(r.stdout.split('\n')[0]).to.equal('Outcome: ALLOWED → BLOCKED')
    expect(r.stdout).to.include('New violations (2, 1 BLOCKING)').and.include('Resolved violations (0)').and.include('Rule evaluations changed (1)')
      .and.include('Files changed (2; 1 unchanged)')
    expect(r.stdout).not.to.include('different security groups')
    expect(unwrap(r.stderr)).to.include('different security groups ("Default HUGGING_FACE" and "Default LOCAL")')
  })

  it('-o markdown is a pull-request comment; -o csv and --filter work on one row per change', async () => {
    mockToken()
    mockPair()
    const md = await run(ms('scans', 'diff', SCAN_UUID, SCAN2_UUID, '-o', 'markdown'))
    expect(md.exit, md.stderr).to.equal(0)
    expect(md.stdout).to.match(/^## Model scan comparison: ✅ ALLOWED → ⛔ BLOCKED\n/).and.include('### 🆕 New violations (2, 1 BLOCKING)')
    resetRequests()
    mockToken()
    mockPair()
    const csv = await run(ms('scans', 'diff', SCAN_UUID, SCAN2_UUID, '-o', 'csv', '--filter', 'change=new', '--columns', 'section,change,rule,file'))
    expect(csv.exit, csv.stderr).to.equal(0)
    expect(csv.stdout.trim().split(/\r?\n/)).to.deep.equal([
      'section,change,rule,file',
      'violation,new,Stored In Approved File Format,onnx/decoder model.onnx',
      'violation,new,Stored In Approved File Format,pytorch_model.bin',
    ])
  })

  it('--fail-on-new exits 8 when b has new violations of BLOCKING rules, printing the diff first', async () => {
    mockToken()
    mockPair()
    const r = await run(ms('scans', 'diff', SCAN_UUID, SCAN2_UUID, '--fail-on-new', '--json'))
    expect(r.exit).to.equal(8)
    expect(JSON.parse(r.stdout).summary.violations_new_blocking).to.equal(1)
  })

  it('--fail-on-new sees every new violation whatever the output filters, and exits 0 the other way round', async () => {
    mockToken()
    mockPair()
    const filtered = await run(ms('scans', 'diff', SCAN_UUID, SCAN2_UUID, '--fail-on-new', '--filter', 'state=ALLOWING', '-o', 'csv'))
    expect(filtered.exit, filtered.stderr).to.equal(8)
    expect(filtered.stdout).not.to.include('pytorch_model.bin')
    expect(filtered.stderr).to.include('--fail-on-new: 1 new violation of BLOCKING rules (exit 8)')
    resetRequests()
    mockToken()
    mockPair()
    // b before a: the second scan has nothing the first did not have
    const back = await run(ms('scans', 'diff', SCAN2_UUID, SCAN_UUID, '--fail-on-new', '--json'))
    expect(back.exit, back.stderr).to.equal(0)
    const d = JSON.parse(back.stdout)
    expect(d.outcome).to.deep.equal({before: 'BLOCKED', after: 'ALLOWED', changed: true})
    expect(d.violations.resolved).to.have.length(2)
    expect(d.files.removed.map((f: {path: string}) => f.path)).to.deep.equal(['onnx/decoder model.onnx'])
  })

  it('--fail-on-new exits 9 when scan b ended in ERROR (new violations cannot be ruled out)', async () => {
    mockToken()
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, A)
    mockApi('data', 'GET', `/v1/scans/${SCAN2_UUID}`, 200, {...SCAN_ERROR, uuid: SCAN2_UUID})
    for (const u of [SCAN_UUID, SCAN2_UUID]) {
      mockApi('data', 'GET', `/v1/scans/${u}/evaluations`, 200, page('evaluations', []))
      mockApi('data', 'GET', `/v1/scans/${u}/rule-violations`, 200, page('violations', []))
      mockApi('data', 'GET', `/v1/scans/${u}/files`, 200, page('files', []))
    }
    const r = await run(ms('scans', 'diff', SCAN_UUID, SCAN2_UUID, '--fail-on-new'))
    expect(r.exit).to.equal(9)
    expect(unwrap(r.stderr)).to.match(/scan b .* ended in ERROR \(ACCESS_DENIED/).and.include('--fail-on-new: scan b ended in ERROR')
  })

  it('refuses a PENDING scan with exit 11 before fetching its results, pointing at scans wait', async () => {
    mockToken()
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, A)
    mockApi('data', 'GET', `/v1/scans/${SCAN2_UUID}`, 200, {...SCAN_PENDING, uuid: SCAN2_UUID})
    const r = await run(ms('scans', 'diff', SCAN_UUID, SCAN2_UUID, '--json'))
    expect(r.exit).to.equal(11)
    expect(r.stdout).to.equal('')
    const err = jsonError(r.stderr)
    expect(err).to.include({code: 'E_SCAN_PENDING', exit: 11})
    expect(err.message).to.include(`scan b (${SCAN2_UUID}) is still PENDING`)
    expect(JSON.stringify(err)).to.include(`daystrom model-security scans wait ${SCAN2_UUID}`)
    expect(apiRequests().map(c => c.path)).to.have.members([`/v1/scans/${SCAN_UUID}`, `/v1/scans/${SCAN2_UUID}`])
  })

  it('--model-version twice compares the latest scan of each version', async () => {
    mockToken()
    mockLatestScans({[VERSION_UUID]: [A], [VERSION2_UUID]: [B]})
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/evaluations`, 200, page('evaluations', EVALS_A))
    mockApi('data', 'GET', `/v1/scans/${SCAN2_UUID}/evaluations`, 200, page('evaluations', EVALS_B))
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/rule-violations`, 200, page('violations', []))
    mockApi('data', 'GET', `/v1/scans/${SCAN2_UUID}/rule-violations`, 200, page('violations', VIOLATIONS_B))
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 200, page('files', []))
    mockApi('data', 'GET', `/v1/scans/${SCAN2_UUID}/files`, 200, page('files', []))
    const r = await run(ms('scans', 'diff', '--model-version', VERSION_UUID, '--model-version', VERSION2_UUID, '--json'))
    expect(r.exit, r.stderr).to.equal(0)
    const d = JSON.parse(r.stdout)
    expect([d.a.uuid, d.b.uuid]).to.deep.equal([SCAN_UUID, SCAN2_UUID])
    const lookups = apiRequests().filter(c => c.path === '/v1/scans')
    expect(lookups.map(c => Object.fromEntries(c.query)).sort((x, y) => x.model_version_uuid.localeCompare(y.model_version_uuid))).to.deep.equal([
      {model_version_uuid: VERSION2_UUID, sort_order: 'desc', limit: '1'},
      {model_version_uuid: VERSION_UUID, sort_order: 'desc', limit: '1'},
    ])
    expect(apiRequests().some(c => c.path === `/v1/scans/${SCAN_UUID}`), 'the listed scan is used as is').to.equal(false)
    expectConforming()
  })

  it('exits 4 when a model version has no scan, and for an unknown scan', async () => {
    mockToken()
    mockLatestScans({[VERSION_UUID]: [A], [VERSION2_UUID]: []})
    const r = await run(ms('scans', 'diff', '--model-version', VERSION_UUID, '--model-version', VERSION2_UUID))
    expect(r.exit).to.equal(4)
    expect(r.error?.message).to.include(`no scan found for model version ${VERSION2_UUID}`)
    resetRequests()
    nock.cleanAll()
    mockToken()
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, A)
    mockApi('data', 'GET', `/v1/scans/${SCAN2_UUID}`, 404, {detail: 'Scan not found'})
    const missing = await run(ms('scans', 'diff', SCAN_UUID, SCAN2_UUID, '--json'))
    expect(missing.exit).to.equal(4)
    expect(jsonError(missing.stderr).code).to.equal('E_NOT_FOUND')
  })

  for (const [args, pattern] of [
    [[], /expected two scan UUIDs \(<scanA> <scanB>\) or two --model-version UUIDs: got 0 scans/],
    [[SCAN_UUID], /got 1 scan$/m],
    [[SCAN_UUID, 'latest'], /scanB: "latest" is not a UUID/],
    [['not-a-uuid', SCAN2_UUID], /scanA: "not-a-uuid" is not a UUID/],
    [[SCAN_UUID, '--model-version', VERSION_UUID], /not a mix: got 1 scan and 1 model version/],
    [[SCAN_UUID, SCAN2_UUID, '--model-version', VERSION_UUID, '--model-version', VERSION2_UUID], /not a mix: got 2 scans and 2 model versions/],
    [['--model-version', VERSION_UUID], /got 1 model version$/m],
    [['--model-version', VERSION_UUID, '--model-version', VERSION2_UUID, '--model-version', VERSION_UUID], /got 3 model versions/],
    [['--model-version', VERSION_UUID, '--model-version', 'v2'], /--model-version \(second\): "v2" is not a UUID/],
    [[SCAN_UUID, SCAN2_UUID, '--columns', 'nope'], /unknown column "nope"/],
  ] as Array<[string[], RegExp]>) {
    it(`rejects ${args.join(' ') || 'no arguments'} before any request (exit 2)`, async () => {
      const r = await run(ms('scans', 'diff', ...args))
      expect(r.exit).to.equal(2)
      expect(r.stderr + (r.error?.message ?? '')).to.match(pattern)
      expect(requests, 'no request, not even for a token').to.have.length(0)
    })
  }
})
