/**
 * `daystrom mcp` as MCP clients run it: `node bin/run.js mcp --sandbox` spawned with its real stdio. Raw
 * JSON-RPC lines in, and every stdout line must be a JSON-RPC message (stdout belongs to the protocol); with
 * --debug, stderr carries the request log and no secret (the sandbox's client secret, Basic credentials,
 * bearer tokens). Also driven by the SDK's own stdio client, with --allow-writes.
 */
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js'
import {LATEST_PROTOCOL_VERSION} from '@modelcontextprotocol/sdk/types.js'
import {expect} from 'chai'
import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'
import {join} from 'node:path'

import {ModelSecurityClient} from '../../src/lib/airs/client.js'
import type {Scan} from '../../src/lib/airs/types.js'
import {SANDBOX_CREDENTIALS, startSandbox} from '../../src/lib/sandbox/index.js'
import {scanPath} from '../../src/lib/scanner/index.js'
import {ROOT} from '../helpers/api.js'
import {e2eSandbox} from '../helpers/cli.js'
import {payload, tempTree, validSafetensors} from '../scanner/fixtures.js'

interface RpcMessage { jsonrpc: string; id?: number; result?: any; error?: {code: number; message: string}; method?: string }

/** A spawned `daystrom mcp` spoken to with raw JSON-RPC lines. */
class RawServer {
  readonly child: ChildProcessWithoutNullStreams
  stdout = ''
  stderr = ''
  private waiters = new Map<number, (m: RpcMessage) => void>()
  readonly exited: Promise<number | null>

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), 'mcp', ...args], {
      cwd: ROOT, env: {PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', NO_COLOR: '1', ...env},
    })
    let buffer = ''
    this.child.stdout.on('data', (d: Buffer) => {
      this.stdout += d.toString()
      buffer += d.toString()
      let nl
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
        const msg = JSON.parse(line) as RpcMessage
        if (msg.id !== undefined) this.waiters.get(msg.id)?.(msg)
      }
    })
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString()
    })
    this.exited = new Promise(resolve => this.child.on('close', code => resolve(code)))
  }

  send(msg: object): void {
    this.child.stdin.write(JSON.stringify({jsonrpc: '2.0', ...msg}) + '\n')
  }

  request(id: number, method: string, params: object = {}): Promise<RpcMessage> {
    const answer = new Promise<RpcMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${method} (#${id}); stderr:\n${this.stderr}`)), 30_000)
      this.waiters.set(id, m => {
        clearTimeout(timer)
        resolve(m)
      })
    })
    this.send({id, method, params})
    return answer
  }
}

const JWT_HEADER = Buffer.from(JSON.stringify({alg: 'HS256', typ: 'JWT'})).toString('base64url')
const BASIC = Buffer.from(`${SANDBOX_CREDENTIALS.clientId}:${SANDBOX_CREDENTIALS.clientSecret}`).toString('base64')

function expectNoSecrets(text: string): void {
  expect(text).not.to.include(SANDBOX_CREDENTIALS.clientSecret)
  expect(text).not.to.include(BASIC)
  expect(text, 'an access token').not.to.include(JWT_HEADER)
  expect(text).not.to.match(/Bearer (?!\*\*\*\*)\S/)
  expect(text).not.to.match(/"access_token":"(?!\*\*\*\*)/)
}

describe('daystrom mcp over stdio (bin/run.js, sandbox)', function () {
  this.timeout(120_000)
  const sbx = e2eSandbox('daystrom-mcp-e2e-')
  let clean: Scan
  let bad: Scan
  let badDir: string

  before(async function () {
    this.timeout(300_000)
    // seed the sandbox the server will open: two settled LOCAL scans
    const sb = await startSandbox({dataDir: sbx.env.DAYSTROM_DATA_DIR, settleDelayMs: 0})
    try {
      const api = new ModelSecurityClient({...sb.credentials, dataEndpoint: sb.dataUrl, mgmtEndpoint: sb.mgmtUrl, tokenEndpoint: sb.tokenUrl, retries: 0, timeoutMs: 15_000, userAgent: 'test'})
      const group = (await api.listSecurityGroups({source_types: ['LOCAL']})).items.find(g => g.name === 'Default LOCAL')!
      const submit = async (d: string) => {
        const created = await api.createScan({model_uri: d, security_group_uuid: group.uuid, scan_origin: 'MODEL_SECURITY_SDK', scan_details: (await scanPath(d)).scanDetails})
        for (;;) {
          const s = await api.getScan(created.uuid)
          if (s.eval_outcome !== 'PENDING') return s
          await new Promise(r => setTimeout(r, 20))
        }
      }
      clean = await submit(tempTree({'model.safetensors': validSafetensors()}))
      badDir = tempTree({'model.safetensors': validSafetensors(), 'model.pkl': payload(2)})
      bad = await submit(badDir)
    } finally {
      await sb.close()
    }
  })

  it('speaks only JSON-RPC on stdout, answers tool calls (errors as tool results), logs with --debug on stderr without secrets, exits 0 when stdin ends', async () => {
    const s = new RawServer(['--sandbox', '--debug'], sbx.env)
    const init = await s.request(1, 'initialize', {protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: {name: 'raw-test', version: '1'}})
    expect(init.result.serverInfo).to.include({name: 'daystrom'})
    expect(init.result.capabilities).to.have.property('tools')
    expect(init.result.instructions).to.include('read-only')
    s.send({method: 'notifications/initialized'})

    const list = await s.request(2, 'tools/list')
    expect(list.result.tools.map((t: {name: string}) => t.name)).to.deep.equal(
      ['list_scans', 'get_scan', 'list_violations', 'explain_rule', 'list_groups', 'get_group', 'diff_scans', 'scan_local_path'])

    const groups = await s.request(3, 'tools/call', {name: 'get_group', arguments: {group: 'Default LOCAL'}})
    expect(groups.result.isError).to.not.equal(true)
    expect(groups.result.structuredContent.group.name).to.equal('Default LOCAL')

    const diff = await s.request(4, 'tools/call', {name: 'diff_scans', arguments: {scan_a: clean.uuid, scan_b: bad.uuid}})
    expect(diff.result.structuredContent.summary).to.include({violations_new_blocking: 1})
    expect(JSON.parse(diff.result.content[0].text)).to.deep.equal(diff.result.structuredContent)

    const badArg = await s.request(5, 'tools/call', {name: 'list_violations', arguments: {scan: 'nope'}})
    expect(badArg.result.isError).to.equal(true)
    expect(badArg.result.content[0].text).to.include('scan must be a UUID')
    const missing = await s.request(6, 'tools/call', {name: 'get_scan', arguments: {scan: '0313419a-33ec-4264-b2ad-c0a3a09aaa39'}})
    expect(missing.result.isError).to.equal(true)
    expect(missing.result.content[0].text).to.include('E_NOT_FOUND')
    const unknown = await s.request(7, 'tools/call', {name: 'create_scan', arguments: {group: 'Default LOCAL', model_path: badDir}})
    expect(unknown.result?.isError ?? Boolean(unknown.error)).to.equal(true)
    const local = await s.request(8, 'tools/call', {name: 'scan_local_path', arguments: {path: badDir}})
    expect(local.result.structuredContent).to.include({sent: false})

    s.child.stdin.end()
    expect(await s.exited, s.stderr).to.equal(0)
    const lines = s.stdout.split('\n').filter(Boolean)
    expect(lines.length).to.be.greaterThan(7)
    for (const line of lines) expect(JSON.parse(line).jsonrpc, line.slice(0, 200)).to.equal('2.0')
    // --debug really logs the HTTP exchange and the tool calls, on stderr
    expect(s.stderr).to.include('daystrom MCP server on stdio (the offline daystrom sandbox; read-only;')
    expect(s.stderr).to.include('[debug] → POST http://127.0.0.1:').and.include('"authorization":"Bearer ****"').and.include('"access_token":"****"')
    expect(s.stderr).to.include('[mcp] tool diff_scans: ok').and.include('[mcp] tool get_scan: error')
    expectNoSecrets(s.stdout)
    expectNoSecrets(s.stderr)
  })

  it('works with the SDK\'s stdio client; --allow-writes adds the write tools', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath, args: [join(ROOT, 'bin', 'run.js'), 'mcp', '--sandbox', '--allow-writes'],
      env: {...sbx.env, NODE_ENV: 'production', NO_COLOR: '1'}, cwd: ROOT, stderr: 'pipe',
    })
    let stderr = ''
    transport.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const client = new Client({name: 'sdk-test', version: '1'})
    await client.connect(transport)
    try {
      const {tools} = await client.listTools()
      expect(tools.map(t => t.name)).to.include.members(['create_scan', 'add_labels'])
      expect(client.getInstructions()).to.include('Writes are enabled')
      const labelled = await client.callTool({name: 'add_labels', arguments: {scan: clean.uuid, labels: [{key: 'reviewed', value: 'yes'}]}})
      expect(labelled.isError, JSON.stringify(labelled)).to.not.equal(true)
      const found = await client.callTool({name: 'list_scans', arguments: {labels_query: 'reviewed=yes'}})
      expect((found.structuredContent as {scans: Scan[]}).scans.map(x => x.uuid)).to.deep.equal([clean.uuid])
    } finally {
      await client.close()
    }
    expect(stderr).to.include('writes allowed')
    expectNoSecrets(stderr)
  })
})
