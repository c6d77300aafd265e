import {expect} from 'chai'

import {apiRequests, expectConforming, mockApi, mockToken, requests, resetRequests, run, useCredentials} from '../../helpers/api.js'
import {assertResponseConforms, openapiAvailable} from '../../helpers/openapi.js'
import {FILE_CONFIG, FILE_PICKLE, MODEL, MODEL_UUID, MODEL_VERSION, page, VERSION_UUID} from '../../fixtures/data.js'

describe('model-security models', () => {
  beforeEach(() => {
    useCredentials()
    mockToken()
    resetRequests()
  })

  it('fixtures conform to the OpenAPI response schemas', function () {
    if (!openapiAvailable) this.skip()
    assertResponseConforms('data', 'GET', '/v1/models', 200, page('models', [MODEL]))
    assertResponseConforms('data', 'GET', `/v1/model-versions/${VERSION_UUID}`, 200, MODEL_VERSION)
    assertResponseConforms('data', 'GET', `/v1/model-versions/${VERSION_UUID}/files`, 200, page('files', [FILE_CONFIG]))
  })

  it('models list sends every filter (repeated array keys) and keeps unknown fields', async () => {
    mockApi('data', 'GET', '/v1/models', 200, page('models', [MODEL]))
    const r = await run(['model-security', 'models', 'list', '--search', 'DialoGPT', '--latest-outcome', 'BLOCKED', '--latest-outcome', 'ERROR',
      '--latest-format', 'pickle', '--latest-format', 'pytorch_v0_1_10', '--latest-source-type', 'HUGGING_FACE', '--latest-source-type', 'S3',
      '--scanned-before', '2026-03-05T00:00:00Z', '--since', '2026-01-01T00:00:00Z', '--until', '2026-04-01T00:00:00Z',
      '--sort-field', 'updated_at', '--sort-order', 'asc', '--limit', '100', '--skip', '10', '--json'])
    expect(r.exit, r.stderr).to.equal(0)
    expect(JSON.parse(r.stdout)).to.deep.equal([MODEL])
    const q = apiRequests()[0].query
    expect(q.getAll('latest_version_outcomes')).to.deep.equal(['BLOCKED', 'ERROR'])
    expect(q.getAll('latest_version_formats')).to.deep.equal(['pickle', 'pytorch_v0_1_10'])
    expect(q.getAll('latest_version_source_types')).to.deep.equal(['HUGGING_FACE', 'S3'])
    expect(q.get('latest_version_scan_time_before')).to.equal('2026-03-05T00:00:00.000Z')
    expect(q.get('start_time')).to.equal('2026-01-01T00:00:00.000Z')
    expect(q.get('end_time')).to.equal('2026-04-01T00:00:00.000Z')
    expect(q.get('search_query')).to.equal('DialoGPT')
    expect(q.get('sort_field')).to.equal('updated_at')
    expect(q.get('sort_order')).to.equal('asc')
    expectConforming()
  })

  it('models list table and markdown', async () => {
    mockApi('data', 'GET', '/v1/models', 200, page('models', [MODEL]))
    const r = await run(['model-security', 'models', 'list', '--no-truncate'])
    expect(r.stdout).to.match(/NAME\s+LATEST OUTCOME\s+REVISION/)
    expect(r.stdout).to.match(/microsoft\/DialoGPT-medium\s+BLOCKED\s+main/)
    mockApi('data', 'GET', '/v1/models', 200, page('models', [MODEL]))
    expect((await run(['model-security', 'models', 'list', '-o', 'markdown'])).stdout).to.contain('| microsoft/DialoGPT-medium | BLOCKED |')
  })

  it('models get, versions, version and files', async () => {
    mockApi('data', 'GET', `/v1/models/${MODEL_UUID}`, 200, MODEL)
    expect(JSON.parse((await run(['model-security', 'models', 'get', MODEL_UUID, '--json'])).stdout)).to.deep.equal(MODEL)
    mockApi('data', 'GET', `/v1/models/${MODEL_UUID}`, 200, MODEL)
    expect((await run(['model-security', 'models', 'get', MODEL_UUID])).stdout).to.match(/Latest outcome:\s+BLOCKED/)
    mockApi('data', 'GET', `/v1/models/${MODEL_UUID}/model-versions`, 200, {pagination: {total_items: 1}, model_versions: [MODEL_VERSION]})
    const v = await run(['model-security', 'models', 'versions', MODEL_UUID, '--sort-order', 'asc', '--limit', '5', '--json'])
    expect(JSON.parse(v.stdout)).to.deep.equal([MODEL_VERSION])
    expect(Object.fromEntries(apiRequests()[2].query)).to.deep.equal({sort_order: 'asc', limit: '5'})
    mockApi('data', 'GET', `/v1/models/${MODEL_UUID}/model-versions`, 200, {pagination: {total_items: 1}, model_versions: [MODEL_VERSION]})
    expect((await run(['model-security', 'models', 'versions', MODEL_UUID])).stdout).to.match(/main\s+BLOCKED\s+10\/1\/11\s+12/)
    mockApi('data', 'GET', `/v1/model-versions/${VERSION_UUID}`, 200, MODEL_VERSION)
    const one = await run(['model-security', 'models', 'version', VERSION_UUID])
    expect(one.stdout).to.match(/Revision:\s+main/)
    expect(one.stdout).to.match(/Organization:\s+microsoft/)
    mockApi('data', 'GET', `/v1/model-versions/${VERSION_UUID}/files`, 200, page('files', [FILE_CONFIG, FILE_PICKLE], 12))
    const files = await run(['model-security', 'models', 'files', VERSION_UUID, '--limit', '2', '--skip', '0', '--json'])
    expect(JSON.parse(files.stdout)).to.deep.equal([FILE_CONFIG, FILE_PICKLE])
    // stdout stays pure JSON; the "more pages" note still reaches stderr in --json mode (conventions §7.2)
    expect(files.stderr.trim()).to.equal('Showing 2 of 12 (from 1). Use --all for every item, or --skip 2 for the next page.')
    expect(Object.fromEntries(apiRequests()[5].query)).to.deep.equal({limit: '2', skip: '0'})
    expectConforming()
  })

  for (const args of [
    ['list', '--search', 'x'.repeat(257)], ['list', '--latest-outcome', 'PASSED'], ['list', '--latest-source-type', 'FTP'],
    ['list', '--scanned-before', 'last tuesday'], ['list', '--since', 'soon'], ['list', '--sort-field', 'name'], ['list', '--latest-format', '""'],
    ['get', 'abc'], ['versions', 'abc'], ['versions', MODEL_UUID, '--sort-order', 'up'], ['version', '123'], ['files', 'xyz'],
  ]) {
    it(`rejects models ${args.join(' ').slice(0, 50)} (exit 2, nothing sent)`, async () => {
      const r = await run(['model-security', 'models', ...args])
      expect(r.exit).to.equal(2)
      expect(requests).to.have.length(0)
    })
  }
})
