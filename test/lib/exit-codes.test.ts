/**
 * The exit-code contract (0, 2, 3, 4, 5, 6, 7) in human and --json modes: in --json mode stdout is empty on error
 * and stderr holds exactly one {"error": {code, message, exit, ...}} object. Checked in-process (nock) and in real
 * processes (bin/dev.js against a loopback stub), where oclif's JSON-mode exit-code bug would show.
 */
import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'

import {GROUP_HF} from '../fixtures/mgmt.js'
import {mockApi, mockToken, resetRequests, run, useCredentials} from '../helpers/api.js'
import {cli as runCli} from '../helpers/cli.js'

const U = GROUP_HF.uuid

interface Case { exit: number; code?: string; argv: string[]; setup: () => void; message: RegExp }

const CASES: Record<string, Case> = {
  'success': {exit: 0, argv: ['model-security', 'groups', 'get', U], message: /./, setup() {
    mockToken()
    mockApi('mgmt', 'GET', `/v1/security-groups/${U}`, 200, GROUP_HF)
  }},
  'usage (unknown column)': {exit: 2, code: 'E_USAGE', argv: ['model-security', 'groups', 'list', '--columns', 'nope'], message: /unknown column "nope"/, setup() {}},
  'usage (missing argument)': {exit: 2, argv: ['model-security', 'groups', 'get'], message: /Missing 1 required arg/, setup() {}},
  'usage (invalid option)': {exit: 2, argv: ['model-security', 'rules', 'list', '--source-type', 'NOPE'], message: /to be one of/, setup() {}},
  'auth (missing credentials)': {exit: 3, code: 'E_AUTH_MISSING', argv: ['model-security', 'groups', 'get', U], message: /missing credentials/, setup() {
    delete process.env.PANW_MODEL_SEC_CLIENT_ID
  }},
  'auth (403 twice)': {exit: 3, code: 'E_FORBIDDEN', argv: ['model-security', 'groups', 'get', U], message: /permission denied \(HTTP 403\)/, setup() {
    mockToken({times: 2})
    mockApi('mgmt', 'GET', `/v1/security-groups/${U}`, 403, {detail: 'Forbidden'}, {times: 2})
  }},
  'not found (404)': {exit: 4, code: 'E_NOT_FOUND', argv: ['model-security', 'groups', 'get', U], message: /not found \(HTTP 404\)/, setup() {
    mockToken()
    mockApi('mgmt', 'GET', `/v1/security-groups/${U}`, 404, {detail: 'Not Found'})
  }},
  'rejected (400)': {exit: 5, code: 'E_BAD_REQUEST', argv: ['model-security', 'groups', 'update', U, '--name', 'x'], message: /HTTP 400\): name taken/, setup() {
    mockToken()
    mockApi('mgmt', 'PUT', `/v1/security-groups/${U}`, 400, {error_message: 'name taken'})
  }},
  'rejected (409)': {exit: 5, code: 'E_CONFLICT', argv: ['model-security', 'groups', 'create', '--name', 'x', '--source-type', 'S3'], message: /HTTP 409/, setup() {
    mockToken()
    mockApi('mgmt', 'POST', '/v1/security-groups', 409, {detail: 'exists'})
  }},
  'rejected (422)': {exit: 5, code: 'E_VALIDATION', argv: ['model-security', 'groups', 'create', '--name', 'x', '--source-type', 'S3'],
    message: /body\.name: String should have at most 255 characters/, setup() {
      mockToken()
      mockApi('mgmt', 'POST', '/v1/security-groups', 422, {detail: [{loc: ['body', 'name'], msg: 'String should have at most 255 characters', type: 'string_too_long'}]})
    }},
  'network (503)': {exit: 6, code: 'E_SERVER', argv: ['model-security', 'groups', 'get', U], message: /unavailable \(HTTP 503\)/, setup() {
    mockToken()
    mockApi('mgmt', 'GET', `/v1/security-groups/${U}`, 503, {})
  }},
  'config (malformed config.json)': {exit: 7, code: 'E_CONFIG_INVALID', argv: ['model-security', 'groups', 'get', U], message: /config\.json: is not valid JSON/, setup() {
    mkdirSync(process.env.DAYSTROM_CONFIG_DIR!, {recursive: true})
    writeFileSync(join(process.env.DAYSTROM_CONFIG_DIR!, 'config.json'), '{,}')
  }},
}

describe('exit codes', () => {
  beforeEach(() => {
    resetRequests()
    useCredentials()
  })

  describe('exit codes in-process', () => {
    for (const [name, c] of Object.entries(CASES)) {
      it(`${c.exit}: ${name} (human)`, async () => {
        c.setup()
        const r = await run(c.argv)
        expect(r.exit, r.stderr).to.equal(c.exit)
        if (c.exit === 0) expect(r.stdout).not.to.equal('')
        else expect(r.error?.message).to.match(c.message)
      })

      it(`${c.exit}: ${name} (--json)`, async () => {
        c.setup()
        const r = await run([...c.argv, '--json'])
        expect(r.exit, r.stderr).to.equal(c.exit)
        if (c.exit === 0) {
          expect(JSON.parse(r.stdout)).to.deep.equal(GROUP_HF)
          expect(r.stderr).to.equal('')
          return
        }
        expect(r.stdout).to.equal('')
        const objects = r.stderr.trim().split('\n').filter(l => l.startsWith('{'))
        expect(objects, r.stderr).to.have.length(1)
        const {error} = JSON.parse(objects[0])
        expect(error.exit).to.equal(c.exit)
        expect(error.message).to.match(c.message)
        if (c.code) expect(error.code).to.equal(c.code)
      })
    }
  })

  describe('exit codes of real processes (bin/dev.js against a loopback stub)', function () {
    this.timeout(120_000)
    let server: Server
    let base: string

    before(async () => {
      server = createServer((req: IncomingMessage, res: ServerResponse) => {
        const send = (status: number, body: unknown) => {
          res.writeHead(status, {'content-type': 'application/json'})
          res.end(JSON.stringify(body))
        }
        req.resume()
        req.on('end', () => {
          const url = new URL(req.url!, 'http://x')
          if (url.pathname === '/token') return send(200, {access_token: 'stub-token-0000', expires_in: 900, token_type: 'Bearer'})
          if (req.method === 'GET' && url.pathname === `/aims/mgmt/v1/security-groups/${U}`) return send(200, GROUP_HF)
          if (req.method === 'GET' && url.pathname.startsWith('/aims/mgmt/v1/security-groups/')) return send(404, {detail: 'Not Found'})
          if (req.method === 'POST' && url.pathname === '/aims/mgmt/v1/security-groups') {
            return send(422, {detail: [{loc: ['body', 'name'], msg: 'String should have at most 255 characters', type: 'string_too_long'}]})
          }
          if (url.pathname === '/aims/mgmt/v1/security-rules') return send(503, {detail: 'busy'})
          send(401, {detail: 'Unauthorized'})
        })
      })
      await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })

    after(async () => {
      await new Promise(resolve => server.close(resolve))
    })

    const cli = (argv: string[], env: Record<string, string | undefined> = {}) => runCli(argv, {
      DAYSTROM_RETRIES: '0', PANW_MODEL_SEC_CLIENT_ID: 'cid', PANW_MODEL_SEC_CLIENT_SECRET: 'stub-secret-1234',
      PANW_MODEL_SEC_TSG_ID: '1', PANW_MODEL_SEC_TOKEN_ENDPOINT: `${base}/token`, PANW_MODEL_SEC_MGMT_ENDPOINT: `${base}/aims/mgmt`,
      PANW_MODEL_SEC_DATA_ENDPOINT: `${base}/aims/data`, ...env}, {dev: true, inheritEnv: true})

    const jsonCases: Array<[number, string[], Record<string, string | undefined>, string | undefined]> = [
      // each spawn costs ~3 s of transpiling: the rows where stock oclif would exit 1 in --json mode, plus success
      [0, ['model-security', 'groups', 'get', U, '--json'], {}, undefined],
      [2, ['model-security', 'groups', 'get', '--json'], {}, undefined],
      [3, ['model-security', 'groups', 'get', U, '--json'], {PANW_MODEL_SEC_CLIENT_SECRET: undefined}, 'E_AUTH_MISSING'],
      [5, ['model-security', 'groups', 'create', '--name', 'x', '--source-type', 'S3', '--json'], {}, 'E_VALIDATION'],
      [6, ['model-security', 'rules', 'list', '--json'], {}, 'E_SERVER'],
    ]

    for (const [exit, argv, env, code] of jsonCases) {
      it(`exits ${exit} with --json: ${argv.slice(0, 3).join(' ')}`, async () => {
        const r = await cli(argv, env)
        expect(r.code, r.stderr).to.equal(exit)
        if (exit === 0) {
          expect(JSON.parse(r.stdout)).to.deep.equal(GROUP_HF)
          return
        }
        expect(r.stdout).to.equal('')
        const line = r.stderr.trim().split('\n').find(l => l.startsWith('{"error"'))
        expect(line, r.stderr).to.not.equal(undefined)
        const {error} = JSON.parse(line!)
        expect(error.exit).to.equal(exit)
        if (code) expect(error.code).to.equal(code)
      })
    }

    it('exits 7 on a malformed config.json, and 4 in human mode with the message on stderr', async () => {
      const dir = join(process.env.DAYSTROM_CONFIG_DIR!, '..', 'broken-config')
      mkdirSync(dir, {recursive: true})
      writeFileSync(join(dir, 'config.json'), '{"profiles":')
      const seven = await cli(['model-security', 'groups', 'get', U], {DAYSTROM_CONFIG_DIR: dir})
      expect(seven.code).to.equal(7)
      expect(seven.stderr).to.include('config.json: is not valid JSON')
      const four = await cli(['model-security', 'groups', 'get', '00000000-0000-4000-8000-000000000000'])
      expect(four.code).to.equal(4)
      expect(four.stdout).to.equal('')
      expect(four.stderr).to.include('not found (HTTP 404): Not Found')
    })
  })
})
