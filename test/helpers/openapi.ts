/**
 * The OpenAPI documents (read from ../shared/reference/openapi when present, as in CI) as a test oracle:
 * requests are checked against them (path, query keys and values, repeated array keys, bodies) and
 * responses can be validated against their schemas. When ../shared is absent, `openapiAvailable` is false
 * and callers skip the contract part with a printed reason.
 */
import {Ajv, type ValidateFunction} from 'ajv'
import addFormatsModule from 'ajv-formats'
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parse} from 'yaml'

const here = dirname(fileURLToPath(import.meta.url))
export const OPENAPI_DIR = join(here, '..', '..', '..', 'shared', 'reference', 'openapi')
const FILES = {mgmt: 'model-security-management.yaml', data: 'model-security-data-plane.yaml'} as const
export type Plane = keyof typeof FILES

export const openapiAvailable = existsSync(join(OPENAPI_DIR, FILES.mgmt)) && existsSync(join(OPENAPI_DIR, FILES.data))
export const SKIP_REASON = `OpenAPI documents not found at ${OPENAPI_DIR} (they come from ../shared, present in CI): contract checks skipped`

type Doc = {paths: Record<string, Record<string, Operation>>; components: {schemas: Record<string, unknown>}}
interface Parameter { name: string; in: 'query' | 'path' | 'header'; required?: boolean; schema: Record<string, unknown> }
interface Operation { operationId: string; parameters?: Parameter[]; requestBody?: {content: Record<string, {schema: Record<string, unknown>}>; required?: boolean}; responses: Record<string, {content?: Record<string, {schema: Record<string, unknown>}>}> }

let docs: Record<Plane, Doc> | undefined
let ajv: Ajv | undefined
const validators = new Map<string, ValidateFunction>()

function load(): {docs: Record<Plane, Doc>; ajv: Ajv} {
  if (!openapiAvailable) throw new Error(SKIP_REASON)
  if (!docs || !ajv) {
    docs = {mgmt: parse(readFileSync(join(OPENAPI_DIR, FILES.mgmt), 'utf8')), data: parse(readFileSync(join(OPENAPI_DIR, FILES.data), 'utf8'))}
    ajv = new Ajv({strict: false, allErrors: true})
    ;((addFormatsModule as unknown as {default?: (a: Ajv) => void}).default ?? (addFormatsModule as unknown as (a: Ajv) => void))(ajv)
    for (const plane of Object.keys(FILES) as Plane[]) ajv.addSchema({$id: `openapi-${plane}`, components: docs[plane].components})
  }
  return {docs, ajv}
}

function rewriteRefs(schema: unknown, plane: Plane): unknown {
  if (Array.isArray(schema)) return schema.map(s => rewriteRefs(s, plane))
  if (schema && typeof schema === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(schema)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `openapi-${plane}${v}` : rewriteRefs(v, plane)
    }
    return out
  }
  return schema
}

function validator(plane: Plane, key: string, schema: Record<string, unknown>): ValidateFunction {
  const id = `${plane}:${key}`
  let v = validators.get(id)
  if (!v) {
    v = load().ajv.compile(rewriteRefs(schema, plane) as Record<string, unknown>)
    validators.set(id, v)
  }
  return v
}

/** Find the operation for a concrete path (strip the plane's base first: /v1/...). */
export function findOperation(plane: Plane, method: string, path: string): {template: string; op: Operation; pathParams: Record<string, string>} {
  const {docs} = load()
  const candidates = Object.keys(docs[plane].paths)
    .map(template => ({template, re: new RegExp('^' + template.replace(/\{([^}]+)\}/g, '(?<$1>[^/]+)') + '$')}))
    // literal segments win over parameters (/v1/scans/label-keys before /v1/scans/{uuid})
    .sort((a, b) => (b.template.split('{').length > a.template.split('{').length ? -1 : 1))
  for (const c of candidates) {
    const m = c.re.exec(path)
    const op = m && docs[plane].paths[c.template][method.toLowerCase()]
    if (m && op) return {template: c.template, op, pathParams: {...m.groups}}
  }
  throw new Error(`${method} ${path} is not an operation of the ${plane} plane's OpenAPI document`)
}

function coerce(value: string, schema: Record<string, unknown>): unknown {
  const types = JSON.stringify(schema)
  if (/"type":"integer"/.test(types) && /^-?\d+$/.test(value)) return Number(value)
  if (/"type":"boolean"/.test(types) && /^(true|false)$/.test(value)) return value === 'true'
  return value
}

/**
 * Throws unless the request matches the document: known path, every query key a declared parameter, array
 * parameters sent as repeated keys, scalar parameters sent once, every value valid against its schema,
 * required parameters present, and the body valid against the request body schema.
 */
export function assertRequestConforms(plane: Plane, method: string, path: string, query: URLSearchParams, body?: unknown): string {
  const {template, op, pathParams} = findOperation(plane, method, path)
  const problems: string[] = []
  const params = op.parameters ?? []
  for (const p of params.filter(p => p.in === 'path')) {
    const v = validator(plane, `${op.operationId}:path:${p.name}`, p.schema)
    if (!v(decodeURIComponent(pathParams[p.name] ?? ''))) problems.push(`path ${p.name}=${pathParams[p.name]}: ${JSON.stringify(v.errors)}`)
  }
  const keys = [...new Set(query.keys())]
  for (const key of keys) {
    const p = params.find(p => p.in === 'query' && p.name === key)
    if (!p) {
      problems.push(`query key "${key}" is not a parameter of ${op.operationId}`)
      continue
    }
    const values = query.getAll(key)
    const isArray = JSON.stringify(p.schema).includes('"type":"array"')
    const itemSchema = (p.schema.anyOf as Array<Record<string, unknown>> | undefined)?.find(s => s.type === 'array')?.items as Record<string, unknown> ?? (p.schema.items as Record<string, unknown>)
    const doc = isArray ? values.map(v => coerce(v, itemSchema ?? {})) : (values.length === 1 ? coerce(values[0], p.schema) : values)
    if (!isArray && values.length > 1) problems.push(`query key "${key}" sent ${values.length} times but is not an array parameter`)
    if (isArray && values.some(v => v.includes(',') && !v.includes(' '))) problems.push(`query key "${key}" looks comma-joined (${values.join(' | ')}): arrays must be repeated keys`)
    const v = validator(plane, `${op.operationId}:query:${key}`, p.schema)
    if (!v(doc)) problems.push(`query ${key}=${JSON.stringify(doc)}: ${v.errors?.map(e => `${e.instancePath} ${e.message}`).join('; ')}`)
  }
  for (const p of params.filter(p => p.in === 'query' && p.required)) if (!query.has(p.name)) problems.push(`required query parameter "${p.name}" missing`)
  const bodySchema = op.requestBody?.content?.['application/json']?.schema
  if (bodySchema) {
    if (body === undefined && op.requestBody?.required) problems.push('request body missing')
    if (body !== undefined) {
      const v = validator(plane, `${op.operationId}:body`, bodySchema)
      if (!v(body)) problems.push(`body: ${v.errors?.map(e => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`).join('; ')}`)
    }
  } else if (body !== undefined && body !== '') {
    problems.push(`${op.operationId} takes no request body`)
  }
  if (problems.length > 0) throw new Error(`${method} ${path} does not conform to ${template} (${op.operationId}):\n  ${problems.join('\n  ')}`)
  return op.operationId
}

/** Validate a response body against the operation's response schema for the status. */
export function assertResponseConforms(plane: Plane, method: string, path: string, status: number, body: unknown): void {
  const {op} = findOperation(plane, method, path)
  const schema = op.responses[String(status)]?.content?.['application/json']?.schema
  if (!schema) {
    if (body !== undefined && body !== '' && status !== 204) throw new Error(`${op.operationId} declares no JSON body for ${status}`)
    return
  }
  const v = validator(plane, `${op.operationId}:response:${status}`, schema)
  if (!v(body)) throw new Error(`${op.operationId} ${status} response does not conform: ${v.errors?.slice(0, 5).map(e => `${e.instancePath || '/'} ${e.message}`).join('; ')}`)
}

/** Schema of a component, for fixtures checks. */
export function componentSchema(plane: Plane, name: string): ValidateFunction {
  return validator(plane, `component:${name}`, {$ref: `#/components/schemas/${name}`})
}
