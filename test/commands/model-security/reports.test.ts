import {Ajv} from 'ajv'
import addFormatsModule from 'ajv-formats'
import {expect} from 'chai'
import {XMLParser} from 'fast-xml-parser'
import {mkdtempSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import * as reports from '../../../src/lib/command/reports.js'
import {artifactUri, type ReportInput, type ReportOptions, ruleSlug, sarifLevel} from '../../../src/lib/command/reports.js'
import {expectConforming, mockApi, mockToken, requests, resetRequests, ROOT, run, useCredentials} from '../../helpers/api.js'
import {EVAL_ERROR, EVAL_FORMAT, EVAL_LICENSE, EVALUATIONS, page, SCAN_ALLOWED, SCAN_BLOCKED, SCAN_ERROR, SCAN_UUID, VIOLATION_ONNX, VIOLATION_PICKLE, VIOLATIONS} from '../../fixtures/data.js'

// Two schemas: the official SARIF 2.1.0 (rtm.5) JSON Schema as shipped in @microsoft/jest-sarif (a draft-04 document:
// its $schema/id are dropped and one of its patterns needs non-unicode regexps to compile under ajv 8), and our own
// stricter subset (test/fixtures/sarif-2.1.0.schema.json: no unknown properties where we emit them, relative URIs).
const require = createRequire(import.meta.url)
const {$schema: _draft, id: _id, ...official} = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json') as Record<string, unknown>
const subset = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'sarif-2.1.0.schema.json'), 'utf8'))
const ajv = new Ajv({allErrors: true, strict: false, unicodeRegExp: false})
;((addFormatsModule as unknown as {default?: (a: Ajv) => void}).default ?? (addFormatsModule as unknown as (a: Ajv) => void))(ajv)
const validateOfficial = ajv.compile(official)
const validateSubset = ajv.compile(subset)

function expectValidSarif(doc: unknown): void {
  expect(validateOfficial(doc), `official SARIF 2.1.0 schema: ${JSON.stringify(validateOfficial.errors, null, 2)}`).to.equal(true)
  expect(validateSubset(doc), `strict subset: ${JSON.stringify(validateSubset.errors, null, 2)}`).to.equal(true)
}

// The fixtures are plain objects (string enums): the report builders take them as the wire types.
const buildSarif = (i: unknown, o: ReportOptions) => reports.buildSarif(i as ReportInput, o)
const buildJunit = (i: unknown) => reports.buildJunit(i as ReportInput)
const buildMarkdown = (i: unknown) => reports.buildMarkdown(i as ReportInput)

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

    it('rejects a bad scan UUID, format or absolute --artifact-root (exit 2, nothing sent)', async () => {
      expect((await run(['model-security', 'scans', 'report', 'nope', '-o', 'sarif'])).exit).to.equal(2)
      expect((await run(['model-security', 'scans', 'report', SCAN_UUID, '-o', 'html'])).exit).to.equal(2)
      expect((await run(['model-security', 'scans', 'report', SCAN_UUID, '--artifact-root', '/abs/path'])).exit).to.equal(2)
      expect(requests).to.have.length(0)
    })
  })
})
