/** Building group and rule-instance request bodies from flags, with local checks before any request. */
import type {ModelSecurityClient} from '../airs/client.js'
import {RULE_STATES} from '../airs/enums.js'
import {usageError} from '../airs/errors.js'
import type {RuleState} from '../airs/enums.js'
import type {FieldValues, Rule, RuleConfiguration} from '../airs/types.js'
import {splitPair} from './flags.js'
import {resolveRuleUuid} from './resolve.js'

export interface RuleSpec { ref: string; state: RuleState }

/** Parse `--rule NAME_OR_UUID=STATE` (repeatable) without any request, so bad input fails first. */
export function parseRuleSpecs(specs: string[]): RuleSpec[] {
  return specs.map(spec => {
    const eq = spec.lastIndexOf('=')
    if (eq <= 0) throw usageError(`--rule: expected RULE=STATE (RULE a name or UUID, STATE one of ${RULE_STATES.join(', ')}), got "${spec}"`)
    const ref = spec.slice(0, eq).trim()
    const state = spec.slice(eq + 1).trim().toUpperCase()
    if (!(RULE_STATES as readonly string[]).includes(state)) {
      throw usageError(`--rule: invalid state "${spec.slice(eq + 1)}" for "${ref}": allowed ${RULE_STATES.join(', ')}`)
    }
    return {ref, state: state as RuleState}
  })
}

/** rule_configurations keyed by rule UUID, rule names resolved through the service. */
export async function ruleConfigurations(client: ModelSecurityClient, specs: RuleSpec[]): Promise<Record<string, RuleConfiguration>> {
  const out: Record<string, RuleConfiguration> = {}
  for (const {ref, state} of specs) {
    const uuid = await resolveRuleUuid(client, ref)
    out[uuid] = {...out[uuid], state}
  }
  return out
}

/** `--field key=value` pairs grouped by key (values in order). */
export function fieldPairs(specs: string[] | undefined, flag: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const spec of specs ?? []) {
    const [k, v] = splitPair(spec, flag)
    if (!v) throw usageError(`${flag}: empty value in "${spec}"`)
    out.set(k, [...(out.get(k) ?? []), ...v.split(',').map(s => s.trim()).filter(Boolean)])
  }
  return out
}

export interface FieldProblem {
  key: string
  /** Index of the offending value in the key's list; undefined when the key itself is the problem. */
  index?: number
  message: string
}

/** Every problem of field keys and values against the rule's editable fields and allowed (dropdown) values. */
export function fieldProblems(rule: Rule, fields: FieldValues): FieldProblem[] {
  const editable = rule.editable_fields ?? []
  const out: FieldProblem[] = []
  for (const [key, values] of Object.entries(fields)) {
    const field = editable.find(f => f.attribute_name === key)
    if (!field) {
      out.push({key, message: `"${key}" is not an editable field of rule "${rule.name}"${editable.length ? `; editable: ${editable.map(f => f.attribute_name).join(', ')}` : ' (it has none)'}`})
      continue
    }
    const allowed = field.dropdown_values?.map(d => d.value)
    if (allowed && allowed.length > 0) {
      ;(values ?? []).forEach((v, index) => {
        if (!allowed.includes(v)) out.push({key, index, message: `"${v}" is not an allowed value of ${key} (allowed: ${allowed.join(', ')})`})
      })
    }
  }
  return out
}

/** Check field keys and values against the rule's editable fields and allowed (dropdown) values. */
export function checkFields(rule: Rule | undefined, fields: FieldValues, flag: string): void {
  if (!rule) return
  const problems = fieldProblems(rule, fields)
  if (problems.length === 0) return
  const first = problems[0]
  if (first.index === undefined) throw usageError(`${flag}: ${first.message}`)
  const values = fields[first.key as keyof FieldValues] ?? []
  const bad = problems.flatMap(p => (p.key === first.key && p.index !== undefined ? [`"${values[p.index]}"`] : []))
  const allowed = rule.editable_fields.find(f => f.attribute_name === first.key)?.dropdown_values?.map(d => d.value) ?? []
  throw usageError(`${flag}: ${first.key} does not allow ${bad.join(', ')}; allowed: ${allowed.join(', ')}`)
}
