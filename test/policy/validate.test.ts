/**
 * Validation of policy documents on its own: the loader's positions (YAML and JSON), the schema stage, local
 * checks (dates, duplicates), the catalog and tenant checks, and expiry parsing.
 */
import {expect} from 'chai'

import type {Rule} from '../../src/lib/airs/types.js'
import {validateWith} from '../../src/lib/airs/validate.js'
import {expiryInstant, isDefaultGroupName, POLICY_SCHEMA, pointerOf, validationSchema} from '../../src/lib/policy/document.js'
import {type Diagnostic, formatDiagnostic, parsePolicy} from '../../src/lib/policy/load.js'
import {closestNames, localDiagnostics, tenantDiagnostics} from '../../src/lib/policy/validate.js'
import {CATALOG, FORMAT, group, LICENSE_EXISTS, LOADTIME, OPERATORS, operatorsExceptionYaml, prodLocalYaml, STRICT_CATALOG} from './fixtures.js'

const NOW = new Date('2026-06-15T12:00:00Z')

const lines = (ds: Diagnostic[]): string[] => ds.map(d => `${d.severity === 'warning' ? 'warning: ' : ''}${formatDiagnostic(d)}`)

async function local(text: string, file = 'policy.yaml'): Promise<string[]> {
  return lines(localDiagnostics(await parsePolicy(text, file)))
}

async function againstTenant(text: string, opts: {strict?: boolean; groups?: ReturnType<typeof group>[]; catalog?: Rule[]} = {}): Promise<string[]> {
  const source = await parsePolicy(text, 'policy.yaml')
  expect(localDiagnostics(source)).to.deep.equal([])
  return lines(tenantDiagnostics(source, {catalog: opts.catalog ?? STRICT_CATALOG, groups: opts.groups ?? []}, NOW, opts.strict))
}

describe('policy validation', () => {
  describe('schema and local checks (no tenant)', () => {
    it('a valid document has no diagnostics', async () => {
      expect(await local(`version: 1
groups:
${prodLocalYaml('safetensors, onnx')}${operatorsExceptionYaml('2027-01-31')}`)).to.deep.equal([])
    })

    it('names file:line:column and the pointer of every schema problem, key problems at the key', async () => {
      const out = await local(`version: 2
extra: true
groups:
  - name: ""
    source_typ: LOCAL
    rules:
      ${FORMAT}:
        state: BLOK
        fields:
          approved_format: [a]
          approved_formats: [onnx, onnx]
    exceptions:
      - rule: ${OPERATORS}
        state: ALLOWING
        owner: me
        expires: next week
`)
      expect(out).to.deep.equal([
        'policy.yaml:1:10 /version: must be 1 (got 2)',
        'policy.yaml:2:1 /extra: unknown key "extra" (allowed: version, groups, $schema)',
        'policy.yaml:4:5 /groups/0/source_type: missing required key "source_type"',
        'policy.yaml:4:11 /groups/0/name: must not be empty',
        'policy.yaml:5:5 /groups/0/source_typ: unknown key "source_typ" (allowed: name, source_type, description, rules, exceptions)',
        `policy.yaml:8:16 /groups/0/rules/${FORMAT}/state: "BLOK" is not allowed (allowed: DISABLED, ALLOWING, BLOCKING)`,
        `policy.yaml:10:11 /groups/0/rules/${FORMAT}/fields/approved_format: unknown field "approved_format"`,
        `policy.yaml:11:29 /groups/0/rules/${FORMAT}/fields/approved_formats: lists "onnx" twice (items 1 and 0): a field list is a set`,
        'policy.yaml:13:9 /groups/0/exceptions/0/reason: missing required key "reason"',
        'policy.yaml:16:18 /groups/0/exceptions/0/expires: "next week" is not a date (YYYY-MM-DD: the exception ends with that day, UTC) or a date-time with a time zone (2027-01-31T18:00:00Z)',
      ])
    })

    it('JSON files get positions too, and pointers escape "/" and "~" (RFC 6901)', async () => {
      const text = '{\n  "version": 1,\n  "groups": [\n    {"name": "a", "source_type": "S3", "rules": {"a/b~c": {"state": "NOPE"}}}\n  ]\n}\n'
      expect(await local(text, 'policy.json')).to.deep.equal([
        'policy.json:4:69 /groups/0/rules/a~1b~0c/state: "NOPE" is not allowed (allowed: DISABLED, ALLOWING, BLOCKING)',
      ])
      expect(pointerOf('groups', 0, 'rules', 'a/b~c')).to.equal('/groups/0/rules/a~1b~0c')
    })

    it('syntax errors and duplicate keys are invalid documents with their position', async () => {
      const dup = await parsePolicy('version: 1\ngroups:\n  - name: a\n    name: b\n', 'p.yaml').catch((error: unknown) => error)
      expect((dup as Error).message).to.match(/^p\.yaml: invalid policy document \(1 error\):\n {2}p\.yaml:4:5 \/: not valid YAML or JSON: Map keys must be unique/)
      const broken = await parsePolicy('{"version": 1,', 'p.json').catch((error: unknown) => error)
      expect((broken as Error).message).to.match(/p\.json:1:\d+ \/: not valid YAML or JSON/)
      const empty = await parsePolicy('  \n', 'e.yaml').catch((error: unknown) => error)
      expect((empty as Error).message).to.include('e.yaml:1:1 /: the file is empty')
    })

    it('duplicate group names, a second exception for the same rule and impossible dates', async () => {
      expect(await local(`version: 1
groups:
  - name: twin
    source_type: S3
    exceptions:
      - {rule: ${LOADTIME}, state: ALLOWING, reason: r, owner: o, expires: 2027-02-30}
      - {rule: ${LOADTIME}, state: DISABLED, reason: r, owner: o, expires: 2027-01-01}
  - name: twin
    source_type: S3
`)).to.deep.equal([
        'policy.yaml:6:95 /groups/0/exceptions/0/expires: "2027-02-30" is not a real date',
        `policy.yaml:7:16 /groups/0/exceptions/1/rule: a second exception for rule "${LOADTIME}" (the first is /groups/0/exceptions/0): one exception per rule; edit the first`,
        'policy.yaml:8:11 /groups/1/name: duplicate group name "twin" (first at /groups/0, line 3): a group is named once',
      ])
    })
  })

  describe('against the catalog and the tenant', () => {
    it('unknown rule names, with the closest names', async () => {
      expect(await againstTenant(`version: 1
groups:
  - name: g
    source_type: LOCAL
    rules:
      Stored In Aproved File Format: {state: BLOCKING}
      Totally Unrelated Words Here: {state: BLOCKING}
`)).to.deep.equal([
        `policy.yaml:6:7 /groups/0/rules/Stored In Aproved File Format: unknown rule "Stored In Aproved File Format" (did you mean "${FORMAT}"?)`,
        'policy.yaml:7:7 /groups/0/rules/Totally Unrelated Words Here: unknown rule "Totally Unrelated Words Here"',
      ])
    })

    it('a rule not compatible with the group\'s source type', async () => {
      expect(await againstTenant(`version: 1\ngroups:\n  - name: g\n    source_type: S3\n    rules:\n      ${LICENSE_EXISTS}: {state: BLOCKING}\n`)).to.deep.equal([
        `policy.yaml:6:7 /groups/0/rules/${LICENSE_EXISTS}: rule "${LICENSE_EXISTS}" does not apply to S3 groups (it applies to HUGGING_FACE)`,
      ])
    })

    it('a field the rule does not let you edit, and values outside its allowed values (each value pointed at)', async () => {
      expect(await againstTenant(`version: 1
groups:
  - name: g
    source_type: LOCAL
    rules:
      ${LOADTIME}:
        state: BLOCKING
        fields:
          approved_formats: [onnx]
      ${FORMAT}:
        state: BLOCKING
        fields:
          approved_formats:
            - safetensors
            - onnx
            - pikl
`)).to.deep.equal([
        `policy.yaml:9:11 /groups/0/rules/${LOADTIME}/fields/approved_formats: "approved_formats" is not an editable field of rule "${LOADTIME}" (it has none)`,
        `policy.yaml:16:15 /groups/0/rules/${FORMAT}/fields/approved_formats/2: "pikl" is not an allowed value of approved_formats (allowed: json, onnx, pickle, safetensors, safetensors_index, yaml)`,
      ])
    })

    it('a group that exists with another source type (needs delete + create), and names the tenant holds twice', async () => {
      const out = await againstTenant('version: 1\ngroups:\n  - name: prod\n    source_type: LOCAL\n  - name: dup\n    source_type: S3\n', {
        groups: [group('prod', 'S3'), group('dup', 'S3'), group('dup', 'S3')],
      })
      expect(out).to.have.length(2)
      expect(out[0]).to.equal('policy.yaml:4:18 /groups/0/source_type: group "prod" exists with source type S3; a group\'s source type cannot change: '
        + 'delete the group (daystrom model-security groups delete "prod") and apply again to create it as LOCAL, or rename it in the file')
      expect(out[1]).to.match(/^policy\.yaml:5:11 \/groups\/1\/name: the tenant has 2 groups named "dup" \(.+\): policy matches groups by name/)
    })

    it('exceptions: unknown or incompatible rules are errors; expired (or no-op) exceptions are warnings, errors with --strict', async () => {
      const text = `version: 1
groups:
  - name: hf
    source_type: HUGGING_FACE
    rules:
      ${LOADTIME}: {state: BLOCKING}
    exceptions:
      - {rule: ${OPERATORS}, state: ALLOWING, reason: old ticket, owner: alice, expires: 2026-06-14}
      - {rule: ${LOADTIME}, state: BLOCKING, reason: pointless, owner: bob, expires: 2027-01-01}
  - name: s3
    source_type: S3
    exceptions:
      - {rule: ${LICENSE_EXISTS}, state: DISABLED, reason: r, owner: o, expires: 2027-01-01}
      - {rule: Nope, state: DISABLED, reason: r, owner: o, expires: 2027-01-01}
`
      const relaxed = await againstTenant(text)
      expect(relaxed).to.deep.equal([
        `warning: policy.yaml:8:109 /groups/0/exceptions/0/expires: the exception for "${OPERATORS}" expired 2026-06-14 (old ticket; alice): the rule's default state, BLOCKING, applies again; renew or remove it`,
        `warning: policy.yaml:9:55 /groups/0/exceptions/1/state: the exception sets "${LOADTIME}" to BLOCKING, the state the file already gives it: it changes nothing`,
        `policy.yaml:13:16 /groups/1/exceptions/0/rule: an exception for rule "${LICENSE_EXISTS}", which a S3 group does not have (it applies to HUGGING_FACE)`,
        'policy.yaml:14:16 /groups/1/exceptions/1/rule: unknown rule "Nope"',
      ])
      const strict = await againstTenant(text, {strict: true})
      expect(strict.filter(l => l.startsWith('warning:'))).to.deep.equal([])
      expect(strict).to.have.length(4)
    })
  })

  it('the schema ajv uses accepts and rejects exactly what the printed schema does', () => {
    const docs = [
      {version: 1, groups: [{name: 'a', source_type: 'S3', rules: {[FORMAT]: {state: 'BLOCKING', fields: {approved_formats: ['x']}}, 'Any Name': {state: 'ALLOWING'}}}]},
      {version: 1, groups: [{name: 'a', source_type: 'S3', rules: {[FORMAT]: {state: 'NOPE', extra: 1}}}]},
      {version: 1, groups: [{name: 'a', source_type: 'S3', rules: {'Any Name': {fields: {deny_orgs: ['a', 'a']}}}}]},
      {$schema: 'x', version: 1, groups: []},
    ]
    const printed = {...POLICY_SCHEMA, $id: 'daystrom-policy-v1-printed'}
    for (const doc of docs) {
      const strip = (ps: ReturnType<typeof validateWith>) => ps.map(p => `${p.pointer} ${p.keyword}`).sort()
      expect(strip(validateWith(validationSchema(), doc))).to.deep.equal(strip(validateWith(printed, doc)))
    }
    expect(validateWith(validationSchema(), docs[1]).length).to.be.greaterThan(0)
  })

  describe('helpers', () => {
    it('expiry: a date ends with that day (UTC); a date-time needs a zone; impossible dates are rejected', () => {
      expect(expiryInstant('2027-01-31')?.toISOString()).to.equal('2027-02-01T00:00:00.000Z')
      expect(expiryInstant('2028-02-29')?.toISOString()).to.equal('2028-03-01T00:00:00.000Z')
      expect(expiryInstant('2027-01-31T18:30:00+02:00')?.toISOString()).to.equal('2027-01-31T16:30:00.000Z')
      expect(expiryInstant('2027-01-31T18:30:00Z')?.toISOString()).to.equal('2027-01-31T18:30:00.000Z')
      for (const bad of ['2027-02-29', '2027-13-01', '2027-01-31T18:30:00', '31/01/2027', '2027-02-30T10:00:00Z', '']) {
        expect(expiryInstant(bad), bad).to.equal(undefined)
      }
    })

    it('closest names: typos and substrings, nothing for unrelated names', () => {
      const names = CATALOG.map(r => r.name)
      expect(closestNames('load time code execution', names)[0]).to.equal(LOADTIME)
      expect(closestNames('Licence Exists', names)[0]).to.equal(LICENSE_EXISTS)
      expect(closestNames('xyz', names)).to.deep.equal([])
    })

    it('prune protects every group named "Default …"', () => {
      expect(isDefaultGroupName('Default LOCAL')).to.equal(true)
      expect(isDefaultGroupName('Default HUGGING_FACE')).to.equal(true)
      expect(isDefaultGroupName('Default LOCAL (old)')).to.equal(true)
      expect(isDefaultGroupName('Defaults')).to.equal(false)
      expect(isDefaultGroupName('My Default LOCAL')).to.equal(false)
    })
  })
})
