#!/usr/bin/env node
/**
 * Scanner under adversarial inputs (plain node ESM; needs a built dist/: `npx tsc -p tsconfig.json`).
 *
 *   node bench/scanner-adversarial.js
 *   BENCH_SCANNER_DIST=/path/to/lib/scanner/index.js node bench/scanner-adversarial.js   # another build
 *   BENCH_ADVERSARIAL_TIMEOUT_S=120 node bench/scanner-adversarial.js
 *
 * Builds small hostile files under a temp dir (amplifying archives, super-linear text for the old
 * matchers) and scans each in a fresh child process, printing wall time, peak RSS, the file's status and
 * its issues. A case that runs past the timeout is killed and reported as such. Asserts nothing.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import zlib from 'node:zlib'

const SELF = fileURLToPath(import.meta.url)
const DIST = process.env.BENCH_SCANNER_DIST ? pathToFileURL(process.env.BENCH_SCANNER_DIST) : new URL('../dist/lib/scanner/index.js', import.meta.url)
const TIMEOUT_S = Math.max(5, parseInt(process.env.BENCH_ADVERSARIAL_TIMEOUT_S ?? '150', 10) || 150)

// ------------------------------------------------------------------ child mode: one scan
if (process.argv[2] === '--child') {
  const mod = await import(DIST.href)
  const t0 = performance.now()
  const rep = await mod.scanPath(process.argv[3])
  const ms = performance.now() - t0
  const f = rep.scanDetails.files[0]
  process.stdout.write(JSON.stringify({ms, maxRssKb: process.resourceUsage().maxRSS, status: f?.modelscan_status,
    issues: (f?.issues_detected ?? []).map((i) => i.operator ?? i.threat), message: f?.error_message ?? ''}) + '\n')
  process.exit(0)
}

// ------------------------------------------------------------------ builders
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b }
const u64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b }
const ggufStr = (s) => { const b = Buffer.from(s, 'utf8'); return Buffer.concat([u64(b.length), b]) }

/** Zip (central directory + local headers, CRCs zero) of raw member records. */
function zipOf(members) {
  const locals = []
  const central = []
  let off = 0
  for (const m of members) {
    const name = Buffer.from(m.name)
    const h = Buffer.alloc(30)
    h.writeUInt32LE(0x04034b50, 0); h.writeUInt16LE(20, 4); h.writeUInt16LE(m.method, 8)
    h.writeUInt32LE(m.data.length, 18); h.writeUInt32LE(m.size, 22); h.writeUInt16LE(name.length, 26)
    const c = Buffer.alloc(46)
    c.writeUInt32LE(0x02014b50, 0); c.writeUInt16LE(20, 4); c.writeUInt16LE(20, 6); c.writeUInt16LE(m.method, 10)
    c.writeUInt32LE(m.data.length, 20); c.writeUInt32LE(m.size, 24); c.writeUInt16LE(name.length, 28); c.writeUInt32LE(off, 42)
    locals.push(h, name, m.data)
    central.push(c, name)
    off += 30 + name.length + m.data.length
  }
  const cd = Buffer.concat(central)
  const e = Buffer.alloc(22)
  e.writeUInt32LE(0x06054b50, 0); e.writeUInt16LE(members.length % 65536, 8); e.writeUInt16LE(members.length % 65536, 10)
  e.writeUInt32LE(cd.length, 12); e.writeUInt32LE(off, 16)
  return Buffer.concat([...locals, cd, e])
}

/** 128 bzip2 members, each expanding to just under the old per-stream ratio floor (63 MB of zeros). */
function bzipMembersZip() {
  const r = spawnSync('sh', ['-c', 'head -c 66060288 /dev/zero | bzip2 -9'], {maxBuffer: 1 << 20})
  if (r.status !== 0 || !r.stdout.length) return null
  return zipOf(Array.from({length: 128}, (_v, i) => ({name: `m${i}.bin`, method: 12, data: r.stdout, size: 66060288})))
}

function ggufTemplate(bytes) {
  const tpl = '|format('.repeat(Math.ceil(bytes / 8)).slice(0, bytes)
  const head = Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0), u64(2),
    ggufStr('general.architecture'), u32(8), ggufStr('llama'), ggufStr('tokenizer.chat_template'), u32(8), ggufStr(tpl)])
  return Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32)])
}

/** npy v2 header of `bytes` bytes full of 'descr' keys (the old descr match backtracks over all of them). */
function npyHeader(bytes) {
  let h = "{'descr': [" + "'descr': [], ".repeat(Math.ceil(bytes / 13))
  h = h.slice(0, bytes - 2) + ' \n'
  const pre = Buffer.alloc(12)
  pre.write('\x93NUMPY', 0, 'latin1'); pre[6] = 2; pre[7] = 0; pre.writeUInt32LE(h.length, 8)
  return Buffer.concat([pre, Buffer.from(h, 'latin1'), Buffer.alloc(16)])
}

function h5Search(bytes) {
  const sig = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])
  return Buffer.concat([sig, Buffer.alloc(120), Buffer.from('model_config'), Buffer.from('{"class_name"'.repeat(Math.ceil(bytes / 13))).subarray(0, bytes)])
}

/** 99,000 deflated protocol-0 pickles plus one payload: the per-member overhead at the entry-count limit. */
function manyMembersZip() {
  const n = 99_000
  const members = Array.from({length: n}, (_v, i) => {
    const d = Buffer.from(`(lp0\nI${i}\na.`)
    return {name: `d/${i}.pkl`, method: 8, data: zlib.deflateRawSync(d), size: d.length}
  })
  const p = Buffer.from('\x80\x02cos\nsystem\nX\x02\x00\x00\x00idtR.', 'latin1')
  members.push({name: 'zz.pkl', method: 0, data: p, size: p.length})
  const z = zipOf(members)
  const e = z.length - 22
  z.writeUInt16LE(members.length % 65536, e + 8); z.writeUInt16LE(members.length % 65536, e + 10) // a 16-bit count, as old writers wrap it
  return z
}

const CASES = [
  ['zip of 128 bzip2 members at the old ratio floor', 'bzip.zip', bzipMembersZip],
  ['GGUF chat template 256 KiB (|format( x 32K)', 't256k.gguf', () => ggufTemplate(256 << 10)],
  ['GGUF chat template 4 MiB', 't4m.gguf', () => ggufTemplate(4 << 20)],
  ['.npy header 1 MiB (descr keys)', 'h.npy', () => npyHeader(1 << 20)],
  ['.npz of 8 such .npy members (deflated)', 'h.npz', () => zipOf(Array.from({length: 8}, (_v, i) => {
    const d = npyHeader(1 << 20); return {name: `a${i}.npy`, method: 8, data: zlib.deflateRawSync(d), size: d.length}
  }))],
  ['HDF5 byte search 1 MiB ({"class_name" x 80K)', 's.h5', () => h5Search(1 << 20)],
  ['zip of 99,000 tiny deflated pickles (per-member cost)', 'many.zip', manyMembersZip],
]

// ------------------------------------------------------------------ builder mode: one input, in its own process
// (a child's peak RSS on Linux includes its parent's at fork time, so the parent never holds the inputs)
if (process.argv[2] === '--build') {
  const data = CASES[Number(process.argv[3])][2]()
  if (data) writeFileSync(process.argv[4], data)
  process.exit(0)
}

// ------------------------------------------------------------------ run
function child(target) {
  const r = spawnSync(process.execPath, [SELF, '--child', target], {encoding: 'utf8', maxBuffer: 1 << 20, timeout: TIMEOUT_S * 1000, killSignal: 'SIGKILL'})
  if (r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL') return {timedOut: true}
  if (r.status !== 0) return {failed: (r.stderr || '').split('\n').slice(-3).join(' ')}
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

const work = mkdtempSync(join(tmpdir(), 'daystrom-bench-adversarial-'))
try {
  console.log(`daystrom scanner, adversarial inputs (node ${process.version}; module ${DIST.pathname}; timeout ${TIMEOUT_S} s per case)`)
  for (const [i, [label, name]] of CASES.entries()) {
    const p = join(work, name)
    spawnSync(process.execPath, [SELF, '--build', String(i), p], {stdio: 'inherit'})
    if (!existsSync(p)) { console.log(`${label}: skipped (input could not be built here)`); continue }
    const r = child(p)
    const size = statSync(p).size
    const head = `${label} [${size.toLocaleString()} bytes]`
    if (r.timedOut) console.log(`${head}\n  killed after ${TIMEOUT_S} s (timeout)`)
    else if (r.failed) console.log(`${head}\n  scanner process failed: ${r.failed}`)
    else {
      console.log(`${head}\n  ${(r.ms / 1000).toFixed(2)} s, peak RSS ${(r.maxRssKb / 1024).toFixed(0)} MB, status ${r.status}, issues [${[...new Set(r.issues)].join(', ')}]`)
      if (r.message) console.log(`  ${r.message.slice(0, 200)}`)
    }
    rmSync(p, {force: true})
  }
} finally {
  rmSync(work, {recursive: true, force: true})
}
