/**
 * Tenant fixtures for the policy tests: the built-in rule catalog (the sandbox's, with stable UUIDs), groups and
 * their rule instances as the service provisions them (one per compatible rule, at the rule's defaults).
 */
import type {Rule, RuleInstance, SecurityGroup} from '../../src/lib/airs/types.js'
import {RULES, ruleCompatible} from '../../src/lib/sandbox/catalog.js'

export const CATALOG: Rule[] = RULES

export const rule = (name: string): Rule => {
  const r = CATALOG.find(x => x.name === name)
  if (!r) throw new Error(`no rule ${name}`)
  return r
}

export const FORMAT = 'Stored In Approved File Format'
export const LOADTIME = 'Load Time Code Execution Check'
export const OPERATORS = 'Known Framework Operators Check'
export const SUSPICIOUS = 'Suspicious Model Components Check'
export const ORG_BLOCKED = 'Organization Is Blocked'
export const LICENSE_EXISTS = 'License Exists'
export const LOCATION = 'Stored In Approved Location'

let seq = 0
const hex = (n: number, width = 12) => n.toString(16).padStart(width, '0')

export function group(name: string, source_type: string, extra: Partial<SecurityGroup> = {}): SecurityGroup {
  seq++
  return {
    uuid: `00000000-0000-4000-8000-${hex(seq)}`, tsg_id: '1234567890', created_at: '2026-01-01T00:00:00.000000Z',
    updated_at: '2026-01-01T00:00:00.000000Z', name, description: '', source_type: source_type as SecurityGroup['source_type'],
    state: 'ACTIVE', is_tombstone: false, ...extra,
  }
}

/** The instances the service provisions for a group, with optional overrides by rule name. */
export function instancesOf(g: SecurityGroup, overrides: Record<string, Partial<Pick<RuleInstance, 'state' | 'field_values'>>> = {}): RuleInstance[] {
  return CATALOG.filter(r => ruleCompatible(r, g.source_type)).map((r, i) => ({
    uuid: `${g.uuid.slice(-8)}-0000-4000-9000-${hex(i)}`,
    tsg_id: '1234567890', created_at: g.created_at, updated_at: g.updated_at, security_group_uuid: g.uuid, security_rule_uuid: r.uuid,
    state: overrides[r.name]?.state ?? r.default_state,
    field_values: overrides[r.name]?.field_values ?? structuredClone(r.default_values),
    rule: r,
  }))
}

export function instanceUuid(instances: RuleInstance[], ruleName: string): string {
  const i = instances.find(x => x.rule.name === ruleName)
  if (!i) throw new Error(`no instance of ${ruleName}`)
  return i.uuid
}
