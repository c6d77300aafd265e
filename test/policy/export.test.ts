/**
 * Export on its own: minimal vs --full, untouched default groups left out (changed ones kept), deterministic
 * YAML/JSON (sorted, quoted where YAML 1.1 readers would misread, short lists inline), and what it writes
 * reads back as a valid document that plans to nothing against the state it came from.
 */
import {expect} from 'chai'

import {defaultDescription, exportDocument, serializeDocument} from '../../src/lib/policy/export.js'
import {parsePolicy} from '../../src/lib/policy/load.js'
import {plan} from '../../src/lib/policy/plan.js'
import {localDiagnostics, tenantDiagnostics} from '../../src/lib/policy/validate.js'
import {CATALOG, FORMAT, group, instancesOf, LOADTIME, ORG_BLOCKED, prodLocalYaml, SUSPICIOUS} from './fixtures.js'

describe('policy export', () => {
  const local = group('prod-local', 'LOCAL', {description: 'Models built in our pipelines'})
  const localInstances = instancesOf(local, {
    [FORMAT]: {state: 'BLOCKING', field_values: {approved_formats: ['safetensors', 'onnx']}},
    [SUSPICIOUS]: {state: 'BLOCKING'},
  })
  const hf = group('prod-hf', 'HUGGING_FACE')
  const hfInstances = instancesOf(hf, {[ORG_BLOCKED]: {state: 'BLOCKING', field_values: {deny_orgs: ['yes', 'b-org', 'a-org']}}})
  const pristine = group('Default S3', 'S3', {description: defaultDescription('S3')})
  const changedDefault = group('Default LOCAL', 'LOCAL', {description: defaultDescription('LOCAL')})
  const states = [
    {group: local, instances: localInstances},
    {group: pristine, instances: instancesOf(pristine)},
    {group: hf, instances: hfInstances},
    {group: changedDefault, instances: instancesOf(changedDefault, {[LOADTIME]: {state: 'ALLOWING'}})},
  ]

  it('is minimal: only rules whose state or fields differ from the rule\'s defaults; untouched default groups left out', async () => {
    const {document, notes} = exportDocument(states, {schemaRef: 'policy.schema.json'})
    expect(document.groups.map(g => g.name)).to.deep.equal(['Default LOCAL', 'prod-hf', 'prod-local'])
    expect(notes).to.deep.equal(['left out 1 untouched default group (--include-defaults exports them too)'])
    const text = await serializeDocument(document, 'yaml')
    expect(text).to.equal(`# yaml-language-server: $schema=policy.schema.json
version: 1
groups:
  - name: Default LOCAL
    source_type: LOCAL
    description: Auto-created default security group for LOCAL models
    rules:
      ${LOADTIME}:
        state: ALLOWING
  - name: prod-hf
    source_type: HUGGING_FACE
    description: ""
    rules:
      ${ORG_BLOCKED}:
        state: BLOCKING
        fields:
          deny_orgs: [a-org, b-org, "yes"]
${prodLocalYaml('onnx, safetensors')}      ${SUSPICIOUS}:
        state: BLOCKING
`)
  })

  it('is deterministic: the same state in any order gives byte-identical YAML and JSON', async () => {
    const a = exportDocument(states, {schemaRef: 'x.json'}).document
    const b = exportDocument([...states].reverse().map(s => ({group: s.group, instances: [...s.instances].reverse()})), {schemaRef: 'x.json'}).document
    expect(await serializeDocument(a, 'yaml')).to.equal(await serializeDocument(b, 'yaml'))
    expect(await serializeDocument(a, 'json')).to.equal(await serializeDocument(b, 'json'))
    const json = JSON.parse(await serializeDocument(a, 'json')) as Record<string, unknown>
    expect(Object.keys(json)).to.deep.equal(['$schema', 'version', 'groups'])
    expect(json.$schema).to.equal('x.json')
  })

  it('--include-defaults adds untouched default groups; --group (explicit) exports what was named', () => {
    expect(exportDocument(states, {includeDefaults: true}).document.groups.map(g => g.name)).to.include('Default S3')
    const explicit = exportDocument([{group: pristine, instances: instancesOf(pristine)}], {explicit: true})
    expect(explicit.document.groups).to.deep.equal([{name: 'Default S3', source_type: 'S3', description: defaultDescription('S3')}])
    expect(explicit.document).not.to.have.property('$schema')
  })

  it('--full lists every instance and every editable field', () => {
    const {document} = exportDocument([{group: hf, instances: hfInstances}], {full: true})
    const rules = document.groups[0].rules!
    expect(Object.keys(rules)).to.deep.equal(CATALOG.filter(r => r.compatible_sources.includes('ALL') || r.compatible_sources.includes('HUGGING_FACE')).map(r => r.name).sort())
    expect(rules['License Is Valid For Use']).to.deep.equal({state: 'ALLOWING', fields: {approved_licenses: ['apache-2.0', 'bsd-3-clause', 'mit']}})
    expect(rules['Model Is Blocked']).to.deep.equal({state: 'BLOCKING', fields: {denied_org_models: []}})
    expect(rules[LOADTIME]).to.deep.equal({state: 'BLOCKING'})
  })

  it('long field lists are written one item per line', async () => {
    const many = Array.from({length: 12}, (_, i) => `format-number-${String(i).padStart(2, '0')}`)
    const g = group('long', 'LOCAL')
    const {document} = exportDocument([{group: g, instances: instancesOf(g, {[FORMAT]: {state: 'ALLOWING', field_values: {approved_formats: many}}})}])
    const text = await serializeDocument(document, 'yaml')
    expect(text).to.include(`          approved_formats:\n            - format-number-00\n            - format-number-01\n`)
  })

  it('instances without a catalog rule and duplicate group names are reported', () => {
    const g = group('custom', 'LOCAL')
    const inst = instancesOf(g)
    ;(inst[0] as {rule: unknown}).rule = null
    const twin = group('custom', 'LOCAL')
    const {notes} = exportDocument([{group: g, instances: inst}, {group: twin, instances: instancesOf(twin)}])
    expect(notes.join('\n')).to.include(`rule instance ${inst[0].uuid} has no catalog rule`)
    expect(notes.join('\n')).to.include('the tenant has several groups named "custom"')
  })

  it('an export reads back as a valid document that plans to nothing against its own state', async () => {
    const {document} = exportDocument(states, {includeDefaults: true, schemaRef: 'policy.schema.json'})
    for (const format of ['yaml', 'json'] as const) {
      const source = await parsePolicy(await serializeDocument(document, format), `export.${format}`)
      expect(localDiagnostics(source)).to.deep.equal([])
      const groups = states.map(s => s.group)
      expect(tenantDiagnostics(source, {catalog: CATALOG, groups}, new Date(), true)).to.deep.equal([])
      const p = plan(document, {groups, instances: Object.fromEntries(states.map(s => [s.group.uuid, s.instances]))}, CATALOG, new Date())
      expect(p.changes).to.deep.equal([])
    }
  })
})
