/**
 * Secrets: with --debug every request and response is logged to stderr, yet no client secret, access token or
 * Basic credential appears anywhere in stdout or stderr, in any command (including auth login/status).
 */
import {expect} from 'chai'
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'

import {maskUrlCredentials, redact, redactHeaders, registerSecret} from '../../src/lib/airs/redact.js'
import {GROUP_HF} from '../fixtures/mgmt.js'
import {CREDS, ENDPOINTS, mockApi, mockToken, resetRequests, run, TOKEN, useCredentials} from '../helpers/api.js'
import {quoteArgs, withStdin} from './support.js'

const BASIC = Buffer.from(`${CREDS.clientId}:${CREDS.clientSecret}`).toString('base64')
const SECRETS = [CREDS.clientSecret, TOKEN, BASIC, 'second-token-after-401']

function expectNoSecrets(...outputs: string[]): void {
  for (const out of outputs) {
    for (const s of SECRETS) expect(out, `leaked ${s.slice(0, 6)}…`).not.to.include(s)
    // partial leaks too: the token's distinctive middle part and half of the secret
    expect(out).not.to.include('test-access-token')
    expect(out).not.to.include(CREDS.clientSecret.slice(0, 12))
  }
}

describe('redaction', () => {
  beforeEach(() => {
    resetRequests()
    useCredentials()
  })

  describe('secrets never reach the output', () => {
    it('--debug on a list logs requests and responses with Authorization and tokens masked', async () => {
      mockToken()
      mockApi('mgmt', 'GET', '/v1/security-groups', 200, {pagination: {total_items: 1}, security_groups: [GROUP_HF]})
      const r = await run(['model-security', 'groups', 'list', '--debug'])
      expect(r.exit, r.stderr).to.equal(0)
      // the debug log is really there...
      expect(r.stderr).to.include(`[debug] → POST ${ENDPOINTS.token}`)
      expect(r.stderr).to.include('[debug] → GET https://api.airs.test/aims/mgmt/v1/security-groups')
      expect(r.stderr).to.match(/\[debug\] ← 200 GET/)
      expect(r.stderr).to.include('"authorization":"Basic ****"')
      expect(r.stderr).to.include('"authorization":"Bearer ****"')
      expect(r.stderr).to.include('grant_type=client_credentials&scope=tsg_id%3A1234567890')
      expect(r.stderr).to.include('"access_token":"****"')
      // ...and leaks nothing
      expectNoSecrets(r.stdout, r.stderr)
    })

    it('DAYSTROM_DEBUG=1 works like --debug, in --json mode too', async () => {
      process.env.DAYSTROM_DEBUG = '1'
      mockToken()
      mockApi('mgmt', 'GET', `/v1/security-groups/${GROUP_HF.uuid}`, 200, GROUP_HF)
      const r = await run(['model-security', 'groups', 'get', GROUP_HF.uuid, '--json'])
      expect(r.exit).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal(GROUP_HF)
      expect(r.stderr).to.include('[debug] → GET')
      expectNoSecrets(r.stdout, r.stderr)
    })

    it('--debug through a 401 replay, a retry and an error: still nothing leaks', async () => {
      process.env.DAYSTROM_RETRIES = '1'
      process.env.DAYSTROM_RETRY_BASE_MS = '5'
      mockToken()
      mockToken({token: 'second-token-after-401'})
      mockApi('mgmt', 'GET', '/v1/security-groups', 401, {detail: `token ${TOKEN} expired`})
      mockApi('mgmt', 'GET', '/v1/security-groups', 503, {detail: 'busy'}, {times: 2})
      const r = await run(['model-security', 'groups', 'list', '--debug'])
      expect(r.exit).to.equal(6)
      expect(r.stderr).to.include('↻ retry 1 of GET')
      expectNoSecrets(r.stdout, r.stderr, r.error?.message ?? '')
    })

    it('the token endpoint echoing the secret in an error is masked too', async () => {
      const {default: nock} = await import('nock')
      nock('https://auth.airs.test').post('/oauth2/access_token').reply(401, {error: 'invalid_client', error_description: `client_secret ${CREDS.clientSecret} is wrong`})
      const r = await run(['model-security', 'groups', 'list', '--debug', '--json'])
      expect(r.exit).to.equal(3)
      expectNoSecrets(r.stdout, r.stderr.split('\n').filter(l => l.startsWith('[debug]')).join('\n'))
    })

    it('auth login --debug (secret on stdin, verified) and auth status --debug leak nothing', async () => {
      for (const k of Object.keys(process.env)) if (k.startsWith('PANW_')) delete process.env[k]
      mockToken({times: 2})
      const args = quoteArgs(['auth', 'login', '--client-id', CREDS.clientId, '--tsg-id', CREDS.tsgId, '--token-endpoint', ENDPOINTS.token,
        '--mgmt-endpoint', ENDPOINTS.mgmt, '--data-endpoint', ENDPOINTS.data, '--client-secret-stdin', '--debug'])
      const login = await withStdin(CREDS.clientSecret + '\n', () => run(args))
      expect(login.exit, login.stderr).to.equal(0)
      expect(login.stderr).to.include('[debug] → POST')
      expectNoSecrets(login.stdout, login.stderr)
      const loginJson = await withStdin(CREDS.clientSecret, () => run([...args, '--json', '--no-verify']))
      expectNoSecrets(loginJson.stdout, loginJson.stderr)
      expect(JSON.parse(loginJson.stdout).client_secret).to.equal('S3****7d')
      // the secret is only in the 0600 credentials file, never in config.json
      expect(readFileSync(join(process.env.DAYSTROM_CONFIG_DIR!, 'config.json'), 'utf8')).not.to.include(CREDS.clientSecret)
      // the login's token is cached; drop it so that status really requests one
      rmSync(join(process.env.DAYSTROM_CACHE_DIR!, 'tokens'), {recursive: true, force: true})
      const status = await run(['auth', 'status', '--debug'])
      expect(status.exit, status.stderr).to.equal(0)
      expect(status.stderr).to.include('[debug] → POST')
      expectNoSecrets(status.stdout, status.stderr)
      const statusJson = await run(['auth', 'status', '--json', '--offline'])
      expectNoSecrets(statusJson.stdout, statusJson.stderr)
    })
  })

  describe('redact()', () => {
    it('masks Bearer/Basic credentials, token fields in JSON and forms, and URL passwords', () => {
      expect(redact('Authorization: Bearer abc.def-ghi')).to.equal('Authorization: Bearer ****')
      expect(redact('authorization: Basic dXNlcjpwYXNz')).to.equal('authorization: Basic ****')
      expect(redact('{"access_token":"eyJ.x.y","token_type":"Bearer"}')).to.equal('{"access_token":"****","token_type":"Bearer"}')
      expect(redact('{"client_secret": "s3cr3t"}')).to.equal('{"client_secret": "****"}')
      expect(redact('grant_type=client_credentials&client_secret=abc&access_token=xyz')).to.equal('grant_type=client_credentials&client_secret=****&access_token=****')
      expect(redact('https://user:tok3n@pypi.example/simple/')).to.equal('https://user:****@pypi.example/simple/')
      expect(maskUrlCredentials('see https://aims:abc123@pypi.test/simple and http://x.test/')).to.equal('see https://aims:****@pypi.test/simple and http://x.test/')
    })

    it('masks registered secrets wherever they appear; short values are not registered', () => {
      registerSecret('registered-secret-value-42')
      registerSecret('abc')
      expect(redact('error: registered-secret-value-42 rejected; abc stays')).to.equal('error: **** rejected; abc stays')
    })

    it('redactHeaders masks auth headers but keeps their scheme', () => {
      expect(redactHeaders({authorization: 'Bearer t0k', 'proxy-authorization': 'Basic Zm9v', cookie: 'a=b', 'x-pan-token': 'zzz', accept: 'application/json'}))
        .to.deep.equal({authorization: 'Bearer ****', 'proxy-authorization': 'Basic ****', cookie: '****', 'x-pan-token': '****', accept: 'application/json'})
    })
  })
})
