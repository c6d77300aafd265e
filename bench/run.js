#!/usr/bin/env node
// `npm run bench`: prints figures, asserts nothing. Builds first if dist/ or the manifest is missing.
// Parts: startup (this file), then bench/sandbox.js, bench/scanner.js and bench/verdict.js when present.
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {createServer} from 'node:http'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const only = process.argv.slice(2)
const want = name => only.length === 0 || only.includes(name)

if (!existsSync(join(root, 'dist', 'index.js')) || !existsSync(join(root, 'oclif.manifest.json'))) {
  console.log('building (dist/ or oclif.manifest.json missing)...')
  execFileSync('npm', ['run', 'build'], {cwd: root, stdio: 'inherit'})
}

const median = xs => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function time(cmd, args, env, runs) {
  const out = []
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint()
    const r = spawnSync(cmd, args, {cwd: root, env, stdio: ['ignore', 'ignore', 'pipe']})
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
    out.push(ms)
  }
  return median(out)
}

async function startup() {
  const runs = Number(process.env.BENCH_RUNS ?? 15)
  const groups = Array.from({length: 20}, (_, i) => ({
    uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, tsg_id: '1', name: `group-${i}`, description: '',
    source_type: 'S3', state: 'ACTIVE', is_tombstone: false, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z',
  }))
  // a free port: bind, read, release; the stub runs in a child because spawnSync blocks this event loop
  const server = createServer()
  await new Promise(r => server.listen(0, '127.0.0.1', r))
  const port = server.address().port
  await new Promise(r => server.close(r))
  const base = `http://127.0.0.1:${port}`
  const home = mkdtempSync(join(tmpdir(), 'daystrom-bench-'))
  const env = {
    ...process.env, DAYSTROM_CONFIG_DIR: join(home, 'config'), DAYSTROM_CACHE_DIR: join(home, 'cache'), DAYSTROM_DATA_DIR: join(home, 'data'),
    PANW_MODEL_SEC_CLIENT_ID: 'bench', PANW_MODEL_SEC_CLIENT_SECRET: 'bench-secret', PANW_MODEL_SEC_TSG_ID: '1',
    PANW_MODEL_SEC_MGMT_ENDPOINT: `${base}/aims/mgmt`, PANW_MODEL_SEC_DATA_ENDPOINT: `${base}/aims/data`, PANW_MODEL_SEC_TOKEN_ENDPOINT: `${base}/oauth2/access_token`,
  }
  const stub = (await import('node:child_process')).spawn(process.execPath, ['-e', `
    const groups = ${JSON.stringify(groups)};
    require('node:http').createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url.startsWith('/oauth2/access_token')) return res.end(JSON.stringify({access_token: 'bench-token', expires_in: 900, token_type: 'Bearer'}));
      res.end(JSON.stringify({pagination: {total_items: groups.length}, security_groups: groups}));
    }).listen(${port}, '127.0.0.1', () => console.log('ready'));
  `], {stdio: ['ignore', 'pipe', 'inherit']})
  await new Promise(r => stub.stdout.once('data', r))
  try {
    const baseline = time(process.execPath, ['-e', '0'], env, runs)
    const rows = [
      ['node -e 0 (baseline)', baseline],
      ['daystrom --version', time(process.execPath, ['bin/run.js', '--version'], env, runs)],
      ['daystrom model-security groups list --help', time(process.execPath, ['bin/run.js', 'model-security', 'groups', 'list', '--help'], env, runs)],
      ['daystrom model-security groups list (local stub, 20 groups)', time(process.execPath, ['bin/run.js', 'model-security', 'groups', 'list'], env, runs)],
    ]
    console.log(`\nStartup (median of ${runs} runs, wall time; ratio to node -e 0 in the same run)`)
    for (const [name, ms] of rows) console.log(`  ${name.padEnd(60)} ${ms.toFixed(1).padStart(8)} ms  x${(ms / baseline).toFixed(2)}`)
  } finally {
    stub.kill()
    rmSync(home, {recursive: true, force: true})
  }
}

if (want('startup')) await startup()
for (const part of ['sandbox', 'scanner', 'scanner-adversarial', 'policy', 'verdict']) {
  const file = join(root, 'bench', `${part}.js`)
  if (want(part) && existsSync(file)) {
    console.log(`\n== ${part} ==`)
    const r = spawnSync(process.execPath, ['--expose-gc', file], {cwd: root, stdio: 'inherit'})
    if (r.status !== 0) console.log(`(bench/${part}.js exited ${r.status})`)
  }
}
