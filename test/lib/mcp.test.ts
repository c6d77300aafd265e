/**
 * The MCP server in process: a client from the same SDK over a linked pair of in-memory transports, the server
 * backed by a sandbox on 127.0.0.1 (through the normal client and OAuth). Every tool is called and its
 * structured result validated (ajv) against the output schema the server declares; failures come back as
 * tool errors and never take the server down; write tools exist only when allowed.
 */
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {InMemoryTransport} from '@modelcontextprotocol/sdk/inMemory.js'
import type {CallToolResult, Tool} from '@modelcontextprotocol/sdk/types.js'
import {Ajv, type ValidateFunction} from 'ajv'
import {expect} from 'chai'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ModelSecurityClient} from '../../src/lib/airs/client.js'
import type {Scan} from '../../src/lib/airs/types.js'
import {createMcpServer} from '../../src/lib/mcp/server.js'
import {startSandbox, type SandboxHandle} from '../../src/lib/sandbox/index.js'
import {scanPath} from '../../src/lib/scanner/index.js'
import {payload, tempTree, validSafetensors} from '../scanner/fixtures.js'

const READ_TOOLS = ['list_scans', 'get_scan', 'list_violations', 'explain_rule', 'list_groups', 'get_group', 'diff_scans', 'scan_local_path']
const WRITE_TOOLS = ['create_scan', 'add_labels']

function clientFor(sb: SandboxHandle): ModelSecurityClient {
  return new ModelSecurityClient({
    ...sb.credentials, dataEndpoint: sb.dataUrl, mgmtEndpoint: sb.mgmtUrl, tokenEndpoint: sb.tokenUrl,
    retries: 0, timeoutMs: 15_000, userAgent: 'daystrom-test',
  })
}

async function settled(client: ModelSecurityClient, uuid: string): Promise<Scan> {
  for (let i = 0; i < 300; i++) {
    const s = await client.getScan(uuid)
    if (s.eval_outcome !== 'PENDING') return s
    await new Promise(r => setTimeout(r, 20))
  }
  throw new Error(`scan ${uuid} still PENDING`)
}

/** Scan a generated model directory locally and submit it as a LOCAL scan; wait for the verdict. */
async function localScan(client: ModelSecurityClient, groupUuid: string, dir: string): Promise<Scan> {
  const {scanDetails} = await scanPath(dir)
  const created = await client.createScan({model_uri: dir, security_group_uuid: groupUuid, scan_origin: 'MODEL_SECURITY_SDK', scan_details: scanDetails})
  return settled(client, created.uuid)
}

interface Connected { client: Client; tools: Tool[]; close(): Promise<void> }

async function connect(opts: {api: () => Promise<ModelSecurityClient>; allowWrites?: boolean}): Promise<Connected> {
  const {server} = createMcpServer({version: '0.0.0-test', client: opts.api, allowWrites: opts.allowWrites, target: 'the test sandbox'})
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
  await server.connect(serverSide)
  const client = new Client({name: 'daystrom-test', version: '1.0.0'})
  await client.connect(clientSide)
  const {tools} = await client.listTools()
  return {client, tools, async close() {
    await client.close()
    await server.close()
  }}
}

const ajv = new Ajv({strict: false, allErrors: true})
const validators = new Map<string, ValidateFunction>()

/** Call a tool; unless it failed, check its structured content against the declared output schema and the text block. */
async function call(c: Connected, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult & {structuredContent?: Record<string, any>}> {
  const r = await c.client.callTool({name, arguments: args}) as CallToolResult
  if (!r.isError) {
    const tool = c.tools.find(t => t.name === name)!
    let v = validators.get(name)
    if (!v) {
      v = ajv.compile(tool.outputSchema!)
      validators.set(name, v)
    }
    expect(v(r.structuredContent), `${name}: ${ajv.errorsText(v.errors)}`).to.equal(true)
    const text = r.content.find(x => x.type === 'text')
    expect(text, `${name} has a text block`).to.not.equal(undefined)
    expect(JSON.parse((text as {text: string}).text)).to.deep.equal(r.structuredContent)
  }
  return r
}

const errorText = (r: CallToolResult) => {
  expect(r.isError, JSON.stringify(r)).to.equal(true)
  return r.content.map(x => (x.type === 'text' ? x.text : '')).join('\n')
}

describe('MCP server (in process, sandbox-backed)', function () {
  this.timeout(60_000)
  let dir: string
  let sb: SandboxHandle
  let slow: SandboxHandle
  let api: ModelSecurityClient
  let clean: Scan
  let bad: Scan
  let badDir: string
  let pending: Scan
  let ro: Connected

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'daystrom-mcp-'))
    sb = await startSandbox({dataDir: dir, settleDelayMs: 0})
    api = clientFor(sb)
    const local = (await api.listSecurityGroups({source_types: ['LOCAL']})).items.find(g => g.name === 'Default LOCAL')!
    const cleanDir = tempTree({'config.json': '{"model_type": "bert"}', 'model.safetensors': validSafetensors()})
    badDir = tempTree({'config.json': '{"model_type": "bert", "v": 2}', 'model.safetensors': validSafetensors(), 'extra/model.pkl': payload(2)})
    clean = await localScan(api, local.uuid, cleanDir)
    bad = await localScan(api, local.uuid, badDir)
    // a second handle on the same store whose scans take ten minutes to settle: a scan that stays PENDING
    slow = await startSandbox({dataDir: dir, settleDelayMs: 600_000})
    const created = await clientFor(slow).createScan({model_uri: cleanDir, security_group_uuid: local.uuid, scan_origin: 'MODEL_SECURITY_SDK'})
    pending = await api.getScan(created.uuid)
    ro = await connect({api: () => Promise.resolve(api)})
  })

  after(async () => {
    await ro?.close()
    await slow?.close()
    await sb?.close()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('fixtures: one clean scan ALLOWED, one with a malicious pickle BLOCKED, one PENDING', () => {
    expect([clean.eval_outcome, bad.eval_outcome, pending.eval_outcome]).to.deep.equal(['ALLOWED', 'BLOCKED', 'PENDING'])
  })

  it('lists the read-only tools with JSON-Schema inputs, output schemas, read-only hints, and instructions', () => {
    expect(ro.tools.map(t => t.name)).to.deep.equal(READ_TOOLS)
    for (const t of ro.tools) {
      expect(t.inputSchema.type, t.name).to.equal('object')
      expect(t.outputSchema?.type, t.name).to.equal('object')
      expect(t.description, t.name).to.have.length.greaterThan(40)
      expect(t.annotations?.readOnlyHint, t.name).to.equal(true)
    }
    const getScan = ro.tools.find(t => t.name === 'get_scan')!
    expect(getScan.inputSchema.required).to.deep.equal(['scan'])
    expect(ro.client.getInstructions()).to.include('read-only').and.include('diff_scans').and.include('the test sandbox')
    expect(ro.client.getServerVersion()).to.include({name: 'daystrom', version: '0.0.0-test'})
  })

  it('list_scans filters like scans list and pages with next_skip', async () => {
    const all = await call(ro, 'list_scans', {group: 'Default LOCAL', limit: 2})
    expect(all.structuredContent!.scans.map((s: Scan) => s.uuid)).to.deep.equal([pending.uuid, bad.uuid])
    expect(all.structuredContent).to.include({total_items: 3, skip: 0, returned: 2, next_skip: 2})
    const next = await call(ro, 'list_scans', {group: 'Default LOCAL', limit: 2, skip: 2})
    expect(next.structuredContent!.scans.map((s: Scan) => s.uuid)).to.deep.equal([clean.uuid])
    expect(next.structuredContent!.next_skip).to.equal(null)
    const blocked = await call(ro, 'list_scans', {eval_outcomes: ['BLOCKED', 'ERROR'], source_types: ['LOCAL'], since: '1h', sort_order: 'asc'})
    expect(blocked.structuredContent!.scans.map((s: Scan) => s.uuid)).to.deep.equal([bad.uuid])
    const byVersion = await call(ro, 'list_scans', {model_version: clean.model_version_uuid})
    expect(byVersion.structuredContent!.scans.map((s: Scan) => s.uuid)).to.deep.equal([clean.uuid])
    const none = await call(ro, 'list_scans', {until: '2000-01-01T00:00:00Z'})
    expect(none.structuredContent!.scans).to.deep.equal([])
  })

  it('get_scan explains a BLOCKED scan with its failed rules, and an ALLOWED one', async () => {
    const r = await call(ro, 'get_scan', {scan: bad.uuid})
    const s = r.structuredContent!
    expect(s.scan).to.include({uuid: bad.uuid, eval_outcome: 'BLOCKED'})
    expect(s.why).to.match(/rules failed; BLOCKING rules that failed: Load Time Code Execution Check \(1 violation\)/)
    expect(s.failed_rules.map((e: {rule_name: string; rule_instance_state: string}) => [e.rule_name, e.rule_instance_state])).to.deep.include(['Load Time Code Execution Check', 'BLOCKING'])
    const ok = await call(ro, 'get_scan', {scan: clean.uuid})
    expect(ok.structuredContent).to.include({why: 'no BLOCKING rule failed'})
    expect(ok.structuredContent!.failed_rules).to.deep.equal([])
    const waiting = await call(ro, 'get_scan', {scan: pending.uuid})
    expect(waiting.structuredContent!.why).to.include('still being evaluated')
  })

  it('list_violations returns the findings with file, threat and remediation', async () => {
    const r = await call(ro, 'list_violations', {scan: bad.uuid})
    const v = r.structuredContent!.violations.find((x: {rule_name: string}) => x.rule_name === 'Load Time Code Execution Check')
    expect(v).to.include({file: 'extra/model.pkl', threat: 'PAIT-PKL-100', rule_instance_state: 'BLOCKING'})
    expect(v.remediation.steps).to.have.length.greaterThan(0)
    expect(r.structuredContent).to.include({scan_uuid: bad.uuid, next_skip: null})
  })

  it('explain_rule by name or UUID: description, remediation, editable fields with defaults, default state, sources', async () => {
    const r = await call(ro, 'explain_rule', {rule: 'Stored In Approved File Format'})
    const rule = r.structuredContent!.rule
    expect(rule).to.include({name: 'Stored In Approved File Format', default_state: 'ALLOWING'})
    expect(rule.compatible_sources).to.deep.equal(['ALL'])
    expect(rule.remediation.steps).to.have.length.greaterThan(0)
    const field = rule.editable_fields.find((f: {attribute_name: string}) => f.attribute_name === 'approved_formats')
    expect(field.default).to.include('safetensors')
    const again = await call(ro, 'explain_rule', {rule: rule.uuid})
    expect(again.structuredContent!.rule).to.deep.equal(rule)
  })

  it('list_groups and get_group: the policy with each rule\'s state', async () => {
    const groups = await call(ro, 'list_groups', {source_types: ['LOCAL'], enabled_rules: ['Load Time Code Execution Check']})
    expect(groups.structuredContent!.groups.map((g: {name: string}) => g.name)).to.include('Default LOCAL')
    const g = await call(ro, 'get_group', {group: 'Default LOCAL'})
    expect(g.structuredContent!.group).to.include({name: 'Default LOCAL', source_type: 'LOCAL'})
    const loadTime = g.structuredContent!.rule_instances.find((i: {rule_name: string}) => i.rule_name === 'Load Time Code Execution Check')
    expect(loadTime).to.include({state: 'BLOCKING', rule_type: 'ARTIFACT'})
  })

  it('diff_scans compares two scans by content, by scan UUIDs or by model versions', async () => {
    const r = await call(ro, 'diff_scans', {scan_a: clean.uuid, scan_b: bad.uuid})
    const d = r.structuredContent!
    expect(d.outcome).to.deep.equal({before: 'ALLOWED', after: 'BLOCKED', changed: true})
    expect(d.violations.new.map((v: {rule_name: string; file: string}) => [v.rule_name, v.file])).to.deep.include(['Load Time Code Execution Check', 'extra/model.pkl'])
    expect(d.summary.violations_new_blocking).to.equal(1)
    expect(d.files.added.map((f: {path: string}) => f.path)).to.deep.equal(['extra/model.pkl'])
    expect(d.files.changed.map((f: {path: string}) => f.path)).to.deep.equal(['config.json'])
    expect(d.files.unchanged).to.equal(1)
    const byVersion = await call(ro, 'diff_scans', {model_version_a: clean.model_version_uuid, model_version_b: bad.model_version_uuid})
    expect([byVersion.structuredContent!.a.uuid, byVersion.structuredContent!.b.uuid]).to.deep.equal([clean.uuid, bad.uuid])
    const same = await call(ro, 'diff_scans', {scan_a: bad.uuid, scan_b: bad.uuid})
    expect(same.structuredContent!.summary.identical).to.equal(true)
  })

  it('scan_local_path scans on this machine and sends nothing', async () => {
    const before = (await api.listScans({limit: 1})).pagination.total_items
    const r = await call(ro, 'scan_local_path', {path: badDir})
    const s = r.structuredContent!
    expect(s).to.include({path: badDir, sent: false, total_files_scanned: 3})
    expect(s.issues).to.be.greaterThan(0)
    const pkl = s.files.find((f: {file_path: string}) => f.file_path === 'extra/model.pkl')
    expect(pkl.issues_detected.map((i: {threat: string}) => i.threat)).to.include('PAIT-PKL-100')
    expect(pkl.sha256).to.match(/^[0-9a-f]{64}$/)
    const ignored = await call(ro, 'scan_local_path', {path: badDir, ignore_patterns: ['extra/**']})
    expect(ignored.structuredContent!.issues).to.equal(0)
    expect((await api.listScans({limit: 1})).pagination.total_items, 'no scan recorded').to.equal(before)
  })

  it('returns tool errors with a clear message for bad arguments, unknown objects and PENDING scans, and keeps serving', async () => {
    expect(errorText(await ro.client.callTool({name: 'get_scan', arguments: {scan: 'latest'}}) as CallToolResult)).to.include('scan must be a UUID')
    expect(errorText(await ro.client.callTool({name: 'get_scan', arguments: {}}) as CallToolResult)).to.match(/scan/i)
    expect(errorText(await ro.client.callTool({name: 'list_scans', arguments: {limit: 500}}) as CallToolResult)).to.match(/limit/)
    expect(errorText(await ro.client.callTool({name: 'list_scans', arguments: {since: 'yesterday'}}) as CallToolResult)).to.include('since: invalid time "yesterday"')
    expect(errorText(await ro.client.callTool({name: 'get_scan', arguments: {scan: '0313419a-33ec-4264-b2ad-c0a3a09aaa39'}}) as CallToolResult))
      .to.include('not found (HTTP 404)').and.include('E_NOT_FOUND')
    expect(errorText(await ro.client.callTool({name: 'explain_rule', arguments: {rule: 'Load Time'}}) as CallToolResult))
      .to.include('no security rule named "Load Time"').and.include('Load Time Code Execution Check')
    expect(errorText(await ro.client.callTool({name: 'diff_scans', arguments: {scan_a: clean.uuid, model_version_b: bad.model_version_uuid}}) as CallToolResult))
      .to.include('not a mix')
    expect(errorText(await ro.client.callTool({name: 'diff_scans', arguments: {scan_a: clean.uuid}}) as CallToolResult)).to.include('expected scan_a and scan_b')
    expect(errorText(await ro.client.callTool({name: 'diff_scans', arguments: {scan_a: clean.uuid, scan_b: pending.uuid}}) as CallToolResult))
      .to.include(`scan b (${pending.uuid}) is still PENDING`).and.include('E_SCAN_PENDING')
    expect(errorText(await ro.client.callTool({name: 'scan_local_path', arguments: {path: join(dir, 'nope')}}) as CallToolResult)).to.include('does not exist')
    expect(errorText(await ro.client.callTool({name: 'create_scan', arguments: {group: 'Default LOCAL', model_path: badDir}}) as CallToolResult)).to.match(/create_scan not found/)
    // still serving
    expect((await call(ro, 'get_scan', {scan: clean.uuid})).isError).to.not.equal(true)
  })

  it('turns a bug in a handler into a tool error, not a crash', async () => {
    const broken = await connect({api: () => Promise.reject(new TypeError('boom'))})
    try {
      expect(errorText(await broken.client.callTool({name: 'list_groups', arguments: {}}) as CallToolResult)).to.include('internal error: boom')
      expect((await call(broken, 'scan_local_path', {path: badDir})).isError, 'the tools that need no client still work').to.not.equal(true)
    } finally {
      await broken.close()
    }
  })

  it('--allow-writes adds create_scan and add_labels, which record a scan and label it', async () => {
    const rw = await connect({api: () => Promise.resolve(api), allowWrites: true})
    try {
      expect(rw.tools.map(t => t.name)).to.deep.equal([...READ_TOOLS, ...WRITE_TOOLS])
      for (const t of rw.tools.filter(x => WRITE_TOOLS.includes(x.name))) expect(t.annotations?.readOnlyHint, t.name).to.equal(false)
      expect(rw.client.getInstructions()).to.include('Writes are enabled')
      const r = await call(rw, 'create_scan', {model_path: badDir, group: 'Default LOCAL', labels: [{key: 'via', value: 'mcp'}], wait: true, timeout_seconds: 30})
      const s = r.structuredContent!
      expect(s.scan).to.include({eval_outcome: 'BLOCKED', model_uri: badDir})
      expect(s).to.include({waited: true, timed_out: false})
      expect(s.why).to.include('Load Time Code Execution Check')
      const labelled = await call(rw, 'add_labels', {scan: s.scan.uuid, labels: [{key: 'team', value: 'ml'}]})
      expect(labelled.structuredContent!.labels).to.deep.include({key: 'team', value: 'ml'})
      const found = await call(rw, 'list_scans', {labels_query: 'team=ml'})
      expect(found.structuredContent!.scans.map((x: Scan) => x.uuid)).to.deep.equal([s.scan.uuid])
      expect((await api.getScan(s.scan.uuid)).labels).to.deep.include({key: 'via', value: 'mcp'})
      const started = await call(rw, 'create_scan', {model_path: badDir, group: 'Default LOCAL'})
      expect(started.structuredContent).to.include({waited: false})
      expect(started.structuredContent!.scan.eval_outcome).to.equal('PENDING')

      expect(errorText(await rw.client.callTool({name: 'create_scan', arguments: {group: 'Default LOCAL'}}) as CallToolResult)).to.include('exactly one of model_uri')
      expect(errorText(await rw.client.callTool({name: 'create_scan', arguments: {group: 'Default LOCAL', model_uri: 's3://bucket/model'}}) as CallToolResult))
        .to.include('is a LOCAL group, but s3://bucket/model is a S3 model').and.include('E_SOURCE_TYPE_MISMATCH')
      expect(errorText(await rw.client.callTool({name: 'add_labels', arguments: {scan: clean.uuid, labels: [{key: 'bad key', value: 'x'}]}}) as CallToolResult))
        .to.include('invalid label key "bad key"')
    } finally {
      await rw.close()
    }
  })
})
