/**
 * Errors the sandbox answers with, in the service's shapes: 422 `{"detail": [{loc, msg, type, input, ctx}]}`
 * (FastAPI/pydantic wording), other statuses `{"detail": "<text>"}`.
 */
import type {ValidationErrorItem} from '../airs/types.js'
import {type SchemaProblem, validateBody, valueAt} from '../airs/validate.js'

export class HttpError extends Error {
  constructor(readonly status: number, readonly body: unknown, readonly headers: Record<string, string> = {}) {
    super(typeof body === 'object' && body !== null && 'detail' in body ? JSON.stringify(body.detail) : String(status))
  }
}

export const notFound = (what: string, uuid?: string): HttpError =>
  new HttpError(404, {detail: uuid ? `${what} ${uuid} not found` : `${what} not found`})

export const unprocessable = (items: ValidationErrorItem[]): HttpError => new HttpError(422, {detail: items})

export function item(loc: Array<string | number>, msg: string, type: string, input?: unknown, ctx?: Record<string, unknown>): ValidationErrorItem {
  const out: ValidationErrorItem = {loc, msg, type}
  if (input !== undefined) out.input = input
  if (ctx) out.ctx = ctx
  return out
}

export function expectedList(values: readonly string[]): string {
  const quoted = values.map(v => `'${v}'`)
  return quoted.length <= 1 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`
}

function parentOf(doc: unknown, path: Array<string | number>): unknown {
  return valueAt(doc, path.slice(0, -1))
}

/** One 422 item per ajv problem, pydantic style, `loc` rooted at "body". */
export function problemToItem(p: SchemaProblem, doc: unknown): ValidationErrorItem {
  const loc: Array<string | number> = ['body', ...p.path]
  const params = p.params
  switch (p.keyword) {
    case 'additionalProperties': return item(loc, 'Extra inputs are not permitted', 'extra_forbidden', valueAt(doc, p.path))
    case 'required': return item(loc, 'Field required', 'missing', parentOf(doc, p.path))
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String)
      return item(loc, `Input should be ${expectedList(allowed)}`, 'enum', p.value, {expected: expectedList(allowed)})
    }
    case 'propertyNames': return item(loc, `Invalid key: ${p.message}`, 'enum', String(params.propertyName))
    case 'format':
      if (params.format === 'uuid') return item(loc, 'Input should be a valid UUID', 'uuid_parsing', p.value)
      if (params.format === 'date-time') return item(loc, 'Input should be a valid datetime', 'datetime_from_date_parsing', p.value)
      return item(loc, `Input should be a valid ${String(params.format)}`, 'value_error', p.value)
    case 'minLength': return item(loc, `String should have at least ${params.limit as number} character${params.limit === 1 ? '' : 's'}`, 'string_too_short', p.value, {min_length: params.limit})
    case 'maxLength': return item(loc, `String should have at most ${params.limit as number} characters`, 'string_too_long', p.value, {max_length: params.limit})
    case 'pattern': return item(loc, `String should match pattern '${params.pattern as string}'`, 'string_pattern_mismatch', p.value, {pattern: params.pattern})
    case 'minItems': return item(loc, `List should have at least ${params.limit as number} item${params.limit === 1 ? '' : 's'} after validation, not ${Array.isArray(p.value) ? p.value.length : 0}`, 'too_short', p.value, {field_type: 'List', min_length: params.limit, actual_length: Array.isArray(p.value) ? p.value.length : 0})
    case 'maxItems': return item(loc, `List should have at most ${params.limit as number} items after validation, not ${Array.isArray(p.value) ? p.value.length : 0}`, 'too_long', p.value, {field_type: 'List', max_length: params.limit, actual_length: Array.isArray(p.value) ? p.value.length : 0})
    case 'type': {
      const t = String(params.type)
      const names: Record<string, [string, string]> = {
        string: ['string_type', 'Input should be a valid string'], integer: ['int_type', 'Input should be a valid integer'],
        number: ['float_type', 'Input should be a valid number'], boolean: ['bool_type', 'Input should be a valid boolean'],
        array: ['list_type', 'Input should be a valid list'], object: ['dict_type', 'Input should be a valid dictionary or object to extract fields from'],
      }
      const [type, msg] = names[t] ?? ['type_error', `Input should be of type ${t}`]
      return item(loc, msg, type, p.value)
    }
    default: return item(loc, p.message, 'value_error', p.value)
  }
}

/** Validate a request body with the shared schemas (design §3); throws 422 when invalid. */
export function checkBody(name: string, doc: unknown): void {
  if (doc === undefined) throw unprocessable([item(['body'], 'Field required', 'missing', null)])
  const problems = validateBody(name, doc)
  if (problems.length > 0) throw unprocessable(problems.map(p => problemToItem(p, doc)))
}
