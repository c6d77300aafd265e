#!/usr/bin/env node
/**
 * Sandbox benchmark (needs `npm run build`):
 *  1. requests/second of GET /v1/scans?limit=100 on a sandbox holding 10,000 scans;
 *  2. wall time of `node bin/run.js model-security scans list --all --sandbox --json` over those scans,
 *     against the same listing done by raw HTTP paging (limit=100), as a ratio.
 * Uses a temporary DAYSTROM_DATA_DIR. Env: BENCH_SCANS (10000), BENCH_SECONDS (3), BENCH_CONCURRENCY (8).
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Worker} from 'node:worker_threads'

import {startSandbox} from '../dist/lib/sandbox/index.js'
import {seedSettledScans} from '../dist/lib/sandbox/scans.js'
import {openStore} from '../dist/lib/sandbox/store.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SCANS = Number(process.env.BENCH_SCANS ?? 10_000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8)

const dataDir = mkdtempSync(join(tmpdir(), 'daystrom-bench-sandbox-'))
const fmt = n => n.toLocaleString('en-US', {maximumFractionDigits: 1})

try {
  // 1. seed
  let t0 = performance.now()
  const db = openStore(dataDir)
  seedSettledScans(db, SCANS)
  db.close()
  console.log(`sandbox: seeded ${fmt(SCANS)} scans in ${fmt(performance.now() - t0)} ms`)

  t0 = performance.now()
  const sb = await startSandbox({dataDir})
  console.log(`sandbox: startSandbox() on that database took ${fmt(performance.now() - t0)} ms`)
  const basic = Buffer.from(`${sb.credentials.clientId}:${sb.credentials.clientSecret}`).toString('base64')
  const tok = await (await fetch(sb.tokenUrl, {method: 'POST', headers: {authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded'},
    body: `grant_type=client_credentials&scope=tsg_id:${sb.credentials.tsgId}`})).json()
  const headers = {authorization: `Bearer ${tok.access_token}`}

  // 2. requests per second: the load generator runs in a worker thread, so it does not share the server's event loop
  const url = `${sb.dataUrl}/v1/scans?limit=100`
  const worker = new Worker(`
    const {parentPort, workerData} = require('node:worker_threads')
    const {url, headers, seconds, concurrency} = workerData
    ;(async () => {
      for (let i = 0; i < 20; i++) await (await fetch(url, {headers})).arrayBuffer()
      let done = 0
      const t0 = performance.now()
      const until = t0 + seconds * 1000
      await Promise.all(Array.from({length: concurrency}, async () => {
        while (performance.now() < until) {
          const r = await fetch(url, {headers})
          if (r.status !== 200) throw new Error('GET /v1/scans: ' + r.status)
          await r.arrayBuffer()
          done++
        }
      }))
      parentPort.postMessage({done, secs: (performance.now() - t0) / 1000})
    })().catch(e => parentPort.postMessage({error: String(e)}))
  `, {eval: true, workerData: {url, headers, seconds: SECONDS, concurrency: CONCURRENCY}})
  const {done, secs, error} = await new Promise((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  await worker.terminate()
  if (error) throw new Error(error)
  console.log(`sandbox: GET /v1/scans?limit=100 over ${fmt(SCANS)} scans: ${fmt(done / secs)} requests/s (${done} requests, concurrency ${CONCURRENCY}, ${fmt(secs)} s)`)

  // 3. raw HTTP paging of every scan
  t0 = performance.now()
  let items = 0
  for (let skip = 0; ; skip += 100) {
    const page = await (await fetch(`${sb.dataUrl}/v1/scans?limit=100&skip=${skip}`, {headers})).json()
    items += page.scans.length
    if (page.scans.length < 100 || skip + page.scans.length >= page.pagination.total_items) break
  }
  const rawMs = performance.now() - t0
  console.log(`sandbox: raw HTTP paging (limit=100) of ${fmt(items)} scans: ${fmt(rawMs)} ms (warm server, in-process client)`)
  await sb.close()

  // 4. the CLI, in its own process with an in-process sandbox
  t0 = performance.now()
  const cli = spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), 'model-security', 'scans', 'list', '--all', '--sandbox', '--json'], {
    cwd: ROOT, env: {...process.env, DAYSTROM_DATA_DIR: dataDir, DAYSTROM_CONFIG_DIR: join(dataDir, 'config'), DAYSTROM_CACHE_DIR: join(dataDir, 'cache')},
    maxBuffer: 1 << 30, encoding: 'utf8',
  })
  const cliMs = performance.now() - t0
  if (cli.status !== 0) {
    console.log(`sandbox: CLI listing failed (exit ${cli.status}); no ratio. stderr: ${(cli.stderr ?? '').trim().split('\n').slice(0, 5).join(' | ')}`)
  } else {
    let count = '?'
    try {
      const out = JSON.parse(cli.stdout)
      count = Array.isArray(out) ? out.length : Array.isArray(out.scans) ? out.scans.length : '?'
    } catch {
      count = cli.stdout.trim().split('\n').length
    }
    console.log(`sandbox: daystrom model-security scans list --all --sandbox --json: ${fmt(cliMs)} ms wall for ${count} scans`)
    console.log(`sandbox: CLI / raw HTTP ratio: ${fmt(cliMs / rawMs)}x (the CLI pays process start, oclif, sandbox start and OAuth)`)
  }
} finally {
  rmSync(dataDir, {recursive: true, force: true})
}
