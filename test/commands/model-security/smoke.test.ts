import {expect} from 'chai'

import {apiRequests, expectConforming, mockApi, mockToken, run, useCredentials} from '../../helpers/api.js'
import {GROUP_HF, GROUP_S3} from '../../fixtures/mgmt.js'

describe('harness smoke: groups list', () => {
  it('sends repeated source_types keys and prints the raw items with --json', async () => {
    useCredentials()
    mockToken()
    mockApi('mgmt', 'GET', '/v1/security-groups', 200, {pagination: {total_items: 2}, security_groups: [GROUP_HF, GROUP_S3]})
    const r = await run(['model-security', 'groups', 'list', '--source-type', 'S3', '--source-type', 'HUGGING_FACE', '--json'])
    expect(r.exit).to.equal(0)
    expect(JSON.parse(r.stdout)).to.deep.equal([GROUP_HF, GROUP_S3])
    const [req] = apiRequests()
    expect(req.query.getAll('source_types')).to.deep.equal(['S3', 'HUGGING_FACE'])
    expectConforming()
  })
})
