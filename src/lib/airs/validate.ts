/**
 * ajv validation of request bodies against the schemas in ./schemas.ts, compiled once per process.
 * Returns problems as JSON pointers with readable messages; both the CLI (exit 2/7) and the sandbox (422)
 * build their own error from these.
 */
import type {ErrorObject, ValidateFunction} from 'ajv'
import {createRequire} from 'node:module'

import {type RequestSchemaName, requestSchemas} from './schemas.js'

export interface SchemaProblem {
  /** JSON pointer into the validated document ('' = the root). */
  pointer: string
  /** Path segments (for 422 `loc`). */
  path: Array<string | number>
  message: string
  keyword: string
  params: Record<string, unknown>
  value?: unknown
}

let ajvInstance: import('ajv').Ajv | undefined
const compiled = new Map<string, ValidateFunction>()

function ajv(): import('ajv').Ajv {
  if (ajvInstance) return ajvInstance
  const require = createRequire(import.meta.url)
  const {Ajv} = require('ajv') as typeof import('ajv')
  const addFormats = require('ajv-formats') as {default?: unknown} & ((a: unknown) => unknown)
  // validateSchema: false skips compiling the meta-schema to check our own, fixed schemas on every start (about a
  // third of the validator's start-up cost on the scans create path); test/lib/request-schemas.test.ts checks them
  const instance = new Ajv({allErrors: true, strict: false, validateSchema: false})
  ;((addFormats.default ?? addFormats) as (a: unknown) => unknown)(instance)
  for (const schema of Object.values(requestSchemas)) instance.addSchema(schema)
  ajvInstance = instance
  return instance
}

/** The value at a path in a document (undefined when a step is missing). */
export function valueAt(doc: unknown, path: Array<string | number>): unknown {
  let cur: unknown = doc
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[seg as string]
  }
  return cur
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'additionalProperties': return `unknown key "${p.additionalProperty as string}"`
    case 'required': return `missing required key "${p.missingProperty as string}"`
    case 'enum': return `must be one of ${(p.allowedValues as unknown[]).join(', ')}`
    case 'propertyNames': return `has an invalid key "${p.propertyName as string}"`
    case 'format': return `must be a valid ${p.format as string}`
    case 'pattern': return `must match ${p.pattern as string}`
    default: return e.message ?? e.keyword
  }
}

export function pointerToPath(pointer: string): Array<string | number> {
  if (!pointer) return []
  return pointer.split('/').slice(1).map(s => {
    const seg = s.replaceAll('~1', '/').replaceAll('~0', '~')
    return /^\d+$/.test(seg) ? Number(seg) : seg
  })
}

/** Validate a document against a registered request schema; returns [] when it is valid. */
export function validateBody(name: RequestSchemaName | (string & {}), doc: unknown): SchemaProblem[] {
  let fn = compiled.get(name)
  if (!fn) {
    fn = ajv().getSchema(name) as ValidateFunction | undefined
    if (!fn) throw new Error(`no schema named ${name}`)
    compiled.set(name, fn)
  }
  return problemsOf(fn, doc)
}

/** Validate a document against any schema with an `$id` (compiled once per process). */
export function validateWith(schema: Record<string, unknown> & {$id: string}, doc: unknown): SchemaProblem[] {
  let fn = compiled.get(schema.$id)
  if (!fn) {
    const a = ajv()
    fn = (a.getSchema(schema.$id) as ValidateFunction | undefined) ?? a.compile(schema)
    compiled.set(schema.$id, fn)
  }
  return problemsOf(fn, doc)
}

function problemsOf(fn: ValidateFunction, doc: unknown): SchemaProblem[] {
  if (fn(doc)) return []
  const errors = (fn.errors ?? []).filter(e => !(e.keyword === 'anyOf'))
  // anyOf with null produces a "must be null" twin for each real error: drop those when a sibling explains it
  const meaningful = errors.filter(e => !(e.keyword === 'type' && (e.params as {type?: string}).type === 'null'
    && errors.some(o => o !== e && o.instancePath === e.instancePath)))
  const out: SchemaProblem[] = []
  const seen = new Set<string>()
  for (const e of meaningful.length > 0 ? meaningful : errors) {
    let pointer = e.instancePath
    if (e.keyword === 'additionalProperties') pointer += '/' + (e.params as {additionalProperty: string}).additionalProperty
    if (e.keyword === 'propertyNames') pointer += '/' + (e.params as {propertyName: string}).propertyName
    if (e.keyword === 'required') pointer += '/' + (e.params as {missingProperty: string}).missingProperty
    const message = describe(e)
    const key = pointer + '|' + message
    if (seen.has(key)) continue
    seen.add(key)
    const path = pointerToPath(pointer)
    out.push({pointer, path, message, keyword: e.keyword, params: e.params as Record<string, unknown>,
      value: e.keyword === 'required' ? undefined : valueAt(doc, pointerToPath(e.instancePath))})
  }
  return out
}

/** One readable line per problem: `/labels/0/key: must match ^[a-zA-Z0-9_-]+$ (got "a b")`. */
export function formatProblems(problems: SchemaProblem[]): string {
  return problems.map(p => {
    const got = p.value === undefined ? '' : ` (got ${JSON.stringify(p.value)?.slice(0, 80)})`
    return `${p.pointer || '/'}: ${p.message}${got}`
  }).join('\n')
}
