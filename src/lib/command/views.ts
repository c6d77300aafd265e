/** Table columns and detail views of the management-plane objects (one place for each). */
import type {Rule, RuleInstance, SecurityGroup} from '../airs/types.js'
import type {Column, DetailSection} from './output.js'

export const groupColumns: Column<SecurityGroup>[] = [
  {key: 'name'},
  {key: 'source_type', header: 'SOURCE'},
  {key: 'state'},
  {key: 'description'},
  {key: 'enabled_rule_count', header: 'ENABLED RULES', extended: true},
  {key: 'created_at', header: 'CREATED'},
  {key: 'updated_at', header: 'UPDATED', extended: true},
  {key: 'uuid'},
]

export function groupDetail(g: SecurityGroup): DetailSection[] {
  return [{rows: [
    ['Name', g.name], ['UUID', g.uuid], ['Source type', g.source_type], ['State', g.state],
    ['Description', g.description || '(none)'], ['Deleted', g.is_tombstone ? 'yes (tombstone)' : undefined],
    ['Created', g.created_at], ['Updated', g.updated_at], ['TSG', g.tsg_id],
  ]}]
}

export const fieldValuesText = (fv: Record<string, unknown> | null | undefined): string =>
  Object.entries(fv ?? {}).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`).join('; ')

export const ruleInstanceColumns: Column<RuleInstance>[] = [
  {key: 'rule.name', header: 'RULE'},
  {key: 'state'},
  {key: 'rule.rule_type', header: 'TYPE'},
  {key: 'field_values', header: 'FIELD VALUES', get: r => fieldValuesText(r.field_values)},
  {key: 'updated_at', header: 'UPDATED', extended: true},
  {key: 'security_rule_uuid', header: 'RULE UUID', extended: true},
  {key: 'uuid'},
]

export function ruleInstanceDetail(i: RuleInstance): DetailSection[] {
  return [
    {rows: [
      ['Rule', i.rule?.name], ['State', i.state], ['UUID', i.uuid], ['Group', i.security_group_uuid],
      ['Rule UUID', i.security_rule_uuid], ['Type', i.rule?.rule_type], ['Default state', i.rule?.default_state],
      ['Description', i.rule?.description], ['Updated', i.updated_at],
    ]},
    ...(Object.keys(i.field_values ?? {}).length > 0
      ? [{title: 'Field values', rows: Object.entries(i.field_values ?? {}).map(([k, v]) => [k, v] as [string, unknown])}] : []),
    ...(i.rule ? ruleDetail(i.rule).slice(1) : []),
  ]
}

export const ruleColumns: Column<Rule>[] = [
  {key: 'name'},
  {key: 'rule_type', header: 'TYPE'},
  {key: 'default_state', header: 'DEFAULT'},
  {key: 'compatible_sources', header: 'SOURCES'},
  {key: 'editable_fields', header: 'EDITABLE', get: r => (r.editable_fields ?? []).map(f => f.attribute_name)},
  {key: 'description', extended: true},
  {key: 'uuid'},
]

export function ruleDetail(r: Rule): DetailSection[] {
  const sections: DetailSection[] = [{rows: [
    ['Name', r.name], ['UUID', r.uuid], ['Type', r.rule_type], ['Default state', r.default_state],
    ['Compatible sources', r.compatible_sources], ['Description', r.description],
  ]}]
  if (r.remediation) {
    sections.push({title: 'Remediation', rows: [['Description', r.remediation.description], ['URL', r.remediation.url]],
      text: (r.remediation.steps ?? []).map((s, i) => `  ${i + 1}. ${s}`).join('\n') || undefined})
  }
  for (const f of r.editable_fields ?? []) {
    sections.push({title: `Editable field: ${f.attribute_name}`, rows: [
      ['Display name', f.display_name], ['Type', `${f.type} (${f.display_type})`], ['Description', f.description ?? undefined],
      ['Allowed values', f.dropdown_values?.length ? f.dropdown_values.map(d => d.value === d.label ? d.value : `${d.value} (${d.label})`) : 'any'],
      ['Default', (r.default_values as Record<string, unknown> | undefined)?.[f.attribute_name] ?? undefined],
    ]})
  }
  if (Object.keys(r.constant_values ?? {}).length > 0) {
    sections.push({title: 'Constant values', rows: Object.entries(r.constant_values).map(([k, v]) => [k, v] as [string, unknown])})
  }
  return sections
}
