/**
 * The seed workflow end to end against the mocked service: list groups, browse rules, update a rule instance
 * from a file, create a group from a file, list scans, evaluations, violations, files, add labels, list label
 * keys. Every request is checked against the OpenAPI documents.
 */
import {expect} from 'chai'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {apiRequests, expectConforming, mockApi, mockToken, requests, resetRequests, run, useCredentials} from '../../helpers/api.js'
import {EVALUATIONS, FILE_CONFIG, FILE_ONNX_DIR, FILE_PICKLE, LABEL_KEYS, page, SCAN_BLOCKED, SCAN_UUID, VIOLATIONS} from '../../fixtures/data.js'
import {GROUP_HF, GROUP_S3, INSTANCE_FORMAT, RULE_FORMAT, RULE_LOADTIME} from '../../fixtures/mgmt.js'

describe('seed workflow (end to end against nock)', () => {
  beforeEach(() => {
    useCredentials()
    resetRequests()
  })

  it('groups -> rules -> rule instance update -> group create -> scans -> evaluations -> violations -> files -> labels', async () => {
    mockToken()
    const dir = mkdtempSync(join(tmpdir(), 'workflow-'))
    const json = (args: string[]) => run([...args, '--json']).then(r => {
      expect(r.exit, `${args.join(' ')}: ${r.stderr}`).to.equal(0)
      return JSON.parse(r.stdout)
    })

    // 1. list groups
    mockApi('mgmt', 'GET', '/v1/security-groups', 200, page('security_groups', [GROUP_HF, GROUP_S3]))
    expect(await json(['model-security', 'groups', 'list'])).to.deep.equal([GROUP_HF, GROUP_S3])

    // 2. browse rules
    mockApi('mgmt', 'GET', '/v1/security-rules', 200, page('rules', [RULE_FORMAT, RULE_LOADTIME]))
    expect((await json(['model-security', 'rules', 'list'])).map((r: {name: string}) => r.name)).to.deep.equal([RULE_FORMAT.name, RULE_LOADTIME.name])
    mockApi('mgmt', 'GET', `/v1/security-rules/${RULE_FORMAT.uuid}`, 200, RULE_FORMAT)
    expect(await json(['model-security', 'rules', 'get', RULE_FORMAT.uuid])).to.deep.equal(RULE_FORMAT)

    // 3. update a rule instance from a file
    const instanceFile = join(dir, 'instance.json')
    writeFileSync(instanceFile, JSON.stringify({security_group_uuid: GROUP_HF.uuid, state: 'ALLOWING'}))
    const updated = {...INSTANCE_FORMAT, state: 'ALLOWING'}
    mockApi('mgmt', 'PUT', `/v1/security-groups/${GROUP_HF.uuid}/rule-instances/${INSTANCE_FORMAT.uuid}`, 200, updated)
    expect(await json(['model-security', 'rule-instances', 'update', GROUP_HF.uuid, INSTANCE_FORMAT.uuid, '--config', instanceFile])).to.deep.equal(updated)

    // 4. create a group from a file
    const groupFile = join(dir, 'group.yaml')
    writeFileSync(groupFile, `name: prod-s3-strict\nsource_type: S3\ndescription: ""\nrule_configurations:\n  ${RULE_FORMAT.uuid}:\n    state: BLOCKING\n    field_values:\n      approved_formats: [safetensors]\n`)
    mockApi('mgmt', 'POST', '/v1/security-groups', 201, GROUP_S3)
    expect(await json(['model-security', 'groups', 'create', '--config', groupFile])).to.deep.equal(GROUP_S3)

    // 5. list scans, evaluations, violations, files
    mockApi('data', 'GET', '/v1/scans', 200, {...page('scans', [SCAN_BLOCKED]), count_capped: false})
    const scans = await json(['model-security', 'scans', 'list'])
    expect(scans).to.deep.equal([SCAN_BLOCKED])
    const scanUuid = scans[0].uuid as string
    expect(scanUuid).to.equal(SCAN_UUID)
    mockApi('data', 'GET', `/v1/scans/${scanUuid}/evaluations`, 200, page('evaluations', EVALUATIONS))
    expect(await json(['model-security', 'scans', 'evaluations', scanUuid])).to.deep.equal(EVALUATIONS)
    mockApi('data', 'GET', `/v1/scans/${scanUuid}/rule-violations`, 200, page('violations', VIOLATIONS))
    expect(await json(['model-security', 'scans', 'violations', scanUuid])).to.deep.equal(VIOLATIONS)
    mockApi('data', 'GET', `/v1/scans/${scanUuid}/files`, 200, page('files', [FILE_CONFIG, FILE_ONNX_DIR, FILE_PICKLE]))
    expect(await json(['model-security', 'scans', 'files', scanUuid])).to.deep.equal([FILE_CONFIG, FILE_ONNX_DIR, FILE_PICKLE])

    // 6. add labels (the seed form) and list label keys
    mockApi('data', 'POST', `/v1/scans/${scanUuid}/labels`, 200, {})
    const labelled = await json(['model-security', 'labels', 'add', scanUuid, '--labels', '[{"key":"env","value":"prod"}]'])
    expect(labelled.labels).to.deep.equal([{key: 'env', value: 'prod'}])
    mockApi('data', 'GET', '/v1/scans/label-keys', 200, LABEL_KEYS)
    expect(await json(['model-security', 'labels', 'keys'])).to.deep.equal(LABEL_KEYS.keys)

    // What went over the wire, in order, and nothing else; one token for the whole run of each command.
    expect(apiRequests().map(r => `${r.method} ${r.path}`)).to.deep.equal([
      'GET /v1/security-groups',
      'GET /v1/security-rules',
      `GET /v1/security-rules/${RULE_FORMAT.uuid}`,
      `PUT /v1/security-groups/${GROUP_HF.uuid}/rule-instances/${INSTANCE_FORMAT.uuid}`,
      'POST /v1/security-groups',
      'GET /v1/scans',
      `GET /v1/scans/${SCAN_UUID}/evaluations`,
      `GET /v1/scans/${SCAN_UUID}/rule-violations`,
      `GET /v1/scans/${SCAN_UUID}/files`,
      `POST /v1/scans/${SCAN_UUID}/labels`,
      'GET /v1/scans/label-keys',
    ])
    expect(apiRequests()[3].body).to.deep.equal({security_group_uuid: GROUP_HF.uuid, state: 'ALLOWING'})
    expect(apiRequests()[4].body).to.deep.equal({name: 'prod-s3-strict', source_type: 'S3', description: '',
      rule_configurations: {[RULE_FORMAT.uuid]: {state: 'BLOCKING', field_values: {approved_formats: ['safetensors']}}}})
    expect(apiRequests()[9].body).to.deep.equal({labels: [{key: 'env', value: 'prod'}]})
    expect(requests.filter(r => r.plane === 'token')).to.have.length(1)
    expectConforming()
  })
})
