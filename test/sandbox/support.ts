/**
 * Shared helpers of the sandbox tests: a started sandbox in a temp data dir, an access token, and raw HTTP
 * through got (throwHttpErrors off, so every status can be asserted).
 */
import got, {type Method} from 'got'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {SANDBOX_CREDENTIALS, type SandboxHandleInternal, type SandboxOptions, startSandbox} from '../../src/lib/sandbox/index.js'

export interface Res<T = any> { status: number; body: T; headers: Record<string, string | string[] | undefined> }

export interface TestSandbox {
  sb: SandboxHandleInternal
  dataDir: string
  token: string
  mgmt<T = any>(method: Method, path: string, body?: unknown, opts?: {token?: string | null; query?: string}): Promise<Res<T>>
  data<T = any>(method: Method, path: string, body?: unknown, opts?: {token?: string | null; query?: string}): Promise<Res<T>>
  close(): Promise<void>
}

export function tempDir(prefix = 'daystrom-sbx-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export async function fetchToken(tokenUrl: string, id = SANDBOX_CREDENTIALS.clientId, secret = SANDBOX_CREDENTIALS.clientSecret,
  form = `grant_type=client_credentials&scope=tsg_id:${SANDBOX_CREDENTIALS.tsgId}`): Promise<Res> {
  const r = await got.post(tokenUrl, {
    body: form, throwHttpErrors: false, retry: {limit: 0},
    headers: {authorization: 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded'},
  })
  return {status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined, headers: r.headers}
}

export async function request(url: string, method: Method, body: unknown, token: string | null): Promise<Res> {
  const headers: Record<string, string> = {}
  if (token !== null) headers.authorization = `Bearer ${token}`
  const r = await got(url, {
    method, throwHttpErrors: false, retry: {limit: 0}, headers,
    ...(body === undefined ? {} : typeof body === 'string' ? {body, headers: {...headers, 'content-type': 'application/json'}} : {json: body}),
  })
  return {status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined, headers: r.headers}
}

export async function startTestSandbox(opts: Partial<SandboxOptions> = {}): Promise<TestSandbox> {
  const dataDir = opts.dataDir ?? tempDir()
  const sb = await startSandbox({settleDelayMs: 20, ...opts, dataDir}) as SandboxHandleInternal
  const tok = await fetchToken(sb.tokenUrl)
  const token = tok.body.access_token as string
  const call = (base: string) => (method: Method, path: string, body?: unknown, o: {token?: string | null; query?: string} = {}) =>
    request(base + path + (o.query ? '?' + o.query : ''), method, body, o.token === undefined ? token : o.token)
  return {
    sb, dataDir, token, mgmt: call(sb.mgmtUrl), data: call(sb.dataUrl),
    async close() {
      await sb.close()
      if (!opts.dataDir) rmSync(dataDir, {recursive: true, force: true})
    },
  }
}

export const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

/** Poll GET /v1/scans/{uuid} until it leaves PENDING. */
export async function waitScan(t: TestSandbox, uuid: string, timeoutMs = 15_000): Promise<any> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const r = await t.data('GET', `/v1/scans/${uuid}`)
    if (r.status !== 200) throw new Error(`GET scan ${uuid}: ${r.status} ${JSON.stringify(r.body)}`)
    if (r.body.eval_outcome !== 'PENDING') return r.body
    if (Date.now() > until) throw new Error(`scan ${uuid} still PENDING`)
    await sleep(25)
  }
}

export function scanDetails(files: any[], extra: Record<string, unknown> = {}): any {
  const formats = [...new Set(files.flatMap(f => f.formats ?? []))]
  return {
    scanner_version: 'test-1', time_started: new Date().toISOString(), files,
    total_files_scanned: files.filter(f => f.modelscan_status === 'SCANNED').length,
    total_files_skipped: files.filter(f => f.modelscan_status === 'SKIPPED').length,
    model_formats: formats, model_size_bytes: 1234, scan_duration_ms: 5, ...extra,
  }
}

/** A pickle with a PAIT-PKL-100 finding (Load Time Code Execution Check) plus a clean JSON config. */
export function maliciousPickleDetails(): any {
  return scanDetails([
    {file_path: 'model.pkl', modelscan_status: 'SCANNED', blob_id: 'b'.repeat(40), sha256: 'a'.repeat(64), size_bytes: 100, formats: ['pickle'],
      issues_detected: [{description: 'The model will call os.system when loaded', source: 'model.pkl', threat: 'PAIT-PKL-100', module: 'posix', operator: 'system'}]},
    {file_path: 'config/config.json', modelscan_status: 'SCANNED', blob_id: 'c'.repeat(40), sha256: 'c'.repeat(64), size_bytes: 10, formats: ['json'], issues_detected: []},
  ])
}

export async function groupByName(t: TestSandbox, name: string): Promise<any> {
  const r = await t.mgmt('GET', '/v1/security-groups', undefined, {query: 'limit=100&search_query=' + encodeURIComponent(name)})
  const g = r.body.security_groups.find((x: any) => x.name === name)
  if (!g) throw new Error(`no group ${name}`)
  return g
}

export async function ruleByName(t: TestSandbox, name: string): Promise<any> {
  const r = await t.mgmt('GET', '/v1/security-rules', undefined, {query: 'limit=100'})
  return r.body.rules.find((x: any) => x.name === name)
}
