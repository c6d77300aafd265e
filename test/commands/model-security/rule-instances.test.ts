/**
 * model-security rule-instances list|get|update <group>: requests checked against the OpenAPI document
 * (including the read-modify-write of --add-field/--remove-field), and the rendered output.
 */
import {expect} from 'chai'

import {GROUP_HF, INSTANCE_FORMAT, INSTANCE_LOADTIME, RULE_FORMAT} from '../../fixtures/mgmt.js'
import {apiRequests, expectConforming, jsonError, mockApi, mockToken, requests, resetRequests, run, useCredentials} from '../../helpers/api.js'
import {lines, quoteArgs, tempFile, withStdin} from '../../lib/support.js'

const G = GROUP_HF.uuid
const BASE = `/v1/security-groups/${G}/rule-instances`
const ONE = `${BASE}/${INSTANCE_FORMAT.uuid}`
const cli = (args: string[]) => run(quoteArgs(args))
const page = (items: unknown[], total = items.length) => ({pagination: {total_items: total}, rule_instances: items})
const summary = () => apiRequests().map(r => `${r.method} ${r.path}`)

describe('model-security rule-instances', () => {
  beforeEach(() => {
    resetRequests()
    useCredentials()
  })

  describe('model-security rule-instances list', () => {
    it('a table with the rule name, state, type and field values; no query by default', async () => {
      mockToken()
      mockApi('mgmt', 'GET', BASE, 200, page([INSTANCE_FORMAT, INSTANCE_LOADTIME]))
      const r = await cli(['model-security', 'rule-instances', 'list', G, '--no-truncate'])
      expect(r.exit, r.stderr).to.equal(0)
      const out = lines(r.stdout)
      expect(out[0].split(/\s{2,}/)).to.deep.equal(['RULE', 'STATE', 'TYPE', 'FIELD VALUES', 'UUID'])
      expect(out[1]).to.match(/^Stored In Approved File Format\s+BLOCKING\s+ARTIFACT\s+approved_formats=safetensors\|safetensors_index\|json\|yaml\s+8dc7a788-bb16-4da0-9e41-8741f80e3ae6$/)
      expect(out[2]).to.match(/^Load Time Code Execution Check\s+BLOCKING\s+ARTIFACT\s+1e2d3c4b-5a69-4788-97a6-b5c4d3e2f1a0$/)
      expect(summary()).to.deep.equal([`GET ${BASE}`])
      expect([...apiRequests()[0].query.keys()]).to.deep.equal([])
      expectConforming()
    })

    it('group and --rule by name, --state, --limit, --skip: security_rule_uuid and state sent', async () => {
      mockToken()
      mockApi('mgmt', 'GET', '/v1/security-groups', 200, {pagination: {total_items: 1}, security_groups: [GROUP_HF]})
      mockApi('mgmt', 'GET', '/v1/security-rules', 200, {pagination: {total_items: 1}, rules: [RULE_FORMAT]})
      mockApi('mgmt', 'GET', BASE, 200, page([INSTANCE_FORMAT]))
      const r = await cli(['model-security', 'rule-instances', 'list', 'Default HUGGING_FACE', '--rule', 'Stored In Approved File Format',
        '--state', 'BLOCKING', '--limit', '3', '--skip', '1', '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal([INSTANCE_FORMAT])
      const list = apiRequests().find(x => x.path === BASE)!
      expect(Object.fromEntries(list.query)).to.deep.equal({skip: '1', limit: '3', security_rule_uuid: RULE_FORMAT.uuid, state: 'BLOCKING'})
      expect(apiRequests()).to.have.length(3)
      expectConforming()
    })

    it('--all walks the pages', async () => {
      const many = Array.from({length: 12}, (_, i) => ({...INSTANCE_LOADTIME, uuid: `00000000-0000-4000-a000-${String(i).padStart(12, '0')}`}))
      mockToken()
      mockApi('mgmt', 'GET', BASE, 200, page(many.slice(0, 5), 12))
      mockApi('mgmt', 'GET', BASE, 200, page(many.slice(5, 10), 12))
      mockApi('mgmt', 'GET', BASE, 200, page(many.slice(10), 12))
      const r = await cli(['model-security', 'rule-instances', 'list', G, '--all', '--limit', '5', '--json'])
      expect(JSON.parse(r.stdout).map((x: {uuid: string}) => x.uuid)).to.deep.equal(many.map(x => x.uuid))
      expect(apiRequests().map(x => [x.query.get('skip'), x.query.get('limit')])).to.deep.equal([['0', '5'], ['5', '5'], ['10', '5']])
      expectConforming()
    })

    it('-o markdown and --filter on the rule column', async () => {
      mockToken()
      mockApi('mgmt', 'GET', BASE, 200, page([INSTANCE_FORMAT, INSTANCE_LOADTIME]))
      const r = await cli(['model-security', 'rule-instances', 'list', G, '-o', 'markdown', '--filter', 'rule=load time', '--columns', 'rule,state'])
      expect(lines(r.stdout)).to.deep.equal(['| RULE | STATE |', '| --- | --- |', '| Load Time Code Execution Check | BLOCKING |'])
    })

    it('an unknown --state exits 2 and sends nothing', async () => {
      mockToken()
      const r = await cli(['model-security', 'rule-instances', 'list', G, '--state', 'ENABLED'])
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.include('DISABLED, ALLOWING, BLOCKING')
      expect(requests).to.deep.equal([])
    })
  })

  describe('model-security rule-instances get', () => {
    it('by UUIDs: one GET, a detail view with the rule behind it', async () => {
      mockToken()
      mockApi('mgmt', 'GET', ONE, 200, INSTANCE_FORMAT)
      const r = await cli(['model-security', 'rule-instances', 'get', G, INSTANCE_FORMAT.uuid])
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout).to.include('Rule:          Stored In Approved File Format')
      expect(r.stdout).to.include('State:         BLOCKING')
      expect(r.stdout).to.include('Field values\n  approved_formats: safetensors, safetensors_index, json, yaml')
      expect(r.stdout).to.include('Allowed values: safetensors, json (JSON)')
      expect(summary()).to.deep.equal([`GET ${ONE}`])
      expectConforming()
    })

    it('by group name and rule name with --json', async () => {
      mockToken()
      mockApi('mgmt', 'GET', '/v1/security-groups', 200, {pagination: {total_items: 1}, security_groups: [GROUP_HF]})
      mockApi('mgmt', 'GET', BASE, 200, page([INSTANCE_FORMAT, INSTANCE_LOADTIME]))
      const r = await cli(['model-security', 'rule-instances', 'get', 'Default HUGGING_FACE', 'Load Time Code Execution Check', '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal(INSTANCE_LOADTIME)
      expect(summary()).to.deep.equal(['GET /v1/security-groups', `GET ${BASE}`])
      expectConforming()
    })

    it('an unknown rule name in the group exits 4 listing the rules there', async () => {
      mockToken()
      mockApi('mgmt', 'GET', BASE, 200, page([INSTANCE_FORMAT, INSTANCE_LOADTIME]))
      const r = await cli(['model-security', 'rule-instances', 'get', G, 'License Exists'])
      expect(r.exit).to.equal(4)
      expect(r.error?.message).to.include('no rule instance for rule "License Exists"').and.include('Stored In Approved File Format, Load Time Code Execution Check')
    })
  })

  describe('model-security rule-instances update', () => {
    it('--state by UUIDs: PUT {security_group_uuid, state} without reading the instance first', async () => {
      mockToken()
      mockApi('mgmt', 'PUT', ONE, 200, {...INSTANCE_FORMAT, state: 'ALLOWING'})
      const r = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, '--state', 'ALLOWING'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout).to.include('State:         ALLOWING')
      expect(summary()).to.deep.equal([`PUT ${ONE}`])
      expect(apiRequests()[0].body).to.deep.equal({security_group_uuid: G, state: 'ALLOWING'})
      expectConforming()
    })

    it('--field replaces the list of that key (commas or repeats)', async () => {
      mockToken()
      mockApi('mgmt', 'GET', ONE, 200, INSTANCE_FORMAT)
      mockApi('mgmt', 'PUT', ONE, 200, INSTANCE_FORMAT)
      const r = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, '--field', 'approved_formats=safetensors,json', '--field', 'approved_formats=pickle', '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(summary()).to.deep.equal([`GET ${ONE}`, `PUT ${ONE}`])
      expect(apiRequests()[1].body).to.deep.equal({security_group_uuid: G, field_values: {approved_formats: ['safetensors', 'json', 'pickle']}})
      expect(JSON.parse(r.stdout)).to.deep.equal(INSTANCE_FORMAT)
      expectConforming()
    })

    it('--add-field merges into the current list (read-modify-write) with --state', async () => {
      mockToken()
      mockApi('mgmt', 'GET', ONE, 200, INSTANCE_FORMAT)
      mockApi('mgmt', 'PUT', ONE, 200, INSTANCE_FORMAT)
      const r = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, '--add-field', 'approved_formats=pickle', '--add-field', 'approved_formats=json', '--state', 'BLOCKING'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(apiRequests()[1].body).to.deep.equal({security_group_uuid: G, state: 'BLOCKING',
        field_values: {approved_formats: ['safetensors', 'safetensors_index', 'json', 'yaml', 'pickle']}})
      expectConforming()
    })

    it('--remove-field removes from the current list', async () => {
      mockToken()
      mockApi('mgmt', 'GET', ONE, 200, INSTANCE_FORMAT)
      mockApi('mgmt', 'PUT', ONE, 200, INSTANCE_FORMAT)
      const r = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, '--remove-field', 'approved_formats=yaml,json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(apiRequests()[1].body).to.deep.equal({security_group_uuid: G, field_values: {approved_formats: ['safetensors', 'safetensors_index']}})
      expectConforming()
    })

    it('by group name and rule name', async () => {
      mockToken()
      mockApi('mgmt', 'GET', '/v1/security-groups', 200, {pagination: {total_items: 1}, security_groups: [GROUP_HF]})
      mockApi('mgmt', 'GET', BASE, 200, page([INSTANCE_FORMAT, INSTANCE_LOADTIME]))
      mockApi('mgmt', 'PUT', `${BASE}/${INSTANCE_LOADTIME.uuid}`, 200, {...INSTANCE_LOADTIME, state: 'DISABLED'})
      const r = await cli(['model-security', 'rule-instances', 'update', 'Default HUGGING_FACE', 'Load Time Code Execution Check', '--state', 'DISABLED', '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(summary()).to.deep.equal(['GET /v1/security-groups', `GET ${BASE}`, `PUT ${BASE}/${INSTANCE_LOADTIME.uuid}`])
      expect(apiRequests()[2].body).to.deep.equal({security_group_uuid: G, state: 'DISABLED'})
      expectConforming()
    })

    describe('field checks against the rule: exit 2, no PUT', () => {
      for (const [what, argv, pattern] of [
        ['a value not in the allowed list', ['--add-field', 'approved_formats=onnx'], /approved_formats does not allow "onnx"; allowed: safetensors, json, yaml, safetensors_index, pickle/],
        ['a key that is not an editable field', ['--field', 'approved_licenses=mit'], /"approved_licenses" is not an editable field of rule "Stored In Approved File Format"; editable: approved_formats/],
        ['removing a value that is not there', ['--remove-field', 'approved_formats=pickle'], /--remove-field: approved_formats does not contain "pickle"/],
        ['a pair without =', ['--field', 'approved_formats'], /--field: expected key=value/],
      ] as Array<[string, string[], RegExp]>) {
        it(what, async () => {
          mockToken()
          mockApi('mgmt', 'GET', ONE, 200, INSTANCE_FORMAT)
          const r = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, ...argv])
          expect(r.exit, r.stderr).to.equal(2)
          expect(r.error?.message).to.match(pattern)
          expect(apiRequests().filter(x => x.method === 'PUT')).to.deep.equal([])
        })
      }

      it('a rule without editable fields says so', async () => {
        mockToken()
        mockApi('mgmt', 'GET', `${BASE}/${INSTANCE_LOADTIME.uuid}`, 200, INSTANCE_LOADTIME)
        const r = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_LOADTIME.uuid, '--add-field', 'approved_formats=json'])
        expect(r.exit).to.equal(2)
        expect(r.error?.message).to.include('(it has none)')
      })
    })

    it('refuses a no-op (exit 2, nothing sent)', async () => {
      mockToken()
      const r = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid])
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.include('nothing to update')
      expect(requests).to.deep.equal([])
    })

    it('--state with an unknown value exits 2', async () => {
      const r = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, '--state', 'ON'])
      expect(r.exit).to.equal(2)
      expect(requests).to.deep.equal([])
    })

    describe('--config (the seed workflow)', () => {
      it('update.json {"state": "BLOCKING"}: the CLI adds security_group_uuid', async () => {
        const file = tempFile('update.json', '{"state": "BLOCKING"}\n')
        mockToken()
        mockApi('mgmt', 'PUT', ONE, 200, INSTANCE_FORMAT)
        const r = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, '--config', file])
        expect(r.exit, r.stderr).to.equal(0)
        expect(summary()).to.deep.equal([`PUT ${ONE}`])
        expect(apiRequests()[0].body).to.deep.equal({state: 'BLOCKING', security_group_uuid: G})
        expectConforming()
      })

      it('YAML with field_values, and the group named', async () => {
        const file = tempFile('update.yaml', 'state: ALLOWING\nfield_values:\n  approved_formats:\n    - safetensors\n    - onnx\n')
        mockToken()
        mockApi('mgmt', 'GET', '/v1/security-groups', 200, {pagination: {total_items: 1}, security_groups: [GROUP_HF]})
        mockApi('mgmt', 'PUT', ONE, 200, INSTANCE_FORMAT)
        const r = await cli(['model-security', 'rule-instances', 'update', 'Default HUGGING_FACE', INSTANCE_FORMAT.uuid, '--config', file, '--json'])
        expect(r.exit, r.stderr).to.equal(0)
        expect(apiRequests()[1].body).to.deep.equal({state: 'ALLOWING', field_values: {approved_formats: ['safetensors', 'onnx']}, security_group_uuid: G})
        expectConforming()
      })

      it('--config - reads JSON from stdin', async () => {
        mockToken()
        mockApi('mgmt', 'PUT', ONE, 200, INSTANCE_FORMAT)
        const r = await withStdin('{"state": "DISABLED"}', () => cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, '--config', '-']))
        expect(r.exit, r.stderr).to.equal(0)
        expect(apiRequests()[0].body).to.deep.equal({state: 'DISABLED', security_group_uuid: G})
      })

      it('a matching security_group_uuid in the file is accepted; a different one exits 2', async () => {
        const same = tempFile('same.json', JSON.stringify({state: 'BLOCKING', security_group_uuid: G}))
        const other = tempFile('other.json', JSON.stringify({state: 'BLOCKING', security_group_uuid: INSTANCE_LOADTIME.uuid}))
        mockToken()
        mockApi('mgmt', 'PUT', ONE, 200, INSTANCE_FORMAT)
        const ok = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, '--config', same])
        expect(ok.exit, ok.stderr).to.equal(0)
        expect(apiRequests()[0].body).to.deep.equal({state: 'BLOCKING', security_group_uuid: G})
        resetRequests()
        const r = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, '--config', other])
        expect(r.exit).to.equal(2)
        expect(r.error?.message).to.include('differs from the group argument')
        expect(apiRequests()).to.deep.equal([])
      })

      it('schema-invalid: exit 7 naming the file and each pointer, nothing sent', async () => {
        const file = tempFile('bad-update.json', JSON.stringify({state: 'ON', field_values: {colours: ['red']}, priority: 1}))
        mockToken()
        const r = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, '--config', file])
        expect(r.exit).to.equal(7)
        const msg = r.error!.message
        expect(msg).to.include(file)
        expect(msg).to.match(/\/state: must be one of DISABLED, ALLOWING, BLOCKING/)
        expect(msg).to.include('/priority: unknown key "priority"')
        expect(msg).to.include('/field_values/colours')
        expect(requests).to.deep.equal([])
      })

      it('malformed JSON: exit 7 in --json mode with an E_CONFIG_INVALID object on stderr', async () => {
        const file = tempFile('broken.json', '{"state": BLOCKING}')
        mockToken()
        const r = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, '--config', file, '--json'])
        expect(r.exit).to.equal(7)
        expect(r.stdout).to.equal('')
        const e = jsonError(r.stderr)
        expect(e).to.include({code: 'E_CONFIG_INVALID', exit: 7})
        expect(e.message).to.include(file).and.include('is not valid JSON')
        expect(requests).to.deep.equal([])
      })

      it('--config with --state exits 2 (exclusive)', async () => {
        const file = tempFile('u.json', '{"state": "BLOCKING"}')
        const r = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, '--config', file, '--state', 'ALLOWING'])
        expect(r.exit).to.equal(2)
      })
    })

    it('--dry-run prints the PUT and its body, sends no PUT', async () => {
      mockToken()
      mockApi('mgmt', 'GET', ONE, 200, INSTANCE_FORMAT)
      const r = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, '--add-field', 'approved_formats=pickle', '--dry-run'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal({method: 'PUT', path: ONE, body: {security_group_uuid: G,
        field_values: {approved_formats: ['safetensors', 'safetensors_index', 'json', 'yaml', 'pickle']}}})
      expect(summary()).to.deep.equal([`GET ${ONE}`])
    })

    it('a 422 exits 5 with the service detail; a 404 exits 4', async () => {
      mockToken()
      mockApi('mgmt', 'PUT', ONE, 422, {detail: [{loc: ['body', 'field_values', 'approved_formats'], msg: 'Input should be a valid list', type: 'list_type'}]})
      const r = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, '--state', 'BLOCKING'])
      expect(r.exit).to.equal(5)
      expect(r.error?.message).to.include('body.field_values.approved_formats: Input should be a valid list')
      mockApi('mgmt', 'PUT', ONE, 404, {detail: 'Rule instance not found'})
      const n = await cli(['model-security', 'rule-instances', 'update', G, INSTANCE_FORMAT.uuid, '--state', 'BLOCKING', '--json'])
      expect(n.exit).to.equal(4)
      expect(jsonError(n.stderr)).to.include({code: 'E_NOT_FOUND', status: 404})
    })
  })
})
