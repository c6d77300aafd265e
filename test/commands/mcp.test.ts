/**
 * `daystrom mcp` as a command (startup checks), and the requests its tools send to the service, recorded by
 * nock and checked against the OpenAPI documents (filters as repeated keys, names resolved to UUIDs).
 */
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {InMemoryTransport} from '@modelcontextprotocol/sdk/inMemory.js'
import {expect} from 'chai'

import {ModelSecurityClient} from '../../src/lib/airs/client.js'
import {createMcpServer} from '../../src/lib/mcp/server.js'
import {page, SCAN_BLOCKED, VERSION_UUID} from '../fixtures/data.js'
import {GROUP_HF, GROUP_LOCAL, RULE_LOADTIME} from '../fixtures/mgmt.js'
import {apiRequests, CREDS, ENDPOINTS, expectConforming, mockApi, mockToken, requests, run} from '../helpers/api.js'

describe('daystrom mcp (command)', () => {
  it('fails before serving when no credentials are configured (exit 3), with nothing on stdout', async () => {
    const r = await run(['mcp'])
    expect(r.exit).to.equal(3)
    expect(r.stdout).to.equal('')
    expect(r.error?.message).to.match(/credentials|client id/i)
    expect(requests).to.have.length(0)
  })

  it('has no --json or output flags: stdout belongs to the protocol', async () => {
    for (const flag of ['--json', '-o', '--columns']) {
      const r = await run(['mcp', flag, ...(flag === '--json' ? [] : ['x'])])
      expect(r.exit, flag).to.equal(2)
    }
  })
})

describe('MCP tools -> service requests (nock, OpenAPI)', () => {
  async function connect(): Promise<{client: Client; close(): Promise<void>}> {
    const api = new ModelSecurityClient({
      ...CREDS, dataEndpoint: ENDPOINTS.data, mgmtEndpoint: ENDPOINTS.mgmt, tokenEndpoint: ENDPOINTS.token, retries: 0, timeoutMs: 5000, userAgent: 'test',
    })
    const {server} = createMcpServer({version: 'test', client: () => Promise.resolve(api)})
    const [a, b] = InMemoryTransport.createLinkedPair()
    await server.connect(b)
    const client = new Client({name: 't', version: '1'})
    await client.connect(a)
    return {client, async close() {
      await client.close()
      await server.close()
    }}
  }

  it('list_scans sends every filter like scans list: repeated array keys, a group name resolved, times as ISO', async () => {
    mockToken()
    mockApi('mgmt', 'GET', '/v1/security-groups', 200, page('security_groups', [GROUP_HF, GROUP_LOCAL]))
    mockApi('data', 'GET', '/v1/scans', 200, page('scans', [SCAN_BLOCKED], 31))
    const c = await connect()
    try {
      const r = await c.client.callTool({name: 'list_scans', arguments: {
        group: 'Default LOCAL', source_types: ['LOCAL', 'S3'], eval_outcomes: ['BLOCKED', 'ERROR'], search: 'bert', since: '2026-03-01T00:00:00Z',
        until: '2026-03-04T00:00:00Z', labels_query: 'env=ci', model_version: VERSION_UUID, sort_order: 'asc', limit: 5, skip: 10,
      }})
      expect(r.isError, JSON.stringify(r.content)).to.not.equal(true)
      expect(r.structuredContent).to.include({total_items: 31, skip: 10, returned: 1, next_skip: 11})
      const req = apiRequests().find(x => x.path === '/v1/scans')!
      expect(req.query.getAll('source_types')).to.deep.equal(['LOCAL', 'S3'])
      expect(req.query.getAll('eval_outcomes')).to.deep.equal(['BLOCKED', 'ERROR'])
      expect(Object.fromEntries([...req.query].filter(([k]) => !['source_types', 'eval_outcomes'].includes(k)))).to.deep.equal({
        skip: '10', limit: '5', security_group_uuid: GROUP_LOCAL.uuid, search_query: 'bert', start_time: '2026-03-01T00:00:00.000Z',
        end_time: '2026-03-04T00:00:00.000Z', labels_query: 'env=ci', model_version_uuid: VERSION_UUID, sort_order: 'asc',
      })
      expectConforming()
    } finally {
      await c.close()
    }
  })

  it('list_groups resolves enabled rule names and sends its filters; a 5xx comes back as a tool error', async () => {
    mockToken()
    mockApi('mgmt', 'GET', '/v1/security-rules', 200, page('rules', [RULE_LOADTIME]))
    mockApi('mgmt', 'GET', '/v1/security-groups', 200, page('security_groups', [GROUP_LOCAL]))
    mockApi('data', 'GET', '/v1/scans/0313419a-33ec-4264-b2ad-c0a3a09aaa39', 503, {detail: 'busy'})
    const c = await connect()
    try {
      const r = await c.client.callTool({name: 'list_groups', arguments: {
        source_types: ['LOCAL'], search: 'Default', enabled_rules: ['Load Time Code Execution Check'], sort_field: 'updated_at', sort_dir: 'asc',
      }})
      expect(r.isError, JSON.stringify(r.content)).to.not.equal(true)
      const req = apiRequests().find(x => x.path === '/v1/security-groups')!
      expect(Object.fromEntries(req.query)).to.deep.equal({
        skip: '0', limit: '50', source_types: 'LOCAL', search_query: 'Default', enabled_rules: RULE_LOADTIME.uuid, sort_field: 'updated_at', sort_dir: 'asc',
      })
      expectConforming()
      const down = await c.client.callTool({name: 'get_scan', arguments: {scan: '0313419a-33ec-4264-b2ad-c0a3a09aaa39'}})
      expect(down.isError).to.equal(true)
      expect(JSON.stringify(down.content)).to.include('the service is unavailable (HTTP 503)').and.include('E_SERVER')
    } finally {
      await c.close()
    }
  })
})
