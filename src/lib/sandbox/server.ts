/**
 * The sandbox HTTP server.
 *
 * Why plain `node:http` with a small router rather than a server framework: the sandbox starts in-process
 * for every `--sandbox` command, so start-up cost is paid on each CLI invocation. node:http loads nothing
 * extra (a framework plus its schema compiler costs tens of milliseconds and extra dependencies), the route
 * table is 29 fixed operations plus the token endpoint, and request bodies are already validated with the
 * shared ajv schemas of src/lib/airs (design §3), so a framework's own validation layer would be a second
 * source of truth. Query/path parameters are checked by a small table-driven validator (params.ts).
 */
import {createHmac, randomUUID, timingSafeEqual} from 'node:crypto'
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'

import {UUID_RE} from '../airs/enums.js'
import {HttpError, item, unprocessable} from './errors.js'
import {checkUuid, parseQuery} from './params.js'
import {PATH_PARAM_SPECS, ROUTES, type Route, type RouteContext} from './routes.js'
import {releaseClaims, settleDue} from './scans.js'
import {type DB, SANDBOX_TSG_ID, tokenSecret} from './store.js'

export interface ServerConfig {
  db: DB
  host: string
  port: number
  settleDelayMs: number
  tokenTtlSeconds: number
  credentials: {clientId: string; clientSecret: string; tsgId: string}
  log?: (line: string) => void
}

const MAX_BODY = 32 * 1024 * 1024
/** How long a writing request keeps retrying a busy database before answering 503. */
const WRITE_BUSY_DEADLINE_MS = 60_000

interface CompiledRoute extends Route { segments: string[] }

const COMPILED: CompiledRoute[] = ROUTES.map(r => ({...r, segments: r.path.split('/').filter(Boolean)}))

function match(plane: string, rest: string): {routes: Array<{route: CompiledRoute; params: Record<string, string>}>} {
  const segs = rest.split('/').filter(Boolean)
  const out: Array<{route: CompiledRoute; params: Record<string, string>}> = []
  for (const route of COMPILED) {
    if (route.plane !== plane || route.segments.length !== segs.length) continue
    const params: Record<string, string> = {}
    let okMatch = true
    for (let i = 0; i < segs.length; i++) {
      const p = route.segments[i]
      if (p.startsWith('{')) {
        let v: string
        try {
          v = decodeURIComponent(segs[i])
        } catch {
          v = segs[i]
        }
        params[p.slice(1, -1)] = v
      } else if (p !== segs[i]) {
        okMatch = false
        break
      }
    }
    if (okMatch) out.push({route, params})
  }
  return {routes: out}
}

function b64url(buf: Buffer | string): string {
  return Buffer.from(buf).toString('base64url')
}

export class SandboxServer {
  private server: Server
  private secret: string
  private closed = false
  private inflight = new Set<Promise<void>>()
  private timers = new Set<NodeJS.Timeout>()
  private abort = new AbortController()
  readonly owner = randomUUID()

  constructor(private readonly cfg: ServerConfig) {
    this.secret = tokenSecret(cfg.db)
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.cfg.log?.(`internal error: ${(error as Error).stack ?? String(error)}`)
        if (!res.headersSent) this.send(res, 500, {detail: 'Internal sandbox error'})
      })
    })
    this.server.keepAliveTimeout = 5000
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.cfg.port, this.cfg.host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    return this.server.address() as AddressInfo
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.abort.abort()
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    try {
      releaseClaims(this.cfg.db, this.owner)
    } catch {
      // the database may already be unusable; claims then expire on their own
    }
    await new Promise<void>(resolve => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }

  /** Settle due scans; used by the timer and before data-plane requests. */
  settle(): void {
    if (this.closed) return
    settleDue({
      db: this.cfg.db, owner: this.owner, closed: () => this.closed, log: l => this.cfg.log?.(l), signal: this.abort.signal,
      track: p => {
        const tracked = p.catch((error: unknown) => this.cfg.log?.(`local scan failed: ${(error as Error).message}`)).finally(() => this.inflight.delete(tracked))
        this.inflight.add(tracked)
      },
    })
  }

  /** Wait for local scans started by this process (tests). */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight])
  }

  private schedule(delayMs: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t)
      try {
        this.settle()
      } catch (error) {
        this.cfg.log?.(`settle failed: ${(error as Error).message}`)
      }
    }, Math.max(0, delayMs) + 5)
    t.unref()
    this.timers.add(t)
  }

  /**
   * Run a writing route in one IMMEDIATE transaction. SQLITE_BUSY means nothing was written (the transaction
   * never started, or was rolled back): when busy_timeout alone was not enough (many processes on a loaded
   * machine), wait a little without blocking the event loop and try again, for up to WRITE_BUSY_DEADLINE_MS;
   * only then answer 503.
   */
  private async writeTransaction<T>(fn: () => T): Promise<T> {
    const deadline = Date.now() + WRITE_BUSY_DEADLINE_MS
    for (;;) {
      try {
        return this.cfg.db.transaction(fn).immediate()
      } catch (error) {
        const code = (error as {code?: string}).code ?? ''
        if (!code.startsWith('SQLITE_BUSY') || Date.now() > deadline || this.closed) throw error
        await new Promise(resolve => setTimeout(resolve, 20 + Math.floor(Math.random() * 80)))
      }
    }
  }

  private send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
    if (body === undefined || status === 204) {
      res.writeHead(status, headers)
      res.end()
      return
    }
    const text = JSON.stringify(body)
    res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers})
    res.end(text)
  }

  private async readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of req) {
      size += (chunk as Buffer).length
      if (size > MAX_BODY) throw new HttpError(413, {detail: `Request body larger than ${MAX_BODY} bytes`})
      chunks.push(chunk as Buffer)
    }
    return Buffer.concat(chunks).toString('utf8')
  }

  issueToken(clientId: string): {access_token: string; token_type: string; expires_in: number; scope: string} {
    const now = Math.floor(Date.now() / 1000)
    const scope = `tsg_id:${SANDBOX_TSG_ID}`
    const header = b64url(JSON.stringify({alg: 'HS256', typ: 'JWT'}))
    const payload = b64url(JSON.stringify({iss: 'daystrom-sandbox', sub: clientId, tsg_id: SANDBOX_TSG_ID, scope, iat: now, exp: now + this.cfg.tokenTtlSeconds, jti: randomUUID()}))
    const sig = b64url(createHmac('sha256', this.secret).update(`${header}.${payload}`).digest())
    return {access_token: `${header}.${payload}.${sig}`, token_type: 'Bearer', expires_in: this.cfg.tokenTtlSeconds, scope}
  }

  /** The client id of a valid bearer token, or a 401. */
  private authenticate(req: IncomingMessage): string {
    const unauthorized = (detail: string): HttpError => new HttpError(401, {detail}, {'www-authenticate': 'Bearer'})
    const h = req.headers.authorization
    if (!h) throw unauthorized('Not authenticated: missing Authorization header')
    const m = /^Bearer\s+(\S+)$/i.exec(h)
    if (!m) throw unauthorized('Not authenticated: expected a Bearer token')
    const parts = m[1].split('.')
    if (parts.length !== 3) throw unauthorized('Invalid access token')
    const expect = createHmac('sha256', this.secret).update(`${parts[0]}.${parts[1]}`).digest()
    const got = Buffer.from(parts[2], 'base64url')
    if (got.length !== expect.length || !timingSafeEqual(got, expect)) throw unauthorized('Invalid access token')
    let payload: {sub?: string; exp?: number}
    try {
      payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as {sub?: string; exp?: number}
    } catch {
      throw unauthorized('Invalid access token')
    }
    if (!payload.exp || payload.exp * 1000 <= Date.now()) throw unauthorized('Access token expired')
    return payload.sub ?? 'unknown'
  }

  private async tokenEndpoint(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const fail = (status: number, error: string, description: string): number => {
      this.send(res, status, {error, error_description: description}, status === 401 ? {'www-authenticate': 'Basic realm="daystrom-sandbox"'} : {})
      return status
    }
    if (req.method !== 'POST') return fail(405, 'invalid_request', 'The token endpoint accepts POST only')
    const form = new URLSearchParams(await this.readBody(req))
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')
    if (!basic) return fail(401, 'invalid_client', 'Client authentication failed: send the client id and secret with HTTP Basic authentication')
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    const id = decodeURIComponent(colon < 0 ? decoded : decoded.slice(0, colon))
    const secret = colon < 0 ? '' : decodeURIComponent(decoded.slice(colon + 1))
    const c = this.cfg.credentials
    if (id !== c.clientId || secret !== c.clientSecret) return fail(401, 'invalid_client', 'Client authentication failed: unknown client id or wrong client secret')
    if (form.get('grant_type') !== 'client_credentials') return fail(400, 'unsupported_grant_type', 'grant_type must be client_credentials')
    const scope = form.get('scope')
    if (!scope) return fail(400, 'invalid_request', `scope is required (tsg_id:${c.tsgId})`)
    if (!scope.split(/\s+/).includes(`tsg_id:${c.tsgId}`)) return fail(400, 'invalid_scope', `scope must be tsg_id:${c.tsgId}`)
    this.send(res, 200, this.issueToken(id), {'cache-control': 'no-store'})
    return 200
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now()
    const url = new URL(req.url ?? '/', 'http://sandbox')
    let status = 500
    try {
      if (url.pathname.replace(/\/+$/, '') === '/oauth2/access_token') {
        status = await this.tokenEndpoint(req, res)
        return
      }
      const m = /^\/aims\/(mgmt|data)(\/.*)$/.exec(url.pathname)
      const found = m ? match(m[1], m[2]).routes : []
      if (found.length === 0) throw new HttpError(404, {detail: 'Not Found'})
      const hit = found.find(f => f.route.method === req.method)
      if (!hit) throw new HttpError(405, {detail: 'Method Not Allowed'}, {allow: [...new Set(found.map(f => f.route.method))].join(', ')})
      const clientId = this.authenticate(req)
      // path parameters
      const errs: ReturnType<typeof item>[] = []
      for (const [name, value] of Object.entries(hit.params)) {
        const spec = PATH_PARAM_SPECS[name]
        if (spec) {
          try {
            parseQuery(new URLSearchParams([[name, value]]), {[name]: spec})
          } catch (error) {
            if (error instanceof HttpError) errs.push(...((error.body as {detail: ReturnType<typeof item>[]}).detail.map(d => ({...d, loc: ['path', name]}))))
            else throw error
          }
        } else if (!UUID_RE.test(value)) {
          checkUuid(['path', name], value, errs)
        }
      }
      if (errs.length > 0) throw unprocessable(errs)
      let body: unknown
      if (req.method === 'POST' || req.method === 'PUT') {
        const text = await this.readBody(req)
        if (text.trim() !== '') {
          try {
            body = JSON.parse(text)
          } catch (error) {
            throw unprocessable([item(['body', 0], 'JSON decode error', 'json_invalid', {}, {error: (error as Error).message})])
          }
        }
      } else {
        req.resume()
      }
      if (this.closed) throw new HttpError(503, {detail: 'Sandbox is shutting down'})
      const ctx: RouteContext = {
        db: this.cfg.db, params: hit.params, query: url.searchParams, body, clientId, settleDelayMs: this.cfg.settleDelayMs,
        scheduled: d => this.schedule(d),
      }
      // settle due scans first (outside the request's transaction): data-plane answers and group deletes see them done
      if (hit.route.plane === 'data' || req.method === 'DELETE') this.settle()
      const result = hit.route.write
        ? await this.writeTransaction(() => hit.route.handler(ctx))
        : hit.route.handler(ctx)
      status = result.status
      if (result.raw === undefined) this.send(res, result.status, result.body)
      else {
        res.writeHead(result.status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(result.raw)})
        res.end(result.raw)
      }
    } catch (error) {
      if (error instanceof HttpError) {
        status = error.status
        this.send(res, error.status, error.body, error.headers)
        return
      }
      const code = (error as {code?: string}).code ?? ''
      if (code.startsWith('SQLITE_BUSY')) {
        status = 503
        this.send(res, 503, {detail: 'Sandbox database is busy; retry'}, {'retry-after': '1'})
        return
      }
      throw error
    } finally {
      this.cfg.log?.(`${req.method} ${url.pathname}${url.search} ${status} ${Date.now() - started}ms`)
    }
  }
}
