/**
 * Validation of a policy document, in two stages:
 *  1. local (no request): the JSON Schema, expiry dates, duplicate group names, duplicate exceptions;
 *  2. against the tenant: the live rule catalog (unknown rules with the closest names, rules not compatible
 *     with the group's source type, fields that are not editable, values outside a rule's allowed values,
 *     exceptions for rules the group cannot have) and the existing groups (a group whose source type would
 *     have to change, names the tenant holds more than once). Expired exceptions are warnings (errors with
 *     `strict`).
 * Every diagnostic names the file, the line:column and the JSON pointer.
 */
import type {Rule, SecurityGroup} from '../airs/types.js'
import {validateWith} from '../airs/validate.js'
import {editDistance} from '../util/edit-distance.js'
import {fieldProblems} from '../command/group-body.js'
import {
  EXPIRES_PATTERN, type PolicyDocument, type PolicyGroup, expiryInstant, isExpired, pointerOf, validationSchema,
} from './document.js'
import type {Diagnostic, PolicySource} from './load.js'

const VALIDATION_SCHEMA = validationSchema()

const ALLOWED_KEYS: Array<[RegExp, string[]]> = [
  [/^$/, ['version', 'groups', '$schema']],
  [/^\/groups\/\d+$/, ['name', 'source_type', 'description', 'rules', 'exceptions']],
  [/^\/groups\/\d+\/rules\/[^/]+$/, ['state', 'fields']],
  [/^\/groups\/\d+\/exceptions\/\d+$/, ['rule', 'state', 'reason', 'owner', 'expires']],
]

const show = (v: unknown): string => {
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 80 ? s.slice(0, 77) + '...' : s
}

/** The message of one schema problem, in the words a reader of the file needs. */
function schemaMessage(keyword: string, params: Record<string, unknown>, value: unknown, parent: string): string {
  switch (keyword) {
    case 'additionalProperties': {
      const allowed = ALLOWED_KEYS.find(([re]) => re.test(parent))?.[1]
      return `unknown key "${String(params.additionalProperty)}"${allowed ? ` (allowed: ${allowed.join(', ')})` : ''}`
    }
    case 'propertyNames': return `unknown field "${String(params.propertyName)}"`
    case 'required': return `missing required key "${String(params.missingProperty)}"`
    case 'enum': return `${show(value)} is not allowed (allowed: ${(params.allowedValues as unknown[]).join(', ')})`
    case 'const': return `must be ${show(params.allowedValue)} (got ${show(value)})`
    case 'type': return `must be ${String(params.type)} (got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a map' : show(value)})`
    case 'minLength': return Number(params.limit) === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters`
    case 'maxLength': return `must be at most ${String(params.limit)} characters (got ${typeof value === 'string' ? value.length : '?'})`
    case 'uniqueItems': return `lists ${show((value as unknown[])?.[Number(params.j)])} twice (items ${String(params.j)} and ${String(params.i)}): a field list is a set`
    case 'pattern': return `${show(value)} is not a date (YYYY-MM-DD: the exception ends with that day, UTC) or a date-time with a time zone (2027-01-31T18:00:00Z)`
    default: return keyword
  }
}

/** Diagnostics in file order (stable for problems at the same position). */
export const byPosition = (ds: Diagnostic[]): Diagnostic[] => [...ds].sort((a, b) => a.line - b.line || a.column - b.column)

const parentOf = (pointer: string): string => pointer.slice(0, Math.max(0, pointer.lastIndexOf('/')))

/**
 * Stage 1: everything that needs no request. Returns diagnostics (errors only); an empty list means the
 * document has the right shape and `source.data` can be used as a PolicyDocument.
 */
export function localDiagnostics(source: PolicySource): Diagnostic[] {
  const {file} = source
  const out: Diagnostic[] = []
  const add = (pointer: string, message: string, key = false): void => {
    out.push({severity: 'error', file, ...source.locate(pointer, {key}), pointer, message})
  }
  const problems = validateWith(VALIDATION_SCHEMA, source.data)
  for (const p of problems) {
    // propertyNames reports an `enum` twin on the parent object: the propertyNames problem says it better
    if (p.keyword === 'enum' && p.value !== null && typeof p.value === 'object') continue
    const keyLike = p.keyword === 'additionalProperties' || p.keyword === 'propertyNames'
    const parent = keyLike || p.keyword === 'required' ? parentOf(p.pointer) : p.pointer
    add(p.pointer, schemaMessage(p.keyword, p.params, keyLike ? undefined : p.value, parent), keyLike)
  }
  if (out.length > 0) return byPosition(out)

  const doc = source.data as PolicyDocument
  const firstByName = new Map<string, number>()
  doc.groups.forEach((g, i) => {
    const first = firstByName.get(g.name)
    if (first === undefined) firstByName.set(g.name, i)
    else add(pointerOf('groups', i, 'name'), `duplicate group name "${g.name}" (first at /groups/${first}, line ${source.locate(pointerOf('groups', first, 'name')).line}): a group is named once`)
    const seen = new Map<string, number>()
    ;(g.exceptions ?? []).forEach((e, k) => {
      const at = pointerOf('groups', i, 'exceptions', k)
      if (new RegExp(EXPIRES_PATTERN).test(e.expires) && !expiryInstant(e.expires)) {
        add(`${at}/expires`, `"${e.expires}" is not a real date`)
      }
      const prev = seen.get(e.rule)
      if (prev === undefined) seen.set(e.rule, k)
      else add(`${at}/rule`, `a second exception for rule "${e.rule}" (the first is /groups/${i}/exceptions/${prev}): one exception per rule; edit the first`)
    })
  })
  return byPosition(out)
}

/** Up to `max` names closest to `name` (case-insensitive edit distance; substrings count as close). */
export function closestNames(name: string, candidates: string[], max = 3): string[] {
  const n = name.toLowerCase()
  return candidates
    .map(c => {
      const l = c.toLowerCase()
      return {c, d: l.includes(n) || n.includes(l) ? Math.abs(l.length - n.length) / 100 : editDistance(n, l)}
    })
    .filter(x => x.d <= Math.max(3, Math.floor(name.length / 3)))
    .sort((x, y) => x.d - y.d || (x.c < y.c ? -1 : 1))
    .slice(0, max)
    .map(x => x.c)
}

const compatible = (rule: Rule, source: string): boolean =>
  rule.compatible_sources.includes('ALL') || (rule.compatible_sources as string[]).includes(source)

export interface TenantView {
  catalog: Rule[]
  groups: SecurityGroup[]
}

/**
 * Stage 2: the document against the tenant's rule catalog and groups, at `now`. Expired exceptions (and
 * exceptions that change nothing) are warnings, errors with `strict`.
 */
export function tenantDiagnostics(source: PolicySource, tenant: TenantView, now: Date, strict = false): Diagnostic[] {
  const {file} = source
  const doc = source.data as PolicyDocument
  const out: Diagnostic[] = []
  const add = (pointer: string, message: string, opts: {key?: boolean; warning?: boolean} = {}): void => {
    out.push({severity: opts.warning && !strict ? 'warning' : 'error', file, ...source.locate(pointer, {key: opts.key}), pointer, message})
  }
  const byName = new Map(tenant.catalog.map(r => [r.name, r]))
  const names = tenant.catalog.map(r => r.name)
  const unknown = (name: string): string => {
    const close = closestNames(name, names)
    return `unknown rule "${name}"${close.length > 0 ? ` (did you mean ${close.map(c => `"${c}"`).join(', ')}?)` : ''}`
  }

  doc.groups.forEach((g: PolicyGroup, i) => {
    const existing = tenant.groups.filter(t => t.name === g.name)
    if (existing.length > 1) {
      add(pointerOf('groups', i, 'name'), `the tenant has ${existing.length} groups named "${g.name}" (${existing.map(e => e.uuid).join(', ')}): `
        + 'policy matches groups by name, so names must be unique; rename or delete the extra ones')
    } else if (existing.length === 1 && existing[0].source_type !== g.source_type) {
      add(pointerOf('groups', i, 'source_type'), `group "${g.name}" exists with source type ${existing[0].source_type}; a group's source type cannot `
        + `change: delete the group (daystrom model-security groups delete "${g.name}") and apply again to create it as ${g.source_type}, or rename it in the file`)
    }
    for (const [ruleName, setting] of Object.entries(g.rules ?? {})) {
      const at = pointerOf('groups', i, 'rules', ruleName)
      const rule = byName.get(ruleName)
      if (!rule) {
        add(at, unknown(ruleName), {key: true})
        continue
      }
      if (!compatible(rule, g.source_type)) {
        add(at, `rule "${ruleName}" does not apply to ${g.source_type} groups (it applies to ${rule.compatible_sources.join(', ')})`, {key: true})
        continue
      }
      for (const p of fieldProblems(rule, setting.fields ?? {})) {
        const fieldAt = `${at}/fields/${pointerOf(p.key).slice(1)}`
        if (p.index === undefined) add(fieldAt, p.message, {key: true})
        else add(`${fieldAt}/${p.index}`, p.message)
      }
    }
    ;(g.exceptions ?? []).forEach((e, k) => {
      const at = pointerOf('groups', i, 'exceptions', k)
      const rule = byName.get(e.rule)
      if (!rule) {
        add(`${at}/rule`, unknown(e.rule))
        return
      }
      if (!compatible(rule, g.source_type)) {
        add(`${at}/rule`, `an exception for rule "${e.rule}", which a ${g.source_type} group does not have (it applies to ${rule.compatible_sources.join(', ')})`)
        return
      }
      const base = g.rules?.[e.rule]?.state
      if (isExpired(e.expires, now)) {
        const back = base ? `its state in this file, ${base}` : `the rule's default state, ${rule.default_state}`
        add(`${at}/expires`, `the exception for "${e.rule}" expired ${e.expires} (${e.reason}; ${e.owner}): ${back}, applies again; renew or remove it`, {warning: true})
      } else if (base === e.state) {
        add(`${at}/state`, `the exception sets "${e.rule}" to ${e.state}, the state the file already gives it: it changes nothing`, {warning: true})
      }
    })
  })
  return byPosition(out)
}

/** Counts for the validation summary. */
export function documentCounts(doc: PolicyDocument): {groups: number; rules: number; exceptions: number} {
  return {
    groups: doc.groups.length,
    rules: doc.groups.reduce((n, g) => n + Object.keys(g.rules ?? {}).length, 0),
    exceptions: doc.groups.reduce((n, g) => n + (g.exceptions?.length ?? 0), 0),
  }
}
