/**
 * Concurrency and durability: 20 separate processes, each with its own in-process sandbox on one data dir,
 * write at once and lose nothing; a sandbox server killed with SIGKILL restarts with its data intact.
 */
import {expect} from 'chai'
import {type ChildProcess, spawn} from 'node:child_process'
import {rmSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

import {sandboxStatus} from '../../src/lib/sandbox/index.js'
import {fetchToken, groupByName, maliciousPickleDetails, request, startTestSandbox, tempDir} from './support.js'

const here = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(here, '..', '..')

function runNode(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures', script), ...args], {cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe']})
}

function finish(child: ChildProcess): Promise<{code: number | null; out: string; err: string}> {
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  return new Promise(resolve => child.on('close', code => resolve({code, out, err})))
}

async function startServe(dataDir: string, settleDelayMs = 50): Promise<{child: ChildProcess; ep: any}> {
  const child = runNode('serve.ts', [dataDir, String(settleDelayMs)])
  let err = ''
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const rl = createInterface({input: child.stdout!})
  const line = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve)
    child.once('exit', code => reject(new Error(`serve exited with ${code}: ${err}`)))
  })
  return {child, ep: JSON.parse(line)}
}

describe('sandbox: concurrency and durability', function () {
  this.timeout(120_000)
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
  })

  it('20 concurrent writer processes on one data dir lose no write', async () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    // a shared scan every writer labels (concurrent read-modify-write on one resource)
    const t = await startTestSandbox({dataDir})
    const local = await groupByName(t, 'Default LOCAL')
    const shared = (await t.data('POST', '/v1/scans', {model_uri: '/models/shared', security_group_uuid: local.uuid, scan_details: maliciousPickleDetails()})).body.uuid
    await t.close()

    const results = await Promise.all(Array.from({length: 20}, (_, i) => finish(runNode('writer.ts', [dataDir, String(i), shared]))))
    for (const [i, r] of results.entries()) expect(r.code, `writer ${i}: ${r.err}`).to.equal(0)

    const v = await startTestSandbox({dataDir})
    try {
      const groups = (await v.mgmt('GET', '/v1/security-groups', undefined, {query: 'limit=100&search_query=writer-'})).body
      expect(groups.pagination.total_items).to.equal(20)
      expect(groups.security_groups.map((g: any) => g.name).sort()).to.deep.equal(Array.from({length: 20}, (_, i) => `writer-${i}`).sort())
      // each writer's group got its own full set of rule instances
      for (const g of groups.security_groups.slice(0, 3)) {
        expect((await v.mgmt('GET', `/v1/security-groups/${g.uuid}/rule-instances`)).body.pagination.total_items).to.equal(7)
      }
      const scans = (await v.data('GET', '/v1/scans', undefined, {query: 'limit=100&search_query=/models/writer-'})).body
      expect(scans.pagination.total_items).to.equal(20)
      const values = (await v.data('GET', '/v1/scans/label-keys/writer/values', undefined, {query: 'limit=100'})).body
      expect(values.pagination.total_items).to.equal(20)
      const sharedScan = (await v.data('GET', `/v1/scans/${shared}`)).body
      expect(sharedScan.labels).to.have.length(20)
      expect(sharedScan.labels.map((l: any) => l.key).sort()).to.deep.equal(Array.from({length: 20}, (_, i) => `k${i}`).sort())
      // seeding happened exactly once even though the database was shared
      expect(sandboxStatus(dataDir).counts.security_rules).to.equal(12)
      expect((await v.mgmt('GET', '/v1/security-groups', undefined, {query: 'search_query=Default'})).body.pagination.total_items).to.equal(7)
    } finally {
      await v.close()
    }
  })

  it('20 processes opening a brand-new data dir at once seed it exactly once', async () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    const opens = await Promise.all(Array.from({length: 20}, () => finish(spawn(process.execPath, ['--import', 'tsx', '-e',
      `import('${join(ROOT, 'src/lib/sandbox/index.ts').replaceAll('\\', '/')}').then(async m => { const s = await m.startSandbox({dataDir: ${JSON.stringify(dataDir)}}); await s.close() })`],
    {cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe']}))))
    for (const r of opens) expect(r.code, r.err).to.equal(0)
    const counts = sandboxStatus(dataDir).counts
    expect(counts.security_rules).to.equal(12)
    expect(counts.security_groups).to.equal(7)
    expect(counts.rule_instances).to.equal(6 * 7 + 11)
  })

  it('a SIGKILLed sandbox server restarts with its data intact and settles its pending scan', async () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    const first = await startServe(dataDir, 1500) // the scan is still PENDING when the server is killed
    const tok = (await fetchToken(first.ep.tokenUrl)).body.access_token
    const g = await request(`${first.ep.mgmtUrl}/v1/security-groups`, 'POST', {name: 'survivor', source_type: 'LOCAL'}, tok)
    expect(g.status).to.equal(201)
    const s = await request(`${first.ep.dataUrl}/v1/scans`, 'POST', {model_uri: '/models/survivor', security_group_uuid: g.body.uuid,
      labels: [{key: 'survives', value: 'yes'}], scan_details: maliciousPickleDetails()}, tok)
    expect(s.status).to.equal(201)
    expect(s.body.eval_outcome).to.equal('PENDING')
    const exited = new Promise(resolve => first.child.once('exit', (_code, signal) => resolve(signal)))
    first.child.kill('SIGKILL')
    expect(await exited).to.equal('SIGKILL')

    const second = await startServe(dataDir, 10)
    try {
      const tok2 = (await fetchToken(second.ep.tokenUrl)).body.access_token
      const group = await request(`${second.ep.mgmtUrl}/v1/security-groups/${g.body.uuid}`, 'GET', undefined, tok2)
      expect(group.status).to.equal(200)
      expect(group.body.name).to.equal('survivor')
      const scan = await request(`${second.ep.dataUrl}/v1/scans/${s.body.uuid}`, 'GET', undefined, tok2)
      expect(scan.status).to.equal(200)
      expect(scan.body.labels).to.deep.equal([{key: 'survives', value: 'yes'}])
      // nobody is left from the first process: the restarted server settles the abandoned scan when it is read
      let outcome = scan.body.eval_outcome
      for (let i = 0; i < 200 && outcome === 'PENDING'; i++) {
        await new Promise(r => setTimeout(r, 25))
        outcome = (await request(`${second.ep.dataUrl}/v1/scans/${s.body.uuid}`, 'GET', undefined, tok2)).body.eval_outcome
      }
      expect(outcome).to.equal('BLOCKED')
    } finally {
      const gone = new Promise(resolve => second.child.once('exit', resolve))
      second.child.kill('SIGTERM')
      await gone
    }
    const counts = sandboxStatus(dataDir).counts
    expect(counts.scans).to.equal(1)
    expect(counts.security_groups).to.equal(8)
  })
})
