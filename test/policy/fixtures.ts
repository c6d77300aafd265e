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

/** The catalog with allowed values on approved_formats (the service may declare dropdown values). */
export const STRICT_CATALOG: Rule[] = CATALOG.map(r => r.name !== FORMAT ? r : {
  ...r, editable_fields: r.editable_fields.map(f => ({...f, dropdown_values: ['json', 'onnx', 'pickle', 'safetensors', 'safetensors_index', 'yaml'].map(v => ({value: v, label: v}))})),
})

/**
 * The prod-local group as the policy documents of these tests write it (an item of `groups:`): LOCAL, described,
 * approved formats BLOCKING, listing `formats` as given (a document may list them in any order, an export sorts
 * them). Rules or exceptions a test adds follow it.
 */
export const prodLocalYaml = (formats: string): string => `  - name: prod-local
    source_type: LOCAL
    description: Models built in our pipelines
    rules:
      ${FORMAT}:
        state: BLOCKING
        fields:
          approved_formats: [${formats}]
`

/** The exceptions of a group (after its rules): the operators check allowed, with a reason and an owner, until `expires`. */
export const operatorsExceptionYaml = (expires: string): string => `    exceptions:
      - rule: ${OPERATORS}
        state: ALLOWING
        reason: vendor model ships a custom op; ticket SEC-1234
        owner: ml-platform@example.com
        expires: ${expires}
`

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
