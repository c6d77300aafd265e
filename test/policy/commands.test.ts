/**
 * model-security policy schema|validate|diff|plan|apply|export against a nock-mocked service: every request
 * checked against the OpenAPI document, request counts, exit codes (7 invalid, 12 drift, the failure's own
 * code on a partial apply), output formats, and zero requests for documents that fail locally.
 */
import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import type {Rule, RuleInstance, SecurityGroup} from '../../src/lib/airs/types.js'
import type {ApplyResult} from '../../src/lib/policy/apply.js'
import {POLICY_SCHEMA} from '../../src/lib/policy/document.js'
import {defaultDescription} from '../../src/lib/policy/export.js'
import type {Plan} from '../../src/lib/policy/plan.js'
import {apiRequests, expectConforming, jsonError, mockApi, mockToken, requests, resetRequests, run, useCredentials} from '../helpers/api.js'

import {quoteArgs, tempFile, withAnswers, withoutTty, withStdin, withTty} from '../lib/support.js'
import {FORMAT, group, instancesOf, instanceUuid, LICENSE_EXISTS, LOADTIME, ORG_BLOCKED, prodLocalYaml, rule, STRICT_CATALOG, SUSPICIOUS} from './fixtures.js'

const cli = async (args: string[]) => withoutTty(async () => run(quoteArgs(['model-security', 'policy', ...args])))

const GROUPS = '/v1/security-groups'
const RULES = '/v1/security-rules'
const instancesPath = (g: SecurityGroup) => `${GROUPS}/${g.uuid}/rule-instances`
const writes = () => apiRequests().filter(r => r.method !== 'GET')
const reads = () => apiRequests().filter(r => r.method === 'GET').map(r => r.path)

function mockTenant(groups: SecurityGroup[], instances: Record<string, RuleInstance[]> = {}, catalog: Rule[] = STRICT_CATALOG): void {
  mockApi('mgmt', 'GET', RULES, 200, {pagination: {total_items: catalog.length}, rules: catalog})
  mockApi('mgmt', 'GET', GROUPS, 200, {pagination: {total_items: groups.length}, security_groups: groups})
  for (const [uuid, list] of Object.entries(instances)) {
    mockApi('mgmt', 'GET', `${GROUPS}/${uuid}/rule-instances`, 200, {pagination: {total_items: list.length}, rule_instances: list})
  }
}

const LOCAL = group('prod-local', 'LOCAL', {description: 'Models built in our pipelines'})
const LOCAL_INSTANCES = instancesOf(LOCAL, {[FORMAT]: {state: 'BLOCKING', field_values: {approved_formats: ['onnx', 'safetensors']}}})
const STRAY = group('stray', 'S3')
const DEFAULT_S3 = group('Default S3', 'S3', {description: defaultDescription('S3')})

const POLICY = `# yaml-language-server: $schema=policy.schema.json
version: 1
groups:
${prodLocalYaml('safetensors, onnx')}      ${SUSPICIOUS}:
        state: BLOCKING
  - name: prod-hf
    source_type: HUGGING_FACE
    description: Hugging Face models
    rules:
      ${ORG_BLOCKED}:
        state: BLOCKING
        fields:
          deny_orgs: [some-untrusted-org]
`

describe('model-security policy', () => {
  beforeEach(() => {
    resetRequests()
    useCredentials()
  })

  describe('policy schema', () => {
    it('prints the JSON Schema, and -f writes it', async () => {
      const r = await cli(['schema'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal(JSON.parse(JSON.stringify(POLICY_SCHEMA)))
      const file = join(dirname(tempFile('x', '')), 'policy.schema.json')
      const w = await cli(['schema', '-f', file])
      expect(w.exit).to.equal(0)
      expect(w.stdout).to.equal('')
      expect((JSON.parse(readFileSync(file, 'utf8')) as {$id: string}).$id).to.equal('daystrom-policy-v1')
      expect(requests).to.deep.equal([])
    })
  })

  describe('policy validate', () => {
    it('a schema error exits 7 naming file:line:column and the pointer, with zero requests of any kind', async () => {
      const file = tempFile('bad.yaml', 'version: 1\ngroups:\n  - name: prod\n    source_type: LOCL\n    rules:\n      X:\n        state: ON\n')
      for (const cmd of ['validate', 'diff', 'apply']) {
        const r = await cli([cmd, '-f', file, ...(cmd === 'apply' ? ['--yes'] : [])])
        expect(r.exit, `${cmd}: ${r.stderr}`).to.equal(7)
        expect(r.stderr).to.include(`${file}:4:18 /groups/0/source_type: "LOCL" is not allowed (allowed: LOCAL, HUGGING_FACE, S3, GCS, AZURE, ARTIFACTORY, GITLAB)`)
        expect(r.stderr).to.include(`${file}:7:16 /groups/0/rules/X/state: "ON" is not allowed (allowed: DISABLED, ALLOWING, BLOCKING)`)
        expect(r.error?.message).to.equal(`${file}: invalid policy document (2 errors above)`)
      }
      const j = await cli(['validate', '-f', file, '--json'])
      expect(j.exit).to.equal(7)
      expect(j.stdout).to.equal('')
      const err = jsonError(j.stderr) as ReturnType<typeof jsonError> & {details: {problems: Array<Record<string, unknown>>}}
      expect(err.code).to.equal('E_POLICY_INVALID')
      expect(err.details.problems[0]).to.deep.equal({severity: 'error', file, line: 4, column: 18, pointer: '/groups/0/source_type',
        message: '"LOCL" is not allowed (allowed: LOCAL, HUGGING_FACE, S3, GCS, AZURE, ARTIFACTORY, GITLAB)'})
      expect(requests, 'no token, no API request').to.deep.equal([])
    })

    it('duplicate group names exit 7 before any request', async () => {
      const file = tempFile('dup.yaml', 'version: 1\ngroups:\n  - {name: a, source_type: S3}\n  - {name: a, source_type: S3}\n')
      const r = await cli(['validate', '-f', file])
      expect(r.exit).to.equal(7)
      expect(r.stderr).to.include(`${file}:4:12 /groups/1/name: duplicate group name "a" (first at /groups/0, line 3)`)
      expect(requests).to.deep.equal([])
    })

    const catalogCases: Array<[string, string, string]> = [
      ['an unknown rule (with the closest name)', `rules:\n      Stored In Aproved File Format: {state: BLOCKING}`,
        ':6:7 /groups/0/rules/Stored In Aproved File Format: unknown rule "Stored In Aproved File Format" (did you mean "Stored In Approved File Format"?)'],
      ['a rule not compatible with the source type', `rules:\n      ${LICENSE_EXISTS}: {state: BLOCKING}`,
        `:6:7 /groups/0/rules/${LICENSE_EXISTS}: rule "${LICENSE_EXISTS}" does not apply to LOCAL groups (it applies to HUGGING_FACE)`],
      ['a field that is not editable', `rules:\n      ${LOADTIME}:\n        state: BLOCKING\n        fields: {approved_formats: [onnx]}`,
        `:8:18 /groups/0/rules/${LOADTIME}/fields/approved_formats: "approved_formats" is not an editable field of rule "${LOADTIME}" (it has none)`],
      ['a value that is not allowed', `rules:\n      ${FORMAT}:\n        state: BLOCKING\n        fields:\n          approved_formats: [safetensors, onnx, pikl]`,
        `:9:49 /groups/0/rules/${FORMAT}/fields/approved_formats/2: "pikl" is not an allowed value of approved_formats (allowed: json, onnx, pickle, safetensors, safetensors_index, yaml)`],
    ]
    for (const [name, rules, expected] of catalogCases) {
      it(`${name}: exit 7 with file:line:column and pointer, only read requests`, async () => {
        const file = tempFile('p.yaml', `version: 1\ngroups:\n  - name: prod\n    source_type: LOCAL\n    ${rules}\n`)
        mockToken()
        mockTenant([])
        const r = await cli(['validate', '-f', file])
        expect(r.exit, r.stderr).to.equal(7)
        expect(r.stderr).to.include(file + expected)
        expect(writes()).to.deep.equal([])
        expect(reads().sort()).to.deep.equal([GROUPS, RULES])
        expectConforming()
      })
    }

    it('a group that exists with another source type is invalid (delete + create), exit 7', async () => {
      const file = tempFile('p.yaml', 'version: 1\ngroups:\n  - name: stray\n    source_type: LOCAL\n')
      mockToken()
      mockTenant([STRAY])
      const r = await cli(['validate', '-f', file])
      expect(r.exit).to.equal(7)
      expect(r.stderr).to.include(`${file}:4:18 /groups/0/source_type: group "stray" exists with source type S3; a group's source type cannot change: delete the group`)
    })

    it('valid: exit 0 and a summary; an expired exception is a warning, an error with --strict', async () => {
      const file = tempFile('p.yaml', `${POLICY}    exceptions:\n      - {rule: ${LICENSE_EXISTS}, state: DISABLED, reason: SEC-1, owner: bob, expires: 2020-01-01}\n`)
      mockToken()
      mockTenant([LOCAL])
      const r = await cli(['validate', '-f', file])
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout.trim()).to.equal(`${file} is valid: 2 groups, 3 managed rules, 1 exception, 1 warning.`)
      expect(r.stderr).to.include(`warning: ${file}:23:85 /groups/1/exceptions/0/expires: the exception for "${LICENSE_EXISTS}" expired 2020-01-01`)
      mockTenant([LOCAL])
      const j = await cli(['validate', '-f', file, '--json'])
      expect(JSON.parse(j.stdout)).to.deep.include({valid: true, file, catalog_checked: true, groups: 2, rules: 3, exceptions: 1})
      mockTenant([LOCAL])
      const strict = await cli(['validate', '-f', file, '--strict'])
      expect(strict.exit).to.equal(7)
      expect(strict.stderr).to.include(`${file}:23:85 /groups/1/exceptions/0/expires`)
      expect(writes()).to.deep.equal([])
    })

    it('--offline checks the document alone: no credentials, no request', async () => {
      delete process.env.PANW_MODEL_SEC_CLIENT_ID
      const file = tempFile('p.yaml', POLICY)
      const r = await cli(['validate', '-f', file, '--offline'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout).to.include('(--offline: the rule catalog was not checked)')
      expect(requests).to.deep.equal([])
    })

    it('reads the document from stdin with -f -', async () => {
      const r = await withStdin('version: 1\ngroups: [{name: a, source_type: S3, extra: 1}]\n', async () => run(['model-security', 'policy', 'validate', '-f', '-', '--offline']))
      expect(r.exit).to.equal(7)
      expect(r.stderr).to.include('<stdin>:2:37 /groups/0/extra: unknown key "extra"')
    })

    it('an unreadable file exits 7 naming it', async () => {
      const r = await cli(['validate', '-f', '/nonexistent/policy.yaml'])
      expect(r.exit).to.equal(7)
      expect(r.error?.message).to.include('/nonexistent/policy.yaml: cannot be read: no such file')
    })
  })

  describe('policy diff / plan', () => {
    it('shows creates, changes and (with --prune) deletes; one catalog list, one group list, one instance list per named group', async () => {
      const file = tempFile('policy.yaml', POLICY)
      mockToken()
      mockTenant([LOCAL, STRAY, DEFAULT_S3], {[LOCAL.uuid]: LOCAL_INSTANCES})
      const r = await cli(['diff', '-f', file, '--prune'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout).to.include('  + group "prod-hf" (HUGGING_FACE) will be created')
      expect(r.stdout).to.include(`  ~ group "prod-local" (${LOCAL.uuid}) will be updated in place\n      ~ rule "${SUSPICIOUS}"\n            state: ALLOWING → BLOCKING`)
      expect(r.stdout).to.include(`  - group "stray" (S3, ${STRAY.uuid}) will be deleted`)
      expect(r.stdout).not.to.include('Default S3')
      expect(r.stdout).to.include('Plan: 1 to create, 1 to change, 1 to delete.')
      expect(reads().sort()).to.deep.equal([GROUPS, instancesPath(LOCAL), RULES].sort())
      expect(writes()).to.deep.equal([])
      const list = apiRequests().find(x => x.path === instancesPath(LOCAL))!
      expect(Object.fromEntries(list.query)).to.deep.equal({skip: '0', limit: '100'})
      expectConforming()
    })

    it('--json prints {changes, summary, exceptions, warnings}; --detailed-exitcode exits 12 when changes are pending', async () => {
      const file = tempFile('policy.yaml', POLICY)
      mockToken()
      mockTenant([LOCAL], {[LOCAL.uuid]: LOCAL_INSTANCES})
      const r = await cli(['plan', '-f', file, '--json', '--detailed-exitcode'])
      expect(r.exit, r.stderr).to.equal(12)
      const out = JSON.parse(r.stdout) as Plan
      expect(Object.keys(out)).to.deep.equal(['changes', 'summary', 'exceptions', 'warnings'])
      expect(out.summary).to.deep.equal({create: 1, update: 1, delete: 0, total: 2})
      expect(out.changes.map(c => c.kind)).to.deep.equal(['create_group', 'update_rule'])
      expect(out.changes[1]).to.deep.include({rule: SUSPICIOUS, instance_uuid: instanceUuid(LOCAL_INSTANCES, SUSPICIOUS), state: {before: 'ALLOWING', after: 'BLOCKING'}})
      expect(r.stderr).to.equal('')
      mockTenant([LOCAL], {[LOCAL.uuid]: LOCAL_INSTANCES})
      const human = await cli(['diff', '-f', file, '--detailed-exitcode'])
      expect(human.exit).to.equal(12)
      expect(human.error?.message, 'a plain exit, not an error message').to.equal('EEXIT: 12')
      expect(human.stdout).to.include('Plan: 1 to create, 1 to change, 0 to delete.')
    })

    it('--detailed-exitcode exits 0 when the tenant matches', async () => {
      const file = tempFile('policy.yaml', `version: 1\ngroups:\n  - name: prod-local\n    source_type: LOCAL\n    rules:\n      ${FORMAT}:\n        state: BLOCKING\n        fields: {approved_formats: [safetensors, onnx]}\n`)
      mockToken()
      mockTenant([LOCAL, STRAY], {[LOCAL.uuid]: LOCAL_INSTANCES})
      const r = await cli(['diff', '-f', file, '--detailed-exitcode'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout.trim()).to.equal(`No changes. The tenant matches ${file}.`)
    })

    it('-o markdown renders a pull-request comment', async () => {
      const file = tempFile('policy.yaml', POLICY)
      mockToken()
      mockTenant([LOCAL], {[LOCAL.uuid]: LOCAL_INSTANCES})
      const r = await cli(['diff', '-f', file, '-o', 'markdown'])
      expect(r.exit).to.equal(0)
      expect(r.stdout).to.match(/^### daystrom policy plan for `.+policy\.yaml`\n\n\*\*Plan: 1 to create, 1 to change, 0 to delete\.\*\*\n\n```diff\n\+ group "prod-hf"/)
      expect(r.stdout).to.include(`! group "prod-local" (${LOCAL.uuid}) will be updated in place\n!     ! rule "${SUSPICIOUS}"`)
    })

    it('-o csv is refused before any request', async () => {
      const r = await cli(['diff', '-f', tempFile('p.yaml', POLICY), '-o', 'csv'])
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.include('-o csv: a plan prints as table')
      expect(requests).to.deep.equal([])
    })
  })

  describe('policy apply', () => {
    const HF_NEW = {name: 'prod-hf', source_type: 'HUGGING_FACE'}

    it('writes creates (rule_configurations keyed by rule UUID), then updates, then deletes; every request conforms', async () => {
      const file = tempFile('policy.yaml', POLICY.replace('description: Models built in our pipelines', 'description: Changed'))
      mockToken()
      mockTenant([LOCAL, STRAY], {[LOCAL.uuid]: LOCAL_INSTANCES})
      const created = group('prod-hf', 'HUGGING_FACE')
      mockApi('mgmt', 'POST', GROUPS, 201, created)
      mockApi('mgmt', 'PUT', `${GROUPS}/${LOCAL.uuid}`, 200, {...LOCAL, description: 'Changed'})
      const susp = instanceUuid(LOCAL_INSTANCES, SUSPICIOUS)
      mockApi('mgmt', 'PUT', `${instancesPath(LOCAL)}/${susp}`, 200, LOCAL_INSTANCES.find(i => i.uuid === susp))
      mockApi('mgmt', 'DELETE', `${GROUPS}/${STRAY.uuid}`, 204)
      const r = await cli(['apply', '-f', file, '--prune', '--yes'])
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout.trim()).to.equal('Apply complete: 4 changes (1 group created, 2 updated, 1 deleted).')
      expect(r.stderr).to.include('[1/4] create group "prod-hf" (HUGGING_FACE, 1 rule)')
      expect(writes().map(w => `${w.method} ${w.path}`)).to.deep.equal([
        `POST ${GROUPS}`, `PUT ${GROUPS}/${LOCAL.uuid}`, `PUT ${instancesPath(LOCAL)}/${susp}`, `DELETE ${GROUPS}/${STRAY.uuid}`,
      ])
      expect(writes()[0].body).to.deep.equal({...HF_NEW, description: 'Hugging Face models',
        rule_configurations: {[rule(ORG_BLOCKED).uuid]: {state: 'BLOCKING', field_values: {deny_orgs: ['some-untrusted-org']}}}})
      expect(writes()[1].body).to.deep.equal({description: 'Changed'})
      expect(writes()[2].body).to.deep.equal({security_group_uuid: LOCAL.uuid, state: 'BLOCKING'})
      expectConforming()
    })

    it('nothing to change: zero write requests, exit 0', async () => {
      const file = tempFile('p.yaml', `version: 1\ngroups:\n  - name: prod-local\n    source_type: LOCAL\n    rules:\n      ${FORMAT}: {state: BLOCKING}\n`)
      mockToken()
      mockTenant([LOCAL], {[LOCAL.uuid]: LOCAL_INSTANCES})
      const r = await cli(['apply', '-f', file])
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout.trim()).to.equal(`No changes. The tenant matches ${file}.`)
      expect(writes()).to.deep.equal([])
    })

    it('-o json prints the result as data on stdout (as --json does)', async () => {
      const file = tempFile('policy.yaml', POLICY)
      mockToken()
      mockTenant([LOCAL], {[LOCAL.uuid]: LOCAL_INSTANCES})
      mockApi('mgmt', 'POST', GROUPS, 201, group('prod-hf', 'HUGGING_FACE'))
      mockApi('mgmt', 'PUT', `${instancesPath(LOCAL)}/${instanceUuid(LOCAL_INSTANCES, SUSPICIOUS)}`, 200, LOCAL_INSTANCES[0])
      const r = await cli(['apply', '-f', file, '--yes', '-o', 'json'])
      expect(r.exit, r.stderr).to.equal(0)
      const out = JSON.parse(r.stdout) as ApplyResult
      expect(out.changes.map(c => `${c.kind} ${c.status}`)).to.deep.equal(['create_group applied', 'update_rule applied'])
      expect(out.summary).to.deep.equal({create: 1, update: 1, delete: 0, total: 2, applied: 2, failed: 0, not_attempted: 0})
      expect(r.stderr).to.include('Plan: 1 to create, 1 to change, 0 to delete.')
    })

    it('without a terminal it needs --yes (exit 2, plan shown, nothing written); on a terminal it asks', async () => {
      const file = tempFile('policy.yaml', POLICY)
      mockToken()
      mockTenant([LOCAL], {[LOCAL.uuid]: LOCAL_INSTANCES})
      const r = await cli(['apply', '-f', file])
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.include('refusing to apply 2 changes without confirmation (no terminal to ask on): pass --yes')
      expect(r.stderr).to.include('Plan: 1 to create, 1 to change, 0 to delete.')
      expect(writes()).to.deep.equal([])

      process.env.CI = '1'
      mockTenant([LOCAL], {[LOCAL.uuid]: LOCAL_INSTANCES})
      const no = await withTty('n\n', async () => run(quoteArgs(['model-security', 'policy', 'apply', '-f', file])))
      expect(no.exit).to.equal(1)
      expect(no.error?.message).to.include('apply cancelled: nothing was changed')
      expect(writes()).to.deep.equal([])

      // yes: the plan is made again after the answer (a second round of reads), then applied
      mockTenant([LOCAL], {[LOCAL.uuid]: LOCAL_INSTANCES})
      mockTenant([LOCAL], {[LOCAL.uuid]: LOCAL_INSTANCES})
      mockApi('mgmt', 'POST', GROUPS, 201, group('prod-hf', 'HUGGING_FACE'))
      mockApi('mgmt', 'PUT', `${instancesPath(LOCAL)}/${instanceUuid(LOCAL_INSTANCES, SUSPICIOUS)}`, 200, LOCAL_INSTANCES[0])
      resetRequests()
      const yes = await withTty('y\n', async () => run(quoteArgs(['model-security', 'policy', 'apply', '-f', file])))
      expect(yes.exit, yes.stderr).to.equal(0)
      expect(reads().filter(p => p === RULES)).to.have.length(2)
      expect(writes()).to.have.length(2)
    })

    it('a tenant that changed while confirming is planned again and asked again', async () => {
      const file = tempFile('policy.yaml', POLICY)
      process.env.CI = '1'
      mockToken()
      mockTenant([LOCAL], {[LOCAL.uuid]: LOCAL_INSTANCES})
      // meanwhile someone created prod-hf as the file says: the new plan has one change less
      const hf = group('prod-hf', 'HUGGING_FACE', {description: 'Hugging Face models'})
      const hfState = {[LOCAL.uuid]: LOCAL_INSTANCES, [hf.uuid]: instancesOf(hf, {[ORG_BLOCKED]: {state: 'BLOCKING', field_values: {deny_orgs: ['some-untrusted-org']}}})}
      mockTenant([LOCAL, hf], hfState)
      mockTenant([LOCAL, hf], hfState)
      const susp = instanceUuid(LOCAL_INSTANCES, SUSPICIOUS)
      mockApi('mgmt', 'PUT', `${instancesPath(LOCAL)}/${susp}`, 200, LOCAL_INSTANCES[0])
      const r = await withAnswers(['y\n', 'y\n'], async () => run(quoteArgs(['model-security', 'policy', 'apply', '-f', file])))
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stderr).to.include('The tenant changed while you were deciding. The plan is now:')
      expect(r.stderr).to.include('Plan: 0 to create, 1 to change, 0 to delete.')
      expect(r.stderr.match(/\[y\/N\]/g)).to.have.length(2)
      expect(writes().map(w => `${w.method} ${w.path}`)).to.deep.equal([`PUT ${instancesPath(LOCAL)}/${susp}`])
    })

    describe('a failure on the third of five writes', () => {
      const file = () => tempFile('policy.yaml', POLICY.replace('description: Models built in our pipelines', 'description: Changed')
        .replace(`      ${SUSPICIOUS}:\n        state: BLOCKING\n`, `      ${SUSPICIOUS}:\n        state: BLOCKING\n      ${LOADTIME}:\n        state: DISABLED\n`))
      const susp = instanceUuid(LOCAL_INSTANCES, SUSPICIOUS)
      const load = instanceUuid(LOCAL_INSTANCES, LOADTIME)
      const created = group('prod-hf', 'HUGGING_FACE', {description: 'Hugging Face models'})

      function firstRun(status: number, body: unknown): void {
        mockToken({times: 2})
        mockTenant([LOCAL, STRAY], {[LOCAL.uuid]: LOCAL_INSTANCES})
        mockApi('mgmt', 'POST', GROUPS, 201, created)
        mockApi('mgmt', 'PUT', `${GROUPS}/${LOCAL.uuid}`, 200, {...LOCAL, description: 'Changed'})
        mockApi('mgmt', 'PUT', `${instancesPath(LOCAL)}/${load}`, status, body)
      }

      it('503: stops, reports applied / failed / not attempted, exits 6; a re-run finishes the rest', async () => {
        const f = file()
        firstRun(503, {detail: 'Service Unavailable'})
        const r = await cli(['apply', '-f', f, '--prune', '--yes'])
        expect(r.exit, r.stderr).to.equal(6)
        expect(writes().map(w => `${w.method} ${w.path}`)).to.deep.equal([`POST ${GROUPS}`, `PUT ${GROUPS}/${LOCAL.uuid}`, `PUT ${instancesPath(LOCAL)}/${load}`])
        const report = r.stderr.slice(r.stderr.indexOf('Apply stopped'))
        expect(report).to.match(/^Apply stopped: 2 of 5 changes applied, 1 failed, 2 not attempted\.\n/)
        expect(report).to.include('  applied        create group "prod-hf" (HUGGING_FACE, 1 rule)\n')
        expect(report).to.include('  applied        update the description of group "prod-local"\n')
        expect(report).to.include(`  FAILED         update rule "${LOADTIME}" in group "prod-local" (state BLOCKING → DISABLED)\n`)
        expect(report).to.match(/the service is unavailable \(HTTP 503\).*Service Unavailable/)
        expect(report).to.include(`  not attempted  update rule "${SUSPICIOUS}" in group "prod-local" (state ALLOWING → BLOCKING)\n`)
        expect(report).to.include(`  not attempted  delete group "stray" (${STRAY.uuid})\n`)
        expect(r.error?.message).to.match(/HTTP 503/)
        expect(r.stdout).to.equal('')
        expectConforming()

        // the re-run plans from the new state and sends only what is left
        resetRequests()
        const createdInstances = instancesOf(created, {[ORG_BLOCKED]: {state: 'BLOCKING', field_values: {deny_orgs: ['some-untrusted-org']}}})
        mockTenant([created, {...LOCAL, description: 'Changed'}, STRAY], {[LOCAL.uuid]: LOCAL_INSTANCES, [created.uuid]: createdInstances})
        mockApi('mgmt', 'PUT', `${instancesPath(LOCAL)}/${load}`, 200, LOCAL_INSTANCES[0])
        mockApi('mgmt', 'PUT', `${instancesPath(LOCAL)}/${susp}`, 200, LOCAL_INSTANCES[0])
        mockApi('mgmt', 'DELETE', `${GROUPS}/${STRAY.uuid}`, 204)
        const again = await cli(['apply', '-f', f, '--prune', '--yes'])
        expect(again.exit, again.stderr).to.equal(0)
        expect(writes().map(w => `${w.method} ${w.path}`)).to.deep.equal([
          `PUT ${instancesPath(LOCAL)}/${load}`, `PUT ${instancesPath(LOCAL)}/${susp}`, `DELETE ${GROUPS}/${STRAY.uuid}`,
        ])
        expect(again.stdout.trim()).to.equal('Apply complete: 3 changes (0 groups created, 2 updated, 1 deleted).')
        expectConforming()
      })

      it('409 with --json: exit 5, the result on stdout lists each change\'s status, the error on stderr', async () => {
        firstRun(409, {detail: 'Rule instance is locked'})
        const r = await cli(['apply', '-f', file(), '--prune', '--yes', '--json'])
        expect(r.exit).to.equal(5)
        const out = JSON.parse(r.stdout) as ApplyResult
        expect(out.changes.map(c => c.status)).to.deep.equal(['applied', 'applied', 'failed', 'not_attempted', 'not_attempted'])
        expect(out.changes[2].error).to.deep.include({code: 'E_CONFLICT', exit: 5, status: 409})
        expect(out.changes[2].error?.message).to.include('Rule instance is locked')
        expect(out.summary).to.deep.equal({create: 1, update: 3, delete: 1, total: 5, applied: 2, failed: 1, not_attempted: 2})
        expect(jsonError(r.stderr)).to.deep.include({code: 'E_CONFLICT', exit: 5, status: 409})
      })
    })

    it('--dry-run prints the plan on stdout and writes nothing', async () => {
      const file = tempFile('policy.yaml', POLICY)
      mockToken()
      mockTenant([LOCAL], {[LOCAL.uuid]: LOCAL_INSTANCES})
      const r = await cli(['apply', '-f', file, '--dry-run'])
      expect(r.exit).to.equal(0)
      expect(r.stdout).to.include('Plan: 1 to create, 1 to change, 0 to delete.')
      expect(writes()).to.deep.equal([])
    })
  })

  describe('policy export', () => {
    it('exports every group as deterministic YAML (untouched defaults left out); two exports are byte-identical', async () => {
      const instances = {[LOCAL.uuid]: LOCAL_INSTANCES, [STRAY.uuid]: instancesOf(STRAY), [DEFAULT_S3.uuid]: instancesOf(DEFAULT_S3)}
      mockToken()
      for (let i = 0; i < 2; i++) {
        mockApi('mgmt', 'GET', GROUPS, 200, {pagination: {total_items: 3}, security_groups: [STRAY, DEFAULT_S3, LOCAL]})
        for (const [uuid, list] of Object.entries(instances)) mockApi('mgmt', 'GET', `${GROUPS}/${uuid}/rule-instances`, 200, {pagination: {total_items: list.length}, rule_instances: list})
      }
      const a = await cli(['export'])
      const b = await cli(['export'])
      expect(a.exit, a.stderr).to.equal(0)
      expect(a.stdout).to.equal(b.stdout)
      expect(a.stdout).to.equal(`# yaml-language-server: $schema=policy.schema.json
version: 1
groups:
${prodLocalYaml('onnx, safetensors')}  - name: stray
    source_type: S3
    description: ""
`)
      expect(a.stderr).to.include('left out 1 untouched default group (--include-defaults exports them too)')
      expect(reads().filter(p => p === GROUPS)).to.have.length(2)
      expect(writes()).to.deep.equal([])
      expectConforming()
    })

    it('--group by name, -f FILE (.json = JSON) writes the file and nothing on stdout', async () => {
      mockToken()
      mockApi('mgmt', 'GET', GROUPS, 200, {pagination: {total_items: 1}, security_groups: [LOCAL]})
      mockApi('mgmt', 'GET', instancesPath(LOCAL), 200, {pagination: {total_items: LOCAL_INSTANCES.length}, rule_instances: LOCAL_INSTANCES})
      const out = join(dirname(tempFile('x', '')), 'out.json')
      const r = await cli(['export', '--group', 'prod-local', '-f', out, '--schema-ref', ''])
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout).to.equal('')
      expect(r.stderr).to.include(`Wrote 1 group to ${out}.`)
      expect(JSON.parse(readFileSync(out, 'utf8'))).to.deep.equal({version: 1, groups: [{name: 'prod-local', source_type: 'LOCAL',
        description: 'Models built in our pipelines', rules: {[FORMAT]: {state: 'BLOCKING', fields: {approved_formats: ['onnx', 'safetensors']}}}}]})
      const search = apiRequests().find(x => x.path === GROUPS)!
      expect(search.query.get('search_query')).to.equal('prod-local')
      expect(reads()).to.not.include(instancesPath(STRAY))
      expectConforming()
    })

    it('an unknown --group exits 4 with candidates; -o csv exits 2 before any request', async () => {
      mockToken()
      mockApi('mgmt', 'GET', GROUPS, 200, {pagination: {total_items: 1}, security_groups: [LOCAL]})
      const r = await cli(['export', '--group', 'prod-loca'])
      expect(r.exit).to.equal(4)
      expect(r.error?.message).to.include('no security group named "prod-loca"')
      resetRequests()
      const csv = await cli(['export', '-o', 'csv'])
      expect(csv.exit).to.equal(2)
      expect(requests).to.deep.equal([])
      expect(existsSync(join(dirname(tempFile('y', '')), 'out.json'))).to.equal(false)
    })
  })
})
