/**
 * Archive budgets: cumulative expansion (a small archive of many members each just under a per-stream
 * limit), decoding time, the byte budget at a harmless ratio, and interruption. Costs are never timed
 * here (bench/scanner-adversarial.js measures them): the tests shrink LIMITS so that each budget trips on
 * small generated inputs, and check what the scan reports when it does.
 */
import {expect} from 'chai'
import {randomBytes} from 'node:crypto'
import zlib from 'node:zlib'
import {type Budget, decompress} from '../../src/lib/scanner/archive.js'
import {LIMITS} from '../../src/lib/scanner/engine.js'
import {BufferReader, ScanAborted} from '../../src/lib/scanner/io.js'
import {benign, lzmaAlone, payload, sevenZip, zip} from './fixtures.js'
import {expectIssue, expectThreat, issues, scanOne} from './scan-helpers.js'

const saved = {...LIMITS}
afterEach(() => { Object.assign(LIMITS, saved) })

describe('scanner budgets: cumulative expansion', () => {
  it('stops after the first members of an archive whose members each sit just under the per-stream floor', async () => {
    LIMITS.ratioFloor = 1 << 20 // per stream and cumulative: 1 MB before any ratio applies
    const member = zlib.deflateRawSync(Buffer.alloc((1 << 20) - 1024)) // ~1 KB that expands to just under 1 MB
    const entries = Array.from({length: 128}, (_v, i) => ({name: `m${String(i).padStart(3, '0')}.bin`, data: Buffer.alloc(1), stored: member, method: 8,
      declaredSize: (1 << 20) - 1024}))
    const f = await scanOne('many.zip', zip([...entries, {name: 'zz.pkl', data: payload(2), method: 8}]))
    const bomb = expectIssue(f, (i) => i.operator === 'decompression', 'cumulative bomb')
    expect(bomb.description).to.match(/decompression bomb not followed: the file's decompressed content reached \d+ bytes, over 200:1 of its \d+ bytes/)
    // every later compressed member is left alone, and each one is listed as not analysed
    const m = /partially scanned: (\d+) part\(s\) not analysed/.exec(String(f.error_message))
    expect(m, String(f.error_message)).to.not.equal(null)
    expect(Number(m![1])).to.be.greaterThan(100)
    expect(f.error_message).to.match(/not decompressed \(a decompression bomb was already found in this file\)/)
    expect(issues(f).filter((i) => i.operator === 'decompression')).to.have.length(1)
  })

  it('a large expansion at a low ratio is not a bomb: what exceeds the byte budget is noted, not flagged', async () => {
    LIMITS.maxExpandedBytes = 256 << 10
    const noisy = randomBytes(512 << 10) // incompressible: ratio ~1
    const f = await scanOne('big.bin.gz', zlib.gzipSync(noisy))
    expect(issues(f)).to.deep.equal([])
    expect(f.modelscan_status).to.equal('SKIPPED')
    expect(f.error_message).to.match(/decompressed data beyond the remaining budget of 262144 bytes not analysed/)
  })
})

describe('scanner budgets: decoding time', () => {
  it('an exhausted time budget is a resource-exhaustion issue and stops further decompression in the file', async () => {
    LIMITS.decodeMsBase = -1 // every pure-JS decode finds its budget already spent
    LIMITS.decodeMsPerMB = 0
    const f = await scanOne('slow.lzma', lzmaAlone(payload(2)))
    const i = expectIssue(f, (x) => x.operator === 'decompression', 'time budget')
    expect(i.description).to.match(/^resource exhaustion: decompression stopped: decoding time budget of -0\.0 s exhausted/)
    const z = await scanOne('slow.7z', sevenZip([{name: 'a.pkl', data: payload(2)}, {name: 'b.pkl', data: benign(2)}], {coder: 'lzma'}))
    expectIssue(z, (x) => x.operator === 'decompression' && /resource exhaustion/.test(x.description), '7z time budget')
  })

  it('small native (zlib) members are charged too: a spent budget stops them, the stored members are still scanned', async () => {
    LIMITS.decodeMsBase = -1
    LIMITS.decodeMsPerMB = 0
    const f = await scanOne('mixed.zip', zip([{name: 'a.pkl', data: benign(2), method: 8}, {name: 'b.pkl', data: payload(2)}]))
    expectIssue(f, (i) => i.operator === 'decompression' && /resource exhaustion/.test(i.description), 'time budget')
    expectThreat(f, 'PAIT-PKL-100', (i) => i.source === 'mixed.zip:b.pkl')
  })
})

describe('scanner budgets: interruption', () => {
  it('an aborted signal stops a long pure-JS decode after its first step', async () => {
    const data = Buffer.alloc(4 << 20, 0x61)
    const lz = lzmaAlone(data)
    const ac = new AbortController()
    ac.abort()
    const budget: Budget = {remainingBytes: 1 << 30, maxRatio: 1e9, ratioFloor: 1 << 30, inputSize: lz.length, expanded: 0, signal: ac.signal}
    let err: unknown
    try { await decompress(new BufferReader(lz), 'lzma', budget) } catch (e) { err = e }
    expect(err).to.be.instanceOf(ScanAborted)
    expect(budget.expanded).to.be.at.most(1 << 20) // one 1 MB step, not the 4 MB stream
  })

  it('an aborted signal stops a native inflate too', async () => {
    const ac = new AbortController()
    ac.abort()
    const budget: Budget = {remainingBytes: 1 << 30, maxRatio: 1e9, ratioFloor: 1 << 30, signal: ac.signal}
    let err: unknown
    try { await decompress(new BufferReader(zlib.gzipSync(Buffer.alloc(8 << 20))), 'gzip', budget) } catch (e) { err = e }
    expect(err).to.be.instanceOf(ScanAborted)
  })
})
