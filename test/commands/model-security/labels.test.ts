import {expect} from 'chai'

import {apiRequests, expectConforming, jsonError, mockApi, mockToken, requests, resetRequests, run, useCredentials} from '../../helpers/api.js'
import {LABEL_KEYS, LABEL_VALUES, SCAN_UUID} from '../../fixtures/data.js'

const labelsPath = `/v1/scans/${SCAN_UUID}/labels`

describe('model-security labels', () => {
  beforeEach(() => {
    useCredentials()
    mockToken()
    resetRequests()
  })

  it('labels add --labels JSON (the seed workflow form) POSTs {labels}', async () => {
    mockApi('data', 'POST', labelsPath, 200, {})
    const r = await run(['model-security', 'labels', 'add', SCAN_UUID, '--labels', '[{"key":"env","value":"prod"}]', '--json'])
    expect(r.exit, r.stderr).to.equal(0)
    expect(apiRequests()[0].body).to.deep.equal({labels: [{key: 'env', value: 'prod'}]})
    expect(JSON.parse(r.stdout)).to.deep.equal({scan_uuid: SCAN_UUID, labels: [{key: 'env', value: 'prod'}]})
    expectConforming()
  })

  it('labels add -l key=value (repeatable) in table form', async () => {
    mockApi('data', 'POST', labelsPath, 200, {})
    const r = await run(['model-security', 'labels', 'add', SCAN_UUID, '-l', 'env=prod', '-l', 'team=ml-platform'])
    expect(r.exit, r.stderr).to.equal(0)
    expect(apiRequests()[0].body).to.deep.equal({labels: [{key: 'env', value: 'prod'}, {key: 'team', value: 'ml-platform'}]})
    expect(r.stdout).to.match(/Labels:\s+env=prod, team=ml-platform/)
    expect(r.stderr).to.contain('Added 2 labels')
    expectConforming()
  })

  it('labels set PUTs the full set; a {"k":"v"} map works too', async () => {
    mockApi('data', 'PUT', labelsPath, 200, {})
    const r = await run(['model-security', 'labels', 'set', SCAN_UUID, '--labels', '{"env":"staging"}', '-l', 'owner=ci_bot', '-o', 'yaml'])
    expect(r.exit, r.stderr).to.equal(0)
    expect(apiRequests()[0].method).to.equal('PUT')
    expect(apiRequests()[0].body).to.deep.equal({labels: [{key: 'env', value: 'staging'}, {key: 'owner', value: 'ci_bot'}]})
    expect(r.stdout).to.contain('scan_uuid:')
    expectConforming()
  })

  it('labels delete sends repeated keys and never prompts (even without a TTY)', async () => {
    mockApi('data', 'DELETE', labelsPath, 204)
    const r = await run(['model-security', 'labels', 'delete', SCAN_UUID, '--key', 'env', '--key', 'team,branch', '--json'])
    expect(r.exit, r.stderr).to.equal(0)
    expect(apiRequests()[0].query.getAll('keys')).to.deep.equal(['env', 'team', 'branch'])
    expect(JSON.parse(r.stdout)).to.deep.equal({scan_uuid: SCAN_UUID, deleted_keys: ['env', 'team', 'branch']})
    expectConforming()
  })

  it('labels keys and values: search and paging, strings in every format', async () => {
    mockApi('data', 'GET', '/v1/scans/label-keys', 200, LABEL_KEYS)
    const k = await run(['model-security', 'labels', 'keys', '--search', 'e', '--limit', '4', '--skip', '0', '--json'])
    expect(JSON.parse(k.stdout)).to.deep.equal(LABEL_KEYS.keys)
    expect(Object.fromEntries(apiRequests()[0].query)).to.deep.equal({search: 'e', limit: '4', skip: '0'})
    mockApi('data', 'GET', '/v1/scans/label-keys', 200, LABEL_KEYS)
    const t = await run(['model-security', 'labels', 'keys'])
    expect(t.stdout.trim().split('\n')).to.deep.equal(['KEY', 'branch', 'commit', 'env', 'repo'])
    mockApi('data', 'GET', '/v1/scans/label-keys/env/values', 200, LABEL_VALUES)
    const v = await run(['model-security', 'labels', 'values', 'env', '--search', 'pro', '--all', '-o', 'csv'])
    expect(v.exit, v.stderr).to.equal(0)
    expect(v.stdout.trim().split('\r\n')).to.deep.equal(['value', 'ci', 'production'])
    expect(apiRequests()[2].query.get('search')).to.equal('pro')
    expectConforming()
  })

  for (const [args, pattern] of [
    [['add', SCAN_UUID], /no labels given/],
    [['add', SCAN_UUID, '-l', 'env'], /expected key=value/],
    [['add', SCAN_UUID, '-l', 'env=a.b'], /invalid value "a.b" of label "env"/],
    [['add', SCAN_UUID, '-l', 'e:nv=a'], /invalid label key "e:nv"/],
    [['add', SCAN_UUID, '-l', `${'k'.repeat(129)}=v`], /at most 128/],
    [['add', SCAN_UUID, '-l', `k=${'v'.repeat(257)}`], /at most 256/],
    [['add', SCAN_UUID, '-l', 'env=a', '-l', 'env=b'], /given more than once/],
    [['add', SCAN_UUID, '--labels', '[{"key":"env"}]'], /needs string "key" and "value"/],
    [['add', SCAN_UUID, '--labels', '[{"key":"env","value":"x","color":"red"}]'], /unknown field "color"/],
    [['add', SCAN_UUID, '--labels', 'env=prod'], /not valid JSON/],
    [['add', SCAN_UUID, ...Array.from({length: 51}, (_, i) => ['-l', `k${i}=v`]).flat()], /51 labels given; at most 50/],
    [['set', 'not-a-uuid', '-l', 'env=prod'], /not a UUID/],
    [['delete', SCAN_UUID], /Missing required flag/],
    [['delete', SCAN_UUID, '--key', '"bad key"'], /invalid label key "bad key"/],
    [['delete', SCAN_UUID, '--key', 'bad/key'], /invalid label key "bad\/key"/],
    [['delete', SCAN_UUID, '--key', Array.from({length: 51}, (_, i) => `k${i}`).join(',')], /at most 50/],
    [['keys', '--search', 'a.b'], /invalid label key "a.b"/],
    [['keys', '--limit', '0'], /greater than or equal to 1|1/],
    [['values', 'bad.key'], /invalid label key "bad.key"/],
    [['values', 'env', '--search', 'x'.repeat(257)], /at most 256/],
  ] as Array<[string[], RegExp]>) {
    it(`rejects labels ${args.slice(0, 4).join(' ').slice(0, 60)} (exit 2, nothing sent)`, async () => {
      const r = await run(['model-security', 'labels', ...args, '--json'])
      expect(r.exit).to.equal(2)
      expect(r.stdout).to.equal('')
      expect(jsonError(r.stderr).message).to.match(pattern)
      expect(requests).to.have.length(0)
    })
  }
})
