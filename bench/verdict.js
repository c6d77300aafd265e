#!/usr/bin/env node
/**
 * Verdict benchmark (needs `npm run build`): the wall time of the one-step gate on the sandbox,
 *
 *   daystrom model-security scans create --model-path <one small file> --group "Default LOCAL" --wait --sandbox
 *
 * against `daystrom --version` measured in the same run (the ratio is what to compare across machines), each the
 * median of BENCH_RUNS (9) runs, interleaved. Every process starts with a clean environment: PATH, and HOME set
 * to a temporary directory (so the sandbox's data lives there); nothing else (NODE_EXTRA_CA_CERTS and the like
 * cost every Node start). One more run with --debug shows where the time goes, from the arrival of its stderr lines.
 */
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const RUNS = Number(process.env.BENCH_RUNS ?? 9)
const home = mkdtempSync(join(tmpdir(), 'daystrom-bench-verdict-'))
const model = join(home, 'config.json')
writeFileSync(model, JSON.stringify({architectures: ['BertModel'], hidden_size: 768, num_attention_heads: 12}))
const env = {PATH: process.env.PATH, HOME: home}
const bin = join(ROOT, 'bin', 'run.js')
const gate = [bin, 'model-security', 'scans', 'create', '--model-path', model, '--group', 'Default LOCAL', '--wait', '--sandbox']

const median = xs => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function once(args) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, args, {cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8'})
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`${args.slice(1).join(' ')} exited ${r.status}: ${r.stderr}`)
  return {ms, stdout: r.stdout}
}

/** One run with --debug: the time each stderr line arrives, to split the wall time into phases. */
function phases() {
  return new Promise((done, fail) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, [...gate, '--debug'], {cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe']})
    const marks = []
    let buf = ''
    child.stderr.on('data', d => {
      const at = performance.now() - t0
      buf += d
      const lines = buf.split('\n')
      buf = lines.pop()
      for (const line of lines) marks.push({at, line})
    })
    child.on('error', fail)
    child.on('close', () => done({marks, total: performance.now() - t0}))
  })
}

try {
  once(gate) // first use creates and seeds the sandbox's database: not what is measured
  const version = []
  const verdict = []
  let outcome = ''
  for (let i = 0; i < RUNS; i++) {
    version.push(once([bin, '--version']).ms)
    const r = once(gate)
    verdict.push(r.ms)
    outcome = /^Outcome:\s+(\S+)/m.exec(r.stdout)?.[1] ?? '?'
  }
  const v = median(version)
  const g = median(verdict)
  console.log(`Verdict on the sandbox (median of ${RUNS} runs each, interleaved; clean environment: PATH and HOME only)`)
  console.log(`  ${'daystrom --version'.padEnd(78)} ${v.toFixed(1).padStart(8)} ms`)
  console.log(`  ${'scans create --model-path <1 file> --group "Default LOCAL" --wait --sandbox'.padEnd(78)} ${g.toFixed(1).padStart(8)} ms  x${(g / v).toFixed(2)} of --version  (${outcome}; min ${Math.min(...verdict).toFixed(0)}, max ${Math.max(...verdict).toFixed(0)})`)

  const {marks, total} = await phases()
  const find = re => marks.find(m => re.test(m.line))?.at
  const points = [
    ['node + oclif + command loaded, request body validated, sandbox started', find(/\[debug\] sandbox on /)],
    ['HTTP client loaded, OAuth token', find(/\[debug\] ← \d+ POST .*oauth2/)],
    ['group resolved by name', find(/\[debug\] ← \d+ GET .*security-groups/)],
    ['model scanned locally', find(/^Scanning .*: 1\/1 files/)],
    ['scan created (POST /v1/scans, PENDING)', find(/\[debug\] ← \d+ POST .*\/v1\/scans/)],
    ['verdict (first check after 0.5 s)', find(/^scan .*: (ALLOWED|BLOCKED|ERROR)/)],
    ['result printed, sandbox closed, process exited', total],
  ]
  console.log(`  where the time goes (one run with --debug, ${total.toFixed(0)} ms; stderr arrival times):`)
  let prev = 0
  for (const [label, at] of points) {
    if (at === undefined) {
      console.log(`    ${label.padEnd(74)}        ?`)
      continue
    }
    console.log(`    ${label.padEnd(74)} ${(at - prev).toFixed(0).padStart(6)} ms  (at ${at.toFixed(0)})`)
    prev = at
  }
} finally {
  rmSync(home, {recursive: true, force: true})
}
