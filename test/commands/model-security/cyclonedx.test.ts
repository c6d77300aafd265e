import {Ajv} from 'ajv'
import addFormatsModule from 'ajv-formats'
import {expect} from 'chai'
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import type {ScanDetails} from '../../../src/lib/airs/types.js'
import {bomSerialNumber, buildCycloneDx, cdxSeverity, type CycloneDxBom, type CycloneDxInput, isoTimestamp, modelLocationUrl, uuidV5, vulnerabilityId} from '../../../src/lib/command/cyclonedx.js'
import {apiRequests, expectConforming, mockApi, mockToken, requests, resetRequests, ROOT, run, useCredentials} from '../../helpers/api.js'
import {cli, e2eSandbox} from '../../helpers/cli.js'
import {
  EVAL_FORMAT, EVALUATIONS, FILE_CONFIG, FILE_ONNX, FILE_ONNX_DIR, FILE_PICKLE, MODEL, MODEL_VERSION, page, SCAN2_ALLOWED,
  SCAN2_ERROR, SCAN2_UUID, SCAN_ALLOWED, SCAN_BLOCKED, SCAN_ERROR, SCAN_PENDING, SCAN_UUID, VERSION_UUID, VIOLATION_LICENSE, VIOLATION_ONNX,
  VIOLATION_PICKLE, VIOLATIONS,
} from '../../fixtures/data.js'

// The official CycloneDX 1.6 JSON Schema as shipped in @cyclonedx/cyclonedx-library (res/schema). Loading it into ajv:
// - the SPDX licence list and JSF signature schemas it $refs ship beside it, but their own $id differ from the file names
//   the library renamed them to ("spdx.schema.json" vs the $ref "spdx.SNAPSHOT.schema.json"): they are added under
//   the URIs the $refs resolve to (relative to the BOM schema's $id);
// - strict: false, because the schema uses the annotation keyword "meta:enum" and puts "required" lists in oneOf
//   branches that declare no properties, which ajv's strict mode refuses (schema-authoring lints, not validation);
// - formats: ajv-formats has no "iri-reference" or "idn-email", and ajv would silently ignore unknown formats, so both
//   are registered: an IRI reference is checked as RFC 3987 maps it to a URI (non-ASCII characters percent-encoded,
//   then ajv-formats' RFC 3986 "uri-reference"); an IDN email as local@domain (we emit none).
const require = createRequire(import.meta.url)
const SCHEMA_DIR = join(dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema')
const schema = (f: string) => JSON.parse(readFileSync(join(SCHEMA_DIR, f), 'utf8')) as Record<string, unknown>
const ajv = new Ajv({allErrors: true, strict: false})
;((addFormatsModule as unknown as {default?: (a: Ajv) => void}).default ?? (addFormatsModule as unknown as (a: Ajv) => void))(ajv)
const uriReference = ajv.compile({type: 'string', format: 'uri-reference'})
ajv.addFormat('iri-reference', (s: string) => uriReference(s.replaceAll(/[\u0080-\u{10FFFF}]/gu, c => encodeURIComponent(c))))
ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u)
ajv.addSchema(schema('spdx.SNAPSHOT.schema.json'), 'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json')
ajv.addSchema(schema('jsf-0.82.SNAPSHOT.schema.json'), 'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json')
const validateBom = ajv.compile(schema('bom-1.6.SNAPSHOT.schema.json'))

type Bom = CycloneDxBom
type Props = Array<{name: string; value: string}> | undefined

/** Schema-valid, and what the schema cannot say: bom-refs unique, every reference resolves to one. */
function expectValidBom(doc: unknown): asserts doc is Bom {
  expect(validateBom(doc), `CycloneDX 1.6 schema: ${JSON.stringify(validateBom.errors, null, 2)}`).to.equal(true)
  const bom = doc as Bom
  const refs = [bom.metadata.component, ...bom.components].map(c => c['bom-ref'])
  expect(new Set(refs).size, 'unique component bom-refs').to.equal(refs.length)
  const vulnRefs = bom.vulnerabilities.map(v => v['bom-ref'])
  expect(new Set([...refs, ...vulnRefs]).size, 'unique bom-refs').to.equal(refs.length + vulnRefs.length)
  for (const d of bom.dependencies) for (const r of [d.ref, ...(d.dependsOn ?? [])]) expect(refs, `dependency ref ${r}`).to.include(r)
  for (const v of bom.vulnerabilities) for (const a of v.affects) expect(refs, `affects ${a.ref}`).to.include(a.ref)
}

const prop = (props: Props, name: string) => props?.filter(p => p.name === name).map(p => p.value) ?? []
const one = (props: Props, name: string) => {
  const values = prop(props, name)
  expect(values, name).to.have.length(1)
  return values[0]
}
const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

// Files whose blob ids are SHA-256 digests (as the local scanner and the sandbox record them).
const F_CONFIG = {...FILE_CONFIG, blob_id: sha('config.json')}
const F_PICKLE = {...FILE_PICKLE, blob_id: sha('pytorch_model.bin')}
const F_ONNX = {...FILE_ONNX, blob_id: sha('decoder')}
const FILES = [F_CONFIG, FILE_ONNX_DIR, F_PICKLE, F_ONNX]

const build = (inputs: unknown[], toolVersion = '0.1.0') => buildCycloneDx(inputs as CycloneDxInput[], {toolVersion})
const BLOCKED = {scan: SCAN_BLOCKED, evaluations: EVALUATIONS, violations: VIOLATIONS, files: FILES, modelVersion: MODEL_VERSION, model: MODEL}
const CLEAN = {scan: SCAN_ALLOWED, evaluations: [{...EVAL_FORMAT, result: 'PASSED', violation_count: 0}], violations: [], files: FILES}
const ERRORED = {scan: SCAN_ERROR, evaluations: [], violations: [], files: []}

describe('CycloneDX ML-BOM', () => {
  describe('the validator', () => {
    it('rejects what the CycloneDX 1.6 schema forbids (it is not vacuous)', () => {
      const good = build([BLOCKED])
      expectValidBom(good)
      const mutate = (f: (b: Bom) => void) => {
        const b = JSON.parse(JSON.stringify(good)) as Bom
        f(b)
        return validateBom(b)
      }
      expect(mutate(b => { b.vulnerabilities[0].ratings[0].severity = 'severe' as 'high' })).to.equal(false)
      expect(mutate(b => { b.components[0].hashes = [{alg: 'SHA-256', content: 'abc'}] })).to.equal(false)
      expect(mutate(b => { b.serialNumber = 'urn:uuid:nope' })).to.equal(false)
      expect(mutate(b => { b.metadata.component.externalReferences![0].url = 'not a url' })).to.equal(false)
      expect(mutate(b => { b.metadata.component.licenses = [{license: {id: 'Not-A-Licence'}} as never] })).to.equal(false)
      expect(mutate(b => { b.metadata.timestamp = '2026-03-03 22:32' })).to.equal(false)
      expect(mutate(b => { (b.components[0] as unknown as Record<string, unknown>).kind = 'file' })).to.equal(false)
    })
  })

  describe('buildCycloneDx', () => {
    it('a blocked scan: the model, its files with SHA-256, the scan facts, one vulnerability per violation', () => {
      const bom = build([BLOCKED])
      expectValidBom(bom)
      expect(bom).to.include({bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json'})
      expect(bom.metadata.timestamp).to.equal(SCAN_BLOCKED.updated_at)
      expect(bom.metadata.tools.components).to.deep.equal([{type: 'application', name: 'daystrom', version: '0.1.0', description: 'CLI for Prisma AIRS AI Model Security'}])
      expect(bom.metadata.tools.services[0]).to.include({name: 'Prisma AIRS AI Model Security'})

      const model = bom.metadata.component
      expect(model).to.include({type: 'machine-learning-model', 'bom-ref': `model:${SCAN_UUID}`, group: 'microsoft', name: 'DialoGPT-medium', version: 'main'})
      expect(model.purl).to.equal(`pkg:huggingface/microsoft/DialoGPT-medium@${MODEL_VERSION.hf_commit_sha}`)
      expect(model.licenses).to.deep.equal([{license: {name: 'mit', acknowledgement: 'declared'}}])
      expect(model.externalReferences).to.deep.equal([{type: 'distribution', url: SCAN_BLOCKED.model_uri, comment: 'The model location AIRS scanned (model_uri)'}])
      expect(model.description).to.contain('BLOCKED (1 of 11 rules failed)')
      const p = model.properties
      expect(one(p, 'daystrom:scan:uuid')).to.equal(SCAN_UUID)
      expect(one(p, 'daystrom:scan:outcome')).to.equal('BLOCKED')
      expect(one(p, 'daystrom:scan:security-group:name')).to.equal(SCAN_BLOCKED.security_group_name)
      expect(one(p, 'daystrom:scan:security-group:uuid')).to.equal(SCAN_BLOCKED.security_group_uuid)
      expect(one(p, 'daystrom:scan:source-type')).to.equal('HUGGING_FACE')
      expect(one(p, 'daystrom:scan:model-version-uuid')).to.equal(VERSION_UUID)
      expect(one(p, 'daystrom:scan:label:env')).to.equal('ci')
      expect(one(p, 'daystrom:rule:stored-in-approved-file-format:result')).to.equal('FAILED')
      expect(one(p, 'daystrom:rule:organization-verified-by-hugging-face:result')).to.equal('ERROR')
      expect(prop(p, 'daystrom:scan:model-format')).to.deep.equal([...SCAN_BLOCKED.model_formats].sort())
      expect(prop(p, 'daystrom:scan:error-code')).to.deep.equal([])
      expect(p![0].name, 'the scan UUID leads').to.equal('daystrom:scan:uuid')

      // files: no directories, sorted by path, hashes equal to the scan's files, formats as properties
      expect(bom.components.map(c => [c.type, c.name])).to.deep.equal([['file', 'config.json'], ['file', 'onnx/decoder model.onnx'], ['file', 'pytorch_model.bin']])
      for (const f of [F_CONFIG, F_ONNX, F_PICKLE]) {
        const c = bom.components.find(x => x.name === f.path)!
        expect(c.hashes).to.deep.equal([{alg: 'SHA-256', content: f.blob_id}])
        expect(prop(c.properties, 'daystrom:file:format')).to.deep.equal(f.formats)
        expect(one(c.properties, 'daystrom:file:result')).to.equal(f.result)
        expect(prop(c.properties, 'daystrom:file:blob-id'), 'a blob id equal to the hash is not repeated').to.deep.equal([])
      }
      expect(bom.dependencies[0]).to.deep.equal({ref: model['bom-ref'], dependsOn: bom.components.map(c => c['bom-ref'])})
      expect(bom.dependencies.slice(1)).to.deep.equal(bom.components.map(c => ({ref: c['bom-ref']})))

      // vulnerabilities: id = threat code, or a stable rule id; affects the file, or the model for a metadata rule
      const byUuid = (u: string) => bom.vulnerabilities.find(v => one(v.properties, 'daystrom:violation:uuid') === u)!
      const onnx = byUuid(VIOLATION_ONNX.uuid)
      expect(onnx).to.include({id: 'PAIT-ONNX-200', 'bom-ref': `violation:${VIOLATION_ONNX.uuid}`})
      expect(onnx.source).to.deep.equal({name: 'Prisma AIRS AI Model Security', url: VIOLATION_ONNX.threat_kb_url})
      expect(onnx.ratings).to.deep.equal([{source: {name: 'Prisma AIRS AI Model Security'}, severity: 'critical', method: 'other',
        justification: 'BLOCKING rule "Stored In Approved File Format" in security group "Default HUGGING_FACE", malicious code'}])
      expect(onnx.cwes).to.deep.equal([506])
      expect(onnx.affects).to.deep.equal([{ref: `file:${SCAN_UUID}:onnx/decoder model.onnx`}])
      expect(onnx.description).to.equal('Model file onnx/decoder model.onnx is stored in an unapproved format: onnx')
      expect(onnx.detail).to.contain('Module: builtins. Operator: exec.')
      expect(onnx.recommendation).to.equal('1. Re-export the weights as safetensors\n2. Re-run the scan')
      expect(onnx.advisories).to.deep.equal([
        {title: 'Remediation: Stored In Approved File Format', url: VIOLATION_ONNX.remediation.url},
        {title: 'PAIT-ONNX-200: Architectural backdoor in an ONNX graph', url: VIOLATION_ONNX.threat_kb_url},
      ])
      expect(onnx.analysis).to.include({state: 'in_triage', firstIssued: VIOLATION_ONNX.created_at})
      expect(onnx.analysis.detail).to.contain('blocks the model')
      const pickle = byUuid(VIOLATION_PICKLE.uuid)
      expect(pickle.id).to.equal('UNAPPROVED_FORMATS')
      expect(pickle.ratings[0].severity).to.equal('high')
      expect(pickle.cwes).to.equal(undefined)
      expect(pickle.affects).to.deep.equal([{ref: `file:${SCAN_UUID}:pytorch_model.bin`}])
      const licence = byUuid(VIOLATION_LICENSE.uuid)
      expect(licence.id).to.equal('AIRS-RULE-LICENSE-EXISTS')
      expect(licence.ratings[0].severity).to.equal('low')
      expect(licence.source).to.deep.equal({name: 'Prisma AIRS AI Model Security'})
      expect(licence.affects).to.deep.equal([{ref: model['bom-ref']}])
      expect(licence.analysis.detail).to.contain('does not block the model')
      expect(one(licence.properties, 'daystrom:rule:state')).to.equal('ALLOWING')
    })

    it('a clean scan: files, no vulnerabilities, the model depends on its files', () => {
      const bom = build([CLEAN])
      expectValidBom(bom)
      expect(bom.vulnerabilities).to.deep.equal([])
      expect(bom.components).to.have.length(3)
      expect(one(bom.metadata.component.properties, 'daystrom:scan:outcome')).to.equal('ALLOWED')
      expect(bom.metadata.component.version, 'no model version fetched: no version').to.equal(undefined)
      expect(bom.metadata.component.purl).to.equal('pkg:huggingface/microsoft/DialoGPT-medium')
    })

    it('an errored scan without files: a valid BOM with the error as properties, its files left out of the graph', () => {
      const bom = build([ERRORED])
      expectValidBom(bom)
      const p = bom.metadata.component.properties
      expect(one(p, 'daystrom:scan:outcome')).to.equal('ERROR')
      expect(one(p, 'daystrom:scan:error-code')).to.equal('ACCESS_DENIED')
      expect(one(p, 'daystrom:scan:error-message')).to.equal(SCAN_ERROR.error_message)
      expect(bom.metadata.component.description).to.contain('ERROR (ACCESS_DENIED: The model repository is gated: access denied)')
      expect(bom.components).to.deep.equal([])
      expect(bom.vulnerabilities).to.deep.equal([])
      expect(bom.dependencies, 'unknown files are not "no files"').to.deep.equal([])
      // an errored LOCAL scan with a few files and a timestamp without zone (read as UTC)
      const local = build([{scan: {...SCAN2_ERROR, updated_at: '2026-03-04T10:00:00.123456'}, evaluations: [], violations: [], files: [{...F_CONFIG, scan_uuid: SCAN2_UUID}]}])
      expectValidBom(local)
      expect(local.metadata.timestamp).to.equal('2026-03-04T10:00:00.123456Z')
      expect(local.metadata.component).to.include({name: 'bert'})
      expect(local.metadata.component.externalReferences![0].url).to.equal('file:///home/ci/work/models/bert')
      expect(local.components.map(c => c.name)).to.deep.equal(['config.json'])
    })

    it('a pending scan, an unparseable timestamp and odd paths still give a valid BOM', () => {
      const bom = build([{scan: {...SCAN_PENDING, updated_at: 'yesterday', created_at: 'yesterday', model_uri: '/srv/models/my model é'}, evaluations: [], violations: [],
        files: [{...F_CONFIG, path: '/config.json'}, {...F_PICKLE, path: 'model_q4.onnx', parent_path: '/onnx/quantized'}]}])
      expectValidBom(bom)
      expect(bom.metadata.timestamp).to.equal(undefined)
      expect(bom.components.map(c => c.name)).to.deep.equal(['config.json', 'onnx/quantized/model_q4.onnx'])
      expect(bom.metadata.component.externalReferences![0].url).to.equal('file:///srv/models/my%20model%20%C3%A9')
    })

    describe('hashes equal to the scan\'s files', () => {
      it('takes a 64-hex sha256 or blob id; a Git blob id (40 hex) is kept as a property only', () => {
        const gitBlob = 'e7370ae9c1d2e7370ae9c1d2e7370ae9c1d2e7ab'
        const bom = build([{...CLEAN, files: [{...F_CONFIG, blob_id: gitBlob, sha256: sha('x'), size_bytes: 1234}, {...F_PICKLE, blob_id: gitBlob}]}])
        expectValidBom(bom)
        const [config, pickle] = bom.components
        expect(config.hashes).to.deep.equal([{alg: 'SHA-256', content: sha('x')}])
        expect(one(config.properties, 'daystrom:file:size')).to.equal('1234')
        expect(one(config.properties, 'daystrom:file:blob-id')).to.equal(gitBlob)
        expect(pickle.hashes).to.equal(undefined)
        expect(one(pickle.properties, 'daystrom:file:blob-id')).to.equal(gitBlob)
      })

      it('takes exact SHA-256 and size from local scan_details, and adds files only a violation names', () => {
        const details: ScanDetails = {scanner_version: 'daystrom-1', time_started: '2026-03-03T22:32:12Z', total_files_scanned: 2, total_files_skipped: 0,
          model_formats: ['json'], model_size_bytes: 30, scan_duration_ms: 5, files: [
            {file_path: 'config.json', modelscan_status: 'SCANNED', blob_id: sha('c'), sha256: sha('c'), size_bytes: 10, formats: ['json']},
            {file_path: './extra\\weights.bin', modelscan_status: 'ERROR', blob_id: '', sha256: null, size_bytes: 20, error_message: 'truncated'},
          ]}
        const HASHED = '5f'.repeat(32)
        const bom = build([{scan: SCAN_BLOCKED, evaluations: [], files: [{...F_CONFIG, blob_id: null}], details,
          violations: [{...VIOLATION_PICKLE, file: 'pytorch_model.bin', hash: HASHED.toUpperCase()}]}])
        expectValidBom(bom)
        expect(bom.components.map(c => c.name)).to.deep.equal(['config.json', 'extra/weights.bin', 'pytorch_model.bin'])
        const [config, extra, pickle] = bom.components
        expect(config.hashes).to.deep.equal([{alg: 'SHA-256', content: sha('c')}])
        expect(one(config.properties, 'daystrom:file:size')).to.equal('10')
        expect(one(config.properties, 'daystrom:file:scan-status')).to.equal('SCANNED')
        expect(extra.hashes).to.equal(undefined)
        expect(one(extra.properties, 'daystrom:file:error')).to.equal('truncated')
        expect(one(extra.properties, 'daystrom:file:listed')).to.equal('false')
        expect(pickle.hashes).to.deep.equal([{alg: 'SHA-256', content: HASHED}])
        expect(bom.vulnerabilities[0].affects).to.deep.equal([{ref: pickle['bom-ref']}])
      })
    })

    it('several scans: a set component, each model a component with its files, refs kept apart', () => {
      const second = {scan: SCAN2_ALLOWED, evaluations: [], violations: [], files: [{...F_CONFIG, scan_uuid: SCAN2_UUID}]}
      const bom = build([BLOCKED, second, BLOCKED])
      expectValidBom(bom)
      expect(bom.metadata.component).to.include({type: 'application', name: 'AIRS model scans'})
      expect(bom.metadata.component.description).to.equal('2 models scanned by Prisma AIRS AI Model Security: 1 ALLOWED, 1 BLOCKED')
      expect(prop(bom.metadata.component.properties, 'daystrom:scan:uuid')).to.deep.equal([SCAN_UUID, SCAN2_UUID])
      const models = bom.components.filter(c => c.type === 'machine-learning-model')
      expect(models.map(m => m.name)).to.deep.equal(['DialoGPT-medium', 'bert'])
      expect(bom.components.filter(c => c.name === 'config.json').map(c => c['bom-ref'])).to.deep.equal([`file:${SCAN_UUID}:config.json`, `file:${SCAN2_UUID}:config.json`])
      expect(bom.dependencies[0]).to.deep.equal({ref: bom.metadata.component['bom-ref'], dependsOn: models.map(m => m['bom-ref'])})
      expect(bom.dependencies.find(d => d.ref === `model:${SCAN2_UUID}`)).to.deep.equal({ref: `model:${SCAN2_UUID}`, dependsOn: [`file:${SCAN2_UUID}:config.json`]})
      expect(bom.vulnerabilities).to.have.length(3)
      expect(bom.metadata.timestamp).to.equal(SCAN_BLOCKED.updated_at)
      expect(bom.serialNumber).to.equal(bomSerialNumber([SCAN2_UUID, SCAN_UUID]))
      expect(JSON.stringify(build([second, BLOCKED])), 'argument order does not matter').to.equal(JSON.stringify(bom))
      expect(() => build([])).to.throw(/at least one scan/)
    })

    describe('determinism', () => {
      it('two builds are byte-identical, whatever order the service listed things in', () => {
        const a = JSON.stringify(build([BLOCKED]), null, 2)
        expect(JSON.stringify(build([BLOCKED]), null, 2)).to.equal(a)
        const shuffled = {...BLOCKED, files: [...FILES].reverse(), violations: [...VIOLATIONS].reverse(), evaluations: [...EVALUATIONS].reverse(),
          scan: {...SCAN_BLOCKED, labels: [...SCAN_BLOCKED.labels].reverse(), model_formats: [...SCAN_BLOCKED.model_formats].reverse()}}
        expect(JSON.stringify(build([shuffled]), null, 2)).to.equal(a)
        expect(JSON.stringify(build([BLOCKED], '9.9.9'))).to.not.equal(JSON.stringify(build([BLOCKED])))
      })

      it('the serial number is a v5 UUID of the scan UUIDs (RFC 4122 name-based, documented derivation)', () => {
        // RFC 4122 v5 reference value (Python: uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org'))
        expect(uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).to.equal('886313e1-3b8a-5372-9b90-0c9aee199e5d')
        const serial = build([BLOCKED]).serialNumber
        expect(serial).to.equal(`urn:uuid:${uuidV5(`urn:daystrom:cyclonedx:scans:${SCAN_UUID}`, '6ba7b811-9dad-11d1-80b4-00c04fd430c8')}`)
        expect(serial).to.match(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        expect(build([{...CLEAN, scan: SCAN2_ALLOWED}]).serialNumber).to.not.equal(serial)
        expect(bomSerialNumber([SCAN_UUID.toUpperCase()])).to.equal(serial)
      })
    })

    it('severity: BLOCKING -> critical (malicious code) or high; ALLOWING -> medium (threat) or low (policy)', () => {
      expect(cdxSeverity('BLOCKING', 'PAIT-PKL-100')).to.equal('critical')
      expect(cdxSeverity('BLOCKING', 'PAIT-PKL-101')).to.equal('high')
      expect(cdxSeverity('BLOCKING', 'UNAPPROVED_FORMATS')).to.equal('high')
      expect(cdxSeverity('BLOCKING', null)).to.equal('high')
      expect(cdxSeverity('ALLOWING', 'PAIT-PKL-100')).to.equal('medium')
      expect(cdxSeverity('ALLOWING', 'PAIT-NEW-999')).to.equal('medium')
      expect(cdxSeverity('ALLOWING', 'UNAPPROVED_FORMATS')).to.equal('low')
      expect(cdxSeverity('ALLOWING', null)).to.equal('low')
      expect(cdxSeverity('DISABLED', 'PAIT-PKL-100')).to.equal('unknown')
      expect(vulnerabilityId({threat: null, rule_name: 'Organization Is Blocked'})).to.equal('AIRS-RULE-ORGANIZATION-IS-BLOCKED')
      expect(vulnerabilityId({threat: 'PAIT-PKL-100', rule_name: 'Load Time Code Execution Check'})).to.equal('PAIT-PKL-100')
    })

    it('timestamps and model locations', () => {
      expect(isoTimestamp('2026-03-03T22:32:12.462904Z')).to.equal('2026-03-03T22:32:12.462904Z')
      expect(isoTimestamp('2026-03-03T22:32:12+02:00')).to.equal('2026-03-03T22:32:12+02:00')
      expect(isoTimestamp('2026-03-03 22:32:12')).to.equal('2026-03-03T22:32:12Z')
      expect(isoTimestamp('2026-13-45T99:00:00Z')).to.equal(undefined)
      expect(isoTimestamp('2026-02-29T00:00:00Z'), 'no such day').to.equal(undefined)
      expect(isoTimestamp('2028-02-29T00:00:00Z')).to.equal('2028-02-29T00:00:00Z')
      expect(isoTimestamp(null)).to.equal(undefined)
      expect(modelLocationUrl('s3://bucket/models/bert')).to.equal('s3://bucket/models/bert')
      expect(modelLocationUrl('huggingface.co/org/model')).to.equal('https://huggingface.co/org/model')
      expect(modelLocationUrl('C:\\models\\my bert')).to.equal('file:///C:/models/my%20bert')
      expect(modelLocationUrl('models/bert'), 'relative: no base to resolve against').to.equal(undefined)
    })
  })

  describe('model-security scans report -o cyclonedx', () => {
    beforeEach(() => {
      useCredentials()
      mockToken()
      resetRequests()
    })

    // 150 files at the root (two pages of the files listing) and one directory with a file in it
    const ROOT_FILES = Array.from({length: 150}, (_, i) => ({...F_CONFIG, uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      path: `shard-${String(i).padStart(3, '0')}.safetensors`, blob_id: sha(`shard ${i}`), formats: ['safetensors']}))
    const ENTRIES = [{...FILE_ONNX_DIR}, ...ROOT_FILES]
    const mockScan = (scan: Record<string, unknown> = SCAN_BLOCKED, withModel = true) => {
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, scan)
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/evaluations`, 200, page('evaluations', EVALUATIONS))
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/rule-violations`, 200, page('violations', VIOLATIONS))
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 200, page('files', ENTRIES.slice(0, 100), ENTRIES.length))
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 200, page('files', ENTRIES.slice(100), ENTRIES.length))
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 200, page('files', [F_ONNX]))
      if (withModel) {
        mockApi('data', 'GET', `/v1/model-versions/${VERSION_UUID}`, 200, MODEL_VERSION)
        mockApi('data', 'GET', `/v1/models/${MODEL.uuid}`, 200, MODEL)
      }
    }

    it('walks every page of every directory, fetches the model version, prints a valid BOM; a second fetch gives the same bytes', async () => {
      mockScan()
      const r = await run(['model-security', 'scans', 'report', SCAN_UUID, '-o', 'cyclonedx'])
      expect(r.exit, r.stderr).to.equal(0)
      const bom = JSON.parse(r.stdout) as Bom
      expectValidBom(bom)
      expect(bom.components, '150 shards, the nested onnx file, and pytorch_model.bin that only a violation names').to.have.length(152)
      expect(one(bom.components.find(c => c.name === 'pytorch_model.bin')!.properties, 'daystrom:file:listed')).to.equal('false')
      expect(bom.components.find(c => c.name === 'onnx/decoder model.onnx')!.hashes).to.deep.equal([{alg: 'SHA-256', content: F_ONNX.blob_id}])
      expect(bom.components.find(c => c.name === 'shard-149.safetensors')!.hashes).to.deep.equal([{alg: 'SHA-256', content: sha('shard 149')}])
      expect(bom.metadata.component).to.include({version: 'main', name: 'DialoGPT-medium'})
      expect(bom.metadata.tools.components[0]).to.include({name: 'daystrom', version: (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {version: string}).version})
      expect(bom.vulnerabilities.map(v => v.id)).to.have.members(['PAIT-ONNX-200', 'UNAPPROVED_FORMATS', 'AIRS-RULE-LICENSE-EXISTS'])
      const files = apiRequests().filter(x => x.path.endsWith('/files'))
      expect(files.map(x => Object.fromEntries(x.query))).to.deep.equal([
        {skip: '0', limit: '100'}, {skip: '100', limit: '100'}, {skip: '0', limit: '100', query_path: '/onnx'}])
      expect(apiRequests().map(x => x.path)).to.include.members([`/v1/model-versions/${VERSION_UUID}`, `/v1/models/${MODEL.uuid}`])
      expectConforming()

      resetRequests()
      mockToken()
      mockScan()
      const again = await run(['model-security', 'scans', 'report', SCAN_UUID, '-o', 'cyclonedx'])
      expect(again.stdout).to.equal(r.stdout)
    })

    it('--file writes the BOM; a model version the service no longer has leaves the version out; --fail-on still gates', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cdx-'))
      mockScan(SCAN_BLOCKED, false)
      mockApi('data', 'GET', `/v1/model-versions/${VERSION_UUID}`, 404, {detail: 'Model version not found'})
      const r = await run(['model-security', 'scans', 'report', SCAN_UUID, '-o', 'cyclonedx', '--file', join(dir, 'model.cdx.json'), '--fail-on', 'blocked'])
      expect(r.exit, r.stderr).to.equal(8)
      expect(r.stdout).to.equal('')
      expect(r.stderr).to.contain(`Wrote the cyclonedx report of scan ${SCAN_UUID}`)
      const bom = JSON.parse(readFileSync(join(dir, 'model.cdx.json'), 'utf8')) as Bom
      expectValidBom(bom)
      expect(bom.metadata.component.version).to.equal(undefined)
      expect(bom.metadata.component.name).to.equal('DialoGPT-medium')
      expect(apiRequests().some(x => x.path.startsWith('/v1/models/')), 'no model fetch without a version').to.equal(false)
      expectConforming()
      rmSync(dir, {recursive: true, force: true})
    })

    it('a pending scan: a partial BOM with a warning, and no model version request', async () => {
      mockScan(SCAN_PENDING, false)
      const r = await run(['model-security', 'scans', 'report', SCAN_UUID, '-o', 'cyclonedx'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stderr).to.contain('still PENDING')
      expectValidBom(JSON.parse(r.stdout))
      expect(apiRequests().some(x => x.path.startsWith('/v1/model-versions/'))).to.equal(false)
    })

    it('a server error while listing files fails the command with the request\'s exit code, no partial BOM', async () => {
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}`, 200, SCAN_BLOCKED)
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/evaluations`, 200, page('evaluations', EVALUATIONS))
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/rule-violations`, 200, page('violations', VIOLATIONS))
      mockApi('data', 'GET', `/v1/scans/${SCAN_UUID}/files`, 404, {detail: 'Scan not found'})
      mockApi('data', 'GET', `/v1/model-versions/${VERSION_UUID}`, 200, MODEL_VERSION)
      mockApi('data', 'GET', `/v1/models/${MODEL.uuid}`, 200, MODEL)
      const r = await run(['model-security', 'scans', 'report', SCAN_UUID, '-o', 'cyclonedx'])
      expect(r.exit).to.equal(4)
      expect(r.stdout).to.equal('')
    })

    it('rejects a bad scan UUID before any request', async () => {
      expect((await run(['model-security', 'scans', 'report', 'nope', '-o', 'cyclonedx'])).exit).to.equal(2)
      expect(requests).to.have.length(0)
    })
  })

  describe('end to end on the sandbox (bin/run.js --sandbox)', function () {
    this.timeout(180_000)
    const sbx = e2eSandbox('daystrom-cdx-e2e-')

    it('a LOCAL scan of a generated malicious model, then scans report -o cyclonedx: valid, hashes of the real files, the threat on its file', async () => {
      const model = join(sbx.dir, 'model')
      mkdirSync(join(model, 'weights'), {recursive: true})
      const contents: Record<string, Buffer> = {
        'config.json': Buffer.from('{"model_type": "demo"}'),
        'weights/model.pkl': Buffer.from("cos\nsystem\n(S'echo pwned'\ntR.", 'latin1'),
      }
      for (const [path, bytes] of Object.entries(contents)) writeFileSync(join(model, path), bytes)
      const scanRun = await cli(['model-security', 'scans', 'create', '--model-path', model, '--group', 'Default LOCAL', '--wait', '--interval', '1s', '--json', '--sandbox'], sbx.env)
      expect(scanRun.code, scanRun.stderr).to.equal(8)
      const scan = JSON.parse(scanRun.stdout) as {uuid: string; eval_outcome: string}
      expect(scan.eval_outcome).to.equal('BLOCKED')

      const report = await cli(['model-security', 'scans', 'report', scan.uuid, '-o', 'cyclonedx', '--sandbox'], sbx.env)
      expect(report.code, report.stderr).to.equal(0)
      const bom = JSON.parse(report.stdout) as Bom
      expectValidBom(bom)
      expect(bom.metadata.component).to.include({type: 'machine-learning-model', name: 'model'})
      expect(bom.metadata.component.version, 'the model version revision').to.be.a('string')
      expect(one(bom.metadata.component.properties, 'daystrom:scan:uuid')).to.equal(scan.uuid)
      expect(one(bom.metadata.component.properties, 'daystrom:scan:source-type')).to.equal('LOCAL')
      expect(bom.metadata.component.externalReferences![0].url).to.match(/^file:\/\/\/.*\/model$/)
      expect(bom.components.map(c => c.name)).to.deep.equal(Object.keys(contents).sort())
      for (const c of bom.components) expect(c.hashes, c.name).to.deep.equal([{alg: 'SHA-256', content: createHash('sha256').update(contents[c.name]).digest('hex')}])
      const pickle = bom.components.find(c => c.name === 'weights/model.pkl')!
      const threats = bom.vulnerabilities.filter(v => /^PAIT-PKL-\d+$/.test(v.id))
      expect(threats.length).to.be.greaterThan(0)
      for (const t of threats) {
        expect(t.affects).to.deep.equal([{ref: pickle['bom-ref']}])
        expect(t.cwes).to.deep.equal([502])
      }
      expect(threats.some(t => t.ratings[0].severity === 'critical')).to.equal(true)

      const again = await cli(['model-security', 'scans', 'report', scan.uuid, '-o', 'cyclonedx', '--sandbox'], sbx.env)
      expect(again.stdout, 'a second fetch of the same scan gives the same bytes').to.equal(report.stdout)
    })

    it('the gate writes it too: scans create --wait --report cyclonedx=PATH, with exact sizes from the local scan', async () => {
      const model = join(sbx.dir, 'model-gate')
      mkdirSync(model, {recursive: true})
      const contents: Record<string, Buffer> = {
        'config.json': Buffer.from('{"model_type": "demo", "hidden_size": 8}'),
        'model.pkl': Buffer.from("cposix\nsystem\n(S'id'\ntR.", 'latin1'),
      }
      for (const [path, bytes] of Object.entries(contents)) writeFileSync(join(model, path), bytes)
      const out = join(sbx.dir, 'reports', 'model.cdx.json')
      const gate = await cli(['model-security', 'scans', 'create', '--model-path', model, '--group', 'Default LOCAL', '--wait', '--json',
        '--report', `cyclonedx=${out}`, '--sandbox'], sbx.env)
      expect(gate.code, gate.stderr).to.equal(8)
      const scan = JSON.parse(gate.stdout) as {uuid: string}
      const bom = JSON.parse(readFileSync(out, 'utf8')) as Bom
      expectValidBom(bom)
      expect(one(bom.metadata.component.properties, 'daystrom:scan:uuid')).to.equal(scan.uuid)
      expect(bom.components.map(c => c.name)).to.deep.equal(Object.keys(contents).sort())
      for (const c of bom.components) {
        expect(c.hashes, c.name).to.deep.equal([{alg: 'SHA-256', content: sha256(contents[c.name])}])
        expect(one(c.properties, 'daystrom:file:size'), c.name).to.equal(String(contents[c.name].length))
      }
      expect(bom.vulnerabilities.some(v => /^PAIT-PKL-\d+$/.test(v.id))).to.equal(true)
    })
  })
})
