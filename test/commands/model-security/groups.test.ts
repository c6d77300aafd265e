/**
 * model-security groups list|get|create|update|delete against a nock-mocked service: the exact requests
 * (method, path, query keys, body) checked against the OpenAPI document, and the rendered output.
 */
import {expect} from 'chai'

import {GROUP_HF, GROUP_LOCAL, GROUP_S3, groupN, INSTANCE_FORMAT, INSTANCE_LOADTIME, RULE_FORMAT, RULE_LOADTIME} from '../../fixtures/mgmt.js'
import {apiRequests, expectConforming, jsonError, mockApi, mockToken, requests, resetRequests, run, useCredentials} from '../../helpers/api.js'
import {lines, quoteArgs, tempFile, withoutTty, withStdin, withTty} from '../../lib/support.js'

const LIST = '/v1/security-groups'
const cli = (args: string[]) => run(quoteArgs(args))
const page = (items: unknown[], total = items.length) => ({pagination: {total_items: total}, security_groups: items})
const queryOf = (i = 0) => Object.fromEntries([...new Set(apiRequests()[i].query.keys())].map(k => [k, apiRequests()[i].query.getAll(k)]))

describe('model-security groups', () => {
  beforeEach(() => {
    resetRequests()
  })

  describe('model-security groups list', () => {
    beforeEach(() => useCredentials())

    it('prints a table of names, source types, states and timestamps and sends no query by default', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 200, page([GROUP_HF, GROUP_S3, GROUP_LOCAL]))
      const r = await cli(['model-security', 'groups', 'list', '--no-truncate'])
      expect(r.exit, r.stderr).to.equal(0)
      const out = lines(r.stdout)
      expect(out[0].split(/\s{2,}/)).to.deep.equal(['NAME', 'SOURCE', 'STATE', 'DESCRIPTION', 'CREATED', 'UUID'])
      expect(out).to.have.length(4)
      expect(out[1]).to.match(/^Default HUGGING_FACE\s+HUGGING_FACE\s+ACTIVE\s+Auto-created default security group for HUGGING_FACE models\s+2025-10-30 14:14:17Z\s+5453a4ba-9f15-416f-b9b4-68b8af586622$/)
      expect(out[2]).to.match(/^prod-s3-strict\s+S3\s+ACTIVE\s+2026-04-02 09:12:44Z\s+c957bcfd-afaa-4a2d-b7b8-1c8827070ecf$/)
      expect(r.stdout).not.to.include('ENABLED RULES')
      expect(r.stderr).to.equal('')
      expect(apiRequests()).to.have.length(1)
      const [req] = apiRequests()
      expect(req.method).to.equal('GET')
      expect(req.path).to.equal(LIST)
      expect([...req.query.keys()]).to.deep.equal([])
      expect(req.headers.authorization).to.match(/^Bearer /)
      expectConforming()
    })

    it('--json prints the raw items, unknown fields included', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 200, page([GROUP_HF, GROUP_S3]))
      const r = await cli(['model-security', 'groups', 'list', '--json'])
      expect(r.exit).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal([GROUP_HF, GROUP_S3])
      expect(JSON.parse(r.stdout)[1].future_field).to.deep.equal({nested: true})
      expect(r.stderr).to.equal('')
    })

    it('sends every filter: repeated source_types and enabled_rules keys, search, sort, limit, skip (rule names resolved)', async () => {
      mockToken()
      mockApi('mgmt', 'GET', '/v1/security-rules', 200, {pagination: {total_items: 1}, rules: [RULE_LOADTIME]})
      mockApi('mgmt', 'GET', LIST, 200, page([GROUP_S3], 1))
      const r = await cli(['model-security', 'groups', 'list', '--source-type', 'S3', '--source-type', 'GCS', '--search', 'prod',
        '--enabled-rule', RULE_FORMAT.uuid, '--enabled-rule', 'Load Time Code Execution Check',
        '--sort-field', 'updated_at', '--sort-dir', 'asc', '--limit', '5', '--skip', '10', '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal([GROUP_S3])
      const reqs = apiRequests()
      expect(reqs.map(q => q.path)).to.deep.equal(['/v1/security-rules', LIST])
      expect(reqs[0].query.get('search_query')).to.equal('Load Time Code Execution Check')
      expect(queryOf(1)).to.deep.equal({
        skip: ['10'], limit: ['5'], source_types: ['S3', 'GCS'], search_query: ['prod'],
        enabled_rules: [RULE_FORMAT.uuid, RULE_LOADTIME.uuid], sort_field: ['updated_at'], sort_dir: ['asc'],
      })
      expectConforming()
    })

    it('--all walks 57 groups at limit 20 in three requests (skip 0/20/40) and returns them all in order', async () => {
      const all = Array.from({length: 57}, (_, i) => groupN(i + 1))
      mockToken()
      mockApi('mgmt', 'GET', LIST, 200, page(all.slice(0, 20), 57))
      mockApi('mgmt', 'GET', LIST, 200, page(all.slice(20, 40), 57))
      mockApi('mgmt', 'GET', LIST, 200, page(all.slice(40), 57))
      const r = await cli(['model-security', 'groups', 'list', '--all', '--limit', '20', '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      const out = JSON.parse(r.stdout) as Array<{name: string}>
      expect(out).to.have.length(57)
      expect(out.map(g => g.name)).to.deep.equal(all.map(g => g.name))
      expect(apiRequests().map(q => [q.query.get('skip'), q.query.get('limit')])).to.deep.equal([['0', '20'], ['20', '20'], ['40', '20']])
      expect(requests.filter(q => q.plane === 'token')).to.have.length(1)
      expectConforming()
    })

    it('--all stops on a short page when the service gives no total', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 200, {pagination: {total_items: null}, security_groups: [groupN(1), groupN(2)]})
      mockApi('mgmt', 'GET', LIST, 200, {pagination: {}, security_groups: [groupN(3)]})
      const r = await cli(['model-security', 'groups', 'list', '--all', '--limit', '2', '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout).map((g: {name: string}) => g.name)).to.deep.equal(['group-001', 'group-002', 'group-003'])
      expect(apiRequests().map(q => q.query.get('skip'))).to.deep.equal(['0', '2'])
    })

    it('says on stderr when more items exist than were shown', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 200, page(Array.from({length: 20}, (_, i) => groupN(i + 1)), 57))
      const r = await cli(['model-security', 'groups', 'list', '--limit', '20'])
      expect(r.exit).to.equal(0)
      expect(r.stderr).to.include('Showing 20 of 57').and.to.include('--all').and.to.include('--skip 20')
      expect(lines(r.stdout)).to.have.length(21)
    })

    it('an empty list is [] with --json and "No items." on stderr in a table', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 200, page([]), {times: 2})
      const j = await cli(['model-security', 'groups', 'list', '--json'])
      expect(JSON.parse(j.stdout)).to.deep.equal([])
      const t = await cli(['model-security', 'groups', 'list'])
      expect(t.stdout).to.equal('')
      expect(t.stderr).to.include('No items.')
    })

    describe('output formats and table flags', () => {
      beforeEach(() => {
        mockToken()
        mockApi('mgmt', 'GET', LIST, 200, page([GROUP_HF, GROUP_S3, GROUP_LOCAL]), {times: 2})
      })

      it('-o yaml', async () => {
        const r = await cli(['model-security', 'groups', 'list', '-o', 'yaml'])
        expect(r.exit).to.equal(0)
        const {parse} = await import('yaml')
        expect(parse(r.stdout)).to.deep.equal([GROUP_HF, GROUP_S3, GROUP_LOCAL])
      })

      it('-o csv with --columns and --sort', async () => {
        const r = await cli(['model-security', 'groups', 'list', '-o', 'csv', '--columns', 'name,source_type,uuid', '--sort', '-name'])
        expect(r.exit).to.equal(0)
        expect(r.stdout.trimEnd().split('\r\n')).to.deep.equal([
          'name,source_type,uuid',
          `prod-s3-strict,S3,${GROUP_S3.uuid}`,
          `Default LOCAL,LOCAL,${GROUP_LOCAL.uuid}`,
          `Default HUGGING_FACE,HUGGING_FACE,${GROUP_HF.uuid}`,
        ])
      })

      it('-o csv --no-header quotes cells with commas and keeps raw timestamps', async () => {
        const r = await cli(['model-security', 'groups', 'list', '-o', 'csv', '--no-header', '--columns', 'name,CREATED', '--filter', 'source=hugging'])
        expect(r.stdout.trimEnd().split('\r\n')).to.deep.equal(['Default HUGGING_FACE,2025-10-30T14:14:17.321066Z'])
      })

      it('-o ndjson prints one raw object a line', async () => {
        const r = await cli(['model-security', 'groups', 'list', '-o', 'ndjson'])
        expect(lines(r.stdout).map(l => JSON.parse(l))).to.deep.equal([GROUP_HF, GROUP_S3, GROUP_LOCAL])
      })

      it('-o markdown', async () => {
        const r = await cli(['model-security', 'groups', 'list', '-o', 'markdown', '--columns', 'name,source', '--filter', 'name=default'])
        expect(lines(r.stdout)).to.deep.equal(['| NAME | SOURCE |', '| --- | --- |', '| Default HUGGING_FACE | HUGGING_FACE |', '| Default LOCAL | LOCAL |'])
      })

      it('--no-header, --filter and --columns naming an extended column', async () => {
        const r = await cli(['model-security', 'groups', 'list', '--no-header', '--filter', 'name=Default', '--columns', 'name,enabled rules'])
        expect(lines(r.stdout).map(l => l.split(/\s{2,}/))).to.deep.equal([['Default HUGGING_FACE', '11'], ['Default LOCAL']])
      })

      it('-x adds the extended columns', async () => {
        const plain = await cli(['model-security', 'groups', 'list'])
        const wide = await cli(['model-security', 'groups', 'list', '-x', '--no-truncate'])
        expect(lines(plain.stdout)[0]).not.to.include('ENABLED RULES')
        expect(lines(wide.stdout)[0].split(/\s{2,}/)).to.deep.equal(['NAME', 'SOURCE', 'STATE', 'DESCRIPTION', 'ENABLED RULES', 'CREATED', 'UPDATED', 'UUID'])
        expect(lines(wide.stdout)[1]).to.match(/models\s+11\s+2025-10-30 14:14:17Z\s+2026-02-19 16:03:26Z/)
      })

      it('--json ignores -o and table flags: stdout stays the raw array', async () => {
        const r = await cli(['model-security', 'groups', 'list', '--json', '--sort', 'name'])
        expect(JSON.parse(r.stdout).map((g: {name: string}) => g.name)).to.deep.equal(['Default HUGGING_FACE', 'Default LOCAL', 'prod-s3-strict'])
      })
    })

    describe('bad input: exit 2 and nothing sent', () => {
      for (const [what, argv, pattern] of [
        ['unknown column', ['--columns', 'name,colour'], /--columns: unknown column "colour". Available columns: name, source_type/],
        ['unknown sort column', ['--sort', '-size'], /--sort: unknown column "size"/],
        ['unknown filter column', ['--filter', 'owner=me'], /--filter: unknown column "owner"/],
        ['malformed filter', ['--filter', 'name'], /--filter: expected column=value/],
        ['unknown source type', ['--source-type', 'FTP'], /Expected --source-type=FTP to be one of: LOCAL, HUGGING_FACE, S3/],
        ['unknown sort field', ['--sort-field', 'name'], /to be one of: created_at, updated_at/],
        ['unknown output format', ['-o', 'xml'], /to be one of: table, json, yaml, csv, ndjson, markdown/],
        ['too short search', ['--search', 'ab'], /--search: must be 3-1000 characters/],
        ['limit above 100', ['--limit', '101'], /100/],
        ['limit below 1', ['--limit', '0'], /1/],
        ['unknown flag', ['--colour'], /Nonexistent flag: --colour/],
        ['a single-valued flag given twice', ['--search', 'abc', '--search', 'abd'], /Flag --search can only be specified once/],
      ] as Array<[string, string[], RegExp]>) {
        it(what, async () => {
          mockToken()
          const r = await cli(['model-security', 'groups', 'list', ...argv])
          expect(r.exit, r.stderr).to.equal(2)
          expect(r.error?.message ?? r.stderr).to.match(pattern)
          expect(requests).to.deep.equal([])
        })
      }

      it('in --json mode the error is one JSON object on stderr and stdout is empty', async () => {
        const r = await cli(['model-security', 'groups', 'list', '--columns', 'colour', '--json'])
        expect(r.exit).to.equal(2)
        expect(r.stdout).to.equal('')
        const e = jsonError(r.stderr)
        expect(e).to.include({code: 'E_USAGE', exit: 2})
        expect(e.message).to.include('unknown column "colour"')
        expect(requests).to.deep.equal([])
      })

      it('an unknown enum in --json mode exits 2 with a JSON error', async () => {
        const r = await cli(['model-security', 'groups', 'list', '--source-type', 'FTP', '--json'])
        expect(r.exit).to.equal(2)
        expect(r.stdout).to.equal('')
        expect(jsonError(r.stderr).exit).to.equal(2)
        expect(jsonError(r.stderr).message).to.include('FTP')
      })
    })

    it('an unknown --enabled-rule name exits 4 and lists no groups', async () => {
      mockToken()
      mockApi('mgmt', 'GET', '/v1/security-rules', 200, {pagination: {total_items: 1}, rules: [RULE_LOADTIME]})
      const r = await cli(['model-security', 'groups', 'list', '--enabled-rule', 'Load Time'])
      expect(r.exit).to.equal(4)
      expect(r.error?.message).to.include('no security rule named "Load Time"').and.include('Load Time Code Execution Check')
      expect(apiRequests().map(q => q.path)).to.deep.equal(['/v1/security-rules'])
    })

    it('a 422 from the service exits 5 with its detail rendered readably', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 422, {detail: [{loc: ['query', 'search_query'], msg: 'String should have at least 3 characters', type: 'string_too_short', input: 'ab'}]})
      const r = await cli(['model-security', 'groups', 'list', '--search', 'abc'])
      expect(r.exit).to.equal(5)
      expect(r.error?.message).to.include('list security groups: the service rejected the request (HTTP 422)')
      expect(r.error?.message).to.include('query.search_query: String should have at least 3 characters (got "ab")')
    })
  })

  describe('model-security groups get', () => {
    beforeEach(() => useCredentials())

    it('by UUID: GET /v1/security-groups/{uuid}, a detail view, and the raw object with --json', async () => {
      mockToken()
      mockApi('mgmt', 'GET', `${LIST}/${GROUP_S3.uuid}`, 200, GROUP_S3, {times: 2})
      const t = await cli(['model-security', 'groups', 'get', GROUP_S3.uuid])
      expect(t.exit, t.stderr).to.equal(0)
      const detail = lines(t.stdout)
      expect(detail).to.include.members([
        'Name:        prod-s3-strict', `UUID:        ${GROUP_S3.uuid}`, 'Source type: S3', 'State:       ACTIVE',
        'Description: (none)', 'Created:     2026-04-02 09:12:44Z', 'TSG:         1234567890',
      ])
      const j = await cli(['model-security', 'groups', 'get', GROUP_S3.uuid, '--json'])
      expect(JSON.parse(j.stdout)).to.deep.equal(GROUP_S3)
      expect(apiRequests().map(q => `${q.method} ${q.path}`)).to.deep.equal([`GET ${LIST}/${GROUP_S3.uuid}`, `GET ${LIST}/${GROUP_S3.uuid}`])
      expect([...apiRequests()[0].query.keys()]).to.deep.equal([])
      expectConforming()
    })

    it('by name: looks the name up with search_query and no second request', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 200, page([GROUP_HF, {...GROUP_LOCAL, name: 'Default HUGGING_FACE copy'}]))
      const r = await cli(['model-security', 'groups', 'get', 'Default HUGGING_FACE', '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal(GROUP_HF)
      expect(apiRequests()).to.have.length(1)
      expect(queryOf(0)).to.deep.equal({skip: ['0'], limit: ['100'], search_query: ['Default HUGGING_FACE']})
      expectConforming()
    })

    it('a name shorter than 3 characters is looked up without search_query (the service needs 3+)', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 200, page([{...GROUP_S3, name: 'p1'}]))
      const r = await cli(['model-security', 'groups', 'get', 'p1', '--json'])
      expect(r.exit).to.equal(0)
      expect(apiRequests()[0].query.has('search_query')).to.equal(false)
      expectConforming()
    })

    it('an ambiguous name exits 2 and lists the matches', async () => {
      mockToken()
      const twin = {...GROUP_LOCAL, name: GROUP_S3.name}
      mockApi('mgmt', 'GET', LIST, 200, page([GROUP_S3, twin]))
      const r = await cli(['model-security', 'groups', 'get', 'prod-s3-strict'])
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.include('ambiguous').and.include(GROUP_S3.uuid).and.include(twin.uuid)
    })

    it('an unknown name exits 4 with candidates; --json gives code E_NOT_FOUND', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 200, page([GROUP_S3]), {times: 2})
      const r = await cli(['model-security', 'groups', 'get', 'prod-s3'])
      expect(r.exit).to.equal(4)
      expect(r.error?.message).to.include('no security group named "prod-s3"').and.include('prod-s3-strict')
      const j = await cli(['model-security', 'groups', 'get', 'prod-s3', '--json'])
      expect(j.exit).to.equal(4)
      expect(j.stdout).to.equal('')
      expect(jsonError(j.stderr)).to.include({code: 'E_NOT_FOUND', exit: 4})
    })

    it('a 404 exits 4 in human and --json modes', async () => {
      mockToken()
      mockApi('mgmt', 'GET', `${LIST}/${GROUP_S3.uuid}`, 404, {detail: 'Security group not found'}, {times: 2})
      const h = await cli(['model-security', 'groups', 'get', GROUP_S3.uuid])
      expect(h.exit).to.equal(4)
      expect(h.error?.message).to.equal(`get security group ${GROUP_S3.uuid}: not found (HTTP 404): Security group not found`)
      const j = await cli(['model-security', 'groups', 'get', GROUP_S3.uuid, '--json'])
      expect(j.exit).to.equal(4)
      expect(j.stdout).to.equal('')
      expect(jsonError(j.stderr)).to.deep.include({code: 'E_NOT_FOUND', exit: 4, status: 404})
    })

    it('--with-rules adds the rule instances (all pages) inline', async () => {
      mockToken()
      mockApi('mgmt', 'GET', `${LIST}/${GROUP_HF.uuid}`, 200, GROUP_HF, {times: 2})
      mockApi('mgmt', 'GET', `${LIST}/${GROUP_HF.uuid}/rule-instances`, 200, {pagination: {total_items: 2}, rule_instances: [INSTANCE_FORMAT, INSTANCE_LOADTIME]}, {times: 2})
      const j = await cli(['model-security', 'groups', 'get', GROUP_HF.uuid, '--with-rules', '--json'])
      expect(j.exit, j.stderr).to.equal(0)
      expect(JSON.parse(j.stdout)).to.deep.equal({...GROUP_HF, rule_instances: [INSTANCE_FORMAT, INSTANCE_LOADTIME]})
      const ri = apiRequests()[1]
      expect(ri.path).to.equal(`${LIST}/${GROUP_HF.uuid}/rule-instances`)
      expect(ri.query.get('skip')).to.equal('0')
      expect(ri.query.get('limit')).to.equal('100')
      const t = await cli(['model-security', 'groups', 'get', GROUP_HF.uuid, '--with-rules'])
      expect(t.stdout).to.include('Rule instances (2)')
      expect(t.stdout).to.match(/Stored In Approved File Format\s+BLOCKING\s+ARTIFACT\s+approved_formats=safetensors\|safetensors_index\|json\|yaml/)
      expect(t.stdout).to.match(/Load Time Code Execution Check\s+BLOCKING\s+ARTIFACT/)
      expectConforming()
    })

    it('-o yaml prints the object', async () => {
      mockToken()
      mockApi('mgmt', 'GET', `${LIST}/${GROUP_HF.uuid}`, 200, GROUP_HF)
      const r = await cli(['model-security', 'groups', 'get', GROUP_HF.uuid, '-o', 'yaml'])
      const {parse} = await import('yaml')
      expect(parse(r.stdout)).to.deep.equal(GROUP_HF)
    })

    it('a missing argument exits 2', async () => {
      const r = await cli(['model-security', 'groups', 'get'])
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.include('Missing 1 required arg')
      const j = await cli(['model-security', 'groups', 'get', '--json'])
      expect(j.exit).to.equal(2)
      expect(j.stdout).to.equal('')
      expect(jsonError(j.stderr).exit).to.equal(2)
    })
  })

  describe('model-security groups create', () => {
    beforeEach(() => useCredentials())

    it('from flags: POST the exact body, show the created group', async () => {
      mockToken()
      mockApi('mgmt', 'POST', LIST, 201, GROUP_S3)
      const r = await cli(['model-security', 'groups', 'create', '--name', 'prod-s3-strict', '--source-type', 'S3', '--description', 'Strict S3 policy'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout).to.include('Name:        prod-s3-strict')
      const [req] = apiRequests()
      expect(req.method).to.equal('POST')
      expect(req.path).to.equal(LIST)
      expect(req.body).to.deep.equal({name: 'prod-s3-strict', source_type: 'S3', description: 'Strict S3 policy'})
      expect(req.headers['content-type']).to.match(/application\/json/)
      expectConforming()
    })

    it('--json prints the created group', async () => {
      mockToken()
      mockApi('mgmt', 'POST', LIST, 201, GROUP_S3)
      const r = await cli(['model-security', 'groups', 'create', '--name', 'prod-s3-strict', '--source-type', 'S3', '--json'])
      expect(JSON.parse(r.stdout)).to.deep.equal(GROUP_S3)
      expect(apiRequests()[0].body).to.deep.equal({name: 'prod-s3-strict', source_type: 'S3'})
    })

    it('--rule NAME=STATE and UUID=STATE become rule_configurations keyed by rule UUID', async () => {
      mockToken()
      mockApi('mgmt', 'GET', '/v1/security-rules', 200, {pagination: {total_items: 2}, rules: [RULE_FORMAT, RULE_LOADTIME]})
      mockApi('mgmt', 'POST', LIST, 201, GROUP_S3)
      const r = await cli(['model-security', 'groups', 'create', '--name', 'prod-s3-strict', '--source-type', 'S3',
        '--rule', 'Load Time Code Execution Check=blocking', '--rule', `${RULE_FORMAT.uuid}=ALLOWING`, '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      const reqs = apiRequests()
      expect(reqs.map(q => `${q.method} ${q.path}`)).to.deep.equal(['GET /v1/security-rules', `POST ${LIST}`])
      expect(reqs[1].body).to.deep.equal({name: 'prod-s3-strict', source_type: 'S3', rule_configurations: {
        [RULE_LOADTIME.uuid]: {state: 'BLOCKING'}, [RULE_FORMAT.uuid]: {state: 'ALLOWING'},
      }})
      expectConforming()
    })

    it('--rule with a bad state exits 2 before anything is sent', async () => {
      mockToken()
      const r = await cli(['model-security', 'groups', 'create', '--name', 'x1', '--source-type', 'S3', '--rule', 'Load Time Code Execution Check=ON'])
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.include('--rule: invalid state "ON"').and.include('DISABLED, ALLOWING, BLOCKING')
      expect(requests).to.deep.equal([])
    })

    it('--config JSON file: the body is sent as written', async () => {
      const body = {name: 'from-json', source_type: 'GCS', description: 'd', rule_configurations: {[RULE_FORMAT.uuid]: {state: 'BLOCKING', field_values: {approved_formats: ['safetensors']}}}}
      const file = tempFile('group.json', JSON.stringify(body))
      mockToken()
      mockApi('mgmt', 'POST', LIST, 201, {...GROUP_S3, name: 'from-json', source_type: 'GCS'})
      const r = await cli(['model-security', 'groups', 'create', '--config', file, '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(apiRequests()[0].body).to.deep.equal(body)
      expect(JSON.parse(r.stdout).name).to.equal('from-json')
      expectConforming()
    })

    it('--config YAML file', async () => {
      const file = tempFile('group.yaml', `name: from-yaml\nsource_type: HUGGING_FACE\nrule_configurations:\n  ${RULE_LOADTIME.uuid}:\n    state: DISABLED\n`)
      mockToken()
      mockApi('mgmt', 'POST', LIST, 201, GROUP_HF)
      const r = await cli(['model-security', 'groups', 'create', '--config', file])
      expect(r.exit, r.stderr).to.equal(0)
      expect(apiRequests()[0].body).to.deep.equal({name: 'from-yaml', source_type: 'HUGGING_FACE', rule_configurations: {[RULE_LOADTIME.uuid]: {state: 'DISABLED'}}})
      expectConforming()
    })

    it('--config - reads the body from stdin (YAML)', async () => {
      mockToken()
      mockApi('mgmt', 'POST', LIST, 201, GROUP_LOCAL)
      const r = await withStdin('name: from-stdin\nsource_type: LOCAL\n', () => cli(['model-security', 'groups', 'create', '--config', '-', '--json']))
      expect(r.exit, r.stderr).to.equal(0)
      expect(apiRequests()[0].body).to.deep.equal({name: 'from-stdin', source_type: 'LOCAL'})
    })

    describe('invalid input is rejected locally: nothing is sent, not even a token request', () => {
      it('malformed JSON config -> exit 7 naming the file', async () => {
        const file = tempFile('bad.json', '{"name": "x", "source_type": ')
        mockToken()
        const r = await cli(['model-security', 'groups', 'create', '--config', file])
        expect(r.exit).to.equal(7)
        expect(r.error?.message).to.include(file).and.include('is not valid JSON')
        expect(requests).to.deep.equal([])
      })

      it('malformed YAML config -> exit 7 naming the file', async () => {
        const file = tempFile('bad.yaml', 'name: x\nsource_type: [S3\n  - : :\n')
        mockToken()
        const r = await cli(['model-security', 'groups', 'create', '--config', file])
        expect(r.exit).to.equal(7)
        expect(r.error?.message).to.include(file).and.include('not valid JSON or YAML')
        expect(requests).to.deep.equal([])
      })

      it('a missing config file -> exit 7', async () => {
        const r = await cli(['model-security', 'groups', 'create', '--config', '/nonexistent/group.json'])
        expect(r.exit).to.equal(7)
        expect(r.error?.message).to.include('/nonexistent/group.json: cannot be read: no such file')
      })

      it('schema-invalid config -> exit 7 naming every JSON pointer; --json carries them in details', async () => {
        const file = tempFile('invalid.json', JSON.stringify({name: '', source_type: 'FTP', colour: 'red', rule_configurations: {[RULE_FORMAT.uuid]: {state: 'ON'}}}))
        mockToken()
        const r = await cli(['model-security', 'groups', 'create', '--config', file])
        expect(r.exit).to.equal(7)
        const msg = r.error!.message
        expect(msg).to.include(file)
        expect(msg).to.include('/colour: unknown key "colour"')
        expect(msg).to.match(/\/source_type: must be one of LOCAL, HUGGING_FACE, S3/)
        expect(msg).to.include('/name: ')
        expect(msg).to.include(`/rule_configurations/${RULE_FORMAT.uuid}/state`)
        const j = await cli(['model-security', 'groups', 'create', '--config', file, '--json'])
        expect(j.exit).to.equal(7)
        expect(j.stdout).to.equal('')
        const e = JSON.parse(j.stderr.trim()).error
        expect(e).to.include({code: 'E_CONFIG_INVALID', exit: 7})
        expect(e.details.problems.map((p: {pointer: string}) => p.pointer)).to.include.members(['/colour', '/source_type', '/name'])
        expect(requests).to.deep.equal([])
      })

      it('a name over 255 characters from flags -> exit 2 with the pointer', async () => {
        const r = await cli(['model-security', 'groups', 'create', '--name', 'n'.repeat(256), '--source-type', 'S3'])
        expect(r.exit).to.equal(2)
        expect(r.error?.message).to.include('/name: must NOT have more than 255 characters')
        expect(requests).to.deep.equal([])
      })

      it('--name without --source-type -> exit 2', async () => {
        const r = await cli(['model-security', 'groups', 'create', '--name', 'x1'])
        expect(r.exit).to.equal(2)
        expect(r.error?.message).to.include('--name and --source-type are required')
      })

      it('--config with --name -> exit 2 (exclusive)', async () => {
        const file = tempFile('g.json', '{"name":"a","source_type":"S3"}')
        const r = await cli(['model-security', 'groups', 'create', '--config', file, '--name', 'x'])
        expect(r.exit).to.equal(2)
        expect(r.error?.message).to.match(/cannot also be provided when using/)
      })

      it('missing credentials -> exit 3 naming what to set, nothing sent', async () => {
        delete process.env.PANW_MODEL_SEC_CLIENT_SECRET
        mockToken()
        const r = await cli(['model-security', 'groups', 'create', '--name', 'x1', '--source-type', 'S3'])
        expect(r.exit).to.equal(3)
        expect(r.error?.message).to.include('missing credentials (client_secret)').and.include('PANW_MODEL_SEC_CLIENT_SECRET').and.include('daystrom auth login')
        expect(requests).to.deep.equal([])
        const j = await cli(['model-security', 'groups', 'create', '--name', 'x1', '--source-type', 'S3', '--json'])
        expect(j.exit).to.equal(3)
        expect(j.stdout).to.equal('')
        expect(jsonError(j.stderr)).to.include({code: 'E_AUTH_MISSING', exit: 3})
        expect(requests).to.deep.equal([])
      })
    })

    it('--dry-run prints the request and sends nothing', async () => {
      mockToken()
      const r = await cli(['model-security', 'groups', 'create', '--name', 'dry', '--source-type', 'AZURE', '--dry-run'])
      expect(r.exit).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal({method: 'POST', path: LIST, body: {name: 'dry', source_type: 'AZURE'}})
      const j = await cli(['model-security', 'groups', 'create', '--name', 'dry', '--source-type', 'AZURE', '--dry-run', '--json'])
      expect(JSON.parse(j.stdout)).to.deep.equal({method: 'POST', path: LIST, body: {name: 'dry', source_type: 'AZURE'}})
      expect(requests).to.deep.equal([])
    })

    for (const [status, body, code, text] of [
      [422, {detail: [{loc: ['body', 'name'], msg: 'String should have at most 255 characters', type: 'string_too_long'}]}, 'E_VALIDATION', 'body.name: String should have at most 255 characters'],
      [409, {detail: 'A security group named "prod-s3-strict" already exists'}, 'E_CONFLICT', 'A security group named "prod-s3-strict" already exists'],
      [400, {message: 'source_type cannot be ALL for a group'}, 'E_BAD_REQUEST', 'source_type cannot be ALL for a group'],
    ] as Array<[number, unknown, string, string]>) {
      it(`a ${status} from the service exits 5 with its message (human and --json)`, async () => {
        mockToken()
        mockApi('mgmt', 'POST', LIST, status, body, {times: 2})
        const h = await cli(['model-security', 'groups', 'create', '--name', 'prod-s3-strict', '--source-type', 'S3'])
        expect(h.exit).to.equal(5)
        expect(h.error?.message).to.include(`create security group: the service rejected the request (HTTP ${status})`).and.include(text)
        const j = await cli(['model-security', 'groups', 'create', '--name', 'prod-s3-strict', '--source-type', 'S3', '--json'])
        expect(j.exit).to.equal(5)
        expect(j.stdout).to.equal('')
        const e = jsonError(j.stderr)
        expect(e).to.deep.include({code, exit: 5, status})
        expect(e.message).to.include(text)
        expect((e as unknown as {details: unknown}).details).to.deep.equal(body)
      })
    }
  })

  describe('model-security groups update', () => {
    beforeEach(() => useCredentials())

    it('by UUID: PUT name and description', async () => {
      mockToken()
      mockApi('mgmt', 'PUT', `${LIST}/${GROUP_S3.uuid}`, 200, {...GROUP_S3, name: 'prod-s3', description: 'Production S3'})
      const r = await cli(['model-security', 'groups', 'update', GROUP_S3.uuid, '--name', 'prod-s3', '--description', 'Production S3'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout).to.include('Name:        prod-s3').and.include('Description: Production S3')
      expect(apiRequests()).to.have.length(1)
      expect(apiRequests()[0].method).to.equal('PUT')
      expect(apiRequests()[0].body).to.deep.equal({name: 'prod-s3', description: 'Production S3'})
      expectConforming()
    })

    it('by name: resolves the UUID first; --clear-description sends an empty description', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 200, page([GROUP_HF]))
      mockApi('mgmt', 'PUT', `${LIST}/${GROUP_HF.uuid}`, 200, {...GROUP_HF, description: ''})
      const r = await cli(['model-security', 'groups', 'update', 'Default HUGGING_FACE', '--clear-description', '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal({...GROUP_HF, description: ''})
      expect(apiRequests().map(q => `${q.method} ${q.path}`)).to.deep.equal([`GET ${LIST}`, `PUT ${LIST}/${GROUP_HF.uuid}`])
      expect(apiRequests()[1].body).to.deep.equal({description: ''})
      expectConforming()
    })

    it('refuses a no-op with exit 2 and sends nothing', async () => {
      mockToken()
      const r = await cli(['model-security', 'groups', 'update', GROUP_S3.uuid])
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.include('nothing to update')
      const j = await cli(['model-security', 'groups', 'update', GROUP_S3.uuid, '--json'])
      expect(j.exit).to.equal(2)
      expect(jsonError(j.stderr).message).to.include('nothing to update')
      expect(requests).to.deep.equal([])
    })

    it('--description with --clear-description exits 2', async () => {
      const r = await cli(['model-security', 'groups', 'update', GROUP_S3.uuid, '--description', 'x', '--clear-description'])
      expect(r.exit).to.equal(2)
      expect(requests).to.deep.equal([])
    })

    it('an empty --name exits 2 with the pointer', async () => {
      const r = await cli(['model-security', 'groups', 'update', GROUP_S3.uuid, '--name', ''])
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.include('/name')
      expect(requests).to.deep.equal([])
    })

    it('--dry-run prints the PUT and sends nothing', async () => {
      mockToken()
      const r = await cli(['model-security', 'groups', 'update', GROUP_S3.uuid, '--name', 'renamed', '--dry-run'])
      expect(r.exit).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal({method: 'PUT', path: `${LIST}/${GROUP_S3.uuid}`, body: {name: 'renamed'}})
      expect(apiRequests()).to.deep.equal([])
    })
  })

  describe('model-security groups delete', () => {
    beforeEach(() => useCredentials())

    it('needs --yes without a TTY: exit 2 and nothing sent (human and --json)', async () => {
      mockToken()
      const r = await withoutTty(() => cli(['model-security', 'groups', 'delete', GROUP_S3.uuid]))
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.include('pass --yes')
      const j = await withoutTty(() => cli(['model-security', 'groups', 'delete', GROUP_S3.uuid, '--json']))
      expect(j.exit).to.equal(2)
      expect(j.stdout).to.equal('')
      expect(jsonError(j.stderr)).to.include({code: 'E_CONFIRMATION_REQUIRED', exit: 2})
      expect(requests).to.deep.equal([])
    })

    it('--yes: GET then DELETE by UUID; a note on stderr, nothing on stdout in table mode', async () => {
      mockToken()
      mockApi('mgmt', 'GET', `${LIST}/${GROUP_S3.uuid}`, 200, GROUP_S3)
      mockApi('mgmt', 'DELETE', `${LIST}/${GROUP_S3.uuid}`, 204, '')
      const r = await withoutTty(() => cli(['model-security', 'groups', 'delete', GROUP_S3.uuid, '--yes']))
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout).to.equal('')
      expect(r.stderr).to.include(`Deleted security group "prod-s3-strict" (${GROUP_S3.uuid})`)
      expect(apiRequests().map(q => `${q.method} ${q.path}`)).to.deep.equal([`GET ${LIST}/${GROUP_S3.uuid}`, `DELETE ${LIST}/${GROUP_S3.uuid}`])
      expect(apiRequests()[1].body).to.equal(undefined)
      expectConforming()
    })

    it('by name with -y --json prints {deleted, name}', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 200, page([GROUP_S3]))
      mockApi('mgmt', 'DELETE', `${LIST}/${GROUP_S3.uuid}`, 204, '')
      const r = await cli(['model-security', 'groups', 'delete', 'prod-s3-strict', '-y', '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal({deleted: GROUP_S3.uuid, name: 'prod-s3-strict'})
      expect(r.stderr).to.equal('')
      expectConforming()
    })

    it('confirms on a TTY: "n" keeps the group, "y" deletes it', async () => {
      mockToken()
      mockApi('mgmt', 'GET', `${LIST}/${GROUP_S3.uuid}`, 200, GROUP_S3, {times: 2})
      mockApi('mgmt', 'DELETE', `${LIST}/${GROUP_S3.uuid}`, 204, '')
      const no = await withTty('n\n', () => cli(['model-security', 'groups', 'delete', GROUP_S3.uuid]))
      expect(no.exit).to.equal(1)
      expect(no.error?.message).to.include('not deleted')
      expect(apiRequests().filter(q => q.method === 'DELETE')).to.deep.equal([])
      const yes = await withTty('y\n', () => cli(['model-security', 'groups', 'delete', GROUP_S3.uuid]))
      expect(yes.exit, yes.stderr).to.equal(0)
      expect(apiRequests().filter(q => q.method === 'DELETE')).to.have.length(1)
    })

    it('a 404 exits 4', async () => {
      mockToken()
      mockApi('mgmt', 'GET', `${LIST}/${GROUP_S3.uuid}`, 404, {detail: 'Not Found'})
      const r = await cli(['model-security', 'groups', 'delete', GROUP_S3.uuid, '--yes'])
      expect(r.exit).to.equal(4)
      expect(apiRequests().filter(q => q.method === 'DELETE')).to.deep.equal([])
    })
  })
})
