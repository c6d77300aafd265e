/**
 * The sandbox over raw HTTP with invalid inputs: 401 (auth), 404 (unknown UUIDs, paths), 422 in the
 * service's `{"detail": [{loc, msg, type, ...}]}` shape, 409/400 where the service answers so.
 */
import {expect} from 'chai'
import {randomUUID} from 'node:crypto'

import {SANDBOX_CREDENTIALS} from '../../src/lib/sandbox/index.js'
import {
  type TestSandbox, fetchToken, groupByName, maliciousPickleDetails, request, ruleByName, sleep, startTestSandbox, waitScan,
} from './support.js'

function expect422(r: {status: number; body: any}, loc: Array<string | number>, type?: string): any {
  expect(r.status, JSON.stringify(r.body)).to.equal(422)
  expect(r.body.detail).to.be.an('array').that.has.length.above(0)
  for (const d of r.body.detail) {
    expect(d).to.include.keys('loc', 'msg', 'type')
    expect(d.loc).to.be.an('array')
    expect(d.msg).to.be.a('string')
  }
  const hit = r.body.detail.find((d: any) => JSON.stringify(d.loc) === JSON.stringify(loc))
  expect(hit, `no detail at ${JSON.stringify(loc)} in ${JSON.stringify(r.body.detail)}`).to.not.equal(undefined)
  if (type) expect(hit.type).to.equal(type)
  return hit
}

describe('sandbox: invalid input over raw HTTP', () => {
  let t: TestSandbox
  let local: any

  before(async () => {
    t = await startTestSandbox()
    local = await groupByName(t, 'Default LOCAL')
  })
  after(async () => t.close())

  describe('OAuth token endpoint', () => {
    it('issues a bearer token for the documented credentials', async () => {
      const r = await fetchToken(t.sb.tokenUrl)
      expect(r.status).to.equal(200)
      expect(r.body.token_type).to.equal('Bearer')
      expect(r.body.expires_in).to.equal(900)
      expect(r.body.access_token).to.match(/^eyJ/)
      expect(r.body.scope).to.equal(`tsg_id:${SANDBOX_CREDENTIALS.tsgId}`)
    })

    it('answers 401 invalid_client for a wrong client secret', async () => {
      const r = await fetchToken(t.sb.tokenUrl, SANDBOX_CREDENTIALS.clientId, 'wrong-secret')
      expect(r.status).to.equal(401)
      expect(r.body.error).to.equal('invalid_client')
      expect(r.body.error_description).to.be.a('string')
      expect(r.body).not.to.have.property('access_token')
    })

    it('answers 401 for an unknown client id and 400 for a bad grant or scope', async () => {
      expect((await fetchToken(t.sb.tokenUrl, 'someone', SANDBOX_CREDENTIALS.clientSecret)).status).to.equal(401)
      const grant = await fetchToken(t.sb.tokenUrl, undefined, undefined, 'grant_type=password&scope=tsg_id:1000000001')
      expect(grant.status).to.equal(400)
      expect(grant.body.error).to.equal('unsupported_grant_type')
      const scope = await fetchToken(t.sb.tokenUrl, undefined, undefined, 'grant_type=client_credentials&scope=tsg_id:42')
      expect(scope.status).to.equal(400)
      expect(scope.body.error).to.equal('invalid_scope')
    })

    it('requires HTTP Basic client authentication', async () => {
      const r = await request(t.sb.tokenUrl, 'POST', undefined, null)
      expect(r.status).to.equal(401)
      expect(r.body.error).to.equal('invalid_client')
    })
  })

  describe('bearer authentication', () => {
    it('answers 401 without a token, with a malformed token and with a forged token', async () => {
      const missing = await t.mgmt('GET', '/v1/security-groups', undefined, {token: null})
      expect(missing.status).to.equal(401)
      expect(missing.body.detail).to.be.a('string')
      expect(missing.headers['www-authenticate']).to.equal('Bearer')
      expect((await t.data('GET', '/v1/scans', undefined, {token: 'not-a-token'})).status).to.equal(401)
      const [h, p] = t.token.split('.')
      expect((await t.data('GET', '/v1/scans', undefined, {token: `${h}.${p}.AAAA`})).status).to.equal(401)
    })

    it('rejects an expired token', async () => {
      const short = await startTestSandbox({tokenTtlSeconds: 1})
      try {
        expect((await short.mgmt('GET', '/v1/security-rules')).status).to.equal(200)
        await sleep(1100)
        const r = await short.mgmt('GET', '/v1/security-rules')
        expect(r.status).to.equal(401)
        expect(r.body.detail).to.match(/expired/i)
      } finally {
        await short.close()
      }
    })
  })

  describe('404', () => {
    it('answers 404 {"detail": "..."} for unknown UUIDs on every plane', async () => {
      const id = randomUUID()
      for (const [plane, path] of [
        ['mgmt', `/v1/security-groups/${id}`], ['mgmt', `/v1/security-rules/${id}`],
        ['mgmt', `/v1/security-groups/${local.uuid}/rule-instances/${id}`], ['mgmt', `/v1/security-groups/${id}/rule-instances`],
        ['data', `/v1/scans/${id}`], ['data', `/v1/scans/${id}/evaluations`], ['data', `/v1/evaluations/${id}`],
        ['data', `/v1/scans/${id}/rule-violations`], ['data', `/v1/violations/${id}`], ['data', `/v1/scans/${id}/files`],
        ['data', `/v1/models/${id}`], ['data', `/v1/models/${id}/model-versions`], ['data', `/v1/model-versions/${id}`],
        ['data', `/v1/model-versions/${id}/files`],
      ] as const) {
        const r = plane === 'mgmt' ? await t.mgmt('GET', path) : await t.data('GET', path)
        expect(r.status, path).to.equal(404)
        expect(r.body.detail, path).to.be.a('string').and.to.include(id)
      }
      expect((await t.data('POST', `/v1/scans/${id}/labels`, {labels: [{key: 'a', value: 'b'}]})).status).to.equal(404)
      expect((await t.mgmt('PUT', `/v1/security-groups/${id}`, {name: 'x'})).status).to.equal(404)
      expect((await t.mgmt('DELETE', `/v1/security-groups/${id}`)).status).to.equal(404)
      const scan = await t.data('POST', '/v1/scans', {model_uri: '/tmp/x', security_group_uuid: id})
      expect(scan.status).to.equal(404)
    })

    it('answers 404 for unknown paths and 405 for a wrong method', async () => {
      expect((await t.data('GET', '/v2/nothing')).status).to.equal(404)
      const r = await t.mgmt('PATCH', '/v1/security-groups')
      expect(r.status).to.equal(405)
    })
  })

  describe('422 on query and path parameters', () => {
    it('rejects out-of-range limits and negative skips', async () => {
      const hit = expect422(await t.data('GET', '/v1/scans', undefined, {query: 'limit=500'}), ['query', 'limit'], 'less_than_equal')
      expect(hit.ctx).to.deep.equal({le: 100})
      expect(hit.input).to.equal('500')
      expect422(await t.data('GET', '/v1/scans', undefined, {query: 'limit=0'}), ['query', 'limit'], 'greater_than_equal')
      expect422(await t.mgmt('GET', '/v1/security-groups', undefined, {query: 'limit=101'}), ['query', 'limit'], 'less_than_equal')
      expect422(await t.mgmt('GET', '/v1/security-groups', undefined, {query: 'skip=-1'}), ['query', 'skip'], 'greater_than_equal')
      expect422(await t.data('GET', '/v1/scans/label-keys', undefined, {query: 'limit=abc'}), ['query', 'limit'], 'int_parsing')
    })

    it('rejects bad enums, including one bad value of a repeated array key', async () => {
      const hit = expect422(await t.mgmt('GET', '/v1/security-groups', undefined, {query: 'sort_dir=sideways'}), ['query', 'sort_dir'], 'enum')
      expect(hit.msg).to.equal("Input should be 'asc' or 'desc'")
      expect422(await t.mgmt('GET', '/v1/security-groups', undefined, {query: 'source_types=S3&source_types=FTP'}), ['query', 'source_types', 1], 'enum')
      expect422(await t.data('GET', '/v1/scans', undefined, {query: 'eval_outcomes=MAYBE'}), ['query', 'eval_outcomes', 0], 'enum')
      expect422(await t.mgmt('GET', '/v1/security-rules', undefined, {query: 'source_type=s3'}), ['query', 'source_type'], 'enum')
      expect422(await t.data('GET', `/v1/scans/${randomUUID()}/files`, undefined, {query: 'sort_field=size'}), ['query', 'sort_field'], 'enum')
    })

    it('rejects search strings outside their lengths and bad label patterns', async () => {
      expect422(await t.mgmt('GET', '/v1/security-groups', undefined, {query: 'search_query=ab'}), ['query', 'search_query'], 'string_too_short')
      expect422(await t.data('GET', '/v1/scans', undefined, {query: 'search_query=' + 'x'.repeat(257)}), ['query', 'search_query'], 'string_too_long')
      expect422(await t.data('GET', '/v1/scans/label-keys', undefined, {query: 'search=a%20b'}), ['query', 'search'], 'string_pattern_mismatch')
      expect422(await t.data('GET', '/v1/scans', undefined, {query: 'labels_query=' + encodeURIComponent('env=prod AND ((a=b))')}), ['query', 'labels_query'])
      expect422(await t.data('GET', '/v1/scans', undefined, {query: 'start_time=yesterday'}), ['query', 'start_time'])
    })

    it('rejects malformed UUIDs in paths and queries', async () => {
      expect422(await t.mgmt('GET', '/v1/security-groups/not-a-uuid'), ['path', 'uuid'], 'uuid_parsing')
      expect422(await t.data('GET', '/v1/scans/1234/evaluations'), ['path', 'scan_uuid'], 'uuid_parsing')
      expect422(await t.mgmt('GET', `/v1/security-groups/${local.uuid}/rule-instances/xyz`), ['path', 'rule_instance_uuid'], 'uuid_parsing')
      expect422(await t.data('GET', '/v1/scans', undefined, {query: 'security_group_uuid=nope'}), ['query', 'security_group_uuid'], 'uuid_parsing')
      expect422(await t.mgmt('GET', '/v1/security-groups', undefined, {query: 'enabled_rules=zzz'}), ['query', 'enabled_rules', 0], 'uuid_parsing')
    })

    it('requires keys on label delete, 1-50 of them', async () => {
      const scan = await t.data('POST', '/v1/scans', {model_uri: '/tmp/m', security_group_uuid: local.uuid, scan_details: maliciousPickleDetails()})
      expect422(await t.data('DELETE', `/v1/scans/${scan.body.uuid}/labels`), ['query', 'keys'], 'missing')
      const many = Array.from({length: 51}, (_, i) => `keys=k${i}`).join('&')
      expect422(await t.data('DELETE', `/v1/scans/${scan.body.uuid}/labels`, undefined, {query: many}), ['query', 'keys'], 'too_long')
      expect422(await t.data('GET', '/v1/scans/label-keys/bad%20key/values'), ['path', 'key'], 'string_pattern_mismatch')
    })
  })

  describe('422 on bodies (the shared schemas)', () => {
    it('rejects unknown keys, missing keys and bad enums on group create', async () => {
      const extra = expect422(await t.mgmt('POST', '/v1/security-groups', {name: 'g', source_type: 'S3', colour: 'blue'}), ['body', 'colour'], 'extra_forbidden')
      expect(extra.input).to.equal('blue')
      expect422(await t.mgmt('POST', '/v1/security-groups', {source_type: 'S3'}), ['body', 'name'], 'missing')
      expect422(await t.mgmt('POST', '/v1/security-groups', {name: 'g', source_type: 'FTP'}), ['body', 'source_type'], 'enum')
      expect422(await t.mgmt('POST', '/v1/security-groups', {name: '', source_type: 'S3'}), ['body', 'name'], 'string_too_short')
      expect422(await t.mgmt('POST', '/v1/security-groups', {name: 'g', source_type: 'S3', description: 'd'.repeat(1001)}), ['body', 'description'], 'string_too_long')
      expect422(await t.mgmt('POST', '/v1/security-groups', '{"name": '), ['body', 0], 'json_invalid')
      expect422(await t.mgmt('POST', '/v1/security-groups'), ['body'], 'missing')
      const list = await t.mgmt('GET', '/v1/security-groups', undefined, {query: 'search_query=colour'})
      expect(list.body.pagination.total_items).to.equal(0)
    })

    it('rejects rule_configurations naming an unknown rule or a field the rule does not have', async () => {
      const unknown = randomUUID()
      expect422(await t.mgmt('POST', '/v1/security-groups', {name: 'g', source_type: 'S3', rule_configurations: {[unknown]: {state: 'BLOCKING'}}}),
        ['body', 'rule_configurations', unknown], 'value_error')
      const loadTime = await ruleByName(t, 'Load Time Code Execution Check')
      expect422(await t.mgmt('POST', '/v1/security-groups', {name: 'g', source_type: 'S3', rule_configurations: {[loadTime.uuid]: {field_values: {approved_formats: ['x']}}}}),
        ['body', 'rule_configurations', loadTime.uuid, 'field_values', 'approved_formats'], 'value_error')
      expect422(await t.mgmt('POST', '/v1/security-groups', {name: 'g', source_type: 'S3', rule_configurations: {[loadTime.uuid]: {state: 'LOUD'}}}),
        ['body', 'rule_configurations', loadTime.uuid, 'state'], 'enum')
    })

    it('requires the body security_group_uuid of a rule-instance update to equal the path one', async () => {
      const list = await t.mgmt('GET', `/v1/security-groups/${local.uuid}/rule-instances`)
      const inst = list.body.rule_instances[0]
      expect422(await t.mgmt('PUT', `/v1/security-groups/${local.uuid}/rule-instances/${inst.uuid}`, {state: 'ALLOWING'}), ['body', 'security_group_uuid'], 'missing')
      expect422(await t.mgmt('PUT', `/v1/security-groups/${local.uuid}/rule-instances/${inst.uuid}`, {security_group_uuid: randomUUID(), state: 'ALLOWING'}),
        ['body', 'security_group_uuid'], 'value_error')
      expect422(await t.mgmt('PUT', `/v1/security-groups/${local.uuid}/rule-instances/${inst.uuid}`, {security_group_uuid: local.uuid, field_values: {colours: ['x']}}),
        ['body', 'field_values', 'colours'])
      const after = await t.mgmt('GET', `/v1/security-groups/${local.uuid}/rule-instances/${inst.uuid}`)
      expect(after.body.state).to.equal(inst.state)
    })

    it('rejects scan creates with read-only or unknown keys, bad origins, bad labels and bad scan_details', async () => {
      const base = {model_uri: '/tmp/model', security_group_uuid: local.uuid}
      expect422(await t.data('POST', '/v1/scans', {...base, source_type: 'LOCAL'}), ['body', 'source_type'], 'extra_forbidden')
      expect422(await t.data('POST', '/v1/scans', {...base, model_uri: ' '}), ['body', 'model_uri'], 'string_too_short')
      expect422(await t.data('POST', '/v1/scans', {...base, scan_origin: 'CLI'}), ['body', 'scan_origin'], 'enum')
      expect422(await t.data('POST', '/v1/scans', {...base, security_group_uuid: 'abc'}), ['body', 'security_group_uuid'], 'uuid_parsing')
      expect422(await t.data('POST', '/v1/scans', {...base, labels: [{key: 'a b', value: 'c'}]}), ['body', 'labels', 0, 'key'], 'string_pattern_mismatch')
      const details = maliciousPickleDetails()
      details.files[0].modelscan_status = 'DONE'
      expect422(await t.data('POST', '/v1/scans', {...base, scan_details: details}), ['body', 'scan_details', 'files', 0, 'modelscan_status'], 'enum')
      const before = await t.data('GET', '/v1/scans', undefined, {query: 'search_query=/tmp/model'})
      expect(before.body.pagination.total_items).to.equal(0)
    })

    it('rejects label bodies outside 1-50 items or with extra keys', async () => {
      const scan = await t.data('POST', '/v1/scans', {model_uri: '/tmp/m2', security_group_uuid: local.uuid, scan_details: maliciousPickleDetails()})
      const path = `/v1/scans/${scan.body.uuid}/labels`
      expect422(await t.data('POST', path, {labels: []}), ['body', 'labels'], 'too_short')
      expect422(await t.data('PUT', path, {labels: Array.from({length: 51}, (_, i) => ({key: `k${i}`, value: 'v'}))}), ['body', 'labels'], 'too_long')
      expect422(await t.data('POST', path, {labels: [{key: 'a', value: 'b', colour: 'x'}]}), ['body', 'labels', 0, 'colour'], 'extra_forbidden')
      expect422(await t.data('POST', path, {labels: [{key: 'a', value: 'b'}], more: 1}), ['body', 'more'], 'extra_forbidden')
    })
  })

  describe('other statuses', () => {
    it('answers 400 when the model_uri designates another source than the group', async () => {
      const r = await t.data('POST', '/v1/scans', {model_uri: 's3://bucket/model', security_group_uuid: local.uuid})
      expect(r.status).to.equal(400)
      expect(r.body.detail).to.match(/source type mismatch/)
    })

    it('answers 409 when deleting a group with pending scans, then 204 once they settled', async () => {
      const slow = await startTestSandbox({settleDelayMs: 60_000})
      try {
        const g = await slow.mgmt('POST', '/v1/security-groups', {name: 'busy', source_type: 'LOCAL'})
        // no scan_details: the scan waits for the settle delay (a LOCAL scan with scan_details is due at once)
        await slow.data('POST', '/v1/scans', {model_uri: '/tmp/x', security_group_uuid: g.body.uuid})
        const r = await slow.mgmt('DELETE', `/v1/security-groups/${g.body.uuid}`)
        expect(r.status).to.equal(409)
        expect(r.body.detail).to.match(/pending/)
        expect((await slow.mgmt('GET', `/v1/security-groups/${g.body.uuid}`)).body.is_tombstone).to.equal(false)
      } finally {
        await slow.close()
      }
      const g = await t.mgmt('POST', '/v1/security-groups', {name: 'done', source_type: 'LOCAL'})
      const s = await t.data('POST', '/v1/scans', {model_uri: '/tmp/x', security_group_uuid: g.body.uuid, scan_details: maliciousPickleDetails()})
      await waitScan(t, s.body.uuid)
      expect((await t.mgmt('DELETE', `/v1/security-groups/${g.body.uuid}`)).status).to.equal(204)
    })
  })
})
