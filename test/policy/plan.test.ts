/**
 * plan(): the pure function from (document, tenant state, catalog, now) to the changes apply would make.
 * Every kind of change, the empty plan for a matching tenant, exceptions before and after expiry with an
 * injected clock, set semantics of field lists, prune (never a Default group), order and determinism.
 */
import {expect} from 'chai'

import type {SecurityGroup} from '../../src/lib/airs/types.js'
import type {PolicyDocument} from '../../src/lib/policy/document.js'
import {type CreateGroup, plan, type TenantState, type UpdateGroup, type UpdateRule} from '../../src/lib/policy/plan.js'
import {renderPlanMarkdown, renderPlanText} from '../../src/lib/policy/render.js'
import {
  CATALOG, FORMAT, group, instancesOf, instanceUuid, LICENSE_EXISTS, LOADTIME, LOCATION, OPERATORS, ORG_BLOCKED, rule, SUSPICIOUS,
} from './fixtures.js'

const NOW = new Date('2026-06-15T12:00:00Z')

function tenant(...groups: Array<[SecurityGroup, ReturnType<typeof instancesOf>?]>): TenantState {
  return {groups: groups.map(([g]) => g), instances: Object.fromEntries(groups.map(([g, i]) => [g.uuid, i ?? instancesOf(g)]))}
}

const doc = (...groups: PolicyDocument['groups']): PolicyDocument => ({version: 1, groups})

describe('policy plan()', () => {
  const local = group('prod-local', 'LOCAL', {description: 'Models built in our pipelines'})
  const localInstances = instancesOf(local, {
    [FORMAT]: {state: 'BLOCKING', field_values: {approved_formats: ['safetensors', 'onnx']}},
    [LOADTIME]: {state: 'BLOCKING'},
  })
  const matching = doc({
    name: 'prod-local', source_type: 'LOCAL', description: 'Models built in our pipelines',
    rules: {[FORMAT]: {state: 'BLOCKING', fields: {approved_formats: ['onnx', 'safetensors']}}, [LOADTIME]: {state: 'BLOCKING'}},
  })

  it('a tenant that matches the document gives an empty plan (field lists compare as sets)', () => {
    const p = plan(matching, tenant([local, localInstances]), CATALOG, NOW)
    expect(p.changes).to.deep.equal([])
    expect(p.summary).to.deep.equal({create: 0, update: 0, delete: 0, total: 0})
    expect(p.warnings).to.deep.equal([])
    expect(renderPlanText(p, 'policy.yaml')).to.equal('No changes. The tenant matches policy.yaml.')
  })

  it('creates a missing group with rule_configurations keyed by rule UUID (state, sorted field lists)', () => {
    const d = doc({
      name: 'prod-hf', source_type: 'HUGGING_FACE', description: 'HF models',
      rules: {[ORG_BLOCKED]: {state: 'BLOCKING', fields: {deny_orgs: ['zeta', 'alpha']}}, [LICENSE_EXISTS]: {state: 'BLOCKING'}},
    })
    const p = plan(d, tenant(), CATALOG, NOW)
    expect(p.summary).to.deep.equal({create: 1, update: 0, delete: 0, total: 1})
    const c = p.changes[0] as CreateGroup
    expect(c.kind).to.equal('create_group')
    expect(c.request).to.deep.equal({
      method: 'POST', path: '/v1/security-groups',
      body: {
        name: 'prod-hf', source_type: 'HUGGING_FACE', description: 'HF models',
        rule_configurations: {
          [rule(LICENSE_EXISTS).uuid]: {state: 'BLOCKING'},
          [rule(ORG_BLOCKED).uuid]: {state: 'BLOCKING', field_values: {deny_orgs: ['alpha', 'zeta']}},
        },
      },
    })
    expect(c.rules.map(r => r.rule)).to.deep.equal([LICENSE_EXISTS, ORG_BLOCKED])
  })

  it('a create without description or rules sends only name and source_type', () => {
    const p = plan(doc({name: 'bare', source_type: 'S3'}), tenant(), CATALOG, NOW)
    expect(p.changes[0].request.body).to.deep.equal({name: 'bare', source_type: 'S3'})
  })

  it('changes a description (before → after) only when the document has one', () => {
    const changed = plan(doc({...matching.groups[0], description: 'New text'}), tenant([local, localInstances]), CATALOG, NOW)
    expect(changed.changes).to.have.length(1)
    const c = changed.changes[0] as UpdateGroup
    expect(c).to.deep.include({kind: 'update_group', group: 'prod-local', group_uuid: local.uuid, description: {before: 'Models built in our pipelines', after: 'New text'}})
    expect(c.request).to.deep.equal({method: 'PUT', path: `/v1/security-groups/${local.uuid}`, body: {description: 'New text'}})
    const noDescription = {...matching.groups[0]}
    delete noDescription.description
    expect(plan(doc(noDescription), tenant([local, localInstances]), CATALOG, NOW).changes).to.deep.equal([])
  })

  it('changes a rule instance\'s state, sending only the state', () => {
    const p = plan(doc({name: 'prod-local', source_type: 'LOCAL', rules: {[SUSPICIOUS]: {state: 'BLOCKING'}}}), tenant([local, localInstances]), CATALOG, NOW)
    expect(p.changes).to.have.length(1)
    const c = p.changes[0] as UpdateRule
    expect(c).to.deep.include({kind: 'update_rule', rule: SUSPICIOUS, state: {before: 'ALLOWING', after: 'BLOCKING'}, instance_uuid: instanceUuid(localInstances, SUSPICIOUS)})
    expect(c.fields).to.equal(undefined)
    expect(c.request).to.deep.equal({
      method: 'PUT', path: `/v1/security-groups/${local.uuid}/rule-instances/${instanceUuid(localInstances, SUSPICIOUS)}`,
      body: {security_group_uuid: local.uuid, state: 'BLOCKING'},
    })
  })

  it('changes a field list (added/removed), sending the whole field map; the instance\'s other lists are kept', () => {
    const g = group('multi', 'LOCAL')
    const inst = instancesOf(g, {[LOCATION]: {state: 'DISABLED', field_values: {approved_locations: ['s3', 'gs']}}})
    // the rule has one editable list; add a foreign key the service might keep, to see it sent back unchanged
    inst.find(i => i.rule.name === LOCATION)!.field_values = {approved_locations: ['s3', 'gs'], approved_formats: ['x']}
    const p = plan(doc({name: 'multi', source_type: 'LOCAL', rules: {[LOCATION]: {state: 'DISABLED', fields: {approved_locations: ['/', 's3']}}}}),
      tenant([g, inst]), CATALOG, NOW)
    const c = p.changes[0] as UpdateRule
    expect(c.state).to.equal(undefined)
    expect(c.fields).to.deep.equal({approved_locations: {before: ['gs', 's3'], after: ['/', 's3'], added: ['/'], removed: ['gs']}})
    expect(c.request.body).to.deep.equal({security_group_uuid: g.uuid, field_values: {approved_formats: ['x'], approved_locations: ['/', 's3']}})
  })

  it('a field missing from the instance compares as the rule\'s default list', () => {
    const g = group('nofields', 'LOCAL')
    const inst = instancesOf(g)
    inst.find(i => i.rule.name === FORMAT)!.field_values = {}
    const same = plan(doc({name: 'nofields', source_type: 'LOCAL', rules: {[FORMAT]: {state: 'ALLOWING', fields: {approved_formats: rule(FORMAT).default_values.approved_formats!}}}}),
      tenant([g, inst]), CATALOG, NOW)
    expect(same.changes).to.deep.equal([])
  })

  it('leaves unlisted rules and unlisted fields alone, whatever their state', () => {
    const g = group('drifted', 'LOCAL')
    const inst = instancesOf(g, {[LOADTIME]: {state: 'DISABLED'}, [FORMAT]: {state: 'BLOCKING', field_values: {approved_formats: ['pickle']}}})
    const p = plan(doc({name: 'drifted', source_type: 'LOCAL', rules: {[FORMAT]: {state: 'BLOCKING'}}}), tenant([g, inst]), CATALOG, NOW)
    expect(p.changes).to.deep.equal([])
  })

  describe('exceptions (injected clock)', () => {
    const g = group('exc', 'LOCAL')
    const exception = {rule: OPERATORS, state: 'ALLOWING' as const, reason: 'vendor custom op; SEC-1234', owner: 'ml-platform@example.com', expires: '2026-06-30'}
    const withListed = doc({name: 'exc', source_type: 'LOCAL', rules: {[OPERATORS]: {state: 'BLOCKING'}}, exceptions: [exception]})

    it('while unexpired the exception\'s state wins, and the plan says why', () => {
      const p = plan(withListed, tenant([g, instancesOf(g)]), CATALOG, NOW)
      const c = p.changes[0] as UpdateRule
      expect(c.state).to.deep.equal({before: 'BLOCKING', after: 'ALLOWING'})
      expect(c.why.source).to.equal('exception')
      expect(p.exceptions).to.deep.equal([{group: 'exc', rule: OPERATORS, state: 'ALLOWING', reason: exception.reason, owner: exception.owner,
        expires: '2026-06-30', ends_at: '2026-07-01T00:00:00.000Z', active: true}])
      expect(renderPlanText(p, 'p.yaml')).to.include(`state: BLOCKING → ALLOWING until 2026-06-30 by exception: vendor custom op; SEC-1234 (ml-platform@example.com)`)
    })

    it('a date expires at the end of that day, UTC', () => {
      const instances = instancesOf(g, {[OPERATORS]: {state: 'ALLOWING'}})
      expect(plan(withListed, tenant([g, instances]), CATALOG, new Date('2026-06-30T23:59:59.999Z')).changes).to.deep.equal([])
      const after = plan(withListed, tenant([g, instances]), CATALOG, new Date('2026-07-01T00:00:00.000Z'))
      expect((after.changes[0] as UpdateRule).state).to.deep.equal({before: 'ALLOWING', after: 'BLOCKING'})
    })

    it('after expiry the rule\'s state in the file applies again', () => {
      const later = new Date('2026-07-02T00:00:00Z')
      const p = plan(withListed, tenant([g, instancesOf(g, {[OPERATORS]: {state: 'ALLOWING'}})]), CATALOG, later)
      const c = p.changes[0] as UpdateRule
      expect(c.state).to.deep.equal({before: 'ALLOWING', after: 'BLOCKING'})
      expect(c.why).to.deep.include({source: 'file'})
      expect(c.why.exception?.active).to.equal(false)
      expect(p.exceptions[0].active).to.equal(false)
      expect(renderPlanText(p, 'p.yaml')).to.include('state: ALLOWING → BLOCKING (the exception expired 2026-06-30; the state in the file applies again)')
    })

    it('after expiry an unlisted rule goes back to the rule\'s default state', () => {
      const unlisted = doc({name: 'exc', source_type: 'LOCAL', exceptions: [{...exception, rule: LOADTIME, state: 'DISABLED'}]})
      const before = plan(unlisted, tenant([g, instancesOf(g)]), CATALOG, NOW)
      expect((before.changes[0] as UpdateRule).state).to.deep.equal({before: 'BLOCKING', after: 'DISABLED'})
      const after = plan(unlisted, tenant([g, instancesOf(g, {[LOADTIME]: {state: 'DISABLED'}})]), CATALOG, new Date('2026-08-01T00:00:00Z'))
      const c = after.changes[0] as UpdateRule
      expect(c.state).to.deep.equal({before: 'DISABLED', after: rule(LOADTIME).default_state})
      expect(c.why.source).to.equal('default')
    })

    it('a date-time with an offset expires at that instant', () => {
      const d = doc({name: 'exc', source_type: 'LOCAL', rules: {[OPERATORS]: {state: 'BLOCKING'}}, exceptions: [{...exception, expires: '2026-06-15T14:00:00+02:00'}]})
      const instances = instancesOf(g, {[OPERATORS]: {state: 'ALLOWING'}})
      expect(plan(d, tenant([g, instances]), CATALOG, new Date('2026-06-15T11:59:59Z')).changes).to.deep.equal([])
      expect(plan(d, tenant([g, instances]), CATALOG, new Date('2026-06-15T12:00:00Z')).changes).to.have.length(1)
    })

    it('a group created while an exception is in force gets the exception\'s state in its create request', () => {
      const p = plan(withListed, tenant(), CATALOG, NOW)
      expect((p.changes[0].request.body as {rule_configurations: unknown}).rule_configurations).to.deep.equal({[rule(OPERATORS).uuid]: {state: 'ALLOWING'}})
      expect(renderPlanText(p, 'p.yaml')).to.include(`+ rule "${OPERATORS}": ALLOWING until 2026-06-30 by exception`)
    })
  })

  describe('prune', () => {
    const defaults = [...['LOCAL', 'HUGGING_FACE', 'S3'].map(s => group(`Default ${s}`, s)), group('Default LOCAL (old)', 'LOCAL')]
    const stray = group('stray', 'S3')
    const state = tenant([local, localInstances], [stray], ...defaults.map(d => [d] as [SecurityGroup]))

    it('without --prune, groups the document does not name are left alone', () => {
      expect(plan(matching, state, CATALOG, NOW).changes).to.deep.equal([])
    })

    it('with --prune, deletes them, but never a Default <SOURCE> group (nor anything named "Default …")', () => {
      const p = plan(matching, state, CATALOG, NOW, {prune: true})
      expect(p.changes).to.have.length(1)
      expect(p.changes[0]).to.deep.equal({
        kind: 'delete_group', group: 'stray', group_uuid: stray.uuid, source_type: 'S3', request: {method: 'DELETE', path: `/v1/security-groups/${stray.uuid}`},
      })
      expect(p.summary).to.deep.equal({create: 0, update: 0, delete: 1, total: 1})
      const empty = plan(doc(), state, CATALOG, NOW, {prune: true})
      expect(empty.changes.map(c => c.group).sort()).to.deep.equal(['prod-local', 'stray'])
    })
  })

  it('orders creates, then updates, then deletes, each by group (and rule) name, whatever the file order', () => {
    const a = group('a-existing', 'LOCAL')
    const z = group('z-existing', 'LOCAL')
    const gone = group('gone', 'GCS')
    const state = tenant([z, instancesOf(z)], [a, instancesOf(a)], [gone])
    const d = doc(
      {name: 'z-existing', source_type: 'LOCAL', rules: {[SUSPICIOUS]: {state: 'BLOCKING'}, [FORMAT]: {state: 'BLOCKING'}}},
      {name: 'new-b', source_type: 'S3'},
      {name: 'a-existing', source_type: 'LOCAL', description: 'x', rules: {[LOADTIME]: {state: 'DISABLED'}}},
      {name: 'new-a', source_type: 'GCS'},
    )
    const p = plan(d, state, CATALOG, NOW, {prune: true})
    expect(p.changes.map(c => `${c.kind} ${c.group}${c.kind === 'update_rule' ? ` ${c.rule}` : ''}`)).to.deep.equal([
      'create_group new-a', 'create_group new-b',
      'update_group a-existing', `update_rule a-existing ${LOADTIME}`,
      `update_rule z-existing ${FORMAT}`, `update_rule z-existing ${SUSPICIOUS}`,
      'delete_group gone',
    ])
    expect(p.summary).to.deep.equal({create: 2, update: 4, delete: 1, total: 7})
    // pure and deterministic: the same inputs in another order give the same plan
    const again = plan({version: 1, groups: [...d.groups].reverse()}, {groups: [...state.groups].reverse(), instances: state.instances}, [...CATALOG].reverse(), NOW, {prune: true})
    expect(again).to.deep.equal(p)
  })

  it('a rule the group has no instance of is reported, not planned', () => {
    const g = group('old', 'LOCAL')
    const inst = instancesOf(g).filter(i => i.rule.name !== SUSPICIOUS)
    const p = plan(doc({name: 'old', source_type: 'LOCAL', rules: {[SUSPICIOUS]: {state: 'BLOCKING'}}}), tenant([g, inst]), CATALOG, NOW)
    expect(p.changes).to.deep.equal([])
    expect(p.warnings).to.have.length(1)
    expect(p.warnings[0]).to.include(`group "old" has no instance of rule "${SUSPICIOUS}"`)
  })

  it('renders a Terraform-like plan and a markdown comment', () => {
    const stray = group('stray', 'S3')
    const d = doc(
      {name: 'prod-local', source_type: 'LOCAL', description: 'Changed', rules: {[FORMAT]: {state: 'ALLOWING', fields: {approved_formats: ['onnx']}}}},
      {name: 'prod-hf', source_type: 'HUGGING_FACE', rules: {[ORG_BLOCKED]: {state: 'BLOCKING', fields: {deny_orgs: ['evil-org']}}}},
    )
    const p = plan(d, tenant([local, localInstances], [stray]), CATALOG, NOW, {prune: true})
    const text = renderPlanText(p, 'policy.yaml')
    expect(text.split('\n')).to.include.members([
      '  + group "prod-hf" (HUGGING_FACE) will be created',
      `      + rule "${ORG_BLOCKED}": BLOCKING`,
      '            deny_orgs: [evil-org]',
      `  ~ group "prod-local" (${local.uuid}) will be updated in place`,
      '      ~ description: "Models built in our pipelines" → "Changed"',
      `      ~ rule "${FORMAT}"`,
      '            state: BLOCKING → ALLOWING',
      '            approved_formats: [onnx, safetensors] → [onnx]  (-safetensors)',
      `  - group "stray" (S3, ${stray.uuid}) will be deleted`,
      'Plan: 1 to create, 2 to change, 1 to delete.',
    ])
    const md = renderPlanMarkdown(p, 'policy.yaml')
    expect(md).to.include('**Plan: 1 to create, 2 to change, 1 to delete.**')
    expect(md).to.include('```diff\n+ group "prod-hf" (HUGGING_FACE) will be created\n')
    expect(md).to.include(`! group "prod-local" (${local.uuid}) will be updated in place`)
    expect(md).to.include(`-  group "stray"`.replace('-  ', '- '))
  })
})
