/**
 * Policy evaluation, settling, files, models, labels and filters, through the sandbox's HTTP API.
 */
import {expect} from 'chai'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {startSandbox} from '../../src/lib/sandbox/index.js'
import {parseLabelsQuery} from '../../src/lib/sandbox/labels-query.js'
import {
  type TestSandbox, groupByName, maliciousPickleDetails, ruleByName, scanDetails, startTestSandbox, tempDir, waitScan,
} from './support.js'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src')

describe('sandbox: policy evaluation', () => {
  let t: TestSandbox
  let loadTime: any

  before(async () => {
    t = await startTestSandbox()
    loadTime = await ruleByName(t, 'Load Time Code Execution Check')
  })
  after(async () => t.close())

  async function scanWithState(state: 'BLOCKING' | 'ALLOWING' | 'DISABLED'): Promise<{scan: any; evals: any[]; viols: any[]; group: any}> {
    const g = await t.mgmt('POST', '/v1/security-groups', {name: `load-time-${state}`, source_type: 'LOCAL', rule_configurations: {[loadTime.uuid]: {state}}})
    expect(g.status).to.equal(201)
    const created = await t.data('POST', '/v1/scans', {model_uri: `/models/${state}`, security_group_uuid: g.body.uuid, scan_details: maliciousPickleDetails()})
    expect(created.status).to.equal(201)
    expect(created.body.eval_outcome).to.equal('PENDING')
    expect(created.body.eval_summary).to.equal(null)
    const scan = await waitScan(t, created.body.uuid)
    const evals = (await t.data('GET', `/v1/scans/${scan.uuid}/evaluations`, undefined, {query: 'limit=100'})).body.evaluations
    const viols = (await t.data('GET', `/v1/scans/${scan.uuid}/rule-violations`, undefined, {query: 'limit=100'})).body.violations
    return {scan, evals, viols, group: g.body}
  }

  it('BLOCKING owning rule: BLOCKED, FAILED evaluation, violation attributed to the rule', async () => {
    const {scan, evals, viols} = await scanWithState('BLOCKING')
    expect(scan.eval_outcome).to.equal('BLOCKED')
    const ev = evals.find(e => e.rule_name === loadTime.name)
    expect(ev.result).to.equal('FAILED')
    expect(ev.rule_instance_state).to.equal('BLOCKING')
    expect(ev.violation_count).to.equal(1)
    const v = viols.find(x => x.threat === 'PAIT-PKL-100')
    expect(v).to.include({rule_name: loadTime.name, rule_instance_uuid: ev.rule_instance_uuid, file: 'model.pkl', module: 'posix', operator: 'system',
      rule_instance_state: 'BLOCKING', hash: 'b'.repeat(40), description: 'The model will call os.system when loaded'})
    expect(v.threat_description).to.match(/Pickle/)
    expect(v.threat_kb_url).to.equal('https://protectai.com/insights/knowledge-base/deserialization-threats/PAIT-PKL-100')
    expect(v.remediation.steps).to.deep.equal(loadTime.remediation.steps)
    expect(v.remediation.url).to.equal(loadTime.remediation.url)
    // the rest of Default LOCAL-like composition: 7 instances, location DISABLED -> 6 evaluated
    expect(scan.eval_summary).to.deep.equal({rules_failed: 2, rules_passed: 4, total_rules: 6})
    expect(scan.enabled_rule_count_snapshot).to.equal(6)
  })

  it('ALLOWING owning rule: ALLOWED with the violation recorded', async () => {
    const {scan, evals, viols} = await scanWithState('ALLOWING')
    expect(scan.eval_outcome).to.equal('ALLOWED')
    const ev = evals.find(e => e.rule_name === loadTime.name)
    expect(ev).to.include({result: 'FAILED', rule_instance_state: 'ALLOWING', violation_count: 1})
    expect(viols.filter(x => x.rule_name === loadTime.name)).to.have.length(1)
  })

  it('DISABLED owning rule: ALLOWED with no evaluation and no violation for that rule', async () => {
    const {scan, evals, viols} = await scanWithState('DISABLED')
    expect(scan.eval_outcome).to.equal('ALLOWED')
    expect(evals.map(e => e.rule_name)).not.to.include(loadTime.name)
    expect(viols.filter(x => x.rule_name === loadTime.name)).to.have.length(0)
    expect(scan.eval_summary.total_rules).to.equal(5)
  })

  it('reports unapproved formats per (file, format) and honours approved_formats edits', async () => {
    const g = await t.mgmt('POST', '/v1/security-groups', {name: 'formats', source_type: 'LOCAL'})
    const insts = (await t.mgmt('GET', `/v1/security-groups/${g.body.uuid}/rule-instances`, undefined, {query: 'limit=20'})).body.rule_instances
    const fmt = insts.find((i: any) => i.rule.name === 'Stored In Approved File Format')
    const put = await t.mgmt('PUT', `/v1/security-groups/${g.body.uuid}/rule-instances/${fmt.uuid}`,
      {security_group_uuid: g.body.uuid, state: 'BLOCKING', field_values: {approved_formats: ['safetensors', 'json']}})
    expect(put.status).to.equal(200)
    expect(put.body.field_values.approved_formats).to.deep.equal(['safetensors', 'json'])
    const details = scanDetails([
      {file_path: 'w.safetensors', modelscan_status: 'SCANNED', blob_id: 'x', formats: ['safetensors']},
      {file_path: 'legacy/w.bin', modelscan_status: 'SCANNED', blob_id: 'y', formats: ['pickle', 'pytorch_v0_1_10']},
      {file_path: 'notes.txt', modelscan_status: 'SKIPPED', blob_id: 'z', formats: ['not_model']},
    ])
    const s = await t.data('POST', '/v1/scans', {model_uri: '/models/formats', security_group_uuid: g.body.uuid, scan_details: details})
    const scan = await waitScan(t, s.body.uuid)
    expect(scan.eval_outcome).to.equal('BLOCKED')
    const viols = (await t.data('GET', `/v1/scans/${scan.uuid}/rule-violations`)).body.violations
    expect(viols.map((v: any) => [v.file, v.threat])).to.deep.equal([['legacy/w.bin', 'UNAPPROVED_FORMATS'], ['legacy/w.bin', 'UNAPPROVED_FORMATS']])
    expect(viols[0].description).to.equal('Model file `legacy/w.bin` is stored in an unapproved format: **pickle**')
    // files: one tree level per query_path, directories flagged by their content
    const root = (await t.data('GET', `/v1/scans/${scan.uuid}/files`)).body
    expect(root.files.map((f: any) => [f.path, f.type, f.result, f.parent_path])).to.deep.equal([
      ['legacy', 'DIRECTORY', 'FAILED', '/'], ['notes.txt', 'FILE', 'SKIPPED', '/'], ['w.safetensors', 'FILE', 'SUCCESS', '/'],
    ])
    const sub = (await t.data('GET', `/v1/scans/${scan.uuid}/files`, undefined, {query: 'query_path=legacy'})).body
    expect(sub.files.map((f: any) => [f.path, f.result, f.parent_path])).to.deep.equal([['legacy/w.bin', 'FAILED', '/legacy']])
    const paged = (await t.data('GET', `/v1/scans/${scan.uuid}/files`, undefined, {query: 'limit=1&skip=1&sort_dir=desc'})).body
    expect(paged.pagination.total_items).to.equal(3)
    expect(paged.files.map((f: any) => f.path)).to.deep.equal(['notes.txt'])
  })

  it('routes an issue without a threat code to Suspicious Model Components and PAIT-ONNX-200 to the backdoor rule', async () => {
    const g = await groupByName(t, 'Default LOCAL')
    const details = scanDetails([
      {file_path: 'a.keras', modelscan_status: 'SCANNED', blob_id: 'k', formats: ['keras3'], issues_detected: [{description: 'odd layer', source: 'a.keras'}]},
      {file_path: 'g.onnx', modelscan_status: 'SCANNED', blob_id: 'o', formats: ['onnx'], issues_detected: [{description: 'parallel path', source: 'g.onnx', threat: 'PAIT-ONNX-200'}]},
    ])
    const s = await t.data('POST', '/v1/scans', {model_uri: '/models/route', security_group_uuid: g.uuid, scan_details: details})
    const scan = await waitScan(t, s.body.uuid)
    const viols = (await t.data('GET', `/v1/scans/${scan.uuid}/rule-violations`, undefined, {query: 'limit=50'})).body.violations
    const byRule = Object.fromEntries(viols.filter((v: any) => v.threat !== 'UNAPPROVED_FORMATS').map((v: any) => [v.file, v.rule_name]))
    expect(byRule).to.deep.equal({'a.keras': 'Suspicious Model Components Check', 'g.onnx': 'Model Architecture Backdoor Check'})
    expect(scan.eval_outcome).to.equal('BLOCKED')
  })

  it('ends in ERROR with the scanner error and no evaluations when scan_details carry an error_code', async () => {
    const g = await groupByName(t, 'Default LOCAL')
    const details = scanDetails([], {error_code: 'SCAN_ERROR', error_message: 'disk vanished'})
    const s = await t.data('POST', '/v1/scans', {model_uri: '/models/err', security_group_uuid: g.uuid, scan_details: details})
    const scan = await waitScan(t, s.body.uuid)
    expect(scan).to.include({eval_outcome: 'ERROR', error_code: 'SCAN_ERROR', error_message: 'disk vanished'})
    expect((await t.data('GET', `/v1/scans/${scan.uuid}/evaluations`)).body.pagination.total_items).to.equal(0)
  })

  it('ends remote scans without scan_details in ERROR saying the sandbox cannot reach them', async () => {
    for (const [group, uri, code] of [
      ['Default S3', 's3://bucket/model', 'UNSUPPORTED_REMOTE_STORAGE'],
      ['Default HUGGING_FACE', 'https://huggingface.co/org/model', 'UNKNOWN_REMOTE_SERVICE_ERROR'],
    ]) {
      const g = await groupByName(t, group)
      const s = await t.data('POST', '/v1/scans', {model_uri: uri, security_group_uuid: g.uuid})
      expect(s.status).to.equal(201)
      const scan = await waitScan(t, s.body.uuid)
      expect(scan.eval_outcome).to.equal('ERROR')
      expect(scan.error_code).to.equal(code)
      expect(scan.error_message).to.match(/cannot reach/)
      expect(scan.source_type).to.equal(group.replace('Default ', ''))
    }
  })

  it('evaluates Hugging Face metadata rules from what is locally knowable', async () => {
    const hf = await groupByName(t, 'Default HUGGING_FACE')
    const insts = (await t.mgmt('GET', `/v1/security-groups/${hf.uuid}/rule-instances`, undefined, {query: 'limit=50'})).body.rule_instances
    expect(insts).to.have.length(11)
    const orgRule = insts.find((i: any) => i.rule.name === 'Organization Is Blocked')
    await t.mgmt('PUT', `/v1/security-groups/${hf.uuid}/rule-instances/${orgRule.uuid}`, {security_group_uuid: hf.uuid, field_values: {deny_orgs: ['evil-org']}})
    const details = scanDetails([
      {file_path: 'model.safetensors', modelscan_status: 'SCANNED', blob_id: 'm', formats: ['safetensors']},
      {file_path: 'LICENSE', modelscan_status: 'SKIPPED', blob_id: 'l', formats: ['not_model']},
    ])
    const s = await t.data('POST', '/v1/scans', {model_uri: 'https://huggingface.co/evil-org/model', security_group_uuid: hf.uuid, scan_details: details})
    const scan = await waitScan(t, s.body.uuid)
    expect(scan.eval_outcome).to.equal('BLOCKED')
    const evals = (await t.data('GET', `/v1/scans/${scan.uuid}/evaluations`, undefined, {query: 'limit=50'})).body.evaluations
    const res = Object.fromEntries(evals.map((e: any) => [e.rule_name, e.result]))
    expect(res['Organization Is Blocked']).to.equal('FAILED')
    expect(res['License Exists']).to.equal('PASSED')
    expect(res['Model Is Blocked']).to.equal('PASSED')
    expect(res).not.to.have.property('Stored In Approved Location')
    const mv = (await t.data('GET', `/v1/model-versions/${scan.model_version_uuid}`)).body
    expect(mv).to.include({hf_organization: 'evil-org', hf_model_name: 'model', revision: 'main'})
  })

  it('reads the licence of a local model directory and checks its location', async () => {
    const dir = tempDir('daystrom-model-')
    writeFileSync(join(dir, 'README.md'), '---\nlicense: mit\n---\n# model\n')
    writeFileSync(join(dir, 'w.safetensors'), 'x')
    const g = await t.mgmt('POST', '/v1/security-groups', {name: 'located', source_type: 'LOCAL', rule_configurations: {
      [(await ruleByName(t, 'Stored In Approved Location')).uuid]: {state: 'BLOCKING', field_values: {approved_locations: ['/opt/models']}},
    }})
    const details = scanDetails([{file_path: 'w.safetensors', modelscan_status: 'SCANNED', blob_id: 'w', formats: ['safetensors']}])
    const s = await t.data('POST', '/v1/scans', {model_uri: dir, security_group_uuid: g.body.uuid, scan_details: details})
    const scan = await waitScan(t, s.body.uuid)
    expect(scan.eval_outcome).to.equal('BLOCKED')
    const viols = (await t.data('GET', `/v1/scans/${scan.uuid}/rule-violations`)).body.violations
    expect(viols).to.have.length(1)
    expect(viols[0]).to.include({rule_name: 'Stored In Approved Location', file: null, threat: null})
    const mv = (await t.data('GET', `/v1/model-versions/${scan.model_version_uuid}`)).body
    expect(mv.license).to.equal('mit')
  })
})

describe('sandbox: settling, models, labels and filters', () => {
  let t: TestSandbox
  let local: any

  before(async () => {
    t = await startTestSandbox()
    local = await groupByName(t, 'Default LOCAL')
  })
  after(async () => t.close())

  it('settles a scan created by one process-like instance when another instance reads it', async () => {
    const dataDir = tempDir()
    const a = await startSandbox({dataDir, settleDelayMs: 100}) as any
    const {fetchToken, request} = await import('./support.js')
    const tokA = (await fetchToken(a.tokenUrl)).body.access_token
    const groups = await request(`${a.mgmtUrl}/v1/security-groups?search_query=Default%20LOCAL`, 'GET', undefined, tokA)
    const created = await request(`${a.dataUrl}/v1/scans`, 'POST', {model_uri: '/m', security_group_uuid: groups.body.security_groups[0].uuid, scan_details: maliciousPickleDetails()}, tokA)
    await a.close() // the creator is gone before the settle time
    const b = await startSandbox({dataDir, settleDelayMs: 100})
    try {
      const tokB = (await fetchToken(b.tokenUrl)).body.access_token
      let scan: any
      for (let i = 0; i < 100; i++) {
        scan = (await request(`${b.dataUrl}/v1/scans/${created.body.uuid}`, 'GET', undefined, tokB)).body
        if (scan.eval_outcome !== 'PENDING') break
        await new Promise(r => setTimeout(r, 20))
      }
      expect(scan.eval_outcome).to.equal('BLOCKED')
      // a token from the first instance is valid on the second (same database, same signing key)
      expect((await request(`${b.dataUrl}/v1/scans/${created.body.uuid}`, 'GET', undefined, tokA)).status).to.equal(200)
    } finally {
      await b.close()
    }
  })

  it('maps the same bytes under the same name to one model version, and new bytes to a new one', async () => {
    const mk = async (sha: string): Promise<any> => {
      const d = maliciousPickleDetails()
      d.files[0].sha256 = sha
      const s = await t.data('POST', '/v1/scans', {model_uri: '/models/versioned', model_name: 'versioned', security_group_uuid: local.uuid, scan_details: d})
      return waitScan(t, s.body.uuid)
    }
    const one = await mk('1'.repeat(64))
    const two = await mk('1'.repeat(64))
    const three = await mk('2'.repeat(64))
    expect(two.model_version_uuid).to.equal(one.model_version_uuid)
    expect(three.model_version_uuid).not.to.equal(one.model_version_uuid)
    const models = (await t.data('GET', '/v1/models', undefined, {query: 'search_query=versioned'})).body
    expect(models.pagination.total_items).to.equal(1)
    expect(models.models[0].latest_version_uuid).to.equal(three.model_version_uuid)
    const versions = (await t.data('GET', `/v1/models/${models.models[0].uuid}/model-versions`)).body
    expect(versions.pagination.total_items).to.equal(2)
    const byVersion = (await t.data('GET', '/v1/scans', undefined, {query: `model_version_uuid=${one.model_version_uuid}`})).body
    expect(byVersion.scans.map((s: any) => s.uuid)).to.have.members([one.uuid, two.uuid])
  })

  it('merges labels on POST, replaces them on PUT, deletes by repeated keys, and lists distinct keys/values by prefix', async () => {
    const s = await t.data('POST', '/v1/scans', {model_uri: '/models/l', security_group_uuid: local.uuid, labels: [{key: 'env', value: 'ci'}], scan_details: maliciousPickleDetails()})
    const id = s.body.uuid
    expect(s.body.labels).to.deep.equal([{key: 'env', value: 'ci'}])
    await t.data('POST', `/v1/scans/${id}/labels`, {labels: [{key: 'env', value: 'prod'}, {key: 'team', value: 'ml'}, {key: 'tier', value: 'gold'}]})
    expect((await t.data('GET', `/v1/scans/${id}`)).body.labels).to.deep.equal([{key: 'env', value: 'prod'}, {key: 'team', value: 'ml'}, {key: 'tier', value: 'gold'}])
    expect((await t.data('DELETE', `/v1/scans/${id}/labels`, undefined, {query: 'keys=team&keys=tier'})).status).to.equal(204)
    expect((await t.data('GET', `/v1/scans/${id}`)).body.labels).to.deep.equal([{key: 'env', value: 'prod'}])
    await t.data('PUT', `/v1/scans/${id}/labels`, {labels: [{key: 'owner', value: 'alice'}]})
    expect((await t.data('GET', `/v1/scans/${id}`)).body.labels).to.deep.equal([{key: 'owner', value: 'alice'}])
    const s2 = await t.data('POST', '/v1/scans', {model_uri: '/models/l2', security_group_uuid: local.uuid, labels: [{key: 'owner', value: 'bob'}, {key: 'origin', value: 'x'}], scan_details: maliciousPickleDetails()})
    expect(s2.status).to.equal(201)
    const keys = (await t.data('GET', '/v1/scans/label-keys', undefined, {query: 'search=o'})).body
    expect(keys).to.deep.equal({pagination: {total_items: 2}, keys: ['origin', 'owner']})
    const vals = (await t.data('GET', '/v1/scans/label-keys/owner/values', undefined, {query: 'limit=1&skip=1'})).body
    expect(vals).to.deep.equal({pagination: {total_items: 2}, values: ['bob']})
  })

  it('filters scans by labels_query with AND/OR and parentheses, by outcome, source and time window', async () => {
    const mk = async (labels: Array<{key: string; value: string}>): Promise<string> => {
      const s = await t.data('POST', '/v1/scans', {model_uri: '/models/q', security_group_uuid: local.uuid, labels, scan_details: maliciousPickleDetails()})
      return s.body.uuid
    }
    const start = new Date().toISOString()
    const a = await mk([{key: 'qenv', value: 'prod'}, {key: 'qteam', value: 'ml'}])
    const b = await mk([{key: 'qenv', value: 'prod'}, {key: 'qteam', value: 'data'}])
    const c = await mk([{key: 'qenv', value: 'dev'}, {key: 'qteam', value: 'ml'}])
    const q = async (query: string): Promise<string[]> =>
      (await t.data('GET', '/v1/scans', undefined, {query: 'limit=100&labels_query=' + encodeURIComponent(query)})).body.scans.map((s: any) => s.uuid)
    expect(await q('qenv=prod')).to.have.members([a, b])
    expect(await q('qenv=prod AND qteam=ml')).to.deep.equal([a])
    expect(await q('qenv=dev or qteam=data')).to.have.members([b, c])
    expect(await q('qteam=ml AND (qenv=prod OR qenv=dev)')).to.have.members([a, c])
    expect(await q('(qenv=prod AND qteam=data) OR qenv=dev')).to.have.members([b, c])
    expect(parseLabelsQuery('a=b AND c=d OR e=f')).to.have.property('kind', 'or')
    const windowed = (await t.data('GET', '/v1/scans', undefined, {query: `limit=100&sort_order=asc&start_time=${encodeURIComponent(start)}&source_types=LOCAL&labels_query=qenv%3Dprod`})).body
    expect(windowed.scans.map((s: any) => s.uuid)).to.deep.equal([a, b])
    const past = (await t.data('GET', '/v1/scans', undefined, {query: `end_time=${encodeURIComponent(start)}&labels_query=qenv%3Dprod`})).body
    expect(past.pagination.total_items).to.equal(0)
    await waitScan(t, c)
    const blocked = (await t.data('GET', '/v1/scans', undefined, {query: 'limit=100&eval_outcomes=BLOCKED&eval_outcomes=ERROR&labels_query=qenv%3Ddev'})).body
    expect(blocked.scans.map((s: any) => s.uuid)).to.deep.equal([c])
  })

  it('soft-deletes groups: hidden from lists, still gettable, scans still readable, no new scans', async () => {
    const g = await t.mgmt('POST', '/v1/security-groups', {name: 'to-delete', source_type: 'LOCAL'})
    const s = await t.data('POST', '/v1/scans', {model_uri: '/models/d', security_group_uuid: g.body.uuid, scan_details: maliciousPickleDetails()})
    await waitScan(t, s.body.uuid)
    const inst = (await t.mgmt('GET', `/v1/security-groups/${g.body.uuid}/rule-instances`)).body.rule_instances[0]
    expect((await t.mgmt('DELETE', `/v1/security-groups/${g.body.uuid}`)).status).to.equal(204)
    const got = await t.mgmt('GET', `/v1/security-groups/${g.body.uuid}`)
    expect(got.body.is_tombstone).to.equal(true)
    const list = (await t.mgmt('GET', '/v1/security-groups', undefined, {query: 'limit=100'})).body.security_groups
    expect(list.map((x: any) => x.uuid)).not.to.include(g.body.uuid)
    expect((await t.mgmt('GET', `/v1/security-groups/${g.body.uuid}/rule-instances`)).status).to.equal(404)
    expect((await t.mgmt('GET', `/v1/security-groups/${g.body.uuid}/rule-instances/${inst.uuid}`)).status).to.equal(200)
    const scan = (await t.data('GET', `/v1/scans/${s.body.uuid}`)).body
    expect(scan.security_group_name).to.equal('to-delete')
    expect((await t.data('POST', '/v1/scans', {model_uri: '/m', security_group_uuid: g.body.uuid})).status).to.equal(404)
    expect((await t.mgmt('DELETE', `/v1/security-groups/${g.body.uuid}`)).status).to.equal(404)
  })

  it('sorts and filters groups, searches rules, filters rule instances', async () => {
    const rule = await ruleByName(t, 'Suspicious Model Components Check')
    const a = await t.mgmt('POST', '/v1/security-groups', {name: 'zz-sort-a', source_type: 'AZURE', rule_configurations: {[rule.uuid]: {state: 'DISABLED'}}})
    const b = await t.mgmt('POST', '/v1/security-groups', {name: 'zz-sort-b', source_type: 'AZURE'})
    const desc = (await t.mgmt('GET', '/v1/security-groups', undefined, {query: 'source_types=AZURE'})).body.security_groups.map((g: any) => g.name)
    expect(desc).to.deep.equal(['zz-sort-b', 'zz-sort-a', 'Default AZURE'])
    const enabled = (await t.mgmt('GET', '/v1/security-groups', undefined, {query: `source_types=AZURE&enabled_rules=${rule.uuid}`})).body.security_groups.map((g: any) => g.uuid)
    expect(enabled).to.include(b.body.uuid).and.not.include(a.body.uuid)
    const search = (await t.mgmt('GET', '/v1/security-rules', undefined, {query: 'search_query=licen'})).body
    expect(search.rules.map((r: any) => r.name)).to.deep.equal(['License Exists', 'License Is Valid For Use'])
    const dis = (await t.mgmt('GET', `/v1/security-groups/${a.body.uuid}/rule-instances`, undefined, {query: 'state=DISABLED'})).body
    expect(dis.rule_instances.map((r: any) => r.rule.name)).to.include('Suspicious Model Components Check')
    const page = (await t.mgmt('GET', `/v1/security-groups/${a.body.uuid}/rule-instances`, undefined, {query: 'limit=2&skip=1'})).body
    expect(page.pagination.total_items).to.equal(7)
    expect(page.rule_instances.map((r: any) => r.rule.name)).to.deep.equal(['Load Time Code Execution Check', 'Model Architecture Backdoor Check'])
  })

  it('scans a LOCAL path itself with the local scanner when no scan_details were sent', async () => {
    const dir = tempDir('daystrom-local-')
    mkdirSync(join(dir, 'sub'))
    writeFileSync(join(dir, 'config.json'), '{"a": 1}')
    // protocol-4 pickle calling posix.system("ls"): a PAIT-PKL-100 finding of Load Time Code Execution Check
    writeFileSync(join(dir, 'sub', 'evil.pkl'), Buffer.from('80049515000000000000008c05706f736978948c0673797374656d9493948c026c739485945294', 'hex'))
    const s = await t.data('POST', '/v1/scans', {model_uri: dir, security_group_uuid: local.uuid})
    expect(s.status).to.equal(201)
    await t.sb.settleNow()
    const scan = await waitScan(t, s.body.uuid, 30_000)
    if (!existsSync(join(SRC, 'lib', 'scanner', 'index.ts'))) {
      // a build without the scanner says so instead of guessing
      expect(scan).to.include({eval_outcome: 'ERROR', error_code: 'SCAN_ERROR'})
      expect(scan.error_message).to.match(/scanner/)
      return
    }
    expect(scan.eval_outcome, JSON.stringify(scan)).to.equal('BLOCKED')
    expect(scan.model_formats).to.include('pickle')
    const viols = (await t.data('GET', `/v1/scans/${scan.uuid}/rule-violations`, undefined, {query: 'limit=50'})).body.violations
    const pkl = viols.find((v: any) => v.threat === 'PAIT-PKL-100')
    expect(pkl).to.include({rule_name: 'Load Time Code Execution Check', file: 'sub/evil.pkl'})
    const files = (await t.data('GET', `/v1/scans/${scan.uuid}/files`)).body.files
    expect(files.map((f: any) => [f.path, f.type])).to.deep.equal([['config.json', 'FILE'], ['sub', 'DIRECTORY']])
    expect(files[1].result).to.equal('FAILED')
  })

  it('leaves a LOCAL-path scan claimed by a live process alone and re-runs one whose claim expired', async () => {
    const slow = await startTestSandbox({settleDelayMs: 60_000})
    try {
      const g = await groupByName(slow, 'Default LOCAL')
      const dir = tempDir('daystrom-claim-')
      writeFileSync(join(dir, 'config.json'), '{}')
      const s = await slow.data('POST', '/v1/scans', {model_uri: dir, security_group_uuid: g.uuid})
      const claim = slow.sb.db.prepare('UPDATE scans SET settle_at = ?, claim_owner = ?, claim_until = ? WHERE uuid = ?')
      claim.run(Date.now() - 1000, 'another-process', Date.now() + 60_000, s.body.uuid)
      expect((await slow.data('GET', `/v1/scans/${s.body.uuid}`)).body.eval_outcome).to.equal('PENDING')
      claim.run(Date.now() - 1000, 'another-process', Date.now() - 1, s.body.uuid) // that process died: its lease ran out
      expect((await slow.data('GET', `/v1/scans/${s.body.uuid}`)).body.eval_outcome).to.equal('PENDING') // re-run started
      await slow.sb.settleNow()
      const scan = await waitScan(slow, s.body.uuid)
      expect(scan.eval_outcome).to.be.oneOf(existsSync(join(SRC, 'lib', 'scanner', 'index.ts')) ? ['ALLOWED'] : ['ERROR'])
    } finally {
      await slow.close()
    }
  })

  it('ends a LOCAL scan whose path does not exist (and carries no scan_details) in ERROR', async () => {
    const missing = await t.data('POST', '/v1/scans', {model_uri: join(tempDir(), 'nope'), security_group_uuid: local.uuid})
    const m = await waitScan(t, missing.body.uuid)
    expect(m).to.include({eval_outcome: 'ERROR', error_code: 'MISSING_ARTIFACTS'})
    expect(m.error_message).to.match(/not a path on the sandbox host/)
  })
})
