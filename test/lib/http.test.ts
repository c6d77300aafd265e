/**
 * The HTTP layer and client: User-Agent, repeated array keys, invalid UUIDs caught before any request, the error
 * mapping (status -> exit code, the service's detail), proxies from the environment, and pagination.
 */
import {expect} from 'chai'

import {ModelSecurityClient} from '../../src/lib/airs/client.js'
import {DaystromError, EXIT, httpError, messageFromBody, networkError, renderDetail} from '../../src/lib/airs/errors.js'
import {toSearchParams} from '../../src/lib/airs/http.js'
import {bypassProxy, proxyAgentFor} from '../../src/lib/airs/proxy.js'
import {GROUP_HF, groupN} from '../fixtures/mgmt.js'
import {apiRequests, CREDS, ENDPOINTS, mockApi, mockToken, requests, resetRequests, run, useCredentials} from '../helpers/api.js'

const client = (over: Partial<ConstructorParameters<typeof ModelSecurityClient>[0]> = {}) => new ModelSecurityClient({
  ...CREDS, dataEndpoint: ENDPOINTS.data, mgmtEndpoint: ENDPOINTS.mgmt, tokenEndpoint: ENDPOINTS.token,
  retries: 0, timeoutMs: 5000, userAgent: 'daystrom/9.9.9 (test)', cacheDir: process.env.DAYSTROM_CACHE_DIR, ...over,
})

describe('airs http layer', () => {
  beforeEach(() => {
    resetRequests()
  })

  describe('HTTP client', () => {
    it('sends a User-Agent naming daystrom and its version, and accepts JSON', async () => {
      useCredentials()
      mockToken()
      mockApi('mgmt', 'GET', '/v1/security-groups', 200, {pagination: {total_items: 0}, security_groups: []})
      const r = await run(['model-security', 'groups', 'list', '--json'])
      expect(r.exit).to.equal(0)
      const {version} = (await import('../../package.json', {with: {type: 'json'}})).default as {version: string}
      for (const req of requests) expect(String(req.headers['user-agent'])).to.match(new RegExp(`^daystrom/${version.replaceAll('.', '\\.')} \\(`))
      expect(apiRequests()[0].headers.accept).to.equal('application/json')
    })

    it('an invalid UUID is rejected with exit 2 before any request, token included', async () => {
      mockToken()
      const c = client()
      const calls: Array<() => Promise<unknown>> = [() => c.getSecurityGroup('not-a-uuid'), () => c.listRuleInstances('5453a4ba-9f15-416f-b9b4-68b8af58662'),
        () => c.getRuleInstance(GROUP_HF.uuid, '../../etc/passwd'), () => c.getSecurityRule('')]
      for (const call of calls) {
        const err = await Promise.resolve().then(call).then(() => undefined, (error: unknown) => error)
        expect(err).to.be.instanceOf(DaystromError)
        expect(err).to.include({exit: EXIT.USAGE, code: 'E_USAGE'})
        expect((err as Error).message).to.match(/invalid .*UUID ".*": expected a UUID like/)
      }
      expect(requests).to.deep.equal([])
    })

    it('toSearchParams repeats array keys and drops empty values', () => {
      const sp = toSearchParams({source_types: ['S3', 'GCS'], search_query: undefined, skip: 0, sort_dir: '', enabled_rules: [], limit: 5})!
      expect(sp.toString()).to.equal('source_types=S3&source_types=GCS&skip=0&limit=5')
      expect(toSearchParams({a: undefined})).to.equal(undefined)
      expect(toSearchParams(undefined)).to.equal(undefined)
    })

    it('paginate() walks pages by total_items and stops at an empty page', async () => {
      mockToken()
      const all = Array.from({length: 5}, (_, i) => groupN(i))
      mockApi('mgmt', 'GET', '/v1/security-groups', 200, {pagination: {total_items: 5}, security_groups: all.slice(0, 2)})
      mockApi('mgmt', 'GET', '/v1/security-groups', 200, {pagination: {total_items: 5}, security_groups: all.slice(2, 4)})
      mockApi('mgmt', 'GET', '/v1/security-groups', 200, {pagination: {total_items: 5}, security_groups: all.slice(4)})
      const c = client()
      const seen: string[] = []
      for await (const g of c.paginate(q => c.listSecurityGroups({...q, source_types: ['S3']}), {limit: 2})) seen.push(g.uuid)
      expect(seen).to.deep.equal(all.map(g => g.uuid))
      expect(apiRequests().map(r => r.query.toString())).to.deep.equal([
        'skip=0&limit=2&source_types=S3', 'skip=2&limit=2&source_types=S3', 'skip=4&limit=2&source_types=S3'])
    })

    it('paginate() stops when the service returns an empty page even if total_items says more', async () => {
      mockToken()
      mockApi('mgmt', 'GET', '/v1/security-groups', 200, {pagination: {total_items: 50}, security_groups: [groupN(1)]})
      mockApi('mgmt', 'GET', '/v1/security-groups', 200, {pagination: {total_items: 50}, security_groups: []})
      const c = client()
      const seen: unknown[] = []
      for await (const g of c.paginate(q => c.listSecurityGroups(q), {limit: 1})) seen.push(g)
      expect(seen).to.have.length(1)
      expect(apiRequests()).to.have.length(2)
    })

    it('strips a trailing slash from endpoints', async () => {
      mockToken()
      mockApi('mgmt', 'GET', `/v1/security-groups/${GROUP_HF.uuid}`, 200, GROUP_HF)
      const c = client({mgmtEndpoint: ENDPOINTS.mgmt + '/'})
      expect(await c.getSecurityGroup(GROUP_HF.uuid)).to.deep.equal(GROUP_HF)
    })
  })

  describe('error mapping', () => {
    it('maps statuses to the exit-code contract', () => {
      const cases: Array<[number, number, string]> = [
        [400, 5, 'E_BAD_REQUEST'], [401, 3, 'E_AUTH_REJECTED'], [403, 3, 'E_FORBIDDEN'], [404, 4, 'E_NOT_FOUND'], [409, 5, 'E_CONFLICT'],
        [422, 5, 'E_VALIDATION'], [429, 6, 'E_RATE_LIMITED'], [500, 6, 'E_SERVER'], [503, 6, 'E_SERVER'], [418, 1, 'E_HTTP'],
      ]
      for (const [status, exit, code] of cases) {
        const e = httpError(status, {detail: 'x'}, 'do something')
        expect({status, exit: e.exit, code: e.code, oclif: e.oclif.exit}).to.deep.equal({status, exit, code, oclif: exit})
      }
    })

    it('renders a 422 detail list one line per item, with loc and input', () => {
      const e = httpError(422, {detail: [
        {loc: ['body', 'name'], msg: 'String should have at most 255 characters', type: 'string_too_long', input: 'x'.repeat(300)},
        {loc: ['body', 'source_type'], msg: "Input should be 'LOCAL' or 'S3'", type: 'enum'},
      ]}, 'create security group', 'req-123')
      expect(e.message.split('\n')).to.deep.equal([
        'create security group: the service rejected the request (HTTP 422):',
        `body.name: String should have at most 255 characters (got ${JSON.stringify('x'.repeat(300)).slice(0, 80)})`,
        "body.source_type: Input should be 'LOCAL' or 'S3'",
      ])
      expect(e.toJSON()).to.deep.include({code: 'E_VALIDATION', exit: 5, status: 422, request_id: 'req-123'})
    })

    it('takes the service message from detail, error_message, message, error_description or error.message', () => {
      expect(messageFromBody({detail: 'plain detail'})).to.equal('plain detail')
      expect(messageFromBody({error_message: 'em'})).to.equal('em')
      expect(messageFromBody({message: 'm'})).to.equal('m')
      expect(messageFromBody({error: 'invalid_client', error_description: 'bad secret'})).to.equal('bad secret')
      expect(messageFromBody({error: {message: 'nested'}})).to.equal('nested')
      expect(messageFromBody('  text body  ')).to.equal('text body')
      expect(messageFromBody({})).to.equal(undefined)
      expect(renderDetail(undefined)).to.equal(undefined)
    })

    it('network errors and timeouts exit 6', () => {
      expect(networkError(Object.assign(new Error('boom'), {code: 'ECONNRESET'}), 'list scans')).to.include({exit: 6, code: 'E_NETWORK'})
      expect(networkError(Object.assign(new Error('slow'), {name: 'TimeoutError', code: 'ETIMEDOUT'}), 'list scans').message).to.equal('list scans: request timed out (ETIMEDOUT): slow')
    })
  })

  describe('proxies from the environment', () => {
    it('HTTPS_PROXY gives agents for https targets; HTTP_PROXY for http', () => {
      process.env.HTTPS_PROXY = 'http://proxy.corp.test:3128'
      const a = proxyAgentFor('https://api.sase.paloaltonetworks.com/aims/data')
      expect(a?.https).to.not.equal(undefined)
      expect(proxyAgentFor('http://plain.test/')).to.equal(undefined)
      process.env.http_proxy = 'http://proxy.corp.test:8080'
      expect(proxyAgentFor('http://plain.test/')?.http).to.not.equal(undefined)
    })

    it('NO_PROXY bypasses hosts, domain suffixes, ports and *', () => {
      const u = new URL('https://api.sase.paloaltonetworks.com/x')
      expect(bypassProxy(u, 'localhost,.paloaltonetworks.com')).to.equal(true)
      expect(bypassProxy(u, 'paloaltonetworks.com')).to.equal(true)
      expect(bypassProxy(u, 'sase.paloaltonetworks.com:443')).to.equal(true)
      expect(bypassProxy(u, 'sase.paloaltonetworks.com:8443')).to.equal(false)
      expect(bypassProxy(u, 'example.com')).to.equal(false)
      expect(bypassProxy(u, '*')).to.equal(true)
      expect(bypassProxy(new URL('https://notpaloaltonetworks.com/'), 'paloaltonetworks.com')).to.equal(false)
      process.env.HTTPS_PROXY = 'http://proxy.corp.test:3128'
      process.env.NO_PROXY = '.airs.test'
      expect(proxyAgentFor('https://api.airs.test/aims/mgmt')).to.equal(undefined)
    })
  })
})
