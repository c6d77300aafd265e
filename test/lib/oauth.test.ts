/**
 * OAuth2 client credentials: the token request (Basic auth, form fields), the 0600 disk cache reused across
 * invocations, refresh 30 s before expiry, one refresh-and-replay on 401/403, and exit 3 when that fails.
 */
import {expect} from 'chai'
import {existsSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import nock from 'nock'

import {TOKEN_REFRESH_MARGIN_MS, TokenProvider} from '../../src/lib/airs/auth.js'
import {HttpTransport} from '../../src/lib/airs/http.js'
import {GROUP_HF} from '../fixtures/mgmt.js'
import {
  apiRequests, AUTH_HOST, CREDS, ENDPOINTS, expectConforming, jsonError, mockApi, mockToken, requests, resetRequests, run, TOKEN,
  useCredentials,
} from '../helpers/api.js'

const LIST = '/v1/security-groups'
const page = {pagination: {total_items: 1}, security_groups: [GROUP_HF]}
const tokenRequests = () => requests.filter(r => r.plane === 'token')
const tokenDir = () => join(process.env.DAYSTROM_CACHE_DIR!, 'tokens')
const tokenFiles = () => (existsSync(tokenDir()) ? readdirSync(tokenDir()).filter(f => f.endsWith('.json')) : [])
const listGroups = (...extra: string[]) => run(['model-security', 'groups', 'list', '--json', ...extra])

describe('oauth', () => {
  beforeEach(() => {
    resetRequests()
    useCredentials()
  })

  describe('OAuth client credentials', () => {
    it('requests a token with Basic auth and grant_type=client_credentials, scope=tsg_id:<id>; the API gets the bearer', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 200, page)
      const r = await listGroups()
      expect(r.exit, r.stderr).to.equal(0)
      const [t] = tokenRequests()
      const basic = Buffer.from(`${CREDS.clientId}:${CREDS.clientSecret}`).toString('base64')
      expect(t.headers.authorization).to.equal(`Basic ${basic}`)
      expect(String(t.headers['content-type'])).to.match(/^application\/x-www-form-urlencoded/)
      expect(t.body).to.deep.equal({grant_type: 'client_credentials', scope: `tsg_id:${CREDS.tsgId}`})
      expect(String(t.headers['user-agent'])).to.match(/^daystrom\/\d+\.\d+\.\d+/)
      expect(apiRequests()[0].headers.authorization).to.equal(`Bearer ${TOKEN}`)
      expectConforming()
    })

    it('reuses the token across two invocations through the disk cache (second run: no token request); the cache file is 0600', async () => {
      mockToken({times: 1})
      mockApi('mgmt', 'GET', LIST, 200, page, {times: 2})
      const first = await listGroups()
      expect(first.exit, first.stderr).to.equal(0)
      const files = tokenFiles()
      expect(files).to.have.length(1)
      const file = join(tokenDir(), files[0])
      expect(statSync(file).mode & 0o777).to.equal(0o600)
      const cached = JSON.parse(readFileSync(file, 'utf8'))
      expect(cached.access_token).to.equal(TOKEN)
      expect(cached.expires_at).to.be.within(Date.now() + 800_000, Date.now() + 900_000)
      const second = await listGroups()
      expect(second.exit, second.stderr).to.equal(0)
      expect(tokenRequests()).to.have.length(1)
      expect(apiRequests().map(r => r.headers.authorization)).to.deep.equal([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`])
    })

    it('a token expiring within 30 s is not reused: expires_in 20 -> the next run fetches again', async () => {
      mockToken({expiresIn: 20, token: 'short-lived-token-1'})
      mockToken({expiresIn: 20, token: 'short-lived-token-2'})
      mockApi('mgmt', 'GET', LIST, 200, page, {times: 2})
      expect((await listGroups()).exit).to.equal(0)
      expect((await listGroups()).exit).to.equal(0)
      expect(tokenRequests()).to.have.length(2)
      expect(apiRequests().map(r => r.headers.authorization)).to.deep.equal(['Bearer short-lived-token-1', 'Bearer short-lived-token-2'])
    })

    it('the cache is keyed by token URL, client id and TSG: another TSG gets its own token', async () => {
      mockToken({times: 2})
      mockApi('mgmt', 'GET', LIST, 200, page, {times: 2})
      expect((await listGroups()).exit).to.equal(0)
      process.env.PANW_MODEL_SEC_TSG_ID = '999'
      expect((await listGroups()).exit).to.equal(0)
      expect(tokenRequests().map(t => (t.body as {scope: string}).scope)).to.deep.equal([`tsg_id:${CREDS.tsgId}`, 'tsg_id:999'])
      expect(tokenFiles()).to.have.length(2)
    })

    it('an unreadable cache file only costs a token request', async () => {
      mockToken({times: 2})
      mockApi('mgmt', 'GET', LIST, 200, page, {times: 2})
      expect((await listGroups()).exit).to.equal(0)
      writeFileSync(join(tokenDir(), tokenFiles()[0]), '{not json')
      expect((await listGroups()).exit).to.equal(0)
      expect(tokenRequests()).to.have.length(2)
    })

    it('parallel requests in one invocation share one token request', async () => {
      mockToken({times: 1})
      mockApi('mgmt', 'GET', LIST, 200, page)
      mockApi('mgmt', 'GET', '/v1/security-rules', 200, {pagination: {total_items: 0}, rules: [{uuid: '7f3e1c2a-5b4d-4e6f-8a9b-0c1d2e3f4a5b', name: 'Rule X'}]})
      mockApi('mgmt', 'GET', `${LIST}/${GROUP_HF.uuid}/rule-instances`, 200, {pagination: {total_items: 0}, rule_instances: []})
      // group and rule names resolve concurrently (Promise.all)
      const r = await run(['model-security', 'rule-instances', 'list', '"Default HUGGING_FACE"', '--rule', '"Rule X"', '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(tokenRequests()).to.have.length(1)
    })

    describe('401/403 from the API', () => {
      it('a 401 refreshes the token once and replays the request: success', async () => {
        mockToken({token: 'first-token-aaaa'})
        mockToken({token: 'second-token-bbbb'})
        mockApi('mgmt', 'GET', LIST, 401, {detail: 'Token expired'})
        mockApi('mgmt', 'GET', LIST, 200, page)
        const r = await listGroups()
        expect(r.exit, r.stderr).to.equal(0)
        expect(JSON.parse(r.stdout)).to.deep.equal([GROUP_HF])
        expect(tokenRequests()).to.have.length(2)
        expect(apiRequests().map(q => q.headers.authorization)).to.deep.equal(['Bearer first-token-aaaa', 'Bearer second-token-bbbb'])
        // the replacement token is what the cache now holds
        expect(JSON.parse(readFileSync(join(tokenDir(), tokenFiles()[0]), 'utf8')).access_token).to.equal('second-token-bbbb')
      })

      it('a 403 also refreshes and replays once (PUT body replayed unchanged)', async () => {
        mockToken({times: 2})
        mockApi('mgmt', 'PUT', `${LIST}/${GROUP_HF.uuid}`, 403, {detail: 'Forbidden'})
        mockApi('mgmt', 'PUT', `${LIST}/${GROUP_HF.uuid}`, 200, GROUP_HF)
        const r = await run(['model-security', 'groups', 'update', GROUP_HF.uuid, '--name', 'renamed', '--json'])
        expect(r.exit, r.stderr).to.equal(0)
        expect(apiRequests().map(q => q.body)).to.deep.equal([{name: 'renamed'}, {name: 'renamed'}])
      })

      it('a second 401 exits 3 (no third attempt), human and --json', async () => {
        mockToken({times: 4})
        mockApi('mgmt', 'GET', LIST, 401, {detail: 'Invalid token'}, {times: 4})
        const h = await run(['model-security', 'groups', 'list'])
        expect(h.exit).to.equal(3)
        expect(h.error?.message).to.equal('list security groups: authentication failed (HTTP 401): Invalid token')
        expect(apiRequests()).to.have.length(2)
        expect(tokenRequests()).to.have.length(2)
        const j = await listGroups()
        expect(j.exit).to.equal(3)
        expect(j.stdout).to.equal('')
        expect(jsonError(j.stderr)).to.deep.include({code: 'E_AUTH_REJECTED', exit: 3, status: 401})
        expect(apiRequests()).to.have.length(4)
      })

      it('the token endpoint rejecting the credentials exits 3 with its message, and no API request is made', async () => {
        mockToken({status: 401})
        const r = await run(['model-security', 'groups', 'list'])
        expect(r.exit).to.equal(3)
        expect(r.error?.message).to.equal('the token endpoint rejected the client credentials (HTTP 401): Client authentication failed')
        expect(apiRequests()).to.deep.equal([])
        expect(tokenRequests()).to.have.length(1)
        expect(tokenFiles()).to.deep.equal([])
      })

      it('a token response without access_token exits 3', async () => {
        nock(AUTH_HOST).post('/oauth2/access_token').reply(200, {token_type: 'Bearer'})
        const r = await listGroups()
        expect(r.exit).to.equal(3)
        expect(jsonError(r.stderr).code).to.equal('E_AUTH_INVALID_RESPONSE')
      })
    })
  })

  describe('TokenProvider (unit, injected clock)', () => {
    const creds = {clientId: CREDS.clientId, clientSecret: CREDS.clientSecret, tsgId: CREDS.tsgId, tokenEndpoint: ENDPOINTS.token}
    const http = () => new HttpTransport({retries: 0, timeoutMs: 5000, userAgent: 'daystrom-test'})

    it('reuses a token until 30 s before expiry, then fetches a new one (memory and disk)', async () => {
      let now = 1_000_000
      mockToken({expiresIn: 100, token: 'clock-token-1'})
      mockToken({expiresIn: 100, token: 'clock-token-2'})
      const cache = process.env.DAYSTROM_CACHE_DIR!
      const p = new TokenProvider(creds, http(), cache, () => now)
      expect(await p.token()).to.equal('clock-token-1')
      now += 100_000 - TOKEN_REFRESH_MARGIN_MS - 1
      expect(await p.token()).to.equal('clock-token-1')
      // a second provider (a new invocation) reads the disk cache with the same rule
      expect(await new TokenProvider(creds, http(), cache, () => now).token()).to.equal('clock-token-1')
      now += 2
      expect(await p.token()).to.equal('clock-token-2')
      expect(tokenRequests()).to.have.length(2)
    })

    it('invalidate() forgets the token in memory and on disk', async () => {
      mockToken({times: 2})
      const cache = process.env.DAYSTROM_CACHE_DIR!
      const p = new TokenProvider(creds, http(), cache)
      await p.token()
      expect(tokenFiles()).to.have.length(1)
      p.invalidate()
      expect(tokenFiles()).to.have.length(0)
      await p.token()
      expect(tokenRequests()).to.have.length(2)
    })
  })
})
