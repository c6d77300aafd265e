/**
 * daystrom's own files and credential resolution: a malformed or schema-invalid config.json / credentials.json is
 * exit 7 naming the file and the pointer (never ignored, nothing sent); resolution order flag > env
 * (PANW_MODEL_SEC_* > PANW_MGMT_* > MODEL_SECURITY_* / TSG_ID) > profile > default, as `auth status` shows it.
 */
import {expect} from 'chai'
import {mkdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {GROUP_HF} from '../fixtures/mgmt.js'
import {apiRequests, CREDS, ENDPOINTS, jsonError, mockApi, mockToken, requests, resetRequests, run, useCredentials} from '../helpers/api.js'

const configDir = () => process.env.DAYSTROM_CONFIG_DIR!
const configFile = () => join(configDir(), 'config.json')
const credentialsFile = () => join(configDir(), 'credentials.json')

function writeConfig(doc: unknown, file = configFile()): void {
  mkdirSync(configDir(), {recursive: true})
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2))
}

interface StatusJson { profile: {name: string; source: string; exists: boolean}; settings: Record<string, {value: string | null; source: string}>; token: unknown }
async function status(...args: string[]): Promise<StatusJson> {
  const r = await run(['auth', 'status', '--offline', '--json', ...args])
  expect(r.exit, r.stderr).to.equal(0)
  return JSON.parse(r.stdout) as StatusJson
}

const PROFILE = {client_id: 'profile-client', tsg_id: '111', data_endpoint: 'https://profile.test/aims/data', mgmt_endpoint: 'https://profile.test/aims/mgmt', token_endpoint: 'https://profile.test/token'}

describe('config files and credential resolution', () => {
  beforeEach(() => {
    resetRequests()
  })

  describe('config files', () => {
    for (const [what, file, content, pattern] of [
      ['malformed config.json', configFile, '{"profiles": {', /config\.json: is not valid JSON/],
      ['malformed credentials.json', credentialsFile, 'client_secret=abc', /credentials\.json: is not valid JSON/],
      ['schema-invalid profile (bad endpoint, unknown key)', configFile, {profiles: {default: {client_id: 'x', data_endpoint: 'ftp://x', colour: 'red'}}},
        /config\.json: is invalid:(?=[\s\S]*\n {2}\/profiles\/default\/data_endpoint: must match \^https\?:\/\/)(?=[\s\S]*\n {2}\/profiles\/default\/colour: unknown key "colour")/],
      ['invalid profile name', configFile, {profiles: {'bad name!': {}}}, /\/profiles\/bad name!: has an invalid key "bad name!"/],
      ['credentials with an unknown key', credentialsFile, {profiles: {default: {client_secret: 'x', token: 'y'}}}, /credentials\.json: is invalid:\n {2}\/profiles\/default\/token: unknown key "token"/],
      ['a wrong type at the root', configFile, '[]', /config\.json: is invalid:\n {2}\/: must be object/],
    ] as Array<[string, () => string, unknown, RegExp]>) {
      it(`${what}: exit 7 naming the file and pointer, nothing sent (human and --json)`, async () => {
        useCredentials()
        writeConfig(content, file())
        mockToken()
        const h = await run(['model-security', 'groups', 'list'])
        expect(h.exit, h.stderr).to.equal(7)
        expect(h.error?.message).to.include(file()).and.match(pattern)
        const j = await run(['model-security', 'groups', 'list', '--json'])
        expect(j.exit).to.equal(7)
        expect(j.stdout).to.equal('')
        const e = jsonError(j.stderr) as unknown as {code: string; exit: number; details: {file: string}}
        expect(e).to.include({code: 'E_CONFIG_INVALID', exit: 7})
        expect(e.details.file).to.equal(file())
        expect(requests).to.deep.equal([])
      })
    }

    it('auth commands report a broken file the same way', async () => {
      writeConfig('{', configFile())
      for (const argv of [['auth', 'status', '--offline'], ['auth', 'profiles'], ['auth', 'logout']]) {
        const r = await run(argv)
        expect(r.exit, argv.join(' ')).to.equal(7)
        expect(r.error?.message).to.include(configFile())
      }
    })

    it('the JSON error lists each problem with its pointer', async () => {
      writeConfig({current_profile: '', profiles: {default: {tsg_id: 7}}})
      const r = await run(['auth', 'status', '--offline', '--json'])
      expect(r.exit).to.equal(7)
      const e = JSON.parse(r.stderr.trim()).error
      expect(e.details.problems).to.deep.include.members([
        {pointer: '/current_profile', message: 'must NOT have fewer than 1 characters'},
        {pointer: '/profiles/default/tsg_id', message: 'must be string'},
      ])
    })

    it('an empty file counts as empty settings', async () => {
      writeConfig('')
      const s = await status()
      expect(s.profile).to.deep.equal({name: 'default', source: 'default', exists: false})
    })
  })

  describe('credential resolution: flag > env > profile > default', () => {
    beforeEach(() => {
      writeConfig({current_profile: 'work', profiles: {work: PROFILE, other: {client_id: 'other-client'}}})
      writeConfig({profiles: {work: {client_secret: 'profile-secret-123456'}}}, credentialsFile())
    })

    it('a profile alone supplies every setting; the secret is masked', async () => {
      const s = await status()
      expect(s.profile).to.deep.equal({name: 'work', source: `${configFile()} current_profile`, exists: true})
      expect(s.settings.client_id).to.deep.equal({value: 'profile-client', source: `profile "work" (${configFile()})`})
      expect(s.settings.client_secret).to.deep.equal({value: 'pr****56', source: `profile "work" (${credentialsFile()})`})
      expect(s.settings.tsg_id.value).to.equal('111')
      expect(s.settings.mgmt_endpoint).to.deep.equal({value: PROFILE.mgmt_endpoint, source: `profile "work" (${configFile()})`})
    })

    it('env families in order: PANW_MODEL_SEC_* > PANW_MGMT_* > MODEL_SECURITY_* / TSG_ID, each over the profile', async () => {
      process.env.MODEL_SECURITY_CLIENT_ID = 'python-sdk-client'
      process.env.TSG_ID = '333'
      process.env.MODEL_SECURITY_CLIENT_SECRET = 'python-sdk-secret-xyz'
      let s = await status()
      expect(s.settings.client_id).to.deep.equal({value: 'python-sdk-client', source: 'env MODEL_SECURITY_CLIENT_ID'})
      expect(s.settings.tsg_id).to.deep.equal({value: '333', source: 'env TSG_ID'})
      expect(s.settings.client_secret.source).to.equal('env MODEL_SECURITY_CLIENT_SECRET')
      process.env.PANW_MGMT_CLIENT_ID = 'mgmt-client'
      process.env.PANW_MGMT_TSG_ID = '222'
      s = await status()
      expect(s.settings.client_id).to.deep.equal({value: 'mgmt-client', source: 'env PANW_MGMT_CLIENT_ID'})
      expect(s.settings.tsg_id).to.deep.equal({value: '222', source: 'env PANW_MGMT_TSG_ID'})
      process.env.PANW_MODEL_SEC_CLIENT_ID = 'model-sec-client'
      s = await status()
      expect(s.settings.client_id).to.deep.equal({value: 'model-sec-client', source: 'env PANW_MODEL_SEC_CLIENT_ID'})
      // a flag beats every env family
      s = await status('--client-id', 'flag-client', '--tsg-id', '444')
      expect(s.settings.client_id).to.deep.equal({value: 'flag-client', source: 'flag --client-id'})
      expect(s.settings.tsg_id).to.deep.equal({value: '444', source: 'flag --tsg-id'})
    })

    it('MODEL_SECURITY_API_ENDPOINT maps to /data and /mgmt; PANW_MODEL_SEC_*_ENDPOINT beats it; trailing slashes dropped', async () => {
      process.env.MODEL_SECURITY_API_ENDPOINT = 'https://api.eu.example/aims/'
      let s = await status()
      expect(s.settings.data_endpoint).to.deep.equal({value: 'https://api.eu.example/aims/data', source: 'env MODEL_SECURITY_API_ENDPOINT'})
      expect(s.settings.mgmt_endpoint).to.deep.equal({value: 'https://api.eu.example/aims/mgmt', source: 'env MODEL_SECURITY_API_ENDPOINT'})
      process.env.PANW_MODEL_SEC_MGMT_ENDPOINT = 'https://mgmt.example/'
      s = await status('--data-endpoint', 'https://flag.example/data/')
      expect(s.settings.mgmt_endpoint).to.deep.equal({value: 'https://mgmt.example', source: 'env PANW_MODEL_SEC_MGMT_ENDPOINT'})
      expect(s.settings.data_endpoint).to.deep.equal({value: 'https://flag.example/data', source: 'flag --data-endpoint'})
    })

    it('an empty env var counts as unset', async () => {
      process.env.PANW_MODEL_SEC_CLIENT_ID = '  '
      const s = await status()
      expect(s.settings.client_id.source).to.equal(`profile "work" (${configFile()})`)
    })

    it('--profile and DAYSTROM_PROFILE select another profile; missing settings fall back to defaults or unset', async () => {
      let s = await status('--profile', 'other')
      expect(s.profile).to.deep.include({name: 'other', source: 'flag --profile', exists: true})
      expect(s.settings.client_id.value).to.equal('other-client')
      expect(s.settings.client_secret).to.deep.equal({value: null, source: 'unset'})
      expect(s.settings.tsg_id).to.deep.equal({value: null, source: 'unset'})
      expect(s.settings.mgmt_endpoint).to.deep.equal({value: 'https://api.sase.paloaltonetworks.com/aims/mgmt', source: 'default'})
      expect(s.settings.token_endpoint).to.deep.equal({value: 'https://auth.apps.paloaltonetworks.com/oauth2/access_token', source: 'default'})
      process.env.DAYSTROM_PROFILE = 'other'
      s = await status()
      expect(s.profile).to.deep.include({name: 'other', source: 'env DAYSTROM_PROFILE'})
      s = await status('--profile', 'nope')
      expect(s.profile).to.deep.include({name: 'nope', exists: false})
    })

    it('a command uses the profile\'s credentials and endpoints when nothing else is set', async () => {
      const {default: nock} = await import('nock')
      let basic = ''
      nock('https://profile.test').post('/token').reply(function () {
        basic = this.req.headers.authorization ?? ''
        return [200, {access_token: 'profile-token-1234', expires_in: 900, token_type: 'Bearer'}]
      })
      const api = nock('https://profile.test').get('/aims/mgmt/v1/security-groups').query(true).reply(200, {pagination: {total_items: 1}, security_groups: [GROUP_HF]})
      const r = await run(['model-security', 'groups', 'list', '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(basic).to.equal(`Basic ${Buffer.from('profile-client:profile-secret-123456').toString('base64')}`)
      expect(api.isDone()).to.equal(true)
    })

    it('a flag endpoint on a model-security command beats the profile', async () => {
      useCredentials()
      delete process.env.PANW_MODEL_SEC_MGMT_ENDPOINT
      mockToken()
      mockApi('mgmt', 'GET', '/v1/security-groups', 200, {pagination: {total_items: 0}, security_groups: []})
      const r = await run(['model-security', 'groups', 'list', '--mgmt-endpoint', ENDPOINTS.mgmt, '--json'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(apiRequests()).to.have.length(1)
    })

    it('missing credentials: exit 3 naming each missing setting and where it can come from; nothing sent', async () => {
      writeConfig({}, configFile())
      writeConfig({}, credentialsFile())
      process.env.PANW_MODEL_SEC_CLIENT_ID = CREDS.clientId
      mockToken()
      const r = await run(['model-security', 'rules', 'list'])
      expect(r.exit).to.equal(3)
      expect(r.error?.message).to.include('missing credentials (client_secret, tsg_id) for profile "default"')
      expect(r.error?.message).to.include('tsg_id: --tsg-id, PANW_MODEL_SEC_TSG_ID / PANW_MGMT_TSG_ID / TSG_ID')
      expect(r.error?.message).to.include('--sandbox')
      expect(requests).to.deep.equal([])
    })
  })

  describe('files written by daystrom', () => {
    it('credentials.json is 0600 and config.json holds no secret', async () => {
      const r = await run(['auth', 'login', '--client-id', 'c1', '--tsg-id', '5', '--client-secret', 'written-secret-999', '--insecure-secret-flag', '--no-verify'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(statSync(credentialsFile()).mode & 0o777).to.equal(0o600)
      const {readFileSync} = await import('node:fs')
      expect(readFileSync(configFile(), 'utf8')).not.to.include('written-secret-999')
      expect(JSON.parse(readFileSync(credentialsFile(), 'utf8'))).to.deep.equal({profiles: {default: {client_secret: 'written-secret-999'}}})
    })
  })
})
