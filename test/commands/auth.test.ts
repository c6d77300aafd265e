/** auth login|status|logout|profiles: files written, secrets handled, exit codes. */
import {expect} from 'chai'
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {CREDS, ENDPOINTS, jsonError, mockToken, requests, resetRequests, run} from '../helpers/api.js'
import {lines, quoteArgs, withStdin} from '../lib/support.js'

const configFile = () => join(process.env.DAYSTROM_CONFIG_DIR!, 'config.json')
const credentialsFile = () => join(process.env.DAYSTROM_CONFIG_DIR!, 'credentials.json')
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'))
const tokenRequests = () => requests.filter(r => r.plane === 'token')
const LOGIN = ['auth', 'login', '--client-id', CREDS.clientId, '--tsg-id', CREDS.tsgId, '--token-endpoint', ENDPOINTS.token,
  '--mgmt-endpoint', ENDPOINTS.mgmt, '--data-endpoint', ENDPOINTS.data]
const login = (extra: string[] = [], stdin = CREDS.clientSecret + '\n') => withStdin(stdin, () => run(quoteArgs([...LOGIN, ...extra])))

function saveProfiles(): void {
  mkdirSync(process.env.DAYSTROM_CONFIG_DIR!, {recursive: true})
  writeFileSync(configFile(), JSON.stringify({current_profile: 'work', profiles: {
    work: {client_id: 'work-client', tsg_id: '111', mgmt_endpoint: ENDPOINTS.mgmt, data_endpoint: ENDPOINTS.data, token_endpoint: ENDPOINTS.token},
    staging: {client_id: 'staging-client', tsg_id: '222'},
  }}))
  writeFileSync(credentialsFile(), JSON.stringify({profiles: {work: {client_secret: CREDS.clientSecret}}}), {mode: 0o600})
}

describe('auth commands', () => {
  beforeEach(() => {
    resetRequests()
  })

  describe('auth login', () => {
    it('flags + secret on stdin, verified with one token request: settings in config.json, secret in 0600 credentials.json', async () => {
      mockToken()
      const r = await login(['--client-secret-stdin'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stderr).to.include('Saved profile "default"').and.include('mode 0600').and.include('a token was obtained')
      expect(tokenRequests()).to.have.length(1)
      expect(tokenRequests()[0].headers.authorization).to.equal(`Basic ${Buffer.from(`${CREDS.clientId}:${CREDS.clientSecret}`).toString('base64')}`)
      expect(readJson(configFile())).to.deep.equal({current_profile: 'default', profiles: {default: {
        client_id: CREDS.clientId, tsg_id: CREDS.tsgId, data_endpoint: ENDPOINTS.data, mgmt_endpoint: ENDPOINTS.mgmt, token_endpoint: ENDPOINTS.token,
      }}})
      expect(readJson(credentialsFile())).to.deep.equal({profiles: {default: {client_secret: CREDS.clientSecret}}})
      expect(statSync(credentialsFile()).mode & 0o777).to.equal(0o600)
    })

    it('--json returns the saved profile with the secret masked; piping the secret works without the flag', async () => {
      const r = await login(['--no-verify', '--json', '--profile', 'ci'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal({profile: 'ci', client_id: CREDS.clientId, tsg_id: CREDS.tsgId, client_secret: 'S3****7d',
        verified: false, settings_file: configFile(), credentials_file: credentialsFile()})
      expect(r.stdout + r.stderr).not.to.include(CREDS.clientSecret)
      expect(tokenRequests()).to.deep.equal([])
      expect(readJson(configFile()).current_profile).to.equal('ci')
    })

    it('rejected credentials: exit 3 and nothing saved', async () => {
      mockToken({status: 401})
      const r = await login(['--client-secret-stdin'])
      expect(r.exit).to.equal(3)
      expect(r.error?.message).to.include('credentials not saved: the token endpoint rejected the client credentials (HTTP 401)')
      expect(existsSync(configFile())).to.equal(false)
      expect(existsSync(credentialsFile())).to.equal(false)
      const j = await withStdin('x-secret-value', () => run(quoteArgs([...LOGIN, '--json'])))
      expect(j.exit).to.equal(3)
      expect(j.stdout).to.equal('')
      expect(jsonError(j.stderr).exit).to.equal(3)
    })

    it('--client-secret as a plain flag needs --insecure-secret-flag (exit 2 otherwise, nothing saved)', async () => {
      const r = await run(quoteArgs([...LOGIN, '--client-secret', 'history-secret-1', '--no-verify']))
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.include('shell history').and.include('--client-secret-stdin')
      expect(existsSync(credentialsFile())).to.equal(false)
      const ok = await run(quoteArgs([...LOGIN, '--client-secret', 'history-secret-1', '--insecure-secret-flag', '--no-verify']))
      expect(ok.exit, ok.stderr).to.equal(0)
      expect(readJson(credentialsFile()).profiles.default.client_secret).to.equal('history-secret-1')
    })

    it('without a terminal, missing settings are a usage error naming them', async () => {
      const r = await withStdin('', () => run(['auth', 'login', '--no-verify']))
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.include('missing --client-id, --tsg-id, the client secret (--client-secret-stdin) (no terminal to prompt on)')
    })

    it('a non-URL endpoint or a bad profile name is a usage error', async () => {
      const bad = await withStdin('s3cret-value', () => run(['auth', 'login', '--client-id', 'c', '--tsg-id', '1', '--mgmt-endpoint', 'api.example.com', '--no-verify']))
      expect(bad.exit).to.equal(2)
      expect(bad.error?.message).to.include('--mgmt-endpoint: expected an http(s) URL')
      const name = await login(['--profile', 'no/slashes', '--no-verify'])
      expect(name.exit).to.equal(2)
      expect(name.error?.message).to.include('--profile: invalid name "no/slashes"')
    })

    it('updating a profile keeps its saved secret when none is given', async () => {
      saveProfiles()
      const r = await withStdin('', () => run(['auth', 'login', '--profile', 'work', '--tsg-id', '999', '--no-verify', '--json']))
      expect(r.exit, r.stderr).to.equal(0)
      expect(readJson(configFile()).profiles.work).to.deep.include({client_id: 'work-client', tsg_id: '999'})
      expect(readJson(credentialsFile()).profiles.work.client_secret).to.equal(CREDS.clientSecret)
    })
  })

  describe('auth status', () => {
    it('shows each setting with its source, the secret masked, and a successful token check (exit 0)', async () => {
      saveProfiles()
      mockToken()
      const r = await run(['auth', 'status', '--no-truncate'])
      expect(r.exit, r.stderr).to.equal(0)
      const out = lines(r.stdout)
      expect(out[0]).to.equal(`Profile: work (${configFile()} current_profile)`)
      expect(r.stdout).to.match(/client_id\s+work-client\s+profile "work"/)
      expect(r.stdout).to.match(/client_secret\s+S3\*\*\*\*7d\s+profile "work" \(.*credentials\.json\)/)
      expect(r.stdout).to.match(/tsg_id\s+111\s+profile "work"/)
      expect(r.stdout).to.include(`Token: OK - a token was obtained from ${ENDPOINTS.token}`)
      expect(r.stdout + r.stderr).not.to.include(CREDS.clientSecret)
      expect((tokenRequests()[0].body as {scope: string}).scope).to.equal('tsg_id:111')
    })

    it('--json: {profile, settings, token}', async () => {
      saveProfiles()
      mockToken()
      const r = await run(['auth', 'status', '--json'])
      expect(r.exit).to.equal(0)
      const s = JSON.parse(r.stdout)
      expect(s.profile).to.deep.equal({name: 'work', source: `${configFile()} current_profile`, exists: true})
      expect(s.settings.client_secret.value).to.equal('S3****7d')
      expect(s.token).to.deep.equal({ok: true, message: `a token was obtained from ${ENDPOINTS.token}`})
    })

    it('rejected credentials: exit 3 (human and --json), the reason reported', async () => {
      saveProfiles()
      mockToken({status: 401, times: 2})
      const h = await run(['auth', 'status'])
      expect(h.exit).to.equal(3)
      expect(h.stdout).to.include('Token: FAILED - the token endpoint rejected the client credentials (HTTP 401)')
      const j = await run(['auth', 'status', '--json'])
      expect(j.exit).to.equal(3)
      expect(JSON.parse(j.stdout).token).to.deep.include({ok: false, code: 'E_TOKEN_REJECTED'})
    })

    it('missing credentials: exit 3 with E_AUTH_MISSING, no token request', async () => {
      mockToken()
      const r = await run(['auth', 'status', '--json'])
      expect(r.exit).to.equal(3)
      expect(JSON.parse(r.stdout).token).to.deep.include({ok: false, code: 'E_AUTH_MISSING'})
      expect(tokenRequests()).to.deep.equal([])
    })

    it('--offline makes no request and exits 0 even without credentials', async () => {
      mockToken()
      const r = await run(['auth', 'status', '--offline'])
      expect(r.exit).to.equal(0)
      expect(r.stdout).to.match(/client_id\s+\(unset\)\s+unset/)
      expect(r.stdout).not.to.include('Token:')
      expect(tokenRequests()).to.deep.equal([])
    })
  })

  describe('auth profiles and logout', () => {
    it('profiles lists saved profiles with the current one marked (table and --json)', async () => {
      saveProfiles()
      const t = await run(['auth', 'profiles'])
      expect(t.exit).to.equal(0)
      const out = lines(t.stdout).map(l => l.split(/\s{2,}/))
      expect(out[0]).to.deep.equal(['NAME', 'CURRENT', 'CLIENT ID', 'TSG', 'SECRET'])
      expect(out[1]).to.deep.equal(['staging', 'staging-client', '222', 'none'])
      expect(out[2]).to.deep.equal(['work', '*', 'work-client', '111', 'saved'])
      const j = await run(['auth', 'profiles', '--json'])
      expect(JSON.parse(j.stdout).map((p: {name: string; current: boolean; has_secret: boolean}) => [p.name, p.current, p.has_secret]))
        .to.deep.equal([['staging', false, false], ['work', true, true]])
      expect(j.stdout).not.to.include(CREDS.clientSecret)
    })

    it('profiles with nothing saved: [] / "No items."', async () => {
      const j = await run(['auth', 'profiles', '--json'])
      expect(JSON.parse(j.stdout)).to.deep.equal([])
    })

    it('logout removes the profile\'s settings and secret and the cached tokens', async () => {
      saveProfiles()
      const tokens = join(process.env.DAYSTROM_CACHE_DIR!, 'tokens')
      mkdirSync(tokens, {recursive: true})
      writeFileSync(join(tokens, 'x.json'), '{}')
      const r = await run(['auth', 'logout', '--json'])
      expect(r.exit).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal({profile: 'work', removed: true})
      expect(readJson(configFile())).to.deep.equal({profiles: {staging: {client_id: 'staging-client', tsg_id: '222'}}})
      expect(readJson(credentialsFile())).to.deep.equal({profiles: {}})
      expect(existsSync(tokens)).to.equal(false)
      const again = await run(['auth', 'logout', '--profile', 'work'])
      expect(again.exit).to.equal(0)
      expect(again.stderr).to.include('No saved profile "work"')
    })
  })
})
