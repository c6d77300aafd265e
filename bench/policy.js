#!/usr/bin/env node
/**
 * Policy benchmark (needs `npm run build`): `policy diff` and `policy apply` with no changes pending, over 50
 * security groups x 11 managed rules (every rule a HUGGING_FACE group has) on a sandbox server; wall time of
 * the real CLI (node bin/run.js), its own CPU time (user + system: steadier than wall time on a busy machine)
 * and the requests the server saw (token requests left out).
 * Env: BENCH_GROUPS (50), BENCH_RUNS (5).
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {startSandbox} from '../dist/lib/sandbox/index.js'
import {RULES} from '../dist/lib/sandbox/catalog.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const GROUPS = Number(process.env.BENCH_GROUPS ?? 50)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)

const home = mkdtempSync(join(tmpdir(), 'daystrom-bench-policy-'))
const lines = []
const sb = await startSandbox({dataDir: join(home, 'sandbox'), log: l => lines.push(l)})

const hfRules = RULES.filter(r => r.compatible_sources.includes('ALL') || r.compatible_sources.includes('HUGGING_FACE'))
const doc = ['version: 1', 'groups:']
for (let i = 0; i < GROUPS; i++) {
  doc.push(`  - name: bench-${String(i).padStart(3, '0')}`, '    source_type: HUGGING_FACE', `    description: benchmark group ${i}`, '    rules:')
  for (const r of hfRules) {
    doc.push(`      ${r.name}:`, `        state: ${i % 2 ? 'BLOCKING' : r.default_state}`)
    const field = r.editable_fields[0]?.attribute_name
    if (field) doc.push('        fields:', `          ${field}: [bench-${i}, shared]`)
  }
}
const file = join(home, 'policy.yaml')
writeFileSync(file, doc.join('\n') + '\n')
// the CLI reports its own CPU time when it exits
const preload = join(home, 'cpu.cjs')
const cpuFile = join(home, 'cpu.json')
writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(cpuFile)}, JSON.stringify(process.cpuUsage())))\n`)

const env = {
  PATH: process.env.PATH, HOME: home, NODE_ENV: 'production', NO_COLOR: '1',
  DAYSTROM_CONFIG_DIR: join(home, 'config'), DAYSTROM_CACHE_DIR: join(home, 'cache'), DAYSTROM_DATA_DIR: join(home, 'data'),
  PANW_MODEL_SEC_CLIENT_ID: sb.credentials.clientId, PANW_MODEL_SEC_CLIENT_SECRET: sb.credentials.clientSecret,
  PANW_MODEL_SEC_TSG_ID: sb.credentials.tsgId, PANW_MODEL_SEC_MGMT_ENDPOINT: sb.mgmtUrl, PANW_MODEL_SEC_DATA_ENDPOINT: sb.dataUrl,
  PANW_MODEL_SEC_TOKEN_ENDPOINT: sb.tokenUrl,
}

/** Run the CLI (asynchronously: the sandbox serves from this process's event loop); wall ms and requests seen. */
function cli(args, expectCode = 0) {
  lines.length = 0
  const t0 = performance.now()
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, ['--require', preload, join(ROOT, 'bin', 'run.js'), ...args], {cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.on('data', d => { stderr += d })
    child.on('close', code => {
      const ms = performance.now() - t0
      if (code !== expectCode) return fail(new Error(`${args.join(' ')} exited ${code}: ${stderr}`))
      const api = lines.filter(l => /^(GET|POST|PUT|DELETE) \/aims\//.test(l))
      const cpu = JSON.parse(readFileSync(cpuFile, 'utf8'))
      ok({ms, cpuMs: (cpu.user + cpu.system) / 1000, requests: api.length, writes: api.filter(l => !l.startsWith('GET')).length,
        lists: {rules: api.filter(l => l.includes('/v1/security-rules')).length, groups: api.filter(l => /\/v1\/security-groups(\?|\s)/.test(l)).length,
          instances: api.filter(l => l.includes('/rule-instances')).length}})
    })
  })
}

const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = n => n.toLocaleString('en-US', {maximumFractionDigits: 0})

try {
  const create = await cli(['model-security', 'policy', 'apply', '-f', file, '--yes'])
  console.log(`policy: ${GROUPS} groups x ${hfRules.length} managed rules (HUGGING_FACE) on a sandbox server; median of ${RUNS} runs`)
  console.log(`  ${'policy apply (creates every group)'.padEnd(36)} ${fmt(create.ms).padStart(7)} ms wall ${fmt(create.cpuMs).padStart(6)} ms CPU  ${create.requests} requests (${create.writes} writes)`)
  for (const [name, args, code] of [
    ['policy diff (no changes)', ['model-security', 'policy', 'diff', '-f', file, '--detailed-exitcode'], 0],
    ['policy apply (no changes)', ['model-security', 'policy', 'apply', '-f', file, '--yes'], 0],
  ]) {
    const runs = []
    for (let i = 0; i < RUNS; i++) runs.push(await cli(args, code))
    const r = runs.at(-1)
    if (r.writes !== 0) throw new Error(`${name}: ${r.writes} write requests`)
    console.log(`  ${name.padEnd(36)} ${fmt(median(runs.map(x => x.ms))).padStart(7)} ms wall ${fmt(median(runs.map(x => x.cpuMs))).padStart(6)} ms CPU  ${r.requests} requests `
      + `(${r.lists.rules} rule catalog, ${r.lists.groups} group list, ${r.lists.instances} rule-instance lists, 0 writes)`)
  }
} finally {
  await sb.close()
  rmSync(home, {recursive: true, force: true})
}
