/**
 * `daystrom sandbox serve|status|reset`, each run in its own process (real stdout, stderr and exit codes).
 */
import {expect} from 'chai'
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, rmSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

import {sandboxDbPath, startSandbox} from '../../src/lib/sandbox/index.js'
import {fetchToken, request, tempDir} from './support.js'

const here = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(here, '..', '..')

function spawnCommand(name: string, argv: string[], dataDir: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures', 'run-command.ts'), `src/commands/sandbox/${name}.ts`, ...argv], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, DAYSTROM_DATA_DIR: dataDir, NO_COLOR: '1'},
  })
}

function runCommand(name: string, argv: string[], dataDir: string): Promise<{code: number | null; stdout: string; stderr: string}> {
  const child = spawnCommand(name, argv, dataDir)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise(resolve => child.on('close', code => resolve({code, stdout, stderr})))
}

describe('sandbox commands', function () {
  this.timeout(60_000)
  let dataDir: string
  beforeEach(() => {
    dataDir = tempDir()
  })
  afterEach(() => rmSync(dataDir, {recursive: true, force: true}))

  it('status reports a missing database, then its path and counts once seeded', async () => {
    const before = await runCommand('status', ['--json'], dataDir)
    expect(before.code, before.stderr).to.equal(0)
    expect(JSON.parse(before.stdout)).to.deep.include({exists: false, db_path: sandboxDbPath(dataDir), counts: {}})
    await (await startSandbox({dataDir})).close()
    const after = await runCommand('status', ['--json'], dataDir)
    const body = JSON.parse(after.stdout)
    expect(body.exists).to.equal(true)
    expect(body.counts).to.include({security_rules: 12, security_groups: 7, scans: 0})
    const human = await runCommand('status', [], dataDir)
    expect(human.stdout).to.include(sandboxDbPath(dataDir)).and.to.match(/security_rules\s+12/)
  })

  it('reset refuses without a terminal unless --yes (exit 2 naming --yes), then deletes with --yes', async () => {
    await (await startSandbox({dataDir})).close()
    const refused = await runCommand('reset', [], dataDir)
    expect(refused.code).to.equal(2)
    expect(refused.stderr).to.include('--yes')
    expect(existsSync(sandboxDbPath(dataDir))).to.equal(true)
    const done = await runCommand('reset', ['--yes', '--json'], dataDir)
    expect(done.code, done.stderr).to.equal(0)
    expect(JSON.parse(done.stdout)).to.deep.equal({reset: true, existed: true, db_path: sandboxDbPath(dataDir)})
    expect(existsSync(sandboxDbPath(dataDir))).to.equal(false)
    expect(existsSync(sandboxDbPath(dataDir) + '-wal')).to.equal(false)
  })

  it('serve prints endpoints, credentials and env lines that work, and stops cleanly on SIGTERM', async () => {
    const child = spawnCommand('serve', ['--port', '0'], dataDir)
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const env: Record<string, string> = {}
    const lines: string[] = []
    const rl = createInterface({input: child.stdout!})
    await new Promise<void>((resolve, reject) => {
      rl.on('line', line => {
        lines.push(line)
        const m = /^export (PANW_MODEL_SEC_[A-Z_]+)=(.*)$/.exec(line)
        if (m) env[m[1]] = m[2]
        if (m?.[1] === 'PANW_MODEL_SEC_TOKEN_ENDPOINT') resolve()
      })
      child.once('exit', code => reject(new Error(`serve exited ${code}: ${stderr}`)))
    })
    const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
    try {
      expect(Object.keys(env).sort()).to.deep.equal(['PANW_MODEL_SEC_CLIENT_ID', 'PANW_MODEL_SEC_CLIENT_SECRET', 'PANW_MODEL_SEC_DATA_ENDPOINT',
        'PANW_MODEL_SEC_MGMT_ENDPOINT', 'PANW_MODEL_SEC_TOKEN_ENDPOINT', 'PANW_MODEL_SEC_TSG_ID'])
      expect(env.PANW_MODEL_SEC_MGMT_ENDPOINT).to.match(/^http:\/\/127\.0\.0\.1:\d+\/aims\/mgmt$/)
      expect(lines[0]).to.match(/listening on http:\/\/127\.0\.0\.1:\d+/)
      const tok = await fetchToken(env.PANW_MODEL_SEC_TOKEN_ENDPOINT, env.PANW_MODEL_SEC_CLIENT_ID, env.PANW_MODEL_SEC_CLIENT_SECRET,
        `grant_type=client_credentials&scope=tsg_id:${env.PANW_MODEL_SEC_TSG_ID}`)
      expect(tok.status).to.equal(200)
      const groups = await request(`${env.PANW_MODEL_SEC_MGMT_ENDPOINT}/v1/security-groups`, 'GET', undefined, tok.body.access_token)
      expect(groups.body.pagination.total_items).to.equal(7)
      const scans = await request(`${env.PANW_MODEL_SEC_DATA_ENDPOINT}/v1/scans`, 'GET', undefined, tok.body.access_token)
      expect(scans.status).to.equal(200)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).to.equal(0)
    expect(stderr).to.include('Stopped (SIGTERM)')
  })

  it('serve --json prints one JSON object with the endpoints', async () => {
    const child = spawnCommand('serve', ['--json'], dataDir)
    const rl = createInterface({input: child.stdout!})
    let text = ''
    const info = await new Promise<any>((resolve, reject) => {
      rl.on('line', line => {
        text += line + '\n'
        try {
          resolve(JSON.parse(text))
        } catch {
          // keep reading until the object is complete
        }
      })
      child.once('exit', code => reject(new Error(`serve exited ${code}`)))
    })
    const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
    child.kill('SIGINT')
    expect(info.token_endpoint).to.equal(`${info.url}/oauth2/access_token`)
    expect(info.credentials).to.deep.equal({client_id: 'daystrom-sandbox', client_secret: 'sandbox-secret', tsg_id: '1000000001'})
    expect(info.env.PANW_MODEL_SEC_DATA_ENDPOINT).to.equal(`${info.url}/aims/data`)
    expect(await exited).to.equal(0)
  })
})
