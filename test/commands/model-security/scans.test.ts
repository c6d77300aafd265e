import {expect} from 'chai'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {apiRequests, expectConforming, jsonError, mockApi, mockToken, requests, resetRequests, run, useCredentials} from '../../helpers/api.js'
import {assertResponseConforms, openapiAvailable} from '../../helpers/openapi.js'
import {
  EVAL_FORMAT, EVALUATIONS, FILE_CONFIG, FILE_ONNX, FILE_ONNX_DIR, FILE_ONNX_Q, FILE_ONNX_SUBDIR, FILE_PICKLE, page,
  SCAN_ALLOWED, SCAN_BLOCKED, SCAN_ERROR, SCAN_PENDING, SCAN_UUID, VERSION_UUID, VIOLATION_PICKLE, VIOLATIONS,
} from '../../fixtures/data.js'
import {GROUP_HF, GROUP_LOCAL, GROUP_S3} from '../../fixtures/mgmt.js'

/** Arguments are re-split on spaces by @oclif/test: quote values that contain spaces. */
const ms = (...a: string[]) => ['model-security', ...a]

describe('model-security scans (data plane)', () => {
  beforeEach(() => {
    useCredentials()
    mockToken()
    resetRequests()
  })

  describe('fixtures', () => {
    it('conform to the OpenAPI response schemas', function () {
      if (!openapiAvailable) this.skip()
      assertResponseConforms('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, SCAN_BLOCKED)
      assertResponseConforms('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, SCAN_PENDING)
      assertResponseConforms('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, SCAN_ERROR)
      assertResponseConforms('data', 'GET', '/v1/scans', 200, {...page('scans', [SCAN_BLOCKED]), count_capped: false})
      assertResponseConforms('data', 'GET', `/v1/scans/${SCAN_UUID}/evaluations`, 200, page('evaluations', EVALUATIONS))
      assertResponseConforms('data', 'GET', `/v1/scans/${SCAN_UUID}/rule-violations`, 200, page('violations', VIOLATIONS))
      assertResponseConforms('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 200, page('files', [FILE_CONFIG, FILE_ONNX_DIR, FILE_PICKLE, FILE_ONNX]))
    })
  })

  describe('scans list', () => {
    it('sends every filter with repeated array keys and prints raw items with --json', async () => {
      mockApi('data', 'GET', '/v1/scans', 200, {...page('scans', [SCAN_BLOCKED, SCAN_ALLOWED], 2), count_capped: false})
      const r = await run(ms('scans', 'list', '--group', GROUP_HF.uuid, '--source-type', 'S3', '--source-type', 'HUGGING_FACE',
        '--eval-outcome', 'BLOCKED', '--eval-outcome', 'ERROR', '--search', 'DialoGPT', '--since', '2026-03-01T00:00:00Z', '--until', '2026-03-04T00:00:00Z',
        '--labels-query', 'env=ci', '--model-version', VERSION_UUID, '--sort-order', 'asc', '--limit', '25', '--skip', '5', '--json'))
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal([SCAN_BLOCKED, SCAN_ALLOWED])
      const req = apiRequests().find(x => x.path === '/v1/scans')!
      expect(req.query.getAll('source_types')).to.deep.equal(['S3', 'HUGGING_FACE'])
      expect(req.query.getAll('eval_outcomes')).to.deep.equal(['BLOCKED', 'ERROR'])
      expect(Object.fromEntries([...req.query].filter(([k]) => !['source_types', 'eval_outcomes'].includes(k)))).to.deep.equal({
        security_group_uuid: GROUP_HF.uuid, search_query: 'DialoGPT', start_time: '2026-03-01T00:00:00.000Z', end_time: '2026-03-04T00:00:00.000Z',
        labels_query: 'env=ci', model_version_uuid: VERSION_UUID, sort_order: 'asc', limit: '25', skip: '5',
      })
      expectConforming()
    })

    it('resolves a group name and turns a duration into a start time', async () => {
      mockApi('mgmt', 'GET', '/v1/security-groups', 200, page('security_groups', [GROUP_HF, GROUP_S3]))
      mockApi('data', 'GET', '/v1/scans', 200, page('scans', [SCAN_BLOCKED]))
      const r = await run(ms('scans', 'list', '--group', '"Default HUGGING_FACE"', '--since', '24h', '--json'))
      expect(r.exit, r.stderr).to.equal(0)
      const req = apiRequests().find(x => x.path === '/v1/scans')!
      expect(req.query.get('security_group_uuid')).to.equal(GROUP_HF.uuid)
      const since = Date.parse(req.query.get('start_time')!)
      expect(Math.abs(Date.now() - 24 * 3_600_000 - since)).to.be.lessThan(60_000)
      expectConforming()
    })

    it('shows outcome, URI, group, source, rules, labels and creation in the table', async () => {
      mockApi('data', 'GET', '/v1/scans', 200, page('scans', [SCAN_BLOCKED], 42))
      const r = await run(ms('scans', 'list', '--no-truncate'))
      expect(r.exit, r.stderr).to.equal(0)
      const [header, row] = r.stdout.trim().split('\n')
      for (const h of ['OUTCOME', 'MODEL URI', 'GROUP', 'SOURCE', 'RULES P/F/T', 'LABELS', 'CREATED', 'UUID']) expect(header).to.contain(h)
      for (const v of ['BLOCKED', SCAN_BLOCKED.model_uri, 'Default HUGGING_FACE', 'HUGGING_FACE', '10/1/11', 'env=ci, repo=model-gate', '2026-03-03 22:32:12Z', SCAN_UUID]) expect(row).to.contain(v)
      expect(r.stderr).to.match(/Showing 1 of 42/)
    })

    it('walks every page with --all and renders csv, yaml, ndjson and markdown', async () => {
      mockApi('data', 'GET', '/v1/scans', 200, page('scans', [SCAN_BLOCKED], 2))
      mockApi('data', 'GET', '/v1/scans', 200, page('scans', [SCAN_ALLOWED], 2))
      const r = await run(ms('scans', 'list', '--all', '--limit', '1', '-o', 'ndjson'))
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout.trim().split('\n').map(l => JSON.parse(l))).to.deep.equal([SCAN_BLOCKED, SCAN_ALLOWED])
      expect(apiRequests().map(x => x.query.get('skip'))).to.deep.equal(['0', '1'])
      for (const [fmt, probe] of [['csv', 'eval_outcome,model_uri'], ['yaml', 'future_field:'], ['markdown', '| OUTCOME |']] as const) {
        mockApi('data', 'GET', '/v1/scans', 200, page('scans', [SCAN_BLOCKED]))
        const o = await run(ms('scans', 'list', '-o', fmt))
        expect(o.exit, o.stderr).to.equal(0)
        expect(o.stdout).to.contain(probe)
      }
      expectConforming()
    })

    for (const [args, pattern] of [
      [['--model-version', 'not-a-uuid'], /--model-version.*not a UUID/],
      [['--search', 'x'.repeat(257)], /--search: at most 256/],
      [['--labels-query', 'x'.repeat(4097)], /--labels-query: at most 4096/],
      [['--since', 'yesterday'], /invalid time/],
      [['--eval-outcome', 'FAILED'], /Expected --eval-outcome=FAILED to be one of: PENDING, ALLOWED, BLOCKED, ERROR/],
      [['--source-type', 's3'], /to be one of/],
      [['--limit', '500'], /less than or equal to 100|100/],
      [['--since', '2026-03-04T00:00:00Z', '--until', '2026-03-01T00:00:00Z'], /after --until/],
      [['--columns', 'nope'], /unknown column "nope"/],
    ] as Array<[string[], RegExp]>) {
      it(`rejects ${args.join(' ')} before the network (exit 2)`, async () => {
        const r = await run(ms('scans', 'list', ...args))
        expect(r.exit).to.equal(2)
        expect(r.stderr + (r.error?.message ?? '')).to.match(pattern)
        expect(requests).to.have.length(0)
      })
    }

    it('maps a 422 to exit 5 with the JSON error on stderr', async () => {
      mockApi('data', 'GET', '/v1/scans', 422, {detail: [{loc: ['query', 'labels_query'], msg: 'Invalid labels query', type: 'value_error', input: 'env=='}]})
      const r = await run(ms('scans', 'list', '--labels-query', 'env==', '--json'))
      expect(r.exit).to.equal(5)
      expect(r.stdout).to.equal('')
      expect(jsonError(r.stderr)).to.include({code: 'E_VALIDATION', exit: 5})
    })
  })

  describe('scans get', () => {
    it('leads with the outcome and the failed BLOCKING rules', async () => {
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, SCAN_BLOCKED)
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/evaluations`, 200, page('evaluations', [EVAL_FORMAT]))
      const r = await run(ms('scans', 'get', SCAN_UUID))
      expect(r.exit, r.stderr).to.equal(0)
      const lines = r.stdout.split('\n')
      expect(lines[0]).to.match(/^Outcome:\s+BLOCKED/)
      expect(r.stdout).to.match(/Why:\s+1 of 11 rules failed/)
      expect(r.stdout).to.contain('Stored In Approved File Format (BLOCKING, 2 violations)')
      expect(apiRequests()[1].query.get('result')).to.equal('FAILED')
      expectConforming()
    })

    it('shows error_code and error_message for ERROR', async () => {
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, SCAN_ERROR)
      const r = await run(ms('scans', 'get', SCAN_UUID))
      expect(r.stdout.split('\n')[0]).to.match(/^Outcome:\s+ERROR/)
      expect(r.stdout).to.match(/Error code:\s+ACCESS_DENIED/)
      expect(r.stdout).to.match(/Error message:\s+The model repository is gated/)
    })

    it('returns the record unchanged with --json, unknown fields included, and yaml', async () => {
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, SCAN_BLOCKED)
      const r = await run(ms('scans', 'get', SCAN_UUID, '--json'))
      expect(JSON.parse(r.stdout)).to.deep.equal(SCAN_BLOCKED)
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, SCAN_BLOCKED)
      const y = await run(ms('scans', 'get', SCAN_UUID, '-o', 'yaml'))
      expect(y.stdout).to.contain('sdk_version: 1.2.0')
      expectConforming()
    })

    it('gates with --fail-on (exit 8 with the record in --json)', async () => {
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, SCAN_BLOCKED)
      const r = await run(ms('scans', 'get', SCAN_UUID, '--fail-on', 'blocked', '--json'))
      expect(r.exit).to.equal(8)
      expect(JSON.parse(r.stdout)).to.deep.equal(SCAN_BLOCKED)
    })

    it('rejects a bad UUID (exit 2, nothing sent) and maps 404 to exit 4', async () => {
      const r = await run(ms('scans', 'get', 'abc'))
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.match(/scan: "abc" is not a UUID/)
      expect(requests).to.have.length(0)
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}`, 404, {detail: 'Scan not found'})
      const n = await run(ms('scans', 'get', SCAN_UUID, '--json'))
      expect(n.exit).to.equal(4)
      expect(jsonError(n.stderr).code).to.equal('E_NOT_FOUND')
    })
  })

  describe('scans create', () => {
    it('sends the body from flags after checking the group source type', async () => {
      mockApi('mgmt', 'GET', '/v1/security-groups', 200, page('security_groups', [GROUP_HF, GROUP_S3]))
      mockApi('data', 'POST', '/v1/scans', 201, SCAN_PENDING)
      const r = await run(ms('scans', 'create', '--model-uri', 'https://huggingface.co/microsoft/DialoGPT-medium', '--group', '"Default HUGGING_FACE"',
        '--model-name', 'DialoGPT-medium', '--model-author', 'microsoft', '--model-version', 'main', '--allow-pattern', '*.bin', '--allow-pattern', '*.json',
        '--ignore-pattern', 'docs/*', '-l', 'env=ci', '-l', 'repo=model-gate', '--json'))
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal(SCAN_PENDING)
      const post = apiRequests().find(x => x.method === 'POST')!
      expect(post.body).to.deep.equal({
        model_uri: 'https://huggingface.co/microsoft/DialoGPT-medium', security_group_uuid: GROUP_HF.uuid, scan_origin: 'MODEL_SECURITY_SDK',
        model_name: 'DialoGPT-medium', model_author: 'microsoft', model_version: 'main', allow_patterns: ['*.bin', '*.json'],
        ignore_patterns: ['docs/*'], labels: [{key: 'env', value: 'ci'}, {key: 'repo', value: 'model-gate'}],
      })
      expectConforming()
    })

    it('refuses a group whose source type does not match the URI (exit 2, no POST)', async () => {
      mockApi('mgmt', 'GET', `/v1/security-groups/${GROUP_S3.uuid}`, 200, GROUP_S3)
      const r = await run(ms('scans', 'create', '--model-uri', 'https://huggingface.co/org/model', '--group', GROUP_S3.uuid))
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.match(/is a S3 group, but the model URI https:\/\/huggingface.co\/org\/model is a HUGGING_FACE model/)
      expect(apiRequests().filter(x => x.method === 'POST')).to.have.length(0)
    })

    for (const [uri, type] of [['s3://bucket/models/bert', 'S3'], ['gs://bucket/bert', 'GCS'], ['https://acct.blob.core.windows.net/c/bert', 'AZURE'],
      ['https://acme.jfrog.io/artifactory/ml/bert', 'ARTIFACTORY'], ['https://gitlab.example.com/group/proj/-/ml/models/7', 'GITLAB'], ['/srv/models/bert', 'LOCAL']]) {
      it(`infers ${type} from ${uri}`, async () => {
        mockApi('mgmt', 'GET', `/v1/security-groups/${GROUP_HF.uuid}`, 200, GROUP_HF)
        const r = await run(ms('scans', 'create', '--model-uri', uri, '--group', GROUP_HF.uuid, '--json'))
        expect(r.exit).to.equal(2)
        expect(jsonError(r.stderr)).to.include({code: 'E_SOURCE_TYPE_MISMATCH'})
        expect(jsonError(r.stderr).message).to.contain(`is a ${type} model`)
      })
    }

    it('--dry-run prints the request without sending it', async () => {
      const r = await run(ms('scans', 'create', '--model-uri', 's3://models/bert', '--group', GROUP_S3.uuid, '--scan-origin', 'MODEL_SECURITY_API', '--dry-run', '--json'))
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal({model_uri: 's3://models/bert', security_group_uuid: GROUP_S3.uuid, scan_origin: 'MODEL_SECURITY_API'})
      expect(requests).to.have.length(0)
    })

    it('reads and validates --config (exit 7 with the JSON pointer)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'scan-cfg-'))
      const bad = join(dir, 'bad.yaml')
      writeFileSync(bad, `model_uri: s3://b/m\nsecurity_group_uuid: ${GROUP_S3.uuid}\nsource_type: S3\nlabels:\n  - key: env\n    value: prod\n`)
      const r = await run(ms('scans', 'create', '--config', bad))
      expect(r.exit).to.equal(7)
      expect(r.error?.message).to.match(/source_type|additional/)
      expect(requests).to.have.length(0)
      const good = join(dir, 'good.json')
      writeFileSync(good, JSON.stringify({model_uri: 's3://b/m', security_group_uuid: GROUP_S3.uuid, scan_origin: 'MODEL_SECURITY_SDK', labels: [{key: 'env', value: 'prod'}]}))
      mockApi('mgmt', 'GET', `/v1/security-groups/${GROUP_S3.uuid}`, 200, GROUP_S3)
      mockApi('data', 'POST', '/v1/scans', 201, {...SCAN_PENDING, model_uri: 's3://b/m'})
      const ok = await run(ms('scans', 'create', '--config', good, '--json'))
      expect(ok.exit, ok.stderr).to.equal(0)
      expect(apiRequests().find(x => x.method === 'POST')!.body).to.deep.equal(JSON.parse(JSON.stringify({model_uri: 's3://b/m', security_group_uuid: GROUP_S3.uuid, scan_origin: 'MODEL_SECURITY_SDK', labels: [{key: 'env', value: 'prod'}]})))
      expectConforming()
    })

    for (const [args, pattern] of [
      [[], /nothing to scan/],
      [['--model-uri', 's3://b/m'], /--group is required/],
      [['--model-uri', 's3://b/m', '--group', GROUP_S3.uuid, '-l', 'env=pr/od'], /invalid value "pr\/od" of label "env"/],
      [['--model-uri', 's3://b/m', '--group', GROUP_S3.uuid, '-l', 'bad.key=v'], /invalid label key "bad.key"/],
      [['--model-uri', 's3://b/m', '--group', GROUP_S3.uuid, '-l', 'novalue'], /expected key=value/],
      [['--model-uri', 's3://b/m', '--group', GROUP_S3.uuid, '-l', `${'k'.repeat(129)}=v`], /at most 128/],
      [['--model-uri', 's3://b/m', '--group', GROUP_S3.uuid, '-l', `k=${'v'.repeat(257)}`], /at most 256/],
      [['--model-uri', 's3://b/m', '--group', GROUP_S3.uuid, ...Array.from({length: 51}, (_, i) => ['-l', `k${i}=v`]).flat()], /51 labels given; at most 50/],
      [['--model-uri', 's3://b/m', '--group', GROUP_S3.uuid, '--allow-pattern', 'x'.repeat(257)], /--allow-pattern: patterns must be 1-256/],
      [['--model-uri', 's3://b/m', '--group', GROUP_S3.uuid, '--scan-origin', 'CLI'], /to be one of/],
      [['--model-uri', 's3://b/m', '--group', GROUP_S3.uuid, '--wait', '--timeout', 'soon'], /--timeout: invalid duration/],
      [['--model-uri', 's3://b/m', '--group', GROUP_S3.uuid, '--wait', '--fail-on', 'blocked,warn'], /--fail-on: unknown value "warn"; allowed: blocked, error, never/],
      [['--model-uri', 's3://b/m', '--model-path', '.'], /cannot also be provided|exclusive/],
      [['--model-path', '/definitely/not/here', '--group', GROUP_LOCAL.uuid], /does not exist/],
    ] as Array<[string[], RegExp]>) {
      it(`rejects ${args.slice(0, 6).join(' ')} before the network (exit 2)`, async () => {
        const r = await run(ms('scans', 'create', ...args))
        expect(r.exit, r.stderr).to.equal(2)
        expect(r.stderr + (r.error?.message ?? '')).to.match(pattern)
        expect(requests).to.have.length(0)
      })
    }
  })

  describe('scans create --model-path (local scan)', () => {
    /** A tiny model directory: a config and a pickle that calls os.system on load. */
    function modelDir(): string {
      const dir = mkdtempSync(join(tmpdir(), 'model-'))
      writeFileSync(join(dir, 'config.json'), '{"architectures":["BertModel"]}')
      mkdirSync(join(dir, 'weights'))
      writeFileSync(join(dir, 'weights', 'model.pkl'), Buffer.from('800263706f7369780a73797374656d0a710058070000006563686f20686971018571025271032e', 'hex'))
      return dir
    }

    it('--dry-run --json prints exactly the body, with scan_details, without credentials or requests', async () => {
      for (const k of Object.keys(process.env)) if (k.startsWith('PANW_')) delete process.env[k]
      const dir = modelDir()
      const r = await run(ms('scans', 'create', '--model-path', dir, '--dry-run', '--json', '-l', 'env=ci'))
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stderr).to.equal('')
      const body = JSON.parse(r.stdout)
      expect(Object.keys(body)).to.deep.equal(['model_uri', 'scan_origin', 'labels', 'scan_details'])
      expect(body.model_uri).to.equal(dir)
      expect(body.scan_details.files.map((f: {file_path: string}) => f.file_path)).to.deep.equal(['config.json', 'weights/model.pkl'])
      const evil = body.scan_details.files[1]
      expect(evil.issues_detected[0]).to.include({threat: 'PAIT-PKL-100', module: 'posix', operator: 'system'})
      expect(requests).to.have.length(0)
    })

    it('--dry-run shows a findings table and progress lines on stderr', async () => {
      const dir = modelDir()
      const r = await run(ms('scans', 'create', '--model-path', dir, '--dry-run'))
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout).to.match(/FILE\s+STATUS\s+FORMATS\s+SIZE\s+ISSUES\s+THREATS/)
      expect(r.stdout).to.match(/weights\/model.pkl\s+SCANNED\s+pickle\s+39\s+1\s+PAIT-PKL-100/)
      expect(r.stderr).to.match(/Scanning .*2\/2 files/)
      expect(r.stderr).to.match(/Dry run: would POST \/v1\/scans .* 1 issue/)
      expect(requests).to.have.length(0)
    })

    it('sends scan_details to a LOCAL group and gates with --wait (the body conforms to the document)', async () => {
      const dir = modelDir()
      mockApi('mgmt', 'GET', '/v1/security-groups', 200, page('security_groups', [GROUP_HF, GROUP_LOCAL]))
      mockApi('data', 'POST', '/v1/scans', 201, {...SCAN_PENDING, model_uri: dir, source_type: 'LOCAL'})
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, {...SCAN_BLOCKED, model_uri: dir, source_type: 'LOCAL'})
      const r = await run(ms('scans', 'create', '--model-path', dir, '--group', '"Default LOCAL"', '--wait', '--interval', '10ms', '--json'))
      expect(r.exit, r.stderr).to.equal(8)
      expect(JSON.parse(r.stdout).eval_outcome).to.equal('BLOCKED')
      const post = apiRequests().find(x => x.method === 'POST')!
      const body = post.body as {model_uri: string; security_group_uuid: string; scan_details: {files: unknown[]; scanner_version: string}}
      expect(body.model_uri).to.equal(dir)
      expect(body.security_group_uuid).to.equal(GROUP_LOCAL.uuid)
      expect(body.scan_details.files).to.have.length(2)
      expectConforming()
    })

    it('against the sandbox: a pickle that runs os.system is BLOCKED (exit 8)', async function () {
      this.timeout(60_000)
      const dir = modelDir()
      const r = await run(ms('scans', 'create', '--model-path', dir, '--group', '"Default LOCAL"', '--wait', '--interval', '50ms', '--timeout', '30s', '--sandbox', '--json'))
      expect(r.exit, r.stderr).to.equal(8)
      const scan = JSON.parse(r.stdout)
      expect(scan).to.include({eval_outcome: 'BLOCKED', source_type: 'LOCAL', model_uri: dir})
    })

    it('refuses a non-LOCAL group for a local path (exit 2, before scanning or sending)', async () => {
      const dir = modelDir()
      mockApi('mgmt', 'GET', `/v1/security-groups/${GROUP_HF.uuid}`, 200, GROUP_HF)
      const r = await run(ms('scans', 'create', '--model-path', dir, '--group', GROUP_HF.uuid))
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.match(/is a HUGGING_FACE group, but --model-path .* is a LOCAL model/)
      expect(apiRequests().filter(x => x.method === 'POST')).to.have.length(0)
    })
  })

  describe('evaluations, violations, files', () => {
    it('scans evaluations sends result, rule instance, sort and paging', async () => {
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/evaluations`, 200, page('evaluations', EVALUATIONS))
      const r = await run(ms('scans', 'evaluations', SCAN_UUID, '--result', 'FAILED', '--rule-instance', EVAL_FORMAT.rule_instance_uuid,
        '--sort-field', 'updated_at', '--sort-order', 'asc', '--limit', '50', '--skip', '0', '--json'))
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal(EVALUATIONS)
      expect(Object.fromEntries(apiRequests()[0].query)).to.deep.equal({result: 'FAILED', rule_instance_uuid: EVAL_FORMAT.rule_instance_uuid,
        sort_field: 'updated_at', sort_order: 'asc', limit: '50', skip: '0'})
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/evaluations`, 200, page('evaluations', EVALUATIONS))
      const t = await run(ms('scans', 'evaluations', SCAN_UUID))
      expect(t.stdout).to.match(/RESULT\s+RULE\s+STATE\s+VIOLATIONS\s+UUID/)
      expect(t.stdout).to.match(/FAILED\s+Stored In Approved File Format\s+BLOCKING\s+2/)
      expectConforming()
    })

    it('scans evaluations rejects a bad --rule-instance and --result', async () => {
      expect((await run(ms('scans', 'evaluations', SCAN_UUID, '--rule-instance', 'x'))).exit).to.equal(2)
      expect((await run(ms('scans', 'evaluations', SCAN_UUID, '--result', 'BLOCKED'))).exit).to.equal(2)
      expect((await run(ms('scans', 'evaluations', 'nope'))).exit).to.equal(2)
      expect(requests).to.have.length(0)
    })

    it('scans evaluation shows one evaluation', async () => {
      mockApi('data', 'GET', `/v1/evaluations/${EVAL_FORMAT.uuid}`, 200, EVAL_FORMAT)
      const r = await run(ms('scans', 'evaluation', EVAL_FORMAT.uuid))
      expect(r.stdout).to.match(/Result:\s+FAILED/)
      mockApi('data', 'GET', `/v1/evaluations/${EVAL_FORMAT.uuid}`, 200, EVAL_FORMAT)
      expect(JSON.parse((await run(ms('scans', 'evaluation', EVAL_FORMAT.uuid, '--json'))).stdout)).to.deep.equal(EVAL_FORMAT)
      expect((await run(ms('scans', 'evaluation', 'zzz'))).exit).to.equal(2)
      expectConforming()
    })

    it('scans violations pages and keeps unknown fields', async () => {
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/rule-violations`, 200, page('violations', VIOLATIONS, 3))
      const r = await run(ms('scans', 'violations', SCAN_UUID, '--limit', '3', '--skip', '0', '--json'))
      expect(JSON.parse(r.stdout)).to.deep.equal(VIOLATIONS)
      expect(Object.fromEntries(apiRequests()[0].query)).to.deep.equal({limit: '3', skip: '0'})
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/rule-violations`, 200, page('violations', VIOLATIONS, 3))
      const csv = await run(ms('scans', 'violations', SCAN_UUID, '-o', 'csv'))
      expect(csv.stdout.split('\r\n')[0]).to.equal('rule_name,rule_instance_state,file,threat,description,uuid')
      expectConforming()
    })

    it('scans violation shows description, file, module, operator, threat and remediation', async () => {
      const v = {...VIOLATION_PICKLE, module: 'posix', operator: 'system'}
      mockApi('data', 'GET', `/v1/violations/${v.uuid}`, 200, v)
      const r = await run(ms('scans', 'violation', v.uuid))
      expect(r.exit, r.stderr).to.equal(0)
      for (const re of [/Description:\s+Model file/, /File:\s+pytorch_model.bin/, /Module:\s+posix/, /Operator:\s+system/, /Code:\s+UNAPPROVED_FORMATS/,
        /Description:\s+File format is not on the approved list/, /Knowledge base:\s+https:\/\//, /Remediation/, /1\. Re-export the weights as safetensors/, /URL:\s+https:\/\/docs/]) {
        expect(r.stdout).to.match(re)
      }
      expectConforming()
    })

    it('scans violation(s) reject bad UUIDs and paging values before the network', async () => {
      for (const args of [['violation', 'zzz'], ['violations', 'zzz'], ['violations', SCAN_UUID, '--limit', '0'], ['violations', SCAN_UUID, '--skip', '-1']]) {
        const r = await run(ms('scans', ...args, '--json'))
        expect(r.exit, args.join(' ')).to.equal(2)
        expect(r.stdout).to.equal('')
      }
      expect(requests).to.have.length(0)
    })

    it('scans files sends path, sort and paging', async () => {
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 200, page('files', [FILE_ONNX, FILE_ONNX_SUBDIR]))
      const r = await run(ms('scans', 'files', SCAN_UUID, '--path', '/onnx', '--sort-field', 'type', '--sort-dir', 'desc', '--limit', '20', '--json'))
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal([FILE_ONNX, FILE_ONNX_SUBDIR])
      expect(Object.fromEntries(apiRequests()[0].query)).to.deep.equal({query_path: '/onnx', sort_field: 'type', sort_dir: 'desc', limit: '20'})
      expectConforming()
    })

    it('scans files --tree walks directories recursively and prints a tree', async () => {
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 200, page('files', [FILE_CONFIG, FILE_ONNX_DIR, FILE_PICKLE]))
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 200, page('files', [FILE_ONNX, FILE_ONNX_SUBDIR]))
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 200, page('files', [FILE_ONNX_Q]))
      const r = await run(ms('scans', 'files', SCAN_UUID, '--tree'))
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout.trim()).to.equal([
        '/',
        '├── config.json  [SUCCESS]  json',
        '├── onnx/  [FAILED]',
        '│   ├── decoder model.onnx  [FAILED]  onnx',
        '│   └── quantized/  [SUCCESS]',
        '│       └── model_q4.onnx  [SUCCESS]  onnx',
        '└── pytorch_model.bin  [FAILED]  pickle, pytorch_v0_1_10',
      ].join('\n'))
      expect(apiRequests().map(x => x.query.get('query_path'))).to.deep.equal([null, '/onnx', '/onnx/quantized'])
      expectConforming()
    })

    it('scans files --tree --json returns every entry flat', async () => {
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 200, page('files', [FILE_ONNX_DIR, FILE_PICKLE]))
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 200, page('files', [FILE_ONNX]))
      const r = await run(ms('scans', 'files', SCAN_UUID, '--tree', '--json'))
      expect(JSON.parse(r.stdout)).to.deep.equal([FILE_ONNX_DIR, FILE_ONNX, FILE_PICKLE])
    })

    it('scans files rejects a bad scan UUID and --tree with paging flags', async () => {
      expect((await run(ms('scans', 'files', 'bad'))).exit).to.equal(2)
      expect((await run(ms('scans', 'files', SCAN_UUID, '--tree', '--all'))).exit).to.equal(2)
      expect((await run(ms('scans', 'files', SCAN_UUID, '--sort-field', 'size'))).exit).to.equal(2)
      expect(requests).to.have.length(0)
    })
  })
})
