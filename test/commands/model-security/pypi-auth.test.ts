import {expect} from 'chai'

import {CREDS, expectConforming, mockApi, mockToken, resetRequests, run, TOKEN, useCredentials} from '../../helpers/api.js'
import {PYPI_SECRET, pypiAuth} from '../../fixtures/data.js'

const MASKED = 'https://_token:****@us-python.pkg.dev/panw-airs/model-security-client/simple/'

describe('model-security pypi-auth', () => {
  beforeEach(() => {
    useCredentials()
    mockToken()
    resetRequests()
  })

  it('masks the token in the table, with the expiry', async () => {
    mockApi('mgmt', 'GET', '/v1/pypi/authenticate', 200, pypiAuth())
    const r = await run(['model-security', 'pypi-auth'])
    expect(r.exit, r.stderr).to.equal(0)
    expect(r.stdout).to.match(new RegExp(`URL:\\s+${MASKED.replaceAll('*', '\\*').replaceAll('.', '\\.')}`))
    expect(r.stdout).to.match(/Expires:\s+20\d\d-/)
    expect(r.stdout).to.match(/Expires in:\s+(59m|1h)/)
    expect(r.stdout + r.stderr).to.not.contain(PYPI_SECRET)
    expect(r.stderr).to.contain('--show-secret')
    expectConforming()
  })

  for (const fmt of ['json', 'yaml', 'url', 'pip-conf', 'env']) {
    it(`masks the token with -o ${fmt}`, async () => {
      mockApi('mgmt', 'GET', '/v1/pypi/authenticate', 200, pypiAuth())
      const r = await run(['model-security', 'pypi-auth', '-o', fmt])
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout).to.contain(MASKED)
      expect(r.stdout + r.stderr).to.not.contain(PYPI_SECRET)
    })
  }

  it('masks the token with --json, and in the --debug log', async () => {
    const body = pypiAuth()
    mockApi('mgmt', 'GET', '/v1/pypi/authenticate', 200, body)
    const r = await run(['model-security', 'pypi-auth', '--json', '--debug'])
    expect(r.exit, r.stderr).to.equal(0)
    expect(JSON.parse(r.stdout)).to.deep.equal({...body, url: MASKED})
    expect(r.stderr).to.contain('/v1/pypi/authenticate')
    for (const secret of [PYPI_SECRET, TOKEN, CREDS.clientSecret]) expect(r.stdout + r.stderr).to.not.contain(secret)
  })

  it('prints the real URL only with --show-secret: -o url, pip-conf, env, json', async () => {
    const body = pypiAuth()
    mockApi('mgmt', 'GET', '/v1/pypi/authenticate', 200, body)
    const u = await run(['model-security', 'pypi-auth', '-o', 'url', '--show-secret'])
    expect(u.stdout).to.equal(`${body.url}\n`)
    mockApi('mgmt', 'GET', '/v1/pypi/authenticate', 200, body)
    const p = await run(['model-security', 'pypi-auth', '-o', 'pip-conf', '--show-secret'])
    expect(p.stdout).to.contain(`[global]\nextra-index-url = ${body.url}`)
    mockApi('mgmt', 'GET', '/v1/pypi/authenticate', 200, body)
    const e = await run(['model-security', 'pypi-auth', '-o', 'env', '--show-secret'])
    expect(e.stdout).to.contain(`export PIP_EXTRA_INDEX_URL='${body.url}'`)
    expect(e.stdout).to.contain(`export UV_EXTRA_INDEX_URL='${body.url}'`)
    mockApi('mgmt', 'GET', '/v1/pypi/authenticate', 200, body)
    const j = await run(['model-security', 'pypi-auth', '--json', '--show-secret'])
    expect(JSON.parse(j.stdout)).to.deep.equal(body)
  })

  it('warns on stderr when the URL expires within 5 minutes (also in --json)', async () => {
    mockApi('mgmt', 'GET', '/v1/pypi/authenticate', 200, pypiAuth(120_000))
    const r = await run(['model-security', 'pypi-auth', '-o', 'url'])
    expect(r.stderr).to.match(/Warning: the PyPI URL expires in (1m\d*s?|2m)/)
    mockApi('mgmt', 'GET', '/v1/pypi/authenticate', 200, pypiAuth(120_000))
    const j = await run(['model-security', 'pypi-auth', '--json'])
    expect(j.stderr).to.match(/Warning: the PyPI URL expires in/)
    JSON.parse(j.stdout)
    mockApi('mgmt', 'GET', '/v1/pypi/authenticate', 200, pypiAuth(-60_000))
    expect((await run(['model-security', 'pypi-auth'])).stderr).to.match(/has expired/)
    mockApi('mgmt', 'GET', '/v1/pypi/authenticate', 200, pypiAuth(600_000))
    expect((await run(['model-security', 'pypi-auth'])).stderr).to.not.match(/Warning/)
  })

  it('rejects an unknown -o (exit 2) and maps 401 to exit 3 without leaking', async () => {
    expect((await run(['model-security', 'pypi-auth', '-o', 'csv'])).exit).to.equal(2)
    mockApi('mgmt', 'GET', '/v1/pypi/authenticate', 401, {error: 'unauthorized'}, {times: 2})
    mockToken()
    const r = await run(['model-security', 'pypi-auth', '--json'])
    expect(r.exit).to.equal(3)
  })
})
