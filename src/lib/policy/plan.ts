/**
 * The plan: a pure function of (document, tenant state, rule catalog, now) giving the writes that make the
 * tenant match the document, in the order apply runs them: group creates (with `rule_configurations` keyed by
 * rule UUID), then description and rule-instance updates, then (with prune) deletes. Nothing the document
 * does not name is touched: unlisted groups (unless prune; never a group named `Default …`), unlisted rules,
 * unlisted fields. The document must have passed validation against the same catalog and groups.
 */
import type {RuleState} from '../airs/enums.js'
import type {GroupCreate, GroupUpdate, Rule, RuleInstance, RuleInstanceUpdate, SecurityGroup} from '../airs/types.js'
import {
  byName, expiryInstant, isDefaultGroupName, isExpired, type PolicyDocument, type PolicyException, type PolicyGroup,
  sameSet, sortedSet,
} from './document.js'

export interface TenantState {
  /** Every (live) group of the tenant. */
  groups: SecurityGroup[]
  /** Rule instances of the existing groups the document names, by group UUID. */
  instances: Record<string, RuleInstance[]>
}

export interface ExceptionView {
  group: string
  rule: string
  state: RuleState
  reason: string
  owner: string
  expires: string
  /** The first instant the exception no longer applies (ISO 8601). */
  ends_at: string
  active: boolean
}

/** Why a managed rule gets its state: the file, an exception in force, or the rule's default after an exception expired. */
export interface Why {
  source: 'file' | 'exception' | 'default'
  exception?: ExceptionView
}

export interface RuleTarget {
  rule: string
  rule_uuid: string
  state: RuleState
  why: Why
  fields?: Record<string, string[]>
}

export interface FieldChange { before: string[]; after: string[]; added: string[]; removed: string[] }

export interface PlannedRequest { method: 'POST' | 'PUT' | 'DELETE'; path: string; body?: GroupCreate | GroupUpdate | RuleInstanceUpdate }

export interface CreateGroup {
  kind: 'create_group'; group: string; source_type: string; description: string; rules: RuleTarget[]; request: PlannedRequest
}
export interface UpdateGroup {
  kind: 'update_group'; group: string; group_uuid: string; description: {before: string; after: string}; request: PlannedRequest
}
export interface UpdateRule {
  kind: 'update_rule'; group: string; group_uuid: string; rule: string; rule_uuid: string; instance_uuid: string
  state?: {before: RuleState; after: RuleState}; fields?: Record<string, FieldChange>; why: Why; request: PlannedRequest
}
export interface DeleteGroup { kind: 'delete_group'; group: string; group_uuid: string; source_type: string; request: PlannedRequest }

export type Change = CreateGroup | UpdateGroup | UpdateRule | DeleteGroup

export interface PlanSummary {
  /** Groups to create. */
  create: number
  /** Descriptions and rule instances to change. */
  update: number
  /** Groups to delete. */
  delete: number
  /** Write requests apply would send. */
  total: number
}

export interface Plan {
  changes: Change[]
  summary: PlanSummary
  /** Every exception of the document, with whether it is in force at `now`. */
  exceptions: ExceptionView[]
  /** Things the plan cannot do (e.g. a rule a group has no instance of). */
  warnings: string[]
}

export interface PlanOptions {
  /** Delete groups the document does not name (never a group whose name starts with "Default "). */
  prune?: boolean
}

const GROUPS = '/v1/security-groups'

function exceptionView(group: string, e: PolicyException, now: Date): ExceptionView {
  const end = expiryInstant(e.expires)
  return {
    group, rule: e.rule, state: e.state, reason: e.reason, owner: e.owner, expires: e.expires,
    ends_at: end ? end.toISOString() : e.expires, active: !isExpired(e.expires, now),
  }
}

/** The managed rules of a group with the state each must have at `now`, sorted by rule name. */
export function targetsOf(g: PolicyGroup, catalog: Map<string, Rule>, now: Date): RuleTarget[] {
  const names = new Set([...Object.keys(g.rules ?? {}), ...(g.exceptions ?? []).map(e => e.rule)])
  const out: RuleTarget[] = []
  for (const name of [...names].sort(byName)) {
    const rule = catalog.get(name)
    if (!rule) continue
    const listed = g.rules?.[name]
    const exc = (g.exceptions ?? []).find(e => e.rule === name)
    const view = exc ? exceptionView(g.name, exc, now) : undefined
    let state: RuleState
    let why: Why
    if (view?.active) {
      state = view.state
      why = {source: 'exception', exception: view}
    } else if (listed) {
      state = listed.state
      why = view ? {source: 'file', exception: view} : {source: 'file'}
    } else {
      state = rule.default_state
      why = {source: 'default', exception: view}
    }
    const target: RuleTarget = {rule: name, rule_uuid: rule.uuid, state, why}
    if (listed?.fields && Object.keys(listed.fields).length > 0) {
      target.fields = Object.fromEntries(Object.keys(listed.fields).sort(byName)
        .map(k => [k, sortedSet(listed.fields?.[k as keyof typeof listed.fields])]))
    }
    out.push(target)
  }
  return out
}

function createChange(g: PolicyGroup, targets: RuleTarget[]): CreateGroup {
  const body: GroupCreate = {name: g.name, source_type: g.source_type}
  if (g.description !== undefined) body.description = g.description
  if (targets.length > 0) {
    body.rule_configurations = Object.fromEntries(targets.map(t => [t.rule_uuid, t.fields
      ? {state: t.state, field_values: t.fields}
      : {state: t.state}]))
  }
  return {
    kind: 'create_group', group: g.name, source_type: g.source_type, description: g.description ?? '', rules: targets,
    request: {method: 'POST', path: GROUPS, body},
  }
}

function ruleChange(group: SecurityGroup, t: RuleTarget, instance: RuleInstance, rule: Rule): UpdateRule | undefined {
  const current = (instance.field_values ?? {}) as Record<string, string[] | undefined>
  const defaults = (rule.default_values ?? {}) as Record<string, string[] | undefined>
  const fields: Record<string, FieldChange> = {}
  for (const [key, after] of Object.entries(t.fields ?? {})) {
    const before = sortedSet(current[key] ?? defaults[key] ?? [])
    if (sameSet(before, after)) continue
    fields[key] = {before, after, added: after.filter(v => !before.includes(v)), removed: before.filter(v => !after.includes(v))}
  }
  const stateChanges = instance.state !== t.state
  if (!stateChanges && Object.keys(fields).length === 0) return undefined
  const body: RuleInstanceUpdate = {security_group_uuid: group.uuid}
  if (stateChanges) body.state = t.state
  if (Object.keys(fields).length > 0) {
    // the whole map: the instance's other lists are sent back unchanged, whatever the service's merge semantics
    const merged: Record<string, string[]> = {}
    for (const [k, v] of Object.entries(current)) if (Array.isArray(v)) merged[k] = v
    for (const [k, v] of Object.entries(t.fields ?? {})) merged[k] = v
    body.field_values = Object.fromEntries(Object.keys(merged).sort(byName).map(k => [k, merged[k]]))
  }
  return {
    kind: 'update_rule', group: group.name, group_uuid: group.uuid, rule: t.rule, rule_uuid: t.rule_uuid, instance_uuid: instance.uuid,
    ...(stateChanges ? {state: {before: instance.state, after: t.state}} : {}),
    ...(Object.keys(fields).length > 0 ? {fields} : {}),
    why: t.why, request: {method: 'PUT', path: `${GROUPS}/${group.uuid}/rule-instances/${instance.uuid}`, body},
  }
}

/** The changes that make the tenant match the document at `now`. Pure: same inputs, same plan. */
export function plan(doc: PolicyDocument, state: TenantState, catalog: Rule[], now: Date, opts: PlanOptions = {}): Plan {
  const rules = new Map(catalog.map(r => [r.name, r]))
  const creates: CreateGroup[] = []
  const updates: Array<UpdateGroup | UpdateRule> = []
  const deletes: DeleteGroup[] = []
  const warnings: string[] = []
  const exceptions: ExceptionView[] = []
  const named = new Set(doc.groups.map(g => g.name))

  for (const g of [...doc.groups].sort((a, b) => byName(a.name, b.name))) {
    for (const e of g.exceptions ?? []) exceptions.push(exceptionView(g.name, e, now))
    const targets = targetsOf(g, rules, now)
    const existing = state.groups.find(t => t.name === g.name)
    if (!existing) {
      creates.push(createChange(g, targets))
      continue
    }
    if (g.description !== undefined && g.description !== existing.description) {
      updates.push({
        kind: 'update_group', group: g.name, group_uuid: existing.uuid, description: {before: existing.description, after: g.description},
        request: {method: 'PUT', path: `${GROUPS}/${existing.uuid}`, body: {description: g.description}},
      })
    }
    const instances = state.instances[existing.uuid]
    if (!instances) throw new Error(`plan: the rule instances of group "${g.name}" (${existing.uuid}) were not loaded`)
    for (const t of targets) {
      const instance = instances.find(i => i.security_rule_uuid === t.rule_uuid) ?? instances.find(i => i.rule?.name === t.rule)
      if (!instance) {
        warnings.push(`group "${g.name}" has no instance of rule "${t.rule}", so it cannot be managed; the service adds rule instances when a group is created (delete and re-create the group to get it)`)
        continue
      }
      const change = ruleChange(existing, t, instance, rules.get(t.rule) ?? instance.rule)
      if (change) updates.push(change)
    }
  }

  if (opts.prune) {
    for (const t of [...state.groups].sort((a, b) => byName(a.name, b.name) || byName(a.uuid, b.uuid))) {
      if (named.has(t.name) || isDefaultGroupName(t.name)) continue
      deletes.push({kind: 'delete_group', group: t.name, group_uuid: t.uuid, source_type: t.source_type, request: {method: 'DELETE', path: `${GROUPS}/${t.uuid}`}})
    }
  }

  const changes: Change[] = [...creates, ...updates, ...deletes]
  return {
    changes,
    summary: {create: creates.length, update: updates.length, delete: deletes.length, total: changes.length},
    exceptions: exceptions.sort((a, b) => byName(a.group, b.group) || byName(a.rule, b.rule)),
    warnings,
  }
}
