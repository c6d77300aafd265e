/**
 * Test harness for commands against a nock-mocked AIRS service: fake credentials, a token endpoint,
 * interceptors that record every request (checked against the OpenAPI documents), and `run()` which runs a
 * command in-process and returns stdout, stderr and the exit code the process would have had.
 */
import {runCommand} from '@oclif/test'
import nock from 'nock'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {assertRequestConforms, openapiAvailable, type Plane} from './openapi.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const HOST = 'https://api.airs.test'
export const AUTH_HOST = 'https://auth.airs.test'
export const ENDPOINTS = {mgmt: `${HOST}/aims/mgmt`, data: `${HOST}/aims/data`, token: `${AUTH_HOST}/oauth2/access_token`}
export const CREDS = {clientId: 'test-client-id', clientSecret: 'S3cr3t-Client-Value-9f8e7d', tsgId: '1234567890'}
export const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.test-access-token.c2lnbmF0dXJl'

export interface Recorded {
  plane: Plane | 'token'
  method: string
  path: string
  query: URLSearchParams
  body: unknown
  headers: Record<string, string | string[]>
  conformance?: string
}

export const requests: Recorded[] = []

/** Point the CLI at the mocked service with environment credentials. */
export function useCredentials(): void {
  process.env.PANW_MODEL_SEC_CLIENT_ID = CREDS.clientId
  process.env.PANW_MODEL_SEC_CLIENT_SECRET = CREDS.clientSecret
  process.env.PANW_MODEL_SEC_TSG_ID = CREDS.tsgId
  process.env.PANW_MODEL_SEC_DATA_ENDPOINT = ENDPOINTS.data
  process.env.PANW_MODEL_SEC_MGMT_ENDPOINT = ENDPOINTS.mgmt
  process.env.PANW_MODEL_SEC_TOKEN_ENDPOINT = ENDPOINTS.token
}

export function resetRequests(): void {
  requests.length = 0
}

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body
  if (body === '') return undefined
  try {
    return JSON.parse(body)
  } catch {
    return body
  }
}

/** The token endpoint: answers `times` token requests. */
export function mockToken(opts: {times?: number; expiresIn?: number; token?: string; status?: number} = {}): nock.Scope {
  return nock(AUTH_HOST).post('/oauth2/access_token').times(opts.times ?? 1).reply(function (this: nock.ReplyFnContext, _uri, body) {
    requests.push({plane: 'token', method: 'POST', path: '/oauth2/access_token', query: new URLSearchParams(),
      body: typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : body, headers: this.req.headers})
    if (opts.status && opts.status >= 400) return [opts.status, {error: 'invalid_client', error_description: 'Client authentication failed'}]
    return [200, {access_token: opts.token ?? TOKEN, token_type: 'Bearer', expires_in: opts.expiresIn ?? 899, scope: `tsg_id:${CREDS.tsgId}`}]
  })
}

export interface MockOptions { times?: number; headers?: Record<string, string> }

/**
 * Mock one API operation. `path` is the concrete path under the plane (e.g. `/v1/security-groups`); any query
 * matches. Every request is recorded and checked against the OpenAPI document.
 */
export function mockApi(plane: Plane, method: string, path: string, status: number, body?: unknown, opts: MockOptions = {}): nock.Scope {
  const base = new URL(ENDPOINTS[plane])
  const scope = nock(base.origin)
  const full = base.pathname + path
  const interceptor = scope.intercept(full, method.toUpperCase()).query(true).times(opts.times ?? 1)
  return interceptor.reply(function (this: nock.ReplyFnContext, uri, reqBody) {
    const url = new URL(uri, base.origin)
    const rec: Recorded = {plane, method: method.toUpperCase(), path: url.pathname.slice(base.pathname.length), query: url.searchParams,
      body: parseBody(reqBody), headers: this.req.headers}
    if (openapiAvailable) {
      try {
        assertRequestConforms(plane, rec.method, rec.path, rec.query, rec.body)
      } catch (error) {
        rec.conformance = (error as Error).message
      }
    }
    requests.push(rec)
    return [status, body as nock.Body, {'content-type': 'application/json', ...opts.headers}]
  })
}

/** Fails the test if any recorded API request did not conform to the OpenAPI documents. */
export function expectConforming(): void {
  const bad = requests.filter(r => r.conformance)
  if (bad.length > 0) throw new Error(bad.map(r => r.conformance).join('\n'))
}

export const apiRequests = (): Recorded[] => requests.filter(r => r.plane !== 'token')

export interface RunResult { stdout: string; stderr: string; exit: number; error?: Error & {oclif?: {exit?: number}} }

/** Run a command in-process; `exit` is what the process would exit with. */
export async function run(args: string | string[]): Promise<RunResult> {
  process.exitCode = undefined
  const {stdout, stderr, error} = await runCommand(args, {root: ROOT})
  const e = error
  const exit = e ? (e.oclif?.exit ?? 1) : (process.exitCode ?? 0)
  process.exitCode = undefined
  return {stdout, stderr, exit, error: e}
}

/** Parse the JSON error object a --json run wrote to stderr. */
export function jsonError(stderr: string): {code: string; message: string; exit: number; status?: number} {
  const line = stderr.trim().split('\n').reverse().find(l => l.startsWith('{"error"'))
  if (!line) throw new Error(`no JSON error on stderr: ${stderr}`)
  return JSON.parse(line).error
}
