import {expect} from 'chai'
import {XMLParser} from 'fast-xml-parser'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import * as reports from '../../../src/lib/command/reports.js'
import {artifactUri, type ReportInput, type ReportOptions, ruleSlug, sarifLevel} from '../../../src/lib/command/reports.js'
import {expectConforming, jsonError, mockApi, mockToken, requests, resetRequests, run, useCredentials} from '../../helpers/api.js'
import {expectValidSarif, validateOfficial, validateSubset} from '../../helpers/sarif.js'
import {EVAL_ERROR, EVAL_FORMAT, EVAL_LICENSE, EVAL_LOADTIME, EVALUATIONS, page, SCAN2_ALLOWED, SCAN2_UUID, SCAN_ALLOWED, SCAN_BLOCKED, SCAN_ERROR, SCAN_UUID, VIOLATION_ONNX, VIOLATION_PICKLE, VIOLATIONS} from '../../fixtures/data.js'

// The fixtures are plain objects (string enums): the report builders take them as the wire types.
const buildSarif = (i: unknown, o: ReportOptions) => reports.buildSarif(i as ReportInput | ReportInput[], o)
const buildJunit = (i: unknown) => reports.buildJunit(i as ReportInput | ReportInput[])
const buildMarkdown = (i: unknown) => reports.buildMarkdown(i as ReportInput | ReportInput[])

const INPUT = {scan: SCAN_BLOCKED, evaluations: EVALUATIONS, violations: VIOLATIONS}
const parser = new XMLParser({ignoreAttributes: false, attributeNamePrefix: '@', isArray: name => ['testcase', 'testsuite', 'property'].includes(name)})

type Sarif = {version: string; runs: Array<{tool: {driver: {rules: Array<Record<string, any>>}}; results: Array<Record<string, any>>; artifacts: Array<Record<string, any>>}>}

describe('scan reports', () => {
  describe('SARIF 2.1.0', () => {
    it('is valid against the SARIF 2.1.0 schema, with stable ruleIds, relative URIs and levels by state', () => {
      const doc = buildSarif(INPUT, {toolVersion: '0.1.0'}) as unknown as Sarif
      expectValidSarif(doc)
      expect(doc.version).to.equal('2.1.0')
      expect(doc.runs).to.have.length(1)
      const {rules} = doc.runs[0].tool.driver
      expect(rules.map(r => r.id)).to.deep.equal(['license-exists', 'stored-in-approved-file-format'])
      const format = rules.find(r => r.id === 'stored-in-approved-file-format')!
      expect(format.defaultConfiguration.level).to.equal('error')
      expect(format.help.text).to.contain('Re-export the weights as safetensors')
      expect(format.helpUri).to.equal(VIOLATION_PICKLE.remediation.url)
      expect(rules.find(r => r.id === 'license-exists')!.defaultConfiguration.level).to.equal('warning')
      const results = doc.runs[0].results
      expect(results).to.have.length(3)
      expect(results.map(r => r.level)).to.deep.equal(['error', 'error', 'warning'])
      for (const r of results) {
        expect(rules[r.ruleIndex].id).to.equal(r.ruleId)
        const uri = r.locations[0].physicalLocation.artifactLocation.uri as string
        expect(uri).to.not.match(/^[a-z]+:|^\//i)
      }
      expect(results[0].locations[0].physicalLocation.artifactLocation).to.include({uri: 'pytorch_model.bin', uriBaseId: '%SRCROOT%'})
      expect(results[1].locations[0].physicalLocation.artifactLocation.uri).to.equal('onnx/decoder%20model.onnx')
      expect(results[0].message.text).to.equal('Model file pytorch_model.bin is stored in an unapproved format: pickle Threat UNAPPROVED_FORMATS: File format is not on the approved list.')
      expect(doc.runs[0].artifacts.map(a => a.location.uri)).to.deep.equal(['pytorch_model.bin', 'onnx/decoder%20model.onnx'])
    })

    it('keeps ruleIds stable across scans and prefixes --artifact-root', () => {
      const a = buildSarif(INPUT, {toolVersion: '1', artifactRoot: './models/bert/'}) as unknown as Sarif
      const b = buildSarif({...INPUT, violations: [VIOLATION_ONNX]}, {toolVersion: '1'}) as unknown as Sarif
      expectValidSarif(a)
      expectValidSarif(b)
      expect(b.runs[0].results[0].ruleId).to.equal(a.runs[0].results[1].ruleId)
      expect(a.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).to.equal('models/bert/pytorch_model.bin')
      expect(a.runs[0].results[2].locations[0].physicalLocation.artifactLocation.uri).to.equal('models/bert')
      expect(ruleSlug('Stored In Approved File Format')).to.equal('stored-in-approved-file-format')
      expect(sarifLevel('BLOCKING')).to.equal('error')
      expect(sarifLevel('ALLOWING')).to.equal('warning')
      expect(artifactUri('/abs/x.bin')).to.equal('abs/x.bin')
    })

    it('is valid for a clean scan (no rules, no results)', () => {
      const doc = buildSarif({scan: SCAN_ALLOWED, evaluations: [{...EVAL_FORMAT, result: 'PASSED', violation_count: 0}], violations: []}, {toolVersion: '0.1.0'}) as unknown as Sarif
      expectValidSarif(doc)
      expect(doc.runs[0].results).to.deep.equal([])
    })

    it('both schemas reject what GitHub would reject', () => {
      const doc = buildSarif(INPUT, {toolVersion: '0.1.0'}) as unknown as Sarif
      const bad = JSON.parse(JSON.stringify(doc))
      bad.runs[0].results[0].level = 'critical'
      expect(validateOfficial(bad)).to.equal(false)
      expect(validateSubset(bad)).to.equal(false)
      const extra = JSON.parse(JSON.stringify(doc))
      extra.runs[0].results[0].severity = 'high'
      expect(validateSubset(extra)).to.equal(false)
      const noVersion = JSON.parse(JSON.stringify(doc))
      delete noVersion.version
      expect(validateOfficial(noVersion)).to.equal(false)
    })
  })

  describe('JUnit XML', () => {
    it('has one testcase per evaluation, failures for FAILED and errors for ERROR (parsed back)', () => {
      const xml = buildJunit(INPUT)
      const doc = parser.parse(xml)
      const suite = doc.testsuites.testsuite[0]
      expect(doc.testsuites['@tests']).to.equal('4')
      expect(suite['@tests']).to.equal('4')
      expect(suite['@failures']).to.equal('2')
      expect(suite['@errors']).to.equal('1')
      const cases = suite.testcase as Array<Record<string, any>>
      expect(cases).to.have.length(EVALUATIONS.length)
      expect(cases.filter(c => c.failure)).to.have.length(2)
      expect(cases.filter(c => c.error)).to.have.length(1)
      expect(cases.map(c => c['@name'])).to.deep.equal(EVALUATIONS.map(e => e.rule_name))
      const failure = cases.find(c => c['@name'] === 'Stored In Approved File Format')!.failure
      expect(failure['@type']).to.equal('BLOCKING')
      expect(failure['#text']).to.contain('pytorch_model.bin: Model file pytorch_model.bin is stored in an unapproved format: pickle')
      expect(failure['#text']).to.contain('1. Re-export the weights as safetensors')
      expect(cases.find(c => c['@name'] === EVAL_ERROR.rule_name)!.error['@type']).to.equal('ERROR')
      expect(cases.find(c => c['@name'] === EVAL_LICENSE.rule_name)!.failure['@type']).to.equal('ALLOWING')
      expect(suite.properties.property.find((p: Record<string, string>) => p['@name'] === 'eval_outcome')['@value']).to.equal('BLOCKED')
    })

    it('escapes XML and reports a failed scan without evaluations as one error', () => {
      const nasty = {...EVAL_FORMAT, rule_name: 'A <b> & "c"'}
      const xml = buildJunit({scan: SCAN_ERROR, evaluations: [nasty], violations: []})
      expect(xml).to.contain('name="A &lt;b&gt; &amp; &quot;c&quot;"')
      expect(parser.parse(xml).testsuites.testsuite[0].testcase).to.have.length(1)
      const empty = parser.parse(buildJunit({scan: SCAN_ERROR, evaluations: [], violations: []}))
      expect(empty.testsuites.testsuite[0]['@errors']).to.equal('1')
      expect(empty.testsuites.testsuite[0].testcase[0].error['@type']).to.equal('ACCESS_DENIED')
    })
  })

  describe('markdown', () => {
    it('summarises outcome, rules, violations and remediation', () => {
      const md = buildMarkdown(INPUT)
      expect(md.split('\n')[0]).to.equal('## ⛔ Model scan BLOCKED')
      expect(md).to.contain('**Rules:** 10 passed, 1 failed, 11 total')
      expect(md).to.contain('| ❌ FAILED | Stored In Approved File Format | BLOCKING | 2 |')
      expect(md).to.contain('### Violations (3)')
      expect(md).to.contain('`onnx/decoder model.onnx`')
      expect(md).to.contain('### Remediation')
      expect(md).to.contain('1. Add a LICENSE file or a license tag to the model card')
      expect(buildMarkdown({scan: SCAN_ERROR, evaluations: [], violations: []})).to.contain('> **Error:** ACCESS_DENIED: The model repository is gated: access denied')
    })
  })

  describe('several scans in one report', () => {
    // a second, LOCAL scan: BLOCKED by a pickle calling os.system (the rule is BLOCKING there)
    const SCAN2 = {...SCAN2_ALLOWED, eval_outcome: 'BLOCKED', eval_summary: {rules_failed: 1, rules_passed: 5, total_rules: 6}}
    const EVAL2 = {...EVAL_LOADTIME, uuid: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', scan_uuid: SCAN2_UUID, result: 'FAILED', violation_count: 1}
    const VIOL2 = {
      ...VIOLATION_PICKLE, uuid: 'b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e', rule_instance_uuid: EVAL2.rule_instance_uuid, rule_name: EVAL2.rule_name,
      rule_description: EVAL2.rule_description, description: 'posix.system is called when weights/model.pkl is loaded', file: 'weights/model.pkl',
      threat: 'PAIT-PKL-100', threat_description: 'Arbitrary code execution at load time', module: 'posix', operator: 'system',
      remediation: {steps: ['Do not load this file'], url: 'https://docs.paloaltonetworks.com/ai-model-security/load-time'},
    }
    const BOTH = [INPUT, {scan: SCAN2, evaluations: [EVAL2], violations: [VIOL2]}]

    it('SARIF: one run with every scan\'s results and rules, valid against both schemas', () => {
      const doc = buildSarif(BOTH, {toolVersion: '1'}) as unknown as Sarif & {runs: Array<{properties: Record<string, any>; automationDetails: {id: string}}>}
      expectValidSarif(doc)
      expect(doc.runs).to.have.length(1)
      const run = doc.runs[0]
      expect(run.tool.driver.rules.map(r => r.id)).to.deep.equal(['license-exists', 'load-time-code-execution-check', 'stored-in-approved-file-format'])
      expect(run.results).to.have.length(4)
      expect(run.results.map(r => r.properties['airs-scan-uuid'])).to.deep.equal([SCAN_UUID, SCAN_UUID, SCAN_UUID, SCAN2_UUID])
      const last = run.results[3]
      expect(run.tool.driver.rules[last.ruleIndex].id).to.equal('load-time-code-execution-check')
      expect(last.locations[0].physicalLocation.artifactLocation.uri).to.equal('weights/model.pkl')
      expect(run.properties['airs-scans'].map((p: Record<string, string>) => [p['airs-scan-uuid'], p['eval-outcome']])).to.deep.equal([[SCAN_UUID, 'BLOCKED'], [SCAN2_UUID, 'BLOCKED']])
      expect(run.automationDetails.id).to.equal('daystrom/model-security/default-hugging-face+default-local/')
    })

    it('JUnit: a testsuite per scan, the totals summed', () => {
      const doc = parser.parse(buildJunit(BOTH))
      expect(doc.testsuites['@tests']).to.equal('5')
      expect(doc.testsuites['@failures']).to.equal('3')
      expect(doc.testsuites['@errors']).to.equal('1')
      const suites = doc.testsuites.testsuite as Array<Record<string, any>>
      expect(suites.map(x => x['@name'])).to.deep.equal([`AIRS model scan: ${SCAN_BLOCKED.model_uri}`, `AIRS model scan: ${SCAN2.model_uri}`])
      expect(suites[1].testcase[0].failure['#text']).to.contain('weights/model.pkl: posix.system is called')
      expect(suites[1].properties.property.find((p: Record<string, string>) => p['@name'] === 'scan_uuid')['@value']).to.equal(SCAN2_UUID)
      // an errored scan without evaluations still counts once, among the others
      const withError = parser.parse(buildJunit([...BOTH, {scan: SCAN_ERROR, evaluations: [], violations: []}]))
      expect(withError.testsuites['@tests']).to.equal('6')
      expect(withError.testsuites['@errors']).to.equal('2')
    })

    it('markdown: a table of the outcomes, then a section per scan', () => {
      const md = buildMarkdown(BOTH)
      const lines = md.split('\n')
      expect(lines[0]).to.equal('## ⛔ Model scans: 2 scans, worst outcome BLOCKED')
      expect(md).to.contain(`| ⛔ BLOCKED | \`${SCAN2.model_uri}\` | Default LOCAL | \`${SCAN2_UUID}\` |`)
      expect(lines.filter(l => l.startsWith('### '))).to.deep.equal(['### ⛔ Model scan BLOCKED', '### ⛔ Model scan BLOCKED'])
      expect(lines.filter(l => l.startsWith('#### Violations'))).to.deep.equal(['#### Violations (3)', '#### Violations (1)'])
      expect(buildMarkdown([INPUT, {scan: SCAN_ERROR, evaluations: [], violations: []}]).split('\n')[0]).to.equal('## ❌ Model scans: 2 scans, worst outcome ERROR')
      // one scan: unchanged
      expect(buildMarkdown([INPUT])).to.equal(buildMarkdown(INPUT))
    })
  })

  describe('model-security scans report', () => {
    beforeEach(() => {
      useCredentials()
      mockToken()
      resetRequests()
    })

    const mockReport = (scan = SCAN_BLOCKED) => {
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, scan)
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/evaluations`, 200, page('evaluations', EVALUATIONS))
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/rule-violations`, 200, page('violations', VIOLATIONS))
    }

    it('-o sarif prints a valid SARIF log on stdout', async () => {
      mockReport()
      const r = await run(['model-security', 'scans', 'report', SCAN_UUID, '-o', 'sarif'])
      expect(r.exit, r.stderr).to.equal(0)
      const doc = JSON.parse(r.stdout)
      expectValidSarif(doc)
      expect(doc.runs[0].results).to.have.length(3)
      expect(requests.filter(x => x.path.endsWith('/evaluations'))[0].query.get('limit')).to.equal('100')
      expectConforming()
    })

    it('-o junit and -o markdown (the default)', async () => {
      mockReport()
      const j = await run(['model-security', 'scans', 'report', SCAN_UUID, '-o', 'junit'])
      expect(parser.parse(j.stdout).testsuites.testsuite[0].testcase).to.have.length(4)
      mockReport()
      const m = await run(['model-security', 'scans', 'report', SCAN_UUID])
      expect(m.stdout).to.match(/^## ⛔ Model scan BLOCKED/)
    })

    it('--file writes the report; --json prints its data; --fail-on gates', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'report-'))
      mockReport()
      const r = await run(['model-security', 'scans', 'report', SCAN_UUID, '-o', 'sarif', '--file', join(dir, 'airs.sarif'), '--artifact-root', 'models/bert', '--fail-on', 'blocked'])
      expect(r.exit).to.equal(8)
      expect(r.stdout).to.equal('')
      const doc = JSON.parse(readFileSync(join(dir, 'airs.sarif'), 'utf8'))
      expectValidSarif(doc)
      expect(doc.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).to.equal('models/bert/pytorch_model.bin')
      mockReport()
      const j = await run(['model-security', 'scans', 'report', SCAN_UUID, '--json'])
      expect(JSON.parse(j.stdout)).to.deep.equal(INPUT)
    })

    it('-o markdown --file appends to an existing file (a job summary); a file that cannot be written exits 7', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'report-'))
      const summary = join(dir, 'summary.md')
      writeFileSync(summary, '# Build\n\nother steps wrote this\n')
      mockReport()
      const r = await run(['model-security', 'scans', 'report', SCAN_UUID, '-o', 'markdown', '--file', summary])
      expect(r.exit, r.stderr).to.equal(0)
      const text = readFileSync(summary, 'utf8')
      expect(text.startsWith('# Build\n\nother steps wrote this\n\n## ⛔ Model scan BLOCKED\n')).to.equal(true)
      expect(r.stderr).to.contain(`Appended the markdown report of scan ${SCAN_UUID}`)
      mockReport()
      const bad = await run(['model-security', 'scans', 'report', SCAN_UUID, '-o', 'sarif', '--file', join(summary, 'x.sarif'), '--json'])
      expect(bad.exit).to.equal(7)
      const err = jsonError(bad.stderr)
      expect(err.code).to.equal('E_REPORT_WRITE')
      expect(err.message).to.contain(`--file ${join(summary, 'x.sarif')}: ENOTDIR`)
    })

    it('rejects a bad scan UUID, format or absolute --artifact-root (exit 2, nothing sent)', async () => {
      expect((await run(['model-security', 'scans', 'report', 'nope', '-o', 'sarif'])).exit).to.equal(2)
      expect((await run(['model-security', 'scans', 'report', SCAN_UUID, '-o', 'html'])).exit).to.equal(2)
      expect((await run(['model-security', 'scans', 'report', SCAN_UUID, '--artifact-root', '/abs/path'])).exit).to.equal(2)
      expect(requests).to.have.length(0)
    })
  })
})
