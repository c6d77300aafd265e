/**
 * Conformance through our own client: every one of the 29 operations, sent by ModelSecurityClient (got,
 * OAuth, retries) to a sandbox on 127.0.0.1, each response validated against the OpenAPI document's response
 * schema. Proves the client and the emulator speak the service's wire format to each other.
 */
import {expect} from 'chai'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ModelSecurityClient} from '../../src/lib/airs/client.js'
import type {ScanDetails} from '../../src/lib/airs/types.js'
import {type SandboxHandle, startSandbox} from '../../src/lib/sandbox/index.js'
import {assertResponseConforms, openapiAvailable, type Plane, SKIP_REASON} from '../helpers/openapi.js'

describe('client -> sandbox conformance (all 29 operations)', function () {
  let dir: string
  let sb: SandboxHandle
  let client: ModelSecurityClient
  const seen = new Set<string>()

  before(async function () {
    if (!openapiAvailable) {
      console.log(`      skipped: ${SKIP_REASON}`)
      this.skip()
    }
    dir = mkdtempSync(join(tmpdir(), 'daystrom-conf-'))
    sb = await startSandbox({dataDir: dir, settleDelayMs: 0})
    client = new ModelSecurityClient({
      ...sb.credentials, dataEndpoint: sb.dataUrl, mgmtEndpoint: sb.mgmtUrl, tokenEndpoint: sb.tokenUrl,
      retries: 0, timeoutMs: 10_000, userAgent: 'daystrom-test',
    })
  })

  after(async () => {
    await sb?.close()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  /** Call the operation through the client and validate the raw response against the document. */
  async function check<T>(plane: Plane, method: string, path: string, status: number, call: () => Promise<T>): Promise<T> {
    const result = await call()
    const raw = (result as {raw?: unknown})?.raw ?? result
    assertResponseConforms(plane, method, path, status, raw)
    seen.add(`${method} ${path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '{id}').replace(/label-keys\/[^/]+/, 'label-keys/{key}')}`)
    return result
  }

  it('answers every operation with a response that matches the OpenAPI schema', async () => {
    const rules = await check('mgmt', 'GET', '/v1/security-rules', 200, () => client.listSecurityRules({limit: 100}))
    expect(rules.items.length).to.be.greaterThan(5)
    const loadTime = rules.items.find(r => r.name === 'Load Time Code Execution Check')!
    await check('mgmt', 'GET', `/v1/security-rules/${loadTime.uuid}`, 200, () => client.getSecurityRule(loadTime.uuid))
    await check('mgmt', 'GET', '/v1/security-groups', 200, () => client.listSecurityGroups({source_types: ['LOCAL', 'S3']}))
    const group = await check('mgmt', 'POST', '/v1/security-groups', 201, () => client.createSecurityGroup({
      name: 'conformance-local', source_type: 'LOCAL', description: 'made by a test',
      rule_configurations: {[loadTime.uuid]: {state: 'BLOCKING'}},
    }))
    await check('mgmt', 'GET', `/v1/security-groups/${group.uuid}`, 200, () => client.getSecurityGroup(group.uuid))
    await check('mgmt', 'PUT', `/v1/security-groups/${group.uuid}`, 200, () => client.updateSecurityGroup(group.uuid, {description: 'updated'}))
    const instances = await check('mgmt', 'GET', `/v1/security-groups/${group.uuid}/rule-instances`, 200, () => client.listRuleInstances(group.uuid, {limit: 50}))
    const inst = instances.items.find(i => i.rule.name === 'Load Time Code Execution Check')!
    await check('mgmt', 'GET', `/v1/security-groups/${group.uuid}/rule-instances/${inst.uuid}`, 200, () => client.getRuleInstance(group.uuid, inst.uuid))
    await check('mgmt', 'PUT', `/v1/security-groups/${group.uuid}/rule-instances/${inst.uuid}`, 200,
      () => client.updateRuleInstance(group.uuid, inst.uuid, {security_group_uuid: group.uuid, state: 'BLOCKING'}))
    await check('mgmt', 'GET', '/v1/pypi/authenticate', 200, () => client.getPyPIAuth())

    const details: ScanDetails = {
      scanner_version: 'test/1', time_started: new Date().toISOString(), total_files_scanned: 2, total_files_skipped: 0,
      model_formats: ['pickle', 'json'], model_size_bytes: 120, scan_duration_ms: 5,
      files: [
        {file_path: 'config.json', modelscan_status: 'SCANNED', blob_id: 'a'.repeat(64), sha256: 'a'.repeat(64), size_bytes: 40, formats: ['json'], issues_detected: []},
        {file_path: 'weights/model.pkl', modelscan_status: 'SCANNED', blob_id: 'b'.repeat(64), sha256: 'b'.repeat(64), size_bytes: 80, formats: ['pickle'],
          issues_detected: [{description: 'os.system is called at load time', source: 'weights/model.pkl', threat: 'PAIT-PKL-100', module: 'os', operator: 'system'}]},
      ],
    }
    const scan = await check('data', 'POST', '/v1/scans', 201, () => client.createScan({
      model_uri: '/models/conformance', security_group_uuid: group.uuid, scan_origin: 'MODEL_SECURITY_SDK',
      model_name: 'conformance', labels: [{key: 'env', value: 'test'}], scan_details: details,
    }))
    expect(scan.eval_outcome).to.equal('PENDING')
    let settled = scan
    for (let i = 0; i < 100 && settled.eval_outcome === 'PENDING'; i++) {
      await new Promise(r => setTimeout(r, 20))
      settled = await client.getScan(scan.uuid)
    }
    await check('data', 'GET', `/v1/scans/${scan.uuid}`, 200, () => client.getScan(scan.uuid))
    expect(settled.eval_outcome).to.equal('BLOCKED')
    await check('data', 'GET', '/v1/scans', 200, () => client.listScans({eval_outcomes: ['BLOCKED', 'ALLOWED'], source_types: ['LOCAL'], labels_query: 'env=test'}))
    const evals = await check('data', 'GET', `/v1/scans/${scan.uuid}/evaluations`, 200, () => client.listScanEvaluations(scan.uuid, {result: 'FAILED'}))
    expect(evals.items.map(e => e.rule_name)).to.include('Load Time Code Execution Check')
    await check('data', 'GET', `/v1/evaluations/${evals.items[0].uuid}`, 200, () => client.getEvaluation(evals.items[0].uuid))
    const violations = await check('data', 'GET', `/v1/scans/${scan.uuid}/rule-violations`, 200, () => client.listScanViolations(scan.uuid))
    expect(violations.items.length).to.be.greaterThan(0)
    await check('data', 'GET', `/v1/violations/${violations.items[0].uuid}`, 200, () => client.getViolation(violations.items[0].uuid))
    await check('data', 'GET', `/v1/scans/${scan.uuid}/files`, 200, () => client.listScanFiles(scan.uuid, {query_path: '/'}))
    await check('data', 'POST', `/v1/scans/${scan.uuid}/labels`, 200, () => client.addScanLabels(scan.uuid, [{key: 'team', value: 'ml'}]))
    await check('data', 'PUT', `/v1/scans/${scan.uuid}/labels`, 200, () => client.setScanLabels(scan.uuid, [{key: 'env', value: 'prod'}, {key: 'team', value: 'ml'}]))
    await check('data', 'DELETE', `/v1/scans/${scan.uuid}/labels`, 204, () => client.deleteScanLabels(scan.uuid, ['team']))
    const keys = await check('data', 'GET', '/v1/scans/label-keys', 200, () => client.listLabelKeys({search: 'en'}))
    expect(keys.items).to.deep.equal(['env'])
    await check('data', 'GET', '/v1/scans/label-keys/env/values', 200, () => client.listLabelValues('env'))
    const models = await check('data', 'GET', '/v1/models', 200, () => client.listModels({latest_version_outcomes: ['BLOCKED']}))
    expect(models.items.length).to.be.greaterThan(0)
    const model = models.items[0]
    await check('data', 'GET', `/v1/models/${model.uuid}`, 200, () => client.getModel(model.uuid))
    const versions = await check('data', 'GET', `/v1/models/${model.uuid}/model-versions`, 200, () => client.listModelVersions(model.uuid))
    await check('data', 'GET', `/v1/model-versions/${versions.items[0].uuid}`, 200, () => client.getModelVersion(versions.items[0].uuid))
    await check('data', 'GET', `/v1/model-versions/${versions.items[0].uuid}/files`, 200, () => client.listModelVersionFiles(versions.items[0].uuid))
    await check('mgmt', 'DELETE', `/v1/security-groups/${group.uuid}`, 204, () => client.deleteSecurityGroup(group.uuid))
    expect(seen.size).to.equal(29)
  })
})
