/**
 * The policy document (design §9): security groups keyed by name, each with its managed rules (state and
 * field lists) and time-boxed exceptions. Types, the JSON Schema that ships in the package (validation,
 * `policy schema`, editor completion), and small helpers shared by validation, planning and export.
 */
import {GROUP_SOURCE_TYPES, RULE_FIELD_VALUE_KEYS, RULE_STATES} from '../airs/enums.js'
import type {RuleFieldValueKey, RuleState} from '../airs/enums.js'

export type GroupSourceType = (typeof GROUP_SOURCE_TYPES)[number]

export interface PolicyRule {
  state: RuleState
  /** Field lists by key; each listed list is managed as a whole (a set: order does not matter). */
  fields?: Partial<Record<RuleFieldValueKey, string[]>>
}

export interface PolicyException {
  rule: string
  state: RuleState
  reason: string
  owner: string
  /** `YYYY-MM-DD` (the end of that day, UTC) or a date-time with a time zone. */
  expires: string
}

export interface PolicyGroup {
  name: string
  source_type: GroupSourceType
  description?: string
  rules?: Record<string, PolicyRule>
  exceptions?: PolicyException[]
}

export interface PolicyDocument {
  $schema?: string
  version: 1
  groups: PolicyGroup[]
}

/** Rule names of the built-in catalog, offered by editors as completions (the live catalog decides validity). */
const KNOWN_RULES = [
  'Known Framework Operators Check', 'License Exists', 'License Is Valid For Use', 'Load Time Code Execution Check',
  'Model Architecture Backdoor Check', 'Model Is Blocked', 'Organization Is Blocked', 'Organization Verified By Hugging Face',
  'Runtime Code Execution Check', 'Stored In Approved File Format', 'Stored In Approved Location', 'Suspicious Model Components Check',
]

/** A date (`2027-01-31`) or an RFC 3339 date-time with a zone (`2027-01-31T18:00:00Z`, `…+02:00`). */
export const EXPIRES_PATTERN = '^\\d{4}-\\d{2}-\\d{2}([Tt]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?([Zz]|[+-]\\d{2}:\\d{2}))?$'
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/

const ruleSchema = {
  type: 'object',
  description: 'A managed rule: its state, and for each field listed, that field\'s whole list. Unlisted fields are left alone.',
  additionalProperties: false,
  required: ['state'],
  properties: {
    state: {enum: [...RULE_STATES], description: 'BLOCKING fails a scan on a finding, ALLOWING records it, DISABLED skips the rule.'},
    fields: {
      type: 'object',
      description: 'Field lists (sets: order does not matter). Only fields the rule lists as editable.',
      propertyNames: {enum: [...RULE_FIELD_VALUE_KEYS]},
      additionalProperties: {type: 'array', uniqueItems: true, items: {type: 'string', minLength: 1, maxLength: 256}},
    },
  },
}

/** The JSON Schema of a policy document (draft-07, understood by ajv and by editors' YAML/JSON servers). */
export const POLICY_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'daystrom-policy-v1',
  title: 'daystrom policy document',
  description: 'AIRS Model Security groups as code: `daystrom model-security policy validate|diff|apply -f FILE`. '
    + 'Groups are matched by name, so one file serves every tenant.',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'groups'],
  definitions: {rule: ruleSchema},
  properties: {
    $schema: {type: 'string', description: 'Where editors find this schema.'},
    version: {const: 1, description: 'Document format version.'},
    groups: {
      type: 'array',
      description: 'Security groups, matched by name. Groups the file does not name are left alone (unless --prune).',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'source_type'],
        properties: {
          name: {type: 'string', minLength: 1, maxLength: 255, description: 'The group\'s name (unique in the tenant).'},
          source_type: {enum: [...GROUP_SOURCE_TYPES], description: 'Fixed when the group is created: changing it needs a delete and a create.'},
          description: {type: 'string', maxLength: 1000, description: 'Managed when present.'},
          rules: {
            type: 'object',
            description: 'Managed rules by rule name. Rules not listed keep whatever state and fields they have.',
            propertyNames: {minLength: 1, maxLength: 256},
            // the built-in names, for completion; any other name is checked against the live catalog
            properties: Object.fromEntries(KNOWN_RULES.map(name => [name, {$ref: '#/definitions/rule'}])),
            additionalProperties: {$ref: '#/definitions/rule'},
          },
          exceptions: {
            type: 'array',
            description: 'Time-boxed overrides of a rule\'s state: while unexpired the exception\'s state wins; afterwards the '
              + 'rule\'s own state (or its default state when the rule is not listed) applies again.',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['rule', 'state', 'reason', 'owner', 'expires'],
              properties: {
                rule: {type: 'string', minLength: 1, maxLength: 256, examples: KNOWN_RULES},
                state: {enum: [...RULE_STATES]},
                reason: {type: 'string', minLength: 1, maxLength: 1000, description: 'Why (a ticket reference helps reviewers).'},
                owner: {type: 'string', minLength: 1, maxLength: 256, description: 'Who answers for the exception.'},
                expires: {type: 'string', pattern: EXPIRES_PATTERN,
                  description: 'A date (the exception ends with that day, UTC) or a date-time with a time zone.'},
              },
            },
          },
        },
      },
    },
  },
} as const

/**
 * The schema ajv validates with: POLICY_SCHEMA without the completion-only list of built-in rule names, which
 * says nothing more (those names and every other one take the same rule schema) but would make ajv compile the
 * rule schema once per name, and without `$schema` (ajv would check the schema against the draft-07 meta-schema
 * on every run).
 */
export function validationSchema(): Record<string, unknown> & {$id: string} {
  const withoutNames: Record<string, unknown> = {...POLICY_SCHEMA.properties.groups.items.properties.rules}
  delete withoutNames.properties
  const items = {...POLICY_SCHEMA.properties.groups.items, properties: {...POLICY_SCHEMA.properties.groups.items.properties, rules: withoutNames}}
  const schema: Record<string, unknown> & {$id: string} = {
    ...POLICY_SCHEMA, $id: `${POLICY_SCHEMA.$id}-validation`, properties: {...POLICY_SCHEMA.properties, groups: {...POLICY_SCHEMA.properties.groups, items}},
  }
  delete schema.$schema
  return schema
}

/**
 * Groups prune never deletes: the service's own `Default <SOURCE>` groups and, to be safe, any group whose name
 * starts with "Default " (delete such a group by hand if you mean it).
 */
export function isDefaultGroupName(name: string): boolean {
  return name.startsWith('Default ')
}

/** The first instant at which an exception no longer applies; undefined when `expires` is not a valid time. */
export function expiryInstant(expires: string): Date | undefined {
  if (!new RegExp(EXPIRES_PATTERN).test(expires)) return undefined
  const d = DATE_ONLY.exec(expires)
  if (d) {
    const [y, m, day] = [Number(d[1]), Number(d[2]), Number(d[3])]
    const start = new Date(Date.UTC(y, m - 1, day))
    if (start.getUTCFullYear() !== y || start.getUTCMonth() !== m - 1 || start.getUTCDate() !== day) return undefined
    return new Date(start.getTime() + 86_400_000)
  }
  const t = Date.parse(expires)
  if (Number.isNaN(t)) return undefined
  // Date.parse rolls 2027-02-30 over to March: compare the calendar part it read back
  const [date] = expires.split(/[Tt]/)
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(expires)
  const shift = offset ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000 : 0
  if (new Date(t + shift).toISOString().slice(0, 10) !== date) return undefined
  return new Date(t)
}

/** True when the exception no longer applies at `now`. */
export function isExpired(expires: string, now: Date): boolean {
  const at = expiryInstant(expires)
  return at !== undefined && now.getTime() >= at.getTime()
}

/** RFC 6901: one pointer segment. */
export const escapePointer = (segment: string | number): string => String(segment).replaceAll('~', '~0').replaceAll('/', '~1')

/** A JSON pointer from path segments. */
export const pointerOf = (...segments: Array<string | number>): string => segments.map(s => '/' + escapePointer(s)).join('')

/** Code-unit order: the same on every machine and locale (localeCompare is not). */
export const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Sets of strings compare without regard to order or repeats. */
export function sameSet(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = new Set(a ?? [])
  const y = new Set(b ?? [])
  if (x.size !== y.size) return false
  for (const v of x) if (!y.has(v)) return false
  return true
}

export const sortedSet = (values: readonly string[] | undefined): string[] => [...new Set(values ?? [])].sort(byName)
