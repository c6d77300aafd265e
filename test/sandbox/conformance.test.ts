/**
 * Conformance over raw HTTP: every operation of both OpenAPI documents (11 management + 18 data plane) is
 * called on a started sandbox; the status must be the documented success code and the body must validate
 * against the documented response schema. The documents are read from ../shared/reference/openapi/
 * (relative to the repository root); the suite skips, saying why, when that folder is absent.
 */
import {Ajv, type ValidateFunction} from 'ajv'
import addFormatsModule from 'ajv-formats'
import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parse} from 'yaml'

import {type TestSandbox, maliciousPickleDetails, ruleByName, startTestSandbox, waitScan} from './support.js'

const here = dirname(fileURLToPath(import.meta.url))
const OPENAPI_DIR = resolve(here, '..', '..', '..', 'shared', 'reference', 'openapi')
const DOCS = {mgmt: 'model-security-management.yaml', data: 'model-security-data-plane.yaml'} as const
type Plane = keyof typeof DOCS

interface Operation { plane: Plane; method: string; path: string; success: string; schema?: string }

function rewriteRefs(node: unknown, prefix: string): unknown {
  if (Array.isArray(node)) return node.map(n => rewriteRefs(n, prefix))
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(node)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
        ? `${prefix}${v.slice('#/components/schemas/'.length)}`
        : rewriteRefs(v, prefix)
    }
    return out
  }
  return node
}

function loadDocs(): {ops: Operation[]; ajv: Ajv} {
  const ajv = new Ajv({allErrors: true, strict: false})
  const addFormats = ((addFormatsModule as unknown as {default?: unknown}).default ?? addFormatsModule) as (a: Ajv) => void
  addFormats(ajv)
  const ops: Operation[] = []
  for (const plane of Object.keys(DOCS) as Plane[]) {
    const doc = parse(readFileSync(join(OPENAPI_DIR, DOCS[plane]), 'utf8'))
    for (const [name, schema] of Object.entries(doc.components.schemas as Record<string, object>)) {
      ajv.addSchema({...(rewriteRefs(schema, `${plane}-`) as object), $id: `${plane}-${name}`})
    }
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(methods)) {
        const success = Object.keys(op.responses).find(c => c.startsWith('2'))!
        const ref = op.responses[success]?.content?.['application/json']?.schema?.$ref as string | undefined
        ops.push({plane, method: method.toUpperCase(), path, success, schema: ref ? `${plane}-${ref.split('/').pop()}` : undefined})
      }
    }
  }
  return {ops, ajv}
}

describe('sandbox: conformance with the OpenAPI documents (raw HTTP)', function () {
  let t: TestSandbox
  let ops: Operation[] = []
  let ajv: Ajv
  const covered = new Set<string>()
  const ids: Record<string, string> = {}
  const validators = new Map<string, ValidateFunction>()

  before(async function () {
    if (!existsSync(join(OPENAPI_DIR, DOCS.mgmt)) || !existsSync(join(OPENAPI_DIR, DOCS.data))) {
      console.log(`    skipping conformance: OpenAPI documents not found in ${OPENAPI_DIR}`)
      this.skip()
    }
    ;({ops, ajv} = loadDocs())
    t = await startTestSandbox()
    // fixtures: a group, a settled scan with violations, files, labels and a model version
    const g = await t.mgmt('POST', '/v1/security-groups', {name: 'conformance', source_type: 'LOCAL', description: 'conf'})
    ids.group = g.body.uuid
    const insts = await t.mgmt('GET', `/v1/security-groups/${ids.group}/rule-instances`, undefined, {query: 'limit=50'})
    ids.instance = insts.body.rule_instances[0].uuid
    ids.rule = (await ruleByName(t, 'Stored In Approved File Format')).uuid
    const s = await t.data('POST', '/v1/scans', {model_uri: '/models/conformance', security_group_uuid: ids.group, scan_origin: 'MODEL_SECURITY_SDK',
      model_name: 'conformance-model', labels: [{key: 'env', value: 'ci'}], scan_details: maliciousPickleDetails()})
    ids.scan = s.body.uuid
    const settled = await waitScan(t, ids.scan)
    ids.modelVersion = settled.model_version_uuid
    const evals = await t.data('GET', `/v1/scans/${ids.scan}/evaluations`)
    ids.evaluation = evals.body.evaluations[0].uuid
    const viols = await t.data('GET', `/v1/scans/${ids.scan}/rule-violations`)
    ids.violation = viols.body.violations[0].uuid
    const models = await t.data('GET', '/v1/models', undefined, {query: 'search_query=conformance-model'})
    ids.model = models.body.models[0].uuid
  })

  after(async function () {
    await t?.close()
  })

  async function call(plane: Plane, method: string, template: string, actual: string, opts: {query?: string; body?: unknown} = {}): Promise<any> {
    const op = ops.find(o => o.plane === plane && o.method === method && o.path === template)
    expect(op, `${method} ${template} is not in the ${plane} document`).to.not.equal(undefined)
    covered.add(`${plane} ${method} ${template}`)
    const r = plane === 'mgmt' ? await t.mgmt(method as never, actual, opts.body, {query: opts.query}) : await t.data(method as never, actual, opts.body, {query: opts.query})
    expect(String(r.status), `${method} ${actual}: ${JSON.stringify(r.body)}`).to.equal(op!.success)
    if (op!.schema) {
      let v = validators.get(op!.schema)
      if (!v) {
        v = ajv.getSchema(op!.schema) as ValidateFunction
        validators.set(op!.schema, v)
      }
      const valid = v(r.body)
      expect(valid, `${method} ${template} response does not match ${op!.schema}: ${ajv.errorsText(v.errors)}`).to.equal(true)
    } else {
      expect(r.body, `${method} ${template} has no documented body`).to.equal(undefined)
    }
    return r.body
  }

  // management plane
  it('GET /v1/security-groups', async () => {
    const b = await call('mgmt', 'GET', '/v1/security-groups', '/v1/security-groups', {query: 'limit=100&sort_field=updated_at&sort_dir=asc&source_types=LOCAL&source_types=S3'})
    expect(b.security_groups.map((g: any) => g.source_type)).to.have.members(['LOCAL', 'S3', 'LOCAL'])
  })
  it('POST /v1/security-groups', async () => {
    const b = await call('mgmt', 'POST', '/v1/security-groups', '/v1/security-groups', {body: {name: 'conf-created', source_type: 'GCS',
      rule_configurations: {[ids.rule]: {state: 'BLOCKING', field_values: {approved_formats: ['safetensors']}}}}})
    ids.created = b.uuid
    expect(b.state).to.equal('ACTIVE')
  })
  it('GET /v1/security-groups/{uuid}', async () => {
    await call('mgmt', 'GET', '/v1/security-groups/{uuid}', `/v1/security-groups/${ids.group}`)
  })
  it('PUT /v1/security-groups/{uuid}', async () => {
    const b = await call('mgmt', 'PUT', '/v1/security-groups/{uuid}', `/v1/security-groups/${ids.created}`, {body: {description: 'updated'}})
    expect(b.description).to.equal('updated')
    expect(b.name).to.equal('conf-created')
  })
  it('GET /v1/security-groups/{security_group_uuid}/rule-instances', async () => {
    await call('mgmt', 'GET', '/v1/security-groups/{security_group_uuid}/rule-instances', `/v1/security-groups/${ids.group}/rule-instances`, {query: 'state=BLOCKING'})
  })
  it('GET /v1/security-groups/{security_group_uuid}/rule-instances/{rule_instance_uuid}', async () => {
    await call('mgmt', 'GET', '/v1/security-groups/{security_group_uuid}/rule-instances/{rule_instance_uuid}', `/v1/security-groups/${ids.group}/rule-instances/${ids.instance}`)
  })
  it('PUT /v1/security-groups/{security_group_uuid}/rule-instances/{rule_instance_uuid}', async () => {
    const b = await call('mgmt', 'PUT', '/v1/security-groups/{security_group_uuid}/rule-instances/{rule_instance_uuid}',
      `/v1/security-groups/${ids.group}/rule-instances/${ids.instance}`, {body: {security_group_uuid: ids.group, state: 'ALLOWING'}})
    expect(b.state).to.equal('ALLOWING')
  })
  it('GET /v1/security-rules', async () => {
    const b = await call('mgmt', 'GET', '/v1/security-rules', '/v1/security-rules', {query: 'limit=50&source_type=HUGGING_FACE'})
    expect(b.pagination.total_items).to.equal(11)
  })
  it('GET /v1/security-rules/{uuid}', async () => {
    await call('mgmt', 'GET', '/v1/security-rules/{uuid}', `/v1/security-rules/${ids.rule}`)
  })
  it('GET /v1/pypi/authenticate', async () => {
    const b = await call('mgmt', 'GET', '/v1/pypi/authenticate', '/v1/pypi/authenticate')
    expect(b.url).to.match(/^https:\/\//)
  })
  it('DELETE /v1/security-groups/{uuid}', async () => {
    await call('mgmt', 'DELETE', '/v1/security-groups/{uuid}', `/v1/security-groups/${ids.created}`)
    const again = await t.mgmt('GET', `/v1/security-groups/${ids.created}`)
    expect(again.body.is_tombstone).to.equal(true)
  })

  // data plane
  it('POST /v1/scans', async () => {
    const b = await call('data', 'POST', '/v1/scans', '/v1/scans', {body: {model_uri: '/models/other', security_group_uuid: ids.group, scan_details: maliciousPickleDetails()}})
    expect(b.eval_outcome).to.equal('PENDING')
    await waitScan(t, b.uuid)
  })
  it('GET /v1/scans', async () => {
    await call('data', 'GET', '/v1/scans', '/v1/scans', {query: `limit=5&sort_order=asc&security_group_uuid=${ids.group}&eval_outcomes=BLOCKED&labels_query=env%3Dci`})
  })
  it('GET /v1/scans/{uuid}', async () => {
    await call('data', 'GET', '/v1/scans/{uuid}', `/v1/scans/${ids.scan}`)
  })
  it('GET /v1/scans/{scan_uuid}/evaluations', async () => {
    await call('data', 'GET', '/v1/scans/{scan_uuid}/evaluations', `/v1/scans/${ids.scan}/evaluations`, {query: 'result=FAILED'})
  })
  it('GET /v1/evaluations/{uuid}', async () => {
    await call('data', 'GET', '/v1/evaluations/{uuid}', `/v1/evaluations/${ids.evaluation}`)
  })
  it('GET /v1/scans/{scan_uuid}/rule-violations', async () => {
    await call('data', 'GET', '/v1/scans/{scan_uuid}/rule-violations', `/v1/scans/${ids.scan}/rule-violations`)
  })
  it('GET /v1/violations/{uuid}', async () => {
    await call('data', 'GET', '/v1/violations/{uuid}', `/v1/violations/${ids.violation}`)
  })
  it('GET /v1/scans/{scan_uuid}/files', async () => {
    const b = await call('data', 'GET', '/v1/scans/{scan_uuid}/files', `/v1/scans/${ids.scan}/files`, {query: 'sort_field=type&sort_dir=desc'})
    expect(b.files.map((f: any) => f.type)).to.deep.equal(['FILE', 'DIRECTORY'])
  })
  it('POST /v1/scans/{scan_uuid}/labels', async () => {
    await call('data', 'POST', '/v1/scans/{scan_uuid}/labels', `/v1/scans/${ids.scan}/labels`, {body: {labels: [{key: 'team', value: 'ml'}]}})
  })
  it('PUT /v1/scans/{scan_uuid}/labels', async () => {
    await call('data', 'PUT', '/v1/scans/{scan_uuid}/labels', `/v1/scans/${ids.scan}/labels`, {body: {labels: [{key: 'env', value: 'prod'}, {key: 'team', value: 'ml'}]}})
  })
  it('DELETE /v1/scans/{scan_uuid}/labels', async () => {
    await call('data', 'DELETE', '/v1/scans/{scan_uuid}/labels', `/v1/scans/${ids.scan}/labels`, {query: 'keys=team'})
  })
  it('GET /v1/scans/label-keys', async () => {
    const b = await call('data', 'GET', '/v1/scans/label-keys', '/v1/scans/label-keys', {query: 'search=e'})
    expect(b.keys).to.deep.equal(['env'])
  })
  it('GET /v1/scans/label-keys/{key}/values', async () => {
    const b = await call('data', 'GET', '/v1/scans/label-keys/{key}/values', '/v1/scans/label-keys/env/values')
    expect(b.values).to.include('prod')
  })
  it('GET /v1/models', async () => {
    await call('data', 'GET', '/v1/models', '/v1/models', {query: 'latest_version_outcomes=BLOCKED&latest_version_formats=pickle&latest_version_source_types=LOCAL&sort_field=updated_at'})
  })
  it('GET /v1/models/{uuid}', async () => {
    await call('data', 'GET', '/v1/models/{uuid}', `/v1/models/${ids.model}`)
  })
  it('GET /v1/models/{uuid}/model-versions', async () => {
    await call('data', 'GET', '/v1/models/{uuid}/model-versions', `/v1/models/${ids.model}/model-versions`, {query: 'sort_order=asc'})
  })
  it('GET /v1/model-versions/{uuid}', async () => {
    await call('data', 'GET', '/v1/model-versions/{uuid}', `/v1/model-versions/${ids.modelVersion}`)
  })
  it('GET /v1/model-versions/{uuid}/files', async () => {
    const b = await call('data', 'GET', '/v1/model-versions/{uuid}/files', `/v1/model-versions/${ids.modelVersion}/files`)
    expect(b.files.map((f: any) => f.path)).to.have.members(['model.pkl', 'config/config.json'])
  })

  it('covered all 29 operations of the two documents', () => {
    const all = ops.map(o => `${o.plane} ${o.method} ${o.path}`)
    expect(all).to.have.length(29)
    expect(ops.filter(o => o.plane === 'mgmt')).to.have.length(11)
    expect([...covered].sort()).to.deep.equal([...all].sort())
  })

  it('answers 422 bodies that match HTTPValidationError', async () => {
    const r = await t.data('GET', '/v1/scans', undefined, {query: 'limit=1000&sort_order=x'})
    expect(r.status).to.equal(422)
    const v = ajv.getSchema('data-HTTPValidationError') as ValidateFunction
    expect(v(r.body), ajv.errorsText(v.errors)).to.equal(true)
    expect(r.body.detail).to.have.length(2)
  })
})
