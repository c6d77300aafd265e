/**
 * Retries with backoff: 429 honouring Retry-After, 5xx and connection resets for idempotent methods, exit 6 after
 * the last attempt, and never a replay of a POST that may have reached the server.
 */
import {expect} from 'chai'
import nock from 'nock'
import {type AddressInfo, createServer, type Server} from 'node:net'

import {parseRetryAfter} from '../../src/lib/airs/http.js'
import {GROUP_HF, GROUP_S3} from '../fixtures/mgmt.js'
import {apiRequests, expectConforming, HOST, jsonError, mockApi, mockToken, resetRequests, run, useCredentials} from '../helpers/api.js'

const LIST = '/v1/security-groups'
const page = {pagination: {total_items: 1}, security_groups: [GROUP_HF]}

describe('retry policy', () => {
  beforeEach(() => {
    resetRequests()
    useCredentials()
    process.env.DAYSTROM_RETRIES = '2'
    process.env.DAYSTROM_RETRY_BASE_MS = '5'
  })

  describe('retries', () => {
    it('a 429 with Retry-After: 1 is retried after about a second, then succeeds', async () => {
      const times: number[] = []
      mockToken()
      mockApi('mgmt', 'GET', LIST, 429, {detail: 'Too Many Requests'}, {headers: {'retry-after': '1'}}).on('request', () => times.push(Date.now()))
      mockApi('mgmt', 'GET', LIST, 200, page).on('request', () => times.push(Date.now()))
      const r = await run(['model-security', 'groups', 'list', '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal([GROUP_HF])
      expect(apiRequests()).to.have.length(2)
      // the backoff base is 5 ms here, so only Retry-After explains a gap this long
      expect(times[1] - times[0]).to.be.at.least(900)
      expectConforming()
    })

    it('three 503s exit 6 with a clear message (human)', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 503, {detail: 'Service Unavailable'}, {times: 3})
      const r = await run(['model-security', 'groups', 'list'])
      expect(r.exit).to.equal(6)
      expect(r.error?.message).to.equal('list security groups: the service is unavailable (HTTP 503) after retries: Service Unavailable')
      expect(apiRequests()).to.have.length(3)
    })

    it('three 503s exit 6 in --json mode: E_SERVER on stderr, nothing on stdout', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 503, 'upstream connect error', {times: 3, headers: {'content-type': 'text/plain'}})
      const r = await run(['model-security', 'groups', 'list', '--json'])
      expect(r.exit).to.equal(6)
      expect(r.stdout).to.equal('')
      const e = jsonError(r.stderr)
      expect(e).to.deep.include({code: 'E_SERVER', exit: 6, status: 503})
      expect(e.message).to.include('after retries: upstream connect error')
    })

    it('500 and 502 are retried for a GET', async () => {
      mockToken()
      mockApi('mgmt', 'GET', `${LIST}/${GROUP_HF.uuid}`, 500, {})
      mockApi('mgmt', 'GET', `${LIST}/${GROUP_HF.uuid}`, 502, {})
      mockApi('mgmt', 'GET', `${LIST}/${GROUP_HF.uuid}`, 200, GROUP_HF)
      const r = await run(['model-security', 'groups', 'get', GROUP_HF.uuid, '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(apiRequests()).to.have.length(3)
    })

    it('a PUT (idempotent) is retried on 503', async () => {
      mockToken()
      mockApi('mgmt', 'PUT', `${LIST}/${GROUP_S3.uuid}`, 503, {})
      mockApi('mgmt', 'PUT', `${LIST}/${GROUP_S3.uuid}`, 200, GROUP_S3)
      const r = await run(['model-security', 'groups', 'update', GROUP_S3.uuid, '--name', 'prod-s3-strict', '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(apiRequests().map(q => q.body)).to.deep.equal([{name: 'prod-s3-strict'}, {name: 'prod-s3-strict'}])
    })

    it('a POST that reached the server is not retried: a 503 means one request only, exit 6', async () => {
      mockToken()
      mockApi('mgmt', 'POST', LIST, 503, {detail: 'Service Unavailable'}, {times: 3})
      const r = await run(['model-security', 'groups', 'create', '--name', 'prod-s3-strict', '--source-type', 'S3'])
      expect(r.exit).to.equal(6)
      expect(r.error?.message).to.include('create security group: the service is unavailable (HTTP 503)')
      expect(apiRequests()).to.have.length(1)
    })

    describe('connection failures (a real loopback server: nock cannot simulate resets with got)', () => {
      let server: Server | undefined
      afterEach(async () => {
        if (server) await new Promise(resolve => server!.close(resolve))
        server = undefined
      })

      /** A server that accepts connections and resets each one once the request has arrived. */
      async function resettingServer(): Promise<{port: number; connections: () => number}> {
        let count = 0
        server = createServer(socket => {
          count++
          socket.once('data', () => socket.resetAndDestroy())
        })
        await new Promise<void>(resolve => server!.listen(0, '127.0.0.1', resolve))
        return {port: (server.address() as AddressInfo).port, connections: () => count}
      }

      async function closedPort(): Promise<number> {
        const s = createServer()
        await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
        const {port} = s.address() as AddressInfo
        await new Promise(resolve => s.close(resolve))
        return port
      }

      it('a POST whose connection was reset after sending (it may have arrived) is not retried', async () => {
        const srv = await resettingServer()
        process.env.PANW_MODEL_SEC_MGMT_ENDPOINT = `http://127.0.0.1:${srv.port}/aims/mgmt`
        mockToken()
        const r = await run(['model-security', 'groups', 'create', '--name', 'x1', '--source-type', 'S3', '--json'])
        expect(r.exit).to.equal(6)
        const e = jsonError(r.stderr)
        expect(e.code).to.equal('E_NETWORK')
        expect(e.message).to.include('create security group: network error (ECONNRESET)')
        expect(srv.connections()).to.equal(1)
      })

      it('a GET whose connection was reset is retried (3 attempts with DAYSTROM_RETRIES=2), then exits 6', async () => {
        const srv = await resettingServer()
        process.env.PANW_MODEL_SEC_MGMT_ENDPOINT = `http://127.0.0.1:${srv.port}/aims/mgmt`
        mockToken()
        const r = await run(['model-security', 'groups', 'list'])
        expect(r.exit).to.equal(6)
        expect(r.error?.message).to.include('list security groups: network error (ECONNRESET)')
        expect(srv.connections()).to.equal(3)
      })

      it('a POST whose connection was refused (never reached the server) is retried', async () => {
        const port = await closedPort()
        process.env.PANW_MODEL_SEC_MGMT_ENDPOINT = `http://127.0.0.1:${port}/aims/mgmt`
        mockToken()
        const r = await run(['model-security', 'groups', 'create', '--name', 'x1', '--source-type', 'S3', '--debug', '--json'])
        expect(r.exit).to.equal(6)
        expect(jsonError(r.stderr).message).to.include('ECONNREFUSED')
        expect(r.stderr).to.include('retry 1 of POST').and.include('retry 2 of POST')
        expect(r.stderr).not.to.include('retry 3 of POST')
      })
    })

    it('a 4xx is never retried', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 400, {detail: 'bad'}, {times: 3})
      const r = await run(['model-security', 'groups', 'list'])
      expect(r.exit).to.equal(5)
      expect(apiRequests()).to.have.length(1)
    })

    it('--retries 0 (or DAYSTROM_RETRIES=0) disables retries', async () => {
      mockToken()
      mockApi('mgmt', 'GET', LIST, 503, {}, {times: 3})
      const r = await run(['model-security', 'groups', 'list', '--retries', '0'])
      expect(r.exit).to.equal(6)
      expect(apiRequests()).to.have.length(1)
    })

    it('--retries above 10 is a usage error', async () => {
      const r = await run(['model-security', 'groups', 'list', '--retries', '11'])
      expect(r.exit).to.equal(2)
    })

    it('--http-timeout bounds one request: a slow answer exits 6 with "timed out"', async () => {
      process.env.DAYSTROM_RETRIES = '0'
      mockToken()
      nock(HOST).get('/aims/mgmt/v1/security-groups').query(true).delay(1500).reply(200, page)
      const r = await run(['model-security', 'groups', 'list', '--http-timeout', '0.2', '--json'])
      expect(r.exit).to.equal(6)
      const e = jsonError(r.stderr)
      expect(e.code).to.equal('E_TIMEOUT')
      expect(e.message).to.include('request timed out')
    })

    it('an invalid --http-timeout is a usage error before anything is sent', async () => {
      mockToken()
      const r = await run(['model-security', 'groups', 'list', '--http-timeout', 'soon'])
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.include('--http-timeout: invalid duration "soon"')
      expect(apiRequests()).to.deep.equal([])
    })
  })

  describe('parseRetryAfter', () => {
    it('reads seconds and HTTP dates', () => {
      expect(parseRetryAfter('1')).to.equal(1000)
      expect(parseRetryAfter('2.5')).to.equal(2500)
      expect(parseRetryAfter(['3'])).to.equal(3000)
      const now = Date.parse('2026-01-01T00:00:00Z')
      expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).to.equal(10_000)
      expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).to.equal(0)
      expect(parseRetryAfter(undefined)).to.equal(undefined)
      expect(parseRetryAfter('soon')).to.equal(undefined)
    })
  })
})
