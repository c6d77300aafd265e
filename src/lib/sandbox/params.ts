/**
 * Query and path parameter validation per the OpenAPI documents (types, enums, uuid, ranges, lengths,
 * patterns, defaults), answering 422 with `loc: ["query", name]` / `["path", name]` like FastAPI.
 * Unknown query parameters are ignored, as FastAPI does. For a scalar given twice the last value wins.
 */
import {UUID_RE} from '../airs/enums.js'
import type {ValidationErrorItem} from '../airs/types.js'
import {expectedList, item, unprocessable} from './errors.js'

export type ParamSpec =
  | {type: 'int'; default?: number; min?: number; max?: number}
  | {type: 'enum'; values: readonly string[]; default?: string; array?: boolean}
  | {type: 'uuid'; array?: boolean}
  | {type: 'string'; default?: string; minLength?: number; maxLength?: number; pattern?: string; array?: boolean; required?: boolean; minItems?: number; maxItems?: number}
  | {type: 'datetime'}

export type ParamValues = Record<string, unknown>

function checkString(loc: Array<string | number>, v: string, spec: {minLength?: number; maxLength?: number; pattern?: string}, errs: ValidationErrorItem[]): boolean {
  if (spec.minLength !== undefined && v.length < spec.minLength) {
    errs.push(item(loc, `String should have at least ${spec.minLength} character${spec.minLength === 1 ? '' : 's'}`, 'string_too_short', v, {min_length: spec.minLength}))
    return false
  }
  if (spec.maxLength !== undefined && v.length > spec.maxLength) {
    errs.push(item(loc, `String should have at most ${spec.maxLength} characters`, 'string_too_long', v, {max_length: spec.maxLength}))
    return false
  }
  if (spec.pattern !== undefined && !new RegExp(spec.pattern).test(v)) {
    errs.push(item(loc, `String should match pattern '${spec.pattern}'`, 'string_pattern_mismatch', v, {pattern: spec.pattern}))
    return false
  }
  return true
}

export function checkUuid(loc: Array<string | number>, v: string, errs: ValidationErrorItem[]): boolean {
  if (UUID_RE.test(v)) return true
  errs.push(item(loc, 'Input should be a valid UUID, invalid character or length', 'uuid_parsing', v,
    {error: v.length === 36 ? 'invalid character' : `invalid length: expected length 32 for simple format, found ${v.length}`}))
  return false
}

/** Parse an RFC 3339 date-time (a date alone is accepted as midnight UTC, like pydantic). */
export function parseDateTime(v: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/.test(v)) return undefined
  const hasZone = /([Zz]|[+-]\d{2}:?\d{2})$/.test(v) && v.length > 10
  const d = new Date(v.length === 10 ? v + 'T00:00:00Z' : hasZone ? v : v + 'Z')
  return Number.isNaN(d.getTime()) ? undefined : d
}

function one(loc: Array<string | number>, raw: string, spec: ParamSpec, errs: ValidationErrorItem[]): unknown {
  switch (spec.type) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(raw.trim())) {
        errs.push(item(loc, 'Input should be a valid integer, unable to parse string as an integer', 'int_parsing', raw))
        return undefined
      }
      const n = Number.parseInt(raw, 10)
      if (spec.min !== undefined && n < spec.min) {
        errs.push(item(loc, `Input should be greater than or equal to ${spec.min}`, 'greater_than_equal', raw, {ge: spec.min}))
        return undefined
      }
      if (spec.max !== undefined && n > spec.max) {
        errs.push(item(loc, `Input should be less than or equal to ${spec.max}`, 'less_than_equal', raw, {le: spec.max}))
        return undefined
      }
      return n
    }
    case 'enum':
      if (!spec.values.includes(raw)) {
        errs.push(item(loc, `Input should be ${expectedList(spec.values)}`, 'enum', raw, {expected: expectedList(spec.values)}))
        return undefined
      }
      return raw
    case 'uuid':
      return checkUuid(loc, raw, errs) ? raw.toLowerCase() : undefined
    case 'datetime': {
      const d = parseDateTime(raw)
      if (!d) {
        errs.push(item(loc, 'Input should be a valid datetime or date, invalid character in year', 'datetime_from_date_parsing', raw, {error: 'invalid character in year'}))
        return undefined
      }
      return d
    }
    case 'string':
      return checkString(loc, raw, spec, errs) ? raw : undefined
  }
}

/** Validate the query string against a spec; throws 422 listing every problem. */
export function parseQuery(query: URLSearchParams, specs: Record<string, ParamSpec>): ParamValues {
  const out: ParamValues = {}
  const errs: ValidationErrorItem[] = []
  for (const [name, spec] of Object.entries(specs)) {
    const raws = query.getAll(name)
    const isArray = 'array' in spec && spec.array
    if (isArray) {
      if (raws.length === 0) {
        if (spec.type === 'string' && spec.required) errs.push(item(['query', name], 'Field required', 'missing', null))
        continue
      }
      if (spec.type === 'string' && spec.minItems !== undefined && raws.length < spec.minItems) {
        errs.push(item(['query', name], `List should have at least ${spec.minItems} item after validation, not ${raws.length}`, 'too_short', raws, {field_type: 'List', min_length: spec.minItems, actual_length: raws.length}))
        continue
      }
      if (spec.type === 'string' && spec.maxItems !== undefined && raws.length > spec.maxItems) {
        errs.push(item(['query', name], `List should have at most ${spec.maxItems} items after validation, not ${raws.length}`, 'too_long', raws, {field_type: 'List', max_length: spec.maxItems, actual_length: raws.length}))
        continue
      }
      out[name] = raws.map((raw, i) => one(['query', name, i], raw, spec, errs))
      continue
    }
    if (raws.length === 0) {
      if ('default' in spec && spec.default !== undefined) out[name] = spec.default
      else if (spec.type === 'string' && spec.required) errs.push(item(['query', name], 'Field required', 'missing', null))
      continue
    }
    out[name] = one(['query', name], raws.at(-1)!, spec, errs)
  }
  if (errs.length > 0) throw unprocessable(errs)
  return out
}

// Reusable specs
export const LIMIT_100 = (dflt = 10): ParamSpec => ({type: 'int', default: dflt, min: 1, max: 100})
export const SKIP_MIN0: ParamSpec = {type: 'int', default: 0, min: 0}
/** `skip` declared without a minimum (scans list, evaluations, violations): negative is read as 0. */
export const SKIP_ANY: ParamSpec = {type: 'int', default: 0}
export const INT_NO_BOUNDS = (dflt: number): ParamSpec => ({type: 'int', default: dflt})
