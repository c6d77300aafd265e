/**
 * Export: the tenant's groups as a policy document. Deterministic (groups and rules sorted by name, fields
 * sorted, fixed key order, no timestamps), so two exports of the same state are byte-identical and a git diff
 * shows only real changes. Minimal by default: a rule appears only when its state or a field list differs
 * from the rule's defaults (`full` lists every instance and every editable field). `Default <SOURCE>` groups
 * the service created and nobody changed carry no information and are left out unless `includeDefaults`
 * (or named explicitly); a changed default group is always exported, so an export is a complete backup.
 */
import type {RuleInstance, SecurityGroup} from '../airs/types.js'
import {byName, type PolicyDocument, type PolicyGroup, type PolicyRule, sameSet, sortedSet} from './document.js'

export interface GroupState { group: SecurityGroup; instances: RuleInstance[] }

export interface ExportOptions {
  /** Every rule instance and every editable field, not only what differs from the rule's defaults. */
  full?: boolean
  /** Also untouched `Default <SOURCE>` groups. */
  includeDefaults?: boolean
  /** The groups were chosen one by one (--group): export each, default or not. */
  explicit?: boolean
  /** `$schema` for JSON output / the yaml-language-server comment for YAML ('' = none). */
  schemaRef?: string
}

export interface ExportResult {
  document: PolicyDocument
  /** Notes for stderr: what could not be expressed, what was left out. */
  notes: string[]
}

/** The description the service gives the default groups it creates. */
export const defaultDescription = (source: string): string => `Auto-created default security group for ${source} models`

function rulesOf(gs: GroupState, full: boolean, notes: string[]): Record<string, PolicyRule> {
  const out: Record<string, PolicyRule> = {}
  const instances = [...gs.instances].sort((a, b) => byName(a.rule?.name ?? '', b.rule?.name ?? '') || byName(a.uuid, b.uuid))
  for (const inst of instances) {
    const rule = inst.rule
    if (!rule?.name) {
      notes.push(`group "${gs.group.name}": rule instance ${inst.uuid} has no catalog rule (a custom rule?); policy documents cannot express it, left out`)
      continue
    }
    if (out[rule.name]) {
      notes.push(`group "${gs.group.name}" has several instances of rule "${rule.name}"; exported the first (${instances.find(i => i.rule?.name === rule.name)?.uuid})`)
      continue
    }
    const current = (inst.field_values ?? {}) as Record<string, string[] | undefined>
    const defaults = (rule.default_values ?? {}) as Record<string, string[] | undefined>
    const fields: Record<string, string[]> = {}
    for (const key of (rule.editable_fields ?? []).map(f => f.attribute_name).sort(byName)) {
      const value = sortedSet(current[key] ?? defaults[key] ?? [])
      if (full || !sameSet(value, defaults[key] ?? [])) fields[key] = value
    }
    if (full || inst.state !== rule.default_state || Object.keys(fields).length > 0) {
      out[rule.name] = Object.keys(fields).length > 0 ? {state: inst.state, fields} : {state: inst.state}
    }
  }
  return out
}

/** True for a `Default <SOURCE>` group exactly as the service created it. */
export function isUntouchedDefault(gs: GroupState): boolean {
  const g = gs.group
  return g.name === `Default ${g.source_type}` && g.description === defaultDescription(g.source_type)
    && Object.keys(rulesOf(gs, false, [])).length === 0
}

/** Build the document from the groups' state (pure). */
export function exportDocument(states: GroupState[], opts: ExportOptions = {}): ExportResult {
  const notes: string[] = []
  const groups: PolicyGroup[] = []
  let skippedDefaults = 0
  const sorted = [...states].sort((a, b) => byName(a.group.name, b.group.name) || byName(a.group.uuid, b.group.uuid))
  for (const gs of sorted) {
    if (!opts.explicit && !opts.includeDefaults && isUntouchedDefault(gs)) {
      skippedDefaults++
      continue
    }
    const entry: PolicyGroup = {name: gs.group.name, source_type: gs.group.source_type as PolicyGroup['source_type'], description: gs.group.description ?? ''}
    const rules = rulesOf(gs, Boolean(opts.full), notes)
    if (Object.keys(rules).length > 0) entry.rules = rules
    groups.push(entry)
  }
  const names = groups.map(g => g.name)
  for (const dup of new Set(names.filter((n, i) => names.indexOf(n) !== i))) {
    notes.push(`the tenant has several groups named "${dup}": a policy file names each group once, so rename or delete the extra ones before applying this file`)
  }
  if (skippedDefaults > 0) notes.push(`left out ${skippedDefaults} untouched default group${skippedDefaults === 1 ? '' : 's'} (--include-defaults exports them too)`)
  const document: PolicyDocument = opts.schemaRef ? {$schema: opts.schemaRef, version: 1, groups} : {version: 1, groups}
  return {document, notes}
}

/** Field lists short enough read best on one line: `approved_formats: [onnx, safetensors]`. */
const FLOW_MAX = 72

/** The document as YAML (with the yaml-language-server schema comment) or JSON; ends with a newline. */
export async function serializeDocument(doc: PolicyDocument, format: 'yaml' | 'json'): Promise<string> {
  if (format === 'json') return JSON.stringify(doc, null, 2) + '\n'
  const {$schema: ref, ...body} = doc
  const yaml = await import('yaml')
  // YAML 1.1 rules when writing: strings such as "yes", "on" or "2027-01-31" get quoted, so every reader
  // (1.1 or 1.2) reads back the same strings
  const d = new yaml.Document(body, {version: '1.1'})
  const groups = d.get('groups', true)
  yaml.visit(d, {
    Seq(_key, node) {
      // every sequence but the list of groups is a field list
      if (node === groups) return
      const items = node.items.map(i => (yaml.isScalar(i) ? String(i.value) : ''))
      if (items.join(', ').length <= FLOW_MAX) node.flow = true
    },
  })
  const text = d.toString({lineWidth: 0, flowCollectionPadding: false, indentSeq: true})
  return (ref ? `# yaml-language-server: $schema=${ref}\n` : '') + text
}
