/**
 * A third-party plugin (test/fixtures/plugin) linked with `daystrom plugins link` adds `model-security hello` by
 * extending the exported ModelSecurityCommand: oclif loads it as a user (link) plugin recorded in
 * DAYSTROM_DATA_DIR/package.json, merges it into our `model-security` topic, and it runs with our global flags,
 * output renderers, JSON contract and exit codes.
 */
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {GROUP_S3} from './fixtures/mgmt.js'
import {apiRequests, expectConforming, jsonError, mockApi, mockToken, resetRequests, ROOT, run, useCredentials} from './helpers/api.js'
import {cli as runCli} from './helpers/cli.js'
import {lines} from './lib/support.js'

const FIXTURE = join(ROOT, 'test', 'fixtures', 'plugin')
const userPjson = () => JSON.parse(readFileSync(join(process.env.DAYSTROM_DATA_DIR!, 'package.json'), 'utf8'))

async function link(): Promise<void> {
  const r = await run(['plugins', 'link', FIXTURE, '--no-install'])
  expect(r.exit, r.stderr).to.equal(0)
}

describe('third-party plugin fixture', () => {
  beforeEach(() => resetRequests())

  it('plugins link records it in DAYSTROM_DATA_DIR/package.json as a link plugin, and `plugins` lists it', async () => {
    await link()
    expect(userPjson().oclif.plugins).to.deep.equal([{name: 'daystrom-plugin-hello', root: FIXTURE, type: 'link'}])
    const list = await run(['plugins'])
    expect(list.stdout).to.include('daystrom-plugin-hello').and.include('(link)')
  })

  it('without the link, the command does not exist', async () => {
    const r = await run(['model-security', 'hello'])
    expect(r.exit).to.equal(2)
    expect(r.error?.message).to.equal('`model-security hello` is not a daystrom command.')
  })

  it('runs with our output contract: a table by default, raw JSON with --json, -o csv, --columns', async () => {
    await link()
    const t = await run(['model-security', 'hello'])
    expect(t.exit, t.stderr).to.equal(0)
    expect(lines(t.stdout).map(l => l.split(/\s{2,}/))).to.deep.equal([['GREETING', 'PLUGIN', 'GROUP', 'SOURCE'], ['hello world', 'daystrom-plugin-hello']])
    const j = await run(['model-security', 'hello', '--name', 'airs', '--json'])
    expect(j.exit).to.equal(0)
    expect(JSON.parse(j.stdout)).to.deep.equal([{greeting: 'hello airs', plugin: 'daystrom-plugin-hello'}])
    expect(j.stderr).to.equal('')
    const c = await run(['model-security', 'hello', '-o', 'csv', '--columns', 'plugin,greeting'])
    expect(c.stdout.trimEnd().split('\r\n')).to.deep.equal(['plugin,greeting', 'daystrom-plugin-hello,hello world'])
    const y = await run(['model-security', 'hello', '-o', 'yaml'])
    expect(y.stdout.trim()).to.equal('- greeting: hello world\n  plugin: daystrom-plugin-hello')
  })

  it('inherits our flag validation and exit codes: an unknown column exits 2 with a JSON error in --json mode', async () => {
    await link()
    const r = await run(['model-security', 'hello', '--columns', 'nope', '--json'])
    expect(r.exit).to.equal(2)
    expect(r.stdout).to.equal('')
    expect(jsonError(r.stderr)).to.include({code: 'E_USAGE', exit: 2})
    const o = await run(['model-security', 'hello', '-o', 'xml'])
    expect(o.exit).to.equal(2)
  })

  it('uses our lazily built client: credentials, OAuth and a conforming request', async () => {
    await link()
    useCredentials()
    mockToken()
    mockApi('mgmt', 'GET', `/v1/security-groups/${GROUP_S3.uuid}`, 200, GROUP_S3)
    const r = await run(['model-security', 'hello', '--group', GROUP_S3.uuid, '--json'])
    expect(r.exit, r.stderr).to.equal(0)
    expect(JSON.parse(r.stdout)).to.deep.equal([{greeting: 'hello world', plugin: 'daystrom-plugin-hello', group: 'prod-s3-strict', source_type: 'S3'}])
    expect(apiRequests().map(q => `${q.method} ${q.path}`)).to.deep.equal([`GET /v1/security-groups/${GROUP_S3.uuid}`])
    expectConforming()
  })

  it('gets our error mapping: missing credentials exit 3, an invalid UUID exit 2 with nothing sent', async () => {
    await link()
    const missing = await run(['model-security', 'hello', '--group', GROUP_S3.uuid, '--json'])
    expect(missing.exit).to.equal(3)
    expect(jsonError(missing.stderr).code).to.equal('E_AUTH_MISSING')
    useCredentials()
    mockToken()
    const bad = await run(['model-security', 'hello', '--group', 'not-a-uuid'])
    expect(bad.exit).to.equal(2)
    expect(bad.error?.message).to.include('invalid security group UUID "not-a-uuid"')
    expect(apiRequests()).to.deep.equal([])
  })

  it('merges into our model-security topic: help lists our subtopics and the plugin command together', async () => {
    await link()
    const r = await run(['model-security', '--help'])
    expect(r.stdout).to.include('Prisma AIRS AI Model Security')
    expect(r.stdout).to.match(/model-security groups\s/)
    expect(r.stdout).to.match(/model-security hello\s+Say hello from a third-party plugin\./)
    const h = await run(['model-security', 'hello', '--help'])
    expect(h.stdout).to.include('--json').and.include('--output').and.include('--columns').and.include('--profile').and.include('--sandbox')
  })

  describe('in a real process (bin/dev.js)', function () {
    this.timeout(120_000)

    const cli = (argv: string[]) => runCli(argv, {}, {dev: true, inheritEnv: true})

    it('plugins link, then the plugin command runs with --json and exits with our codes', async () => {
      const linked = await cli(['plugins', 'link', FIXTURE, '--no-install'])
      expect(linked.code, linked.stderr).to.equal(0)
      expect(userPjson().oclif.plugins[0]).to.include({name: 'daystrom-plugin-hello', type: 'link'})
      const ok = await cli(['model-security', 'hello', '--json'])
      expect(ok.code, ok.stderr).to.equal(0)
      expect(JSON.parse(ok.stdout)).to.deep.equal([{greeting: 'hello world', plugin: 'daystrom-plugin-hello'}])
      const err = await cli(['model-security', 'hello', '--group', GROUP_S3.uuid, '--json'])
      expect(err.code).to.equal(3)
      expect(err.stdout).to.equal('')
      expect(jsonError(err.stderr)).to.include({code: 'E_AUTH_MISSING', exit: 3})
    })
  })
})
