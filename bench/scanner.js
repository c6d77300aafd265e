#!/usr/bin/env node
/**
 * Local scanner benchmark (plain node ESM; needs a built dist/: `npx tsc -p tsconfig.json`).
 *
 *   node bench/scanner.js                      # ~50 MB dense pickle, 1 GB checkpoint, adversarial pickles, 2,000 small pickles, 4 x 512 MB shards
 *   node bench/scanner.js shards               # only some parts: dense, checkpoint, adversarial, small, shards
 *   BENCH_SCANNER_BIG_MB=256 BENCH_SCANNER_ADVERSARIAL_MB=20 node bench/scanner.js
 *   BENCH_SCANNER_SHARD_MB=512 BENCH_SCANNER_SHARDS=4 BENCH_SCANNER_SHARD_RUNS=3 node bench/scanner.js shards
 *
 * Builds its inputs under a temp dir, measures each case in a fresh child process (so peak RSS is per
 * case, and covers the scan workers: they are threads of that process), compares with a raw read and
 * `sha256sum` of the same files (page cache warm for all three), prints readable lines, and removes its
 * temp dir. The sharded safetensors model is kept in bench/.data (git-ignored) and reused between runs;
 * it is scanned with one worker and with the default pool (os.availableParallelism() workers), in
 * alternation, BENCH_SCANNER_SHARD_RUNS times; the best and the median of each are reported. No pass/fail.
 */
import {spawnSync} from 'node:child_process'
import {createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {availableParallelism, loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {finished} from 'node:stream/promises'

const SELF = fileURLToPath(import.meta.url)
const DIST = new URL('../dist/lib/scanner/index.js', import.meta.url)

// ------------------------------------------------------------------ child mode: one measurement
if (process.argv[2] === '--child') {
  const [, , , kind, target, optsJson] = process.argv
  const mod = kind === 'scan' ? await import(DIST.href) : null
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let bytes = 0
  let extra = {}
  if (kind === 'read') {
    for await (const chunk of createReadStream(target, {highWaterMark: 4 << 20})) bytes += chunk.length
  } else if (kind === 'scan') {
    const rep = await mod.scanPath(target, optsJson ? JSON.parse(optsJson) : {})
    const sd = rep.scanDetails
    bytes = sd.model_size_bytes
    extra = {files: sd.files.length, scanned: sd.total_files_scanned, issues: sd.files.reduce((a, f) => a + (f.issues_detected?.length ?? 0), 0),
      statuses: [...new Set(sd.files.map((f) => f.modelscan_status))].join(',')}
  }
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  process.stdout.write(JSON.stringify({ms, cpuMs: (cpu.user + cpu.system) / 1000, bytes, maxRssKb: process.resourceUsage().maxRSS, ...extra}) + '\n')
  process.exit(0)
}

// ------------------------------------------------------------------ input builders
function shortStr(s) {
  const b = Buffer.from(s, 'utf8')
  return Buffer.concat([Buffer.from([0x8c, b.length]), b])
}

/** Protocol-4 list of small ints and short strings with MEMOIZE, appended in batches of 1,000. */
async function writeDensePickle(path, targetBytes) {
  const out = createWriteStream(path)
  out.write(Buffer.from([0x80, 0x04, 0x5d, 0x94])) // PROTO 4, EMPTY_LIST, MEMOIZE
  let written = 4
  let n = 0
  while (written < targetBytes) {
    const parts = [Buffer.from([0x28])] // MARK
    for (let j = 0; j < 1000; j++, n++) {
      if (j % 2) parts.push(Buffer.from([0x4b, n & 0xff])) // BININT1
      else parts.push(shortStr(`tok${n % 50000}`), Buffer.from([0x94])) // SHORT_BINUNICODE + MEMOIZE
    }
    parts.push(Buffer.from([0x65])) // APPENDS
    const b = Buffer.concat(parts)
    written += b.length
    if (!out.write(b)) await new Promise((r) => out.once('drain', r))
  }
  out.end(Buffer.from([0x2e]))
  await finished(out)
  return n
}

function torchDataPkl(keys) {
  const parts = [Buffer.from([0x80, 0x02]), Buffer.from('ccollections\nOrderedDict\n'), Buffer.from(')R(', 'latin1')]
  for (const k of keys) {
    parts.push(Buffer.from(`X${''}`, 'latin1').subarray(0, 0))
    const name = Buffer.from(`layer.${k}.weight`)
    const h = Buffer.alloc(5); h[0] = 0x58; h.writeUInt32LE(name.length, 1)
    parts.push(h, name)
    parts.push(Buffer.from('ctorch._utils\n_rebuild_tensor_v2\n('))
    const key = Buffer.from(String(k))
    const kh = Buffer.alloc(5); kh[0] = 0x58; kh.writeUInt32LE(key.length, 1)
    parts.push(Buffer.from('(X\x07\x00\x00\x00storagectorch\nFloatStorage\n', 'latin1'), kh, key, Buffer.from('X\x03\x00\x00\x00cpuK\x10tQ', 'latin1'))
    parts.push(Buffer.from('K\x00(K\x04K\x04t(K\x04K\x01t\x89ccollections\nOrderedDict\n)RtR', 'latin1'))
  }
  parts.push(Buffer.from('u.', 'latin1'))
  return Buffer.concat(parts)
}

function localHeader(name, size) {
  const n = Buffer.from(name)
  const h = Buffer.alloc(30)
  h.writeUInt32LE(0x04034b50, 0); h.writeUInt16LE(20, 4); h.writeUInt16LE(0, 8)
  h.writeUInt32LE(0, 14); h.writeUInt32LE(size, 18); h.writeUInt32LE(size, 22); h.writeUInt16LE(n.length, 26)
  return Buffer.concat([h, n])
}
function centralHeader(name, size, offset) {
  const n = Buffer.from(name)
  const c = Buffer.alloc(46)
  c.writeUInt32LE(0x02014b50, 0); c.writeUInt16LE(20, 4); c.writeUInt16LE(20, 6)
  c.writeUInt32LE(0, 16); c.writeUInt32LE(size, 20); c.writeUInt32LE(size, 24); c.writeUInt16LE(n.length, 28); c.writeUInt32LE(offset, 42)
  return Buffer.concat([c, n])
}

/** torch.save-style zip: small data.pkl plus big stored data/N members (64 MB each). CRCs are 0 (torch ignores them). */
async function writeCheckpoint(path, totalMb) {
  const memberMb = 64
  const members = Math.max(1, Math.ceil(totalMb / memberMb))
  const out = createWriteStream(path)
  const central = []
  let offset = 0
  const put = async (b) => { offset += b.length; if (!out.write(b)) await new Promise((r) => out.once('drain', r)) }
  const pkl = torchDataPkl([...Array(members).keys()])
  central.push(centralHeader('archive/data.pkl', pkl.length, offset))
  await put(localHeader('archive/data.pkl', pkl.length)); await put(pkl)
  const block = Buffer.alloc(1 << 20)
  for (let i = 0; i < block.length; i += 4) block.writeFloatLE(Math.sin(i) * 0.02, i)
  for (let m = 0; m < members; m++) {
    const mb = Math.min(memberMb, totalMb - m * memberMb)
    const size = Math.max(1, mb) << 20
    central.push(centralHeader(`archive/data/${m}`, size, offset))
    await put(localHeader(`archive/data/${m}`, size))
    for (let i = 0; i < size; i += block.length) await put(block.subarray(0, Math.min(block.length, size - i)))
  }
  const ver = Buffer.from('3\n')
  central.push(centralHeader('archive/version', ver.length, offset))
  await put(localHeader('archive/version', ver.length)); await put(ver)
  const cd = Buffer.concat(central)
  const eocd = Buffer.alloc(22)
  eocd.writeUInt32LE(0x06054b50, 0); eocd.writeUInt16LE(central.length, 8); eocd.writeUInt16LE(central.length, 10)
  eocd.writeUInt32LE(cd.length, 12); eocd.writeUInt32LE(offset, 16)
  out.end(Buffer.concat([cd, eocd]))
  await finished(out)
}

function writeSmallPickles(dir, count) {
  mkdirSync(dir, {recursive: true})
  for (let i = 0; i < count; i++) {
    const parts = [Buffer.from([0x80, 0x02, 0x7d, 0x28])]
    for (let j = 0; j < 50; j++) parts.push(Buffer.from(`X\x05\x00\x00\x00k${String(j).padStart(4, '0')}K${String.fromCharCode(j)}`, 'latin1'))
    parts.push(Buffer.from('u.'))
    writeFileSync(join(dir, `p${String(i).padStart(5, '0')}.pkl`), Buffer.concat(parts))
  }
}

/**
 * A sharded safetensors model (model-0000i-of-0000n.safetensors + index) in bench/.data, built once and
 * reused while its files have the expected sizes. Tensor data is a pseudo-random 1 MB block repeated.
 */
async function ensureShards(dir, count, shardMb) {
  mkdirSync(dir, {recursive: true})
  const names = Array.from({length: count}, (_v, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.safetensors`)
  const tensorsPerShard = 8
  const tensorBytes = Math.floor((shardMb << 20) / tensorsPerShard / 4) * 4
  const header = (k) => {
    const h = {__metadata__: {format: 'pt'}}
    for (let t = 0; t < tensorsPerShard; t++) {
      h[`model.layers.${k * tensorsPerShard + t}.weight`] = {dtype: 'F32', shape: [tensorBytes / 4], data_offsets: [t * tensorBytes, (t + 1) * tensorBytes]}
    }
    let json = JSON.stringify(h)
    json += ' '.repeat((8 - (json.length % 8)) % 8)
    const len = Buffer.alloc(8)
    len.writeBigUInt64LE(BigInt(json.length))
    return Buffer.concat([len, Buffer.from(json)])
  }
  const block = Buffer.alloc(1 << 20)
  let seed = 12345
  for (let i = 0; i < block.length; i += 4) { seed = (seed * 1103515245 + 12345) & 0x7fffffff; block.writeUInt32LE(seed, i) }
  const weightMap = {}
  let built = 0
  for (let k = 0; k < count; k++) {
    const path = join(dir, names[k])
    const head = header(k)
    const size = head.length + tensorsPerShard * tensorBytes
    for (let t = 0; t < tensorsPerShard; t++) weightMap[`model.layers.${k * tensorsPerShard + t}.weight`] = names[k]
    if (existsSync(path) && statSync(path).size === size) continue
    const out = createWriteStream(path)
    out.write(head)
    for (let left = tensorsPerShard * tensorBytes; left > 0; left -= block.length) {
      if (!out.write(block.subarray(0, Math.min(block.length, left)))) await new Promise((r) => out.once('drain', r))
    }
    out.end()
    await finished(out)
    built++
  }
  const index = JSON.stringify({metadata: {total_size: count * tensorsPerShard * tensorBytes}, weight_map: weightMap})
  const indexPath = join(dir, 'model.safetensors.index.json')
  if (!existsSync(indexPath) || readFileSync(indexPath, 'utf8') !== index) writeFileSync(indexPath, index)
  return {names, built}
}

function reportShards(dir, count, shardMb, runs) {
  const total = count * shardMb
  for (const n of readdirNames(dir)) child('read', join(dir, n)) // warm the page cache
  const n = availableParallelism()
  const one = []
  const many = []
  console.log(`sharded safetensors model: ${count} x ${shardMb} MB in ${dir}, ${runs} runs each, alternating; load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  for (let r = 0; r < runs; r++) {
    one.push(child('scan', dir, {workers: 'always', concurrency: 1}))
    many.push(child('scan', dir, {workers: 'always'}))
    const a = one[r]
    const b = many[r]
    console.log(`  run ${r + 1}: 1 worker ${fmt(mbps(a.bytes, a.ms))} MB/s (${fmt(a.ms, 0)} ms, cpu ${fmt(a.cpuMs, 0)} ms, peak RSS ${fmt(a.maxRssKb / 1024)} MB)`
      + ` | ${n} workers ${fmt(mbps(b.bytes, b.ms))} MB/s (${fmt(b.ms, 0)} ms, cpu ${fmt(b.cpuMs, 0)} ms, peak RSS ${fmt(b.maxRssKb / 1024)} MB)`
      + ` | ratio ${fmt(a.ms / b.ms, 2)}x | status ${b.statuses}, issues ${b.issues}; load ${loadavg()[0].toFixed(2)}`)
  }
  const speeds = (xs) => xs.map((x) => mbps(x.bytes, x.ms))
  const best = (xs) => Math.max(...xs)
  const ratios = one.map((a, i) => a.ms / many[i].ms)
  console.log(`  1 worker:  best ${fmt(best(speeds(one)))} MB/s, median ${fmt(median(speeds(one)))} MB/s`)
  console.log(`  ${n} workers: best ${fmt(best(speeds(many)))} MB/s, median ${fmt(median(speeds(many)))} MB/s, peak RSS max ${fmt(Math.max(...many.map((x) => x.maxRssKb)) / 1024)} MB`)
  console.log(`  ${n} workers / 1 worker: best ${fmt(best(ratios), 2)}x, median ${fmt(median(ratios), 2)}x (same run pairs); ${fmt(total)} MB per scan`)
}

function readdirNames(dir) {
  return readdirSync(dir).filter((n) => n.endsWith('.safetensors'))
}

/**
 * Adversarial pickles (streamed to disk): the issue's amplification case (a 1 KiB string memoised once, then
 * tuples of 16 memo reads; 'memo' also memoises every tuple, 'nest' makes each tuple hold the previous one),
 * a stack flood (values never consumed) and a mark flood, each followed by an os.system call.
 */
async function writeAdversarial(path, kind, targetBytes) {
  const out = createWriteStream(path)
  const put = async (b) => { if (!out.write(b)) await new Promise((r) => out.once('drain', r)) }
  let written = 0
  if (kind === 'amp-list' || kind === 'amp-memo' || kind === 'amp-nest') {
    const s = Buffer.alloc(1024, 0x61)
    const h = Buffer.alloc(5); h[0] = 0x58; h.writeUInt32LE(s.length, 1)
    await put(Buffer.concat([Buffer.from([0x80, 0x04]), h, s, Buffer.from([0x94, 0x5d])]))
    const unit = [0x28]
    if (kind === 'amp-nest') unit.push(0x68, 1) // the previous tuple (memo[1]) first
    for (let j = kind === 'amp-nest' ? 1 : 0; j < 16; j++) unit.push(0x68, 0)
    unit.push(0x74)
    if (kind === 'amp-memo') unit.push(0x94)
    if (kind === 'amp-nest') unit.push(0x71, 1, 0x30) // memo[1] = this tuple, POP
    else unit.push(0x61)
    const block = Buffer.concat(Array.from({length: 4096}, () => Buffer.from(unit)))
    if (kind === 'amp-nest') await put(Buffer.from([0x4e, 0x71, 1, 0x30]))
    while (written < targetBytes) { await put(block); written += block.length }
  } else {
    const block = Buffer.alloc(1 << 20, kind === 'stack-flood' ? 0x4e : 0x28)
    await put(Buffer.from([0x80, 0x02]))
    while (written < targetBytes) { await put(block); written += block.length }
  }
  out.end(Buffer.from('cos\nsystem\n(Vid\ntR.', 'latin1'))
  await finished(out)
}

// ------------------------------------------------------------------ measurement helpers
function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function child(kind, target, opts) {
  const args = [SELF, '--child', kind, target]
  if (opts) args.push(JSON.stringify(opts))
  const r = spawnSync(process.execPath, args, {encoding: 'utf8', maxBuffer: 1 << 20})
  if (r.status !== 0) throw new Error(`${kind} ${target} failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

function sha256sum(target) {
  const t0 = performance.now()
  const r = spawnSync('sha256sum', [target], {encoding: 'utf8'})
  if (r.status !== 0) return null
  return performance.now() - t0
}

const mbps = (bytes, ms) => (bytes / (1 << 20)) / (ms / 1000)
const fmt = (n, d = 1) => n.toFixed(d)

function reportFile(label, path, {inThread = false} = {}) {
  const size = statSync(path).size
  child('read', path) // warm the page cache
  const raw = child('read', path)
  const shaMs = sha256sum(path)
  const scan = child('scan', path)
  console.log(`${label}: ${fmt(size / (1 << 20))} MB`)
  console.log(`  raw read     ${fmt(mbps(size, raw.ms))} MB/s (${fmt(raw.ms, 0)} ms), peak RSS ${fmt(raw.maxRssKb / 1024)} MB`)
  if (shaMs !== null) console.log(`  sha256sum    ${fmt(mbps(size, shaMs))} MB/s (${fmt(shaMs, 0)} ms)`)
  else console.log('  sha256sum    unavailable')
  console.log(`  scanner      ${fmt(mbps(size, scan.ms))} MB/s (${fmt(scan.ms, 0)} ms), peak RSS ${fmt(scan.maxRssKb / 1024)} MB, status ${scan.statuses}, issues ${scan.issues}`)
  if (inThread) {
    // the same scan on the calling thread (workers: 'never'): the engine alone, without a worker's start (~0.1 s)
    const own = child('scan', path, {workers: 'never'})
    console.log(`  in-thread    ${fmt(mbps(size, own.ms))} MB/s (${fmt(own.ms, 0)} ms), peak RSS ${fmt(own.maxRssKb / 1024)} MB (the engine without the worker pool)`)
  }
  if (shaMs !== null) console.log(`  scanner/sha256sum throughput ratio ${fmt(shaMs / scan.ms * 100, 0)}%`)
}

// ------------------------------------------------------------------ main
const parts = process.argv.slice(2)
const want = (p) => parts.length === 0 || parts.includes(p)
const bigMb = Math.max(1, parseInt(process.env.BENCH_SCANNER_BIG_MB ?? '1024', 10) || 1024)
const denseMb = Math.max(1, parseInt(process.env.BENCH_SCANNER_DENSE_MB ?? '50', 10) || 50)
const shardMb = Math.max(1, parseInt(process.env.BENCH_SCANNER_SHARD_MB ?? '512', 10) || 512)
const shards = Math.max(1, parseInt(process.env.BENCH_SCANNER_SHARDS ?? '4', 10) || 4)
const shardRuns = Math.max(1, parseInt(process.env.BENCH_SCANNER_SHARD_RUNS ?? '3', 10) || 3)
const work = mkdtempSync(join(tmpdir(), 'daystrom-bench-scanner-'))
try {
  console.log(`daystrom scanner benchmark (node ${process.version}, ${availableParallelism()} cores, temp ${work})`)
  if (want('dense')) {
    const dense = join(work, 'dense.pkl')
    const n = await writeDensePickle(dense, denseMb << 20)
    console.log(`built dense pickle: ${n.toLocaleString()} list items`)
    reportFile('dense-opcode pickle', dense, {inThread: true})
  }

  if (want('checkpoint')) {
    const ckpt = join(work, 'checkpoint.pt')
    await writeCheckpoint(ckpt, bigMb)
    reportFile('torch-style checkpoint', ckpt)
    rmSync(ckpt, {force: true})
  }

  if (want('adversarial')) {
    // adversarial pickles: time and peak RSS must stay bounded (goal: up to 100 MB in < 30 s, < 512 MB RSS)
    const advMb = Math.max(1, parseInt(process.env.BENCH_SCANNER_ADVERSARIAL_MB ?? '100', 10) || 100)
    for (const [kind, mb] of [['amp-list', 10], ['amp-list', advMb], ['amp-memo', advMb], ['amp-nest', advMb], ['stack-flood', advMb], ['mark-flood', advMb]]) {
      const file = join(work, `${kind}.pkl`)
      await writeAdversarial(file, kind, mb << 20)
      const size = statSync(file).size
      const r = child('scan', file)
      console.log(`adversarial pickle ${kind} (${fmt(size / (1 << 20))} MB): ${fmt(r.ms / 1000, 2)} s, peak RSS ${fmt(r.maxRssKb / 1024)} MB, status ${r.statuses}, issues ${r.issues}`)
      rmSync(file, {force: true})
    }
  }

  if (want('small')) {
    const smallDir = join(work, 'small')
    writeSmallPickles(smallDir, 2000)
    const s = child('scan', smallDir)
    console.log(`2,000 small pickles: ${fmt(2000 / (s.ms / 1000), 0)} files/s (${fmt(s.ms, 0)} ms), peak RSS ${fmt(s.maxRssKb / 1024)} MB, scanned ${s.scanned}, issues ${s.issues}`)
  }

  if (want('shards')) {
    const dir = fileURLToPath(new URL(`./.data/shards-${shards}x${shardMb}mb`, import.meta.url))
    const {built} = await ensureShards(dir, shards, shardMb)
    if (built) console.log(`built ${built} shard(s) in ${dir} (kept for the next run)`)
    reportShards(dir, shards, shardMb, shardRuns)
  }
} finally {
  rmSync(work, {recursive: true, force: true})
}
