import {expect} from 'chai'
import {XMLParser} from 'fast-xml-parser'
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ModelSecurityClient} from '../../../src/lib/airs/client.js'
import type {ScanDetails} from '../../../src/lib/airs/types.js'
import {parseFailOn} from '../../../src/lib/command/gate.js'
import {plainScanProgress, scanLocally} from '../../../src/lib/command/local-scan.js'
import {
  collectReportData, parseReportTargets, REPORT_FORMATS, type ReportFormat, reportNeeds, writeReport,
} from '../../../src/lib/command/report-formats.js'
import type {ReportData} from '../../../src/lib/command/reports.js'
import {deliverVerdict} from '../../../src/lib/command/verdict.js'
import {
  apiRequests, CREDS, ENDPOINTS, expectConforming, jsonError, mockApi, mockToken, requests, resetRequests, run, useCredentials,
} from '../../helpers/api.js'
import {expectValidSarif} from '../../helpers/sarif.js'
import {
  EVAL_LOADTIME, EVALUATIONS, FILE_CONFIG, FILE_ONNX, FILE_ONNX_DIR, page, SCAN2_ALLOWED, SCAN2_UUID, SCAN_ALLOWED, SCAN_BLOCKED,
  SCAN_ERROR, SCAN_PENDING, SCAN_UUID, VIOLATION_PICKLE, VIOLATIONS,
} from '../../fixtures/data.js'
import {GROUP_HF} from '../../fixtures/mgmt.js'

const FAST = ['--interval', '10ms', '--timeout', '5s']
const parser = new XMLParser({ignoreAttributes: false, attributeNamePrefix: '@', isArray: name => ['testcase', 'testsuite', 'property'].includes(name)})
const tmp = () => mkdtempSync(join(tmpdir(), 'report-flag-'))

/** The scan settles on the first poll, then its evaluations and violations are read for the reports. */
function mockScan(final: Record<string, unknown>, opts: {uuid?: string; evaluations?: unknown[]; violations?: unknown[]} = {}) {
  const uuid = opts.uuid ?? SCAN_UUID
  mockApi('data', 'GET', `/v1/scans/${uuid}`, 200, final)
  mockApi('data', 'GET', `/v1/scans/${uuid}/evaluations`, 200, page('evaluations', opts.evaluations ?? EVALUATIONS))
  mockApi('data', 'GET', `/v1/scans/${uuid}/rule-violations`, 200, page('violations', opts.violations ?? VIOLATIONS))
}

// a second scan's findings
const EVAL2 = {...EVAL_LOADTIME, uuid: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', scan_uuid: SCAN2_UUID, result: 'FAILED', violation_count: 1}
const VIOL2 = {
  ...VIOLATION_PICKLE, uuid: 'b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e', rule_instance_uuid: EVAL2.rule_instance_uuid, rule_name: EVAL2.rule_name,
  rule_description: EVAL2.rule_description, description: 'posix.system is called when weights/model.pkl is loaded', file: 'weights/model.pkl',
  threat: 'PAIT-PKL-100',
}
const SCAN2_BLOCKED = {...SCAN2_ALLOWED, eval_outcome: 'BLOCKED', eval_summary: {rules_failed: 1, rules_passed: 5, total_rules: 6}}

describe('--report FORMAT=PATH on the gating commands', () => {
  beforeEach(() => {
    useCredentials()
    mockToken()
    resetRequests()
  })

  it('scans wait writes every format after the verdict; the exit code stays the gate\'s (BLOCKED: 8)', async () => {
    const dir = tmp()
    mockScan(SCAN_BLOCKED)
    const r = await run(['model-security', 'scans', 'wait', SCAN_UUID, ...FAST, '--json', '--artifact-root', 'models/bert',
      '--report', `sarif=${join(dir, 'out', 'model.sarif')}`, '--report', `junit=${join(dir, 'model.xml')}`,
      '--report', `markdown=${join(dir, 'summary.md')}`, '--report', `json=${join(dir, 'model.json')}`])
    expect(r.exit, r.stderr).to.equal(8)
    expect(JSON.parse(r.stdout)).to.deep.equal(SCAN_BLOCKED)
    const sarif = JSON.parse(readFileSync(join(dir, 'out', 'model.sarif'), 'utf8'))
    expectValidSarif(sarif)
    expect(sarif.runs[0].results).to.have.length(3)
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).to.equal('models/bert/pytorch_model.bin')
    const junit = parser.parse(readFileSync(join(dir, 'model.xml'), 'utf8'))
    expect(junit.testsuites.testsuite).to.have.length(1)
    expect(junit.testsuites.testsuite[0].testcase).to.have.length(EVALUATIONS.length)
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).to.match(/^## ⛔ Model scan BLOCKED\n/)
    expect(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'))).to.deep.equal({scan: SCAN_BLOCKED, evaluations: EVALUATIONS, violations: VIOLATIONS})
    // one read of the data for all four reports, every page of it
    expect(apiRequests().map(x => `${x.method} ${x.path}`)).to.deep.equal([
      `GET /v1/scans/${SCAN_UUID}`, `GET /v1/scans/${SCAN_UUID}/evaluations`, `GET /v1/scans/${SCAN_UUID}/rule-violations`])
    expect(apiRequests()[1].query.get('limit')).to.equal('100')
    expectConforming()
  })

  for (const [final, flags, exit] of [
    [SCAN_ALLOWED, [], 0], [SCAN_ERROR, [], 9], [SCAN_BLOCKED, ['--fail-on', 'error'], 0], [SCAN_ERROR, ['--fail-on', 'never'], 0],
  ] as const) {
    it(`the gate decides the exit code, not the reports: ${final.eval_outcome} ${flags.join(' ')} -> ${exit}`, async () => {
      const dir = tmp()
      mockScan(final)
      const r = await run(['model-security', 'scans', 'wait', SCAN_UUID, ...FAST, ...flags, '--json', '--report', `junit=${join(dir, 'j.xml')}`])
      expect(r.exit, r.stderr).to.equal(exit)
      expect(parser.parse(readFileSync(join(dir, 'j.xml'), 'utf8')).testsuites.testsuite[0].properties.property
        .find((p: Record<string, string>) => p['@name'] === 'eval_outcome')['@value']).to.equal(final.eval_outcome)
    })
  }

  it('a timeout still exits 11 and still writes the reports (the scan without results)', async () => {
    const dir = tmp()
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, SCAN_PENDING, {times: 1000})
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/evaluations`, 200, page('evaluations', []))
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/rule-violations`, 200, page('violations', []))
    const r = await run(['model-security', 'scans', 'wait', SCAN_UUID, '--interval', '10ms', '--timeout', '100ms', '--report', `markdown=${join(dir, 's.md')}`])
    expect(r.exit).to.equal(11)
    expect(readFileSync(join(dir, 's.md'), 'utf8')).to.match(/^## ⏳ Model scan PENDING/)
    expect(r.stderr).to.contain('still PENDING: the reports show it without results')
  })

  it('several scans: one report covers them all (one SARIF run, a testsuite and a section per scan, a JSON array)', async () => {
    const dir = tmp()
    mockScan(SCAN_BLOCKED)
    mockScan(SCAN2_BLOCKED, {uuid: SCAN2_UUID, evaluations: [EVAL2], violations: [VIOL2]})
    const r = await run(['model-security', 'scans', 'wait', SCAN_UUID, SCAN2_UUID, ...FAST, '--json',
      '--report', `sarif=${join(dir, 'm.sarif')}`, '--report', `junit=${join(dir, 'm.xml')}`, '--report', `markdown=${join(dir, 'm.md')}`,
      '--report', `json=${join(dir, 'm.json')}`])
    expect(r.exit, r.stderr).to.equal(8)
    const sarif = JSON.parse(readFileSync(join(dir, 'm.sarif'), 'utf8'))
    expectValidSarif(sarif)
    expect(sarif.runs).to.have.length(1)
    expect(sarif.runs[0].results.map((x: {properties: Record<string, string>}) => x.properties['airs-scan-uuid']))
      .to.deep.equal([SCAN_UUID, SCAN_UUID, SCAN_UUID, SCAN2_UUID])
    const junit = parser.parse(readFileSync(join(dir, 'm.xml'), 'utf8'))
    expect(junit.testsuites.testsuite.map((x: Record<string, string>) => x['@name'])).to.deep.equal([
      `AIRS model scan: ${SCAN_BLOCKED.model_uri}`, `AIRS model scan: ${SCAN2_BLOCKED.model_uri}`])
    const md = readFileSync(join(dir, 'm.md'), 'utf8')
    expect(md.split('\n')[0]).to.equal('## ⛔ Model scans: 2 scans, worst outcome BLOCKED')
    expect(md.split('\n').filter(l => l.startsWith('### '))).to.have.length(2)
    const json = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8'))
    expect(json.map((x: {scan: {uuid: string}}) => x.scan.uuid)).to.deep.equal([SCAN_UUID, SCAN2_UUID])
    expect(json[1].violations).to.deep.equal([VIOL2])
    expectConforming()
  })

  it('markdown appends to an existing file; "-" sends one report to stdout instead of the result view', async () => {
    const dir = tmp()
    const summary = join(dir, 'step-summary.md')
    writeFileSync(summary, '## Tests\n\n42 passed\n')
    mockScan(SCAN_ALLOWED)
    const r = await run(['model-security', 'scans', 'wait', SCAN_UUID, ...FAST, '--report', `markdown=${summary}`, '--report', 'junit=-'])
    expect(r.exit, r.stderr).to.equal(0)
    expect(readFileSync(summary, 'utf8')).to.match(/^## Tests\n\n42 passed\n\n## ✅ Model scan ALLOWED\n/)
    // stdout is the JUnit document alone: no detail view around it
    expect(r.stdout.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).to.equal(true)
    expect(parser.parse(r.stdout).testsuites.testsuite[0].testcase).to.have.length(EVALUATIONS.length)
    expect(r.stdout).to.not.match(/Outcome:/)
    expect(r.stderr).to.contain(`Appended the markdown report of scan ${SCAN_UUID} to ${summary}`)
  })

  it('a report that cannot be written exits 7 after the others are written, naming it and the gate\'s verdict', async () => {
    const dir = tmp()
    const notADir = join(dir, 'file')
    writeFileSync(notADir, 'x')
    mockScan(SCAN_BLOCKED)
    const r = await run(['model-security', 'scans', 'wait', SCAN_UUID, ...FAST, '--json', '--report', `sarif=${join(notADir, 'model.sarif')}`,
      '--report', `junit=${join(dir, 'model.xml')}`, '--report', `markdown=${join(dir, 'model.md')}`])
    expect(r.exit).to.equal(7)
    expect(existsSync(join(dir, 'model.xml'))).to.equal(true)
    expect(existsSync(join(dir, 'model.md'))).to.equal(true)
    expect(JSON.parse(r.stdout)).to.deep.equal(SCAN_BLOCKED) // the result is still printed: the scan exists and has a verdict
    const err = jsonError(r.stderr) as ReturnType<typeof jsonError> & {details: {failed: Array<Record<string, string>>; gate_exit: number}}
    expect(err.code).to.equal('E_REPORT_WRITE')
    expect(err.message).to.contain(`--report sarif=${join(notADir, 'model.sarif')}: ENOTDIR: ${notADir} is not a directory`)
    expect(err.message).to.contain('the gate BLOCKED: exit 8 without this error')
    expect(err.details.gate_exit).to.equal(8)
    expect(err.details.failed.map(f => f.path)).to.deep.equal([join(notADir, 'model.sarif')])
    // human mode: the same error, exit 7
    mockScan(SCAN_ALLOWED)
    const h = await run(['model-security', 'scans', 'wait', SCAN_UUID, ...FAST, '--report', `sarif=${join(notADir, 'model.sarif')}`])
    expect(h.exit).to.equal(7)
    expect(h.error?.message).to.contain('could not write a report (the gate passed: exit 0 without this error)')
  })

  const BAD: Array<[string[], RegExp]> = [
    [['--report', 'html=x.html'], /--report "html=x.html": unknown format "html"; allowed: sarif, junit, markdown, cyclonedx, json/],
    [['--report', 'sarif='], /--report "sarif=": empty path/],
    [['--report', 'sarif'], /--report "sarif": expected FORMAT=PATH, e.g. --report sarif=model-scan.sarif/],
    [['--report', 'sarif=-', '--report', 'junit=-'], /--report "junit=-": only one report can go to stdout, and --report "sarif=-" already does/],
    [['--report', 'sarif=out/a', '--report', 'junit=./out/../out/a'], /--report "junit=.\/out\/..\/out\/a": .* is already the target of --report "sarif=out\/a"/],
    [['--report', 'junit=-', '--json'], /--report "junit=-": stdout carries the --json result/],
    [['--artifact-root', 'models', '--report', 'junit=j.xml'], /--artifact-root models: it only applies to the SARIF written by --report sarif=PATH/],
    [['--artifact-root', '/abs', '--report', 'sarif=s.sarif'], /--artifact-root: "\/abs" must be a path relative to the repository root/],
  ]
  for (const [args, message] of BAD) {
    it(`scans wait ${args.join(' ')}: exit 2 before any request`, async () => {
      const r = await run(['model-security', 'scans', 'wait', SCAN_UUID, ...args])
      expect(r.exit).to.equal(2)
      expect(args.includes('--json') ? jsonError(r.stderr).message : r.error?.message).to.match(message)
      expect(requests).to.have.length(0)
    })
  }

  it('scans create: --report needs --wait; --concurrency needs --model-path and 1-64 (exit 2, nothing sent)', async () => {
    const base = ['model-security', 'scans', 'create', '--model-uri', SCAN_BLOCKED.model_uri, '--group', GROUP_HF.uuid]
    const noWait = await run([...base, '--report', 'sarif=x.sarif', '--json'])
    expect(noWait.exit).to.equal(2)
    expect(jsonError(noWait.stderr).message).to.equal('--report "sarif=x.sarif": reports are written after the verdict; add --wait')
    const conc = await run([...base, '--concurrency', '4', '--json'])
    expect(conc.exit).to.equal(2)
    expect(jsonError(conc.stderr).message).to.match(/^--concurrency 4: it only applies to --model-path/)
    const dir = tmp()
    for (const n of ['0', '65', 'many']) {
      const r = await run(['model-security', 'scans', 'create', '--model-path', dir, '--group', 'Default LOCAL', '--concurrency', n])
      expect(r.exit, n).to.equal(2)
      expect(r.error?.message).to.match(/concurrency/)
    }
    expect(requests).to.have.length(0)
  })

  it('scans create --wait --report: created, polled, reported; requests conform to the OpenAPI documents', async () => {
    const dir = tmp()
    mockApi('mgmt', 'GET', `/v1/security-groups/${GROUP_HF.uuid}`, 200, GROUP_HF)
    mockApi('data', 'POST', '/v1/scans', 201, SCAN_PENDING)
    mockScan(SCAN_BLOCKED)
    const r = await run(['model-security', 'scans', 'create', '--model-uri', SCAN_BLOCKED.model_uri, '--group', GROUP_HF.uuid, '--wait', ...FAST,
      '--json', '--report', `sarif=${join(dir, 'm.sarif')}`, '--report', `json=${join(dir, 'm.json')}`])
    expect(r.exit, r.stderr).to.equal(8)
    expectValidSarif(JSON.parse(readFileSync(join(dir, 'm.sarif'), 'utf8')))
    expect(JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8')).scan).to.deep.equal(SCAN_BLOCKED)
    expect(apiRequests().map(x => `${x.method} ${x.path}`)).to.deep.equal([`GET /v1/security-groups/${GROUP_HF.uuid}`, 'POST /v1/scans',
      `GET /v1/scans/${SCAN_UUID}`, `GET /v1/scans/${SCAN_UUID}/evaluations`, `GET /v1/scans/${SCAN_UUID}/rule-violations`])
    expectConforming()
  })
})

const testClient = () => new ModelSecurityClient({...CREDS, dataEndpoint: ENDPOINTS.data, mgmtEndpoint: ENDPOINTS.mgmt, tokenEndpoint: ENDPOINTS.token,
  retries: 0, timeoutMs: 5000, userAgent: 'test'})

describe('the report-format registry', () => {
  beforeEach(() => {
    useCredentials()
    mockToken()
    resetRequests()
  })

  it('parses FORMAT=PATH: formats case-insensitive, "=" allowed in the path', () => {
    expect(parseReportTargets(['SARIF=a.sarif', 'markdown=x=y.md', 'json=-'])).to.deep.equal([
      {format: 'sarif', path: 'a.sarif', spec: 'SARIF=a.sarif'}, {format: 'markdown', path: 'x=y.md', spec: 'markdown=x=y.md'},
      {format: 'json', path: '-', spec: 'json=-'}])
    expect(parseReportTargets(undefined)).to.deep.equal([])
    expect(reportNeeds(['sarif', 'junit', 'markdown', 'json']).size).to.equal(0)
  })

  it('writeReport: appendable formats append after a blank line (or create), the others overwrite', async () => {
    const dir = tmp()
    const md = join(dir, 'a', 'b.md')
    expect(await writeReport(md, REPORT_FORMATS.markdown, '# one')).to.equal('wrote')
    expect(await writeReport(md, REPORT_FORMATS.markdown, '# two\n')).to.equal('appended')
    expect(readFileSync(md, 'utf8')).to.equal('# one\n\n# two\n')
    writeFileSync(join(dir, 'empty.md'), '')
    expect(await writeReport(join(dir, 'empty.md'), REPORT_FORMATS.markdown, 'x')).to.equal('wrote')
    const json = join(dir, 'r.json')
    await writeReport(json, REPORT_FORMATS.json, '{"a":1}')
    await writeReport(json, REPORT_FORMATS.json, '{"b":2}')
    expect(readFileSync(json, 'utf8')).to.equal('{"b":2}\n')
  })

  it('a format that needs the scan\'s files gets the whole tree (walked, paginated); the others do not cost those requests', async () => {
    const client = testClient()
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/evaluations`, 200, page('evaluations', EVALUATIONS))
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/rule-violations`, 200, page('violations', VIOLATIONS))
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 200, page('files', [FILE_CONFIG, FILE_ONNX_DIR], 3))
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 200, page('files', [{...FILE_CONFIG, uuid: 'c0c0c0c0-0000-4000-8000-000000000001', path: 'z.txt'}], 3))
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 200, page('files', [FILE_ONNX]))
    const [data] = await collectReportData(client, [SCAN_BLOCKED as never], new Set(['files']))
    expect(data.files!.map(f => f.path)).to.deep.equal(['config.json', 'onnx', 'onnx/decoder model.onnx', 'z.txt'])
    const fileQueries = apiRequests().filter(x => x.path.endsWith('/files')).map(x => [x.query.get('query_path'), x.query.get('skip')])
    expect(fileQueries).to.deep.equal([[null, '0'], [null, '2'], ['/onnx', '0']])
    expectConforming()
    resetRequests()
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/evaluations`, 200, page('evaluations', []))
    mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/rule-violations`, 200, page('violations', []))
    const [plain] = await collectReportData(client, [SCAN_BLOCKED as never], reportNeeds(['sarif']))
    expect(plain).to.not.have.property('files')
    expect(apiRequests().some(x => x.path.endsWith('/files'))).to.equal(false)
  })

  it('a format added to the registry is accepted by --report, and its needs are fetched before it renders', async () => {
    const rendered: ReportData[][] = []
    const extra: ReportFormat = {
      summary: 'test format', extension: '.txt', appendable: false, needs: ['files'],
      render: inputs => {
        rendered.push(inputs)
        return inputs.map(i => `${i.scan.uuid}: ${(i.files ?? []).map(f => f.path).join(',')}`).join('\n')
      },
    }
    const registry = REPORT_FORMATS as Record<string, ReportFormat>
    registry.filelist = extra
    const dir = tmp()
    try {
      const reports = parseReportTargets([`filelist=${join(dir, 'files.txt')}`])
      mockApi('data', 'GET', `/v1/scans/${SCAN2_UUID}/evaluations`, 200, page('evaluations', []))
      mockApi('data', 'GET', `/v1/scans/${SCAN2_UUID}/rule-violations`, 200, page('violations', []))
      mockApi('data', 'GET', `/v1/scans/${SCAN2_UUID}/files`, 200, page('files', [FILE_CONFIG]))
      const scan = SCAN2_ALLOWED as never
      const result = await deliverVerdict({
        client: testClient(), scans: [scan], timedOut: false, failOn: parseFailOn('blocked,error'), result: scan, reports, toolVersion: '1',
        emit: () => Promise.resolve(undefined), cmd: {jsonEnabled: () => true, exit: () => { throw new Error('no exit expected') }},
        log() {}, logJson() {}, note() {},
      })
      expect(result).to.equal(scan)
      expect(readFileSync(join(dir, 'files.txt'), 'utf8')).to.equal(`${SCAN2_UUID}: config.json\n`)
      expect(rendered[0][0].files).to.have.length(1)
      expectConforming()
    } finally {
      delete registry.filelist
    }
    expect(() => parseReportTargets(['filelist=x'])).to.throw(/unknown format "filelist"/)
  })
})

describe('local scan progress (moved out of scans create)', () => {
  it('plain lines: one per change, at most one every 0.5s, the final one always', () => {
    const lines: string[] = []
    let t = 0
    const on = plainScanProgress('./m', l => lines.push(l), () => t)
    const p = (filesDone: number, at: number) => {
      t = at
      on({filesDone, filesTotal: 3, bytesDone: filesDone * 1_048_576, bytesTotal: 3 * 1_048_576})
    }
    p(0, 0)
    p(0, 10) // unchanged
    p(1, 100) // too soon
    p(2, 600)
    p(3, 700) // the last one, however soon
    expect(lines).to.deep.equal([
      'Scanning ./m: 0/3 files, 0.0 MiB/3.0 MiB', 'Scanning ./m: 2/3 files, 2.0 MiB/3.0 MiB', 'Scanning ./m: 3/3 files, 3.0 MiB/3.0 MiB'])
  })

  it('passes --concurrency and the patterns to the scanner, reports its notes, warns when truncated', async () => {
    const calls: Array<Record<string, unknown>> = []
    const details = {files: [], total_files_scanned: 0, total_files_skipped: 0, model_formats: []} as unknown as ScanDetails
    const scanner = {
      scanPath(target: string, o: Record<string, unknown> = {}) {
        calls.push({target, ...o})
        return Promise.resolve({scanDetails: details, root: target, truncated: true, notes: ['1 file(s) could not be scanned (ERROR)']})
      },
    }
    const notes: string[] = []
    const warnings: string[] = []
    const out = await scanLocally('rel/model', {concurrency: 3, allowPatterns: ['*.bin'], ignorePatterns: ['*.md'], json: true,
      note: l => notes.push(l), warn: l => warnings.push(l), scanner: scanner as never})
    expect(out).to.equal(details)
    expect(calls).to.have.length(1)
    expect(calls[0]).to.include({target: join(process.cwd(), 'rel', 'model'), concurrency: 3, onProgress: undefined})
    expect(calls[0].allowPatterns).to.deep.equal(['*.bin'])
    expect(calls[0].ignorePatterns).to.deep.equal(['*.md'])
    expect(notes).to.deep.equal(['note: 1 file(s) could not be scanned (ERROR)'])
    expect(warnings[0]).to.match(/only the first 0 files are reported/)
  })
})
