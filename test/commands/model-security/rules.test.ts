/** model-security rules list|get: requests checked against the OpenAPI document, and the rendered output. */
import {expect} from 'chai'

import {RULE_FORMAT, RULE_LOADTIME} from '../../fixtures/mgmt.js'
import {apiRequests, expectConforming, jsonError, mockApi, mockToken, requests, resetRequests, run, useCredentials} from '../../helpers/api.js'
import {lines, quoteArgs} from '../../lib/support.js'

const RULES = '/v1/security-rules'
const cli = (args: string[]) => run(quoteArgs(args))
const page = (items: unknown[], total = items.length) => ({pagination: {total_items: total}, rules: items})
const ruleN = (i: number) => ({...RULE_LOADTIME, uuid: `00000000-0000-4000-9000-${i.toString(16).padStart(12, '0')}`, name: `Rule ${String(i).padStart(2, '0')}`})

describe('model-security rules', () => {
  beforeEach(() => {
    resetRequests()
    useCredentials()
  })

  describe('model-security rules list', () => {
    it('a table with name, type, default state, sources and editable fields; no query by default', async () => {
      mockToken()
      mockApi('mgmt', 'GET', RULES, 200, page([RULE_FORMAT, RULE_LOADTIME]))
      const r = await cli(['model-security', 'rules', 'list', '--no-truncate'])
      expect(r.exit, r.stderr).to.equal(0)
      const out = lines(r.stdout)
      expect(out[0].split(/\s{2,}/)).to.deep.equal(['NAME', 'TYPE', 'DEFAULT', 'SOURCES', 'EDITABLE', 'UUID'])
      expect(out[1]).to.match(/^Stored In Approved File Format\s+ARTIFACT\s+ALLOWING\s+ALL\s+approved_formats\s+cd178d93-7ebc-44f6-a9ca-6374c3114c05$/)
      expect(out[2]).to.match(/^Load Time Code Execution Check\s+ARTIFACT\s+BLOCKING\s+ALL\s+7f3e1c2a-5b4d-4e6f-8a9b-0c1d2e3f4a5b$/)
      expect(apiRequests()).to.have.length(1)
      expect([...apiRequests()[0].query.keys()]).to.deep.equal([])
      expectConforming()
    })

    it('--json: the raw rules', async () => {
      mockToken()
      mockApi('mgmt', 'GET', RULES, 200, page([RULE_FORMAT, RULE_LOADTIME]))
      const r = await cli(['model-security', 'rules', 'list', '--json'])
      expect(JSON.parse(r.stdout)).to.deep.equal([RULE_FORMAT, RULE_LOADTIME])
    })

    it('sends --source-type, --search, --limit and --skip as source_type, search_query, limit, skip', async () => {
      mockToken()
      mockApi('mgmt', 'GET', RULES, 200, page([RULE_FORMAT], 12))
      const r = await cli(['model-security', 'rules', 'list', '--source-type', 'HUGGING_FACE', '--search', 'Approved File', '--limit', '5', '--skip', '5'])
      expect(r.exit, r.stderr).to.equal(0)
      const q = apiRequests()[0].query
      expect(Object.fromEntries(q)).to.deep.equal({source_type: 'HUGGING_FACE', search_query: 'Approved File', limit: '5', skip: '5'})
      expect(q.getAll('source_type')).to.have.length(1)
      expect(r.stderr).to.include('Showing 1 of 12 (from 6)')
      expectConforming()
    })

    it('--source-type ALL is accepted (rules can be compatible with ALL)', async () => {
      mockToken()
      mockApi('mgmt', 'GET', RULES, 200, page([]))
      const r = await cli(['model-security', 'rules', 'list', '--source-type', 'ALL', '--json'])
      expect(r.exit).to.equal(0)
      expect(apiRequests()[0].query.get('source_type')).to.equal('ALL')
      expectConforming()
    })

    it('--all walks every page at the given limit', async () => {
      const all = Array.from({length: 23}, (_, i) => ruleN(i + 1))
      mockToken()
      mockApi('mgmt', 'GET', RULES, 200, page(all.slice(0, 10), 23))
      mockApi('mgmt', 'GET', RULES, 200, page(all.slice(10, 20), 23))
      mockApi('mgmt', 'GET', RULES, 200, page(all.slice(20), 23))
      const r = await cli(['model-security', 'rules', 'list', '--all', '--limit', '10', '-o', 'ndjson'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(lines(r.stdout).map(l => JSON.parse(l).name)).to.deep.equal(all.map(x => x.name))
      expect(apiRequests().map(x => x.query.get('skip'))).to.deep.equal(['0', '10', '20'])
      expectConforming()
    })

    it('-o csv --columns name,default --sort default,name', async () => {
      mockToken()
      mockApi('mgmt', 'GET', RULES, 200, page([RULE_LOADTIME, RULE_FORMAT]))
      const r = await cli(['model-security', 'rules', 'list', '-o', 'csv', '--columns', 'name,default', '--sort', 'default,name'])
      expect(r.stdout.trimEnd().split('\r\n')).to.deep.equal(['name,default_state', 'Stored In Approved File Format,ALLOWING', 'Load Time Code Execution Check,BLOCKING'])
    })

    it('an unknown source type exits 2 and sends nothing', async () => {
      mockToken()
      const r = await cli(['model-security', 'rules', 'list', '--source-type', 'DROPBOX'])
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.include('Expected --source-type=DROPBOX to be one of')
      expect(requests).to.deep.equal([])
    })
  })

  describe('model-security rules get', () => {
    it('by UUID: remediation, editable fields with allowed values, defaults', async () => {
      mockToken()
      mockApi('mgmt', 'GET', `${RULES}/${RULE_FORMAT.uuid}`, 200, RULE_FORMAT)
      const r = await cli(['model-security', 'rules', 'get', RULE_FORMAT.uuid])
      expect(r.exit, r.stderr).to.equal(0)
      const out = r.stdout
      expect(out).to.include('Name:               Stored In Approved File Format')
      expect(out).to.include('Default state:      ALLOWING')
      expect(out).to.include('Compatible sources: ALL')
      expect(out).to.include('Remediation\n  Description: Convert the model to an approved format\n  URL:         https://docs.paloaltonetworks.com/ai-model-security/stored-in-approved-file-format')
      expect(out).to.include('  1. Identify the files flagged by the scan\n  2. Re-export them as safetensors and re-scan')
      expect(out).to.include('Editable field: approved_formats')
      expect(out).to.include('Allowed values: safetensors, json (JSON), yaml (YAML), safetensors_index (safetensors index), pickle')
      expect(out).to.include('Default:        safetensors, safetensors_index, json, yaml')
      expect(apiRequests().map(x => `${x.method} ${x.path}`)).to.deep.equal([`GET ${RULES}/${RULE_FORMAT.uuid}`])
      expectConforming()
    })

    it('by name with --json: looked up in the list, raw object printed', async () => {
      mockToken()
      mockApi('mgmt', 'GET', RULES, 200, page([RULE_LOADTIME]))
      const r = await cli(['model-security', 'rules', 'get', 'Load Time Code Execution Check', '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal(RULE_LOADTIME)
      expect(Object.fromEntries(apiRequests()[0].query)).to.deep.equal({skip: '0', limit: '100', search_query: 'Load Time Code Execution Check'})
      expectConforming()
    })

    it('an unknown name exits 4 and suggests close names; --json has E_NOT_FOUND', async () => {
      mockToken()
      mockApi('mgmt', 'GET', RULES, 200, page([RULE_FORMAT]), {times: 2})
      const r = await cli(['model-security', 'rules', 'get', 'Approved File'])
      expect(r.exit).to.equal(4)
      expect(r.error?.message).to.include('no security rule named "Approved File"').and.include('Stored In Approved File Format')
      const j = await cli(['model-security', 'rules', 'get', 'Approved File', '--json'])
      expect(j.exit).to.equal(4)
      expect(j.stdout).to.equal('')
      expect(jsonError(j.stderr)).to.include({code: 'E_NOT_FOUND', exit: 4})
    })

    it('a 404 for a UUID exits 4', async () => {
      mockToken()
      mockApi('mgmt', 'GET', `${RULES}/${RULE_FORMAT.uuid}`, 404, {detail: 'Security rule not found'})
      const r = await cli(['model-security', 'rules', 'get', RULE_FORMAT.uuid])
      expect(r.exit).to.equal(4)
      expect(r.error?.message).to.include('Security rule not found')
    })

    it('-o yaml prints the rule', async () => {
      mockToken()
      mockApi('mgmt', 'GET', `${RULES}/${RULE_LOADTIME.uuid}`, 200, RULE_LOADTIME)
      const r = await cli(['model-security', 'rules', 'get', RULE_LOADTIME.uuid, '-o', 'yaml'])
      const {parse} = await import('yaml')
      expect(parse(r.stdout)).to.deep.equal(RULE_LOADTIME)
    })
  })
})
