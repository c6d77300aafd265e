/**
 * Archive bypasses other scanners' test suites know, as generated malicious fixtures that must be found:
 * an end record that understates the entry count, the encryption flag on data stored in clear, 7z
 * (copy, LZMA, LZMA2, packed headers), central directories that lie about sizes, joblib's ZF container,
 * and payloads nested deeper than the depth budget.
 */
import {expect} from 'chai'
import zlib from 'node:zlib'
import {benign, gguf, joblibZf, nestedZip, netcdfClassic, payload, sevenZip, tar, zip, type ZipIn} from './fixtures.js'
import {expectClean, expectIssue, expectThreat, issues, scanOne} from './scan-helpers.js'

describe('scanner bypasses: zip central directory', () => {
  const forty = (): ZipIn[] => [
    ...Array.from({length: 39}, (_v, i) => ({name: `weights/part${i}.txt`, data: Buffer.from(`benign ${i}\n`)})),
    {name: 'weights/zz_last.pkl', data: payload(2)},
  ]

  it('reads every central-directory entry when the end record understates the count (payload in entry 40 of 40)', async () => {
    const f = await scanOne('count.zip', zip(forty(), {eocdCount: 39}))
    expectThreat(f, 'PAIT-PKL-100', (i) => i.source === 'count.zip:weights/zz_last.pkl')
    const m = expectIssue(f, (i) => i.operator === 'entry_count_mismatch', 'entry count mismatch')
    expect(m.description).to.match(/declares 39 entries but the central directory holds 40/)
  })

  it('reads entries past the directory size the end record declares', async () => {
    const f = await scanOne('cdsize.zip', zip(forty(), {eocdCount: 1, cdSizeDelta: -(46 + 'weights/zz_last.pkl'.length)}))
    expectThreat(f, 'PAIT-PKL-100', (i) => i.source === 'cdsize.zip:weights/zz_last.pkl')
    expectIssue(f, (i) => i.operator === 'entry_count_mismatch' && /1 of them past the directory size/.test(i.description), 'entries beyond the declared size')
  })

  it('a consistent end record raises nothing', async () => {
    const f = await scanOne('ok.zip', zip(forty().slice(0, 39)))
    expectClean(f)
    expect(f.modelscan_status).to.equal('SCANNED')
  })
})

describe('scanner bypasses: zip encryption flag', () => {
  it('scans a stored pickle whose encryption bit is set but whose data is in clear, and flags the inconsistency', async () => {
    const f = await scanOne('enc.zip', zip([{name: 'archive/data.pkl', data: payload(2), flags: 1}]))
    expectThreat(f, 'PAIT-PYTCH-100', (i) => i.source === 'enc.zip:archive/data.pkl')
    expectIssue(f, (i) => i.operator === 'encryption_flag' && i.source === 'enc.zip:archive/data.pkl', 'encryption flag inconsistency')
  })

  it('does the same for a deflated member (the data inflates: it is not encrypted)', async () => {
    const f = await scanOne('enc8.zip', zip([{name: 'model.pkl', data: payload(4), method: 8, flags: 1}]))
    expectThreat(f, 'PAIT-PKL-100')
    expectIssue(f, (i) => i.operator === 'encryption_flag', 'encryption flag inconsistency')
  })

  it('really encrypted members stay "not analysed" without a false inconsistency', async () => {
    const plain = payload(2)
    // ZipCrypto layout: a 12-byte encryption header, then ciphertext; the CRC is the plaintext's
    const cipher = Buffer.concat([Buffer.alloc(12, 0xa5), plain.map((b, i) => b ^ ((i * 37 + 11) & 0xff))])
    const f = await scanOne('real.zip', zip([{name: 'secret.pkl', data: plain, stored: cipher, declaredSize: plain.length, crcOf: plain, flags: 1}]))
    expect(issues(f).map((i) => i.operator)).to.not.include('encryption_flag')
    expect(issues(f).some((i) => i.threat === 'PAIT-PKL-100')).to.equal(false)
    expect(f.error_message).to.match(/partially scanned: 1 part\(s\) not analysed: real\.zip:secret\.pkl: encrypted member not scanned/)
    const aes = await scanOne('aes.zip', zip([{name: 'secret.pkl', data: plain, stored: cipher, method: 99, flags: 1}]))
    expect(aes.error_message).to.match(/encrypted member \(AES\) not scanned/)
  })
})

describe('scanner bypasses: lying central-directory sizes', () => {
  it('a deflated member whose declared size understates it is scanned in full and flagged', async () => {
    const data = Buffer.concat([benign(2), payload(2)]) // the payload sits past the declared 10 bytes
    const f = await scanOne('small.zip', zip([{name: 'm.pkl', data, method: 8, declaredSize: 10}]))
    expectThreat(f, 'PAIT-PKL-100', (i) => i.source === 'small.zip:m.pkl')
    expectIssue(f, (i) => i.operator === 'size_mismatch' && /declares 10 uncompressed bytes/.test(i.description), 'size mismatch')
  })

  it('a declared size far beyond any budget (ZIP64, 1 TiB) does not make the scanner skip the member', async () => {
    const f = await scanOne('huge.zip', zip([{name: 'm.pkl', data: payload(2), method: 8, zip64Size: 2 ** 40}]))
    expectThreat(f, 'PAIT-PKL-100', (i) => i.source === 'huge.zip:m.pkl')
    expectIssue(f, (i) => i.operator === 'size_mismatch' && /declares 1099511627776 uncompressed bytes/.test(i.description), 'size mismatch')
  })

  it('a stored member whose two sizes disagree is scanned over the longer reading', async () => {
    const f = await scanOne('stored.zip', zip([{name: 'm.pkl', data: payload(2), centralSize: 5}]))
    expectThreat(f, 'PAIT-PKL-100')
    expectIssue(f, (i) => i.operator === 'size_mismatch', 'size mismatch')
    expectIssue(f, (i) => i.operator === 'header_mismatch', 'local/central disagreement')
  })
})

describe('scanner bypasses: 7z', () => {
  for (const coder of ['copy', 'lzma', 'lzma2'] as const) {
    it(`finds a malicious pickle in a 7z archive with the ${coder} coder`, async () => {
      const f = await scanOne('m.7z', sevenZip([{name: 'readme.txt', data: Buffer.from('hello\n')}, {name: 'model/evil.pkl', data: payload(2)}], {coder, dirs: ['model']}))
      expect(f.formats).to.include('7_zip')
      expectThreat(f, 'PAIT-PKL-100', (i) => i.source === 'm.7z:model/evil.pkl')
      expect(f.modelscan_status).to.equal('SCANNED')
    })
  }

  it('decodes packed (encoded) headers', async () => {
    const f = await scanOne('h.7z', sevenZip([{name: 'a.pkl', data: payload(4)}, {name: 'b.txt', data: Buffer.from('x')}], {coder: 'lzma2', encodeHeader: 'lzma'}))
    expectThreat(f, 'PAIT-PKL-100', (i) => i.source === 'h.7z:a.pkl')
  })

  it('passes a benign 7z and reports zip-slip names', async () => {
    expectClean(await scanOne('ok.7z', sevenZip([{name: 'a.pkl', data: benign(2)}], {coder: 'lzma'})))
    const s = await scanOne('slip.7z', sevenZip([{name: '../../etc/x', data: Buffer.from('x')}]))
    expectThreat(s, 'PAIT-ARV-100', (i) => i.module === '7z')
  })

  it('other coders are SKIPPED with the coder named; encrypted ones too', async () => {
    const bcj = await scanOne('bcj.7z', sevenZip([{name: 'a.pkl', data: payload(2)}], {coder: 'bcj+lzma'}))
    expect(bcj.modelscan_status).to.equal('SKIPPED')
    expect(bcj.error_message).to.match(/decoder unavailable: 7z coder chain .*BCJ \(x86\)/)
    const aes = await scanOne('aes.7z', sevenZip([{name: 'a.pkl', data: payload(2)}], {coder: 'aes'}))
    expect(aes.modelscan_status).to.equal('SKIPPED')
    expect(aes.error_message).to.match(/decoder unavailable: 7z coder AES-256/)
    const hdr = await scanOne('hdr.7z', sevenZip([{name: 'a.pkl', data: payload(2)}], {coder: 'copy', encodeHeader: 'aes'}))
    expect(hdr.modelscan_status).to.equal('SKIPPED')
    expect(hdr.error_message).to.match(/encoded header: decoder unavailable: 7z coder AES-256/)
  })

  it('a folder whose declared unpack size lies is decoded from its data and flagged', async () => {
    const data = payload(2)
    const f = await scanOne('lie.7z', sevenZip([{name: 'a.pkl', data}], {coder: 'copy', declaredUnpack: data.length + 4096}))
    expectIssue(f, (i) => i.operator === 'size_mismatch' && i.module === '7z', '7z size mismatch')
    expectThreat(f, 'PAIT-PKL-100')
    const longer = await scanOne('longer.7z', sevenZip([{name: 'a.pkl', data}], {coder: 'lzma', declaredUnpack: data.length + 4096}))
    expectIssue(longer, (i) => i.operator === 'size_mismatch', 'LZMA folder shorter than declared')
    expectThreat(longer, 'PAIT-PKL-100')
  })

  it('a truncated 7z is an ERROR with the reason', async () => {
    const full = sevenZip([{name: 'a.pkl', data: benign(2)}], {coder: 'lzma'})
    const f = await scanOne('cut.7z', full.subarray(0, full.length - 10))
    expect(f.modelscan_status).to.equal('ERROR')
    expect(f.error_message).to.match(/unreadable 7z: header .* lies outside/)
  })
})

describe('scanner bypasses: joblib ZF container', () => {
  it('decompresses joblib\'s old ZF format and scans the pickle inside as joblib', async () => {
    const f = await scanOne('model.pkl', joblibZf(payload(2)))
    expect(f.formats).to.deep.equal(['zlib', 'joblib'])
    expectThreat(f, 'PAIT-JOBLIB-100', (i) => i.module === 'os')
    const ok = await scanOne('clean.pkl', joblibZf(benign(2)))
    expectClean(ok)
    expect(ok.modelscan_status).to.equal('SCANNED')
  })

  it('also with the optional space after the header and a wrong declared length (noted)', async () => {
    const z = joblibZf(payload(0), 999)
    const spaced = Buffer.concat([z.subarray(0, 21), Buffer.from(' '), z.subarray(21)])
    const f = await scanOne('m.joblib', spaced)
    expectThreat(f, 'PAIT-JOBLIB-100')
  })

  it('a ZF file with corrupt zlib data is an ERROR', async () => {
    const z = joblibZf(benign(2))
    z[z.length - 6] ^= 0xff
    z[30] ^= 0xff
    const f = await scanOne('bad.pkl', z)
    expect(f.modelscan_status).to.equal('ERROR')
    expect(f.error_message).to.match(/joblib ZF container: zlib data is corrupt/)
  })
})

describe('scanner bypasses: nesting beyond the depth budget', () => {
  it('a 20-deep nested zip is an issue, not only "partially scanned"', async () => {
    const f = await scanOne('deep.zip', nestedZip(20, 'payload.pkl', payload(2)))
    expect(f.modelscan_status).to.equal('SCANNED')
    const i = expectIssue(f, (x) => x.operator === 'nesting_depth', 'nesting-depth issue')
    expect(i.threat).to.equal(null)
    expect(f.error_message).to.match(/partially scanned: .*nesting deeper than 10 levels not followed/)
    expect(issues(f).filter((x) => x.operator === 'nesting_depth')).to.have.length(1)
  })

  it('the same through compressed streams (gzip in zip in gzip ...)', async () => {
    let cur = payload(2)
    for (let i = 0; i < 12; i++) cur = i % 2 ? zip([{name: `l${i}.bin`, data: cur, method: 8}]) : zlib.gzipSync(cur)
    const f = await scanOne('deep.bin', cur)
    expectIssue(f, (x) => x.operator === 'nesting_depth', 'nesting-depth issue')
  })

  it('payloads within the budget are still found (nine levels)', async () => {
    const f = await scanOne('nine.zip', nestedZip(9, 'payload.pkl', payload(2)))
    expectThreat(f, 'PAIT-PKL-100')
    expect(issues(f).some((x) => x.operator === 'nesting_depth')).to.equal(false)
  })
})

describe('scanner bypasses: format/pickle polyglots', () => {
  const program = Buffer.from("cos\nsystem\n(S'id'\ntR.", 'latin1')

  it('a netCDF header that continues as a pickle program is not waved through as data', async () => {
    // "CDF\x01" is SHORT_BINBYTES of 0x44 bytes: the program starts at offset 70
    const head = netcdfClassic()
    const file = Buffer.concat([head, Buffer.alloc(70 - head.length), program])
    const f = await scanOne('grid.nc', file)
    expectThreat(f, 'PAIT-PKL-100')
    expectIssue(f, (i) => i.operator === 'polyglot', 'polyglot')
    expectClean(await scanOne('clean.nc', netcdfClassic()))
  })

  it('a tar whose first member name is a pickle program, and a GGUF whose header continues one', async () => {
    const t = await scanOne('names.tar', tar([{name: program.toString('latin1'), data: Buffer.from('x')}]))
    expectThreat(t, 'PAIT-PKL-100')
    expectClean(await scanOne('plain.tar', tar([{name: 'model/weights.bin', data: Buffer.alloc(16)}])))
    const g = gguf()
    // BINFLOAT eats "GUF", the version and tensor_count's first byte; the rest of tensor_count holds
    // BININT1 0, POP, BININT1 0, POP, NONE, then the program follows
    const poly = Buffer.concat([g.subarray(0, 8), Buffer.from([0, 0x4b, 0, 0x30, 0x4b, 0, 0x30, 0x4e]), program])
    const f = await scanOne('m.gguf', poly)
    expectThreat(f, 'PAIT-PKL-100')
  })
})
