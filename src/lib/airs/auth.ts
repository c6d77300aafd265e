/**
 * OAuth2 client credentials (Basic auth, grant_type=client_credentials, scope=tsg_id:<id>), with the token
 * cached on disk (cache dir, 0600) per (token URL, client id, TSG) and reused across invocations until
 * 30 s before expiry. Concurrent callers in one process share one in-flight fetch.
 */
import {createHash} from 'node:crypto'
import {chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {DaystromError, EXIT, messageFromBody} from './errors.js'
import type {HttpTransport} from './http.js'
import {registerSecret} from './redact.js'

export const TOKEN_REFRESH_MARGIN_MS = 30_000

export interface TokenCredentials { clientId: string; clientSecret: string; tsgId: string; tokenEndpoint: string }

interface CachedToken { access_token: string; expires_at: number; token_type?: string }

export class TokenProvider {
  private current?: CachedToken
  private inflight?: Promise<string>
  private readonly file?: string

  constructor(private readonly creds: TokenCredentials, private readonly http: HttpTransport, cacheDir?: string,
    private readonly now: () => number = Date.now) {
    registerSecret(creds.clientSecret)
    if (cacheDir) {
      const key = createHash('sha256').update(`${creds.tokenEndpoint}\n${creds.clientId}\n${creds.tsgId}`).digest('hex').slice(0, 32)
      this.file = join(cacheDir, 'tokens', `${key}.json`)
    }
  }

  private fresh(t: CachedToken | undefined): t is CachedToken {
    return Boolean(t && this.now() < t.expires_at - TOKEN_REFRESH_MARGIN_MS)
  }

  private readCache(): CachedToken | undefined {
    if (!this.file) return undefined
    try {
      const t = JSON.parse(readFileSync(this.file, 'utf8')) as CachedToken
      if (typeof t.access_token === 'string' && typeof t.expires_at === 'number') {
        registerSecret(t.access_token)
        return t
      }
    } catch { /* no cache, or unreadable: fetch a new token */ }
    return undefined
  }

  private writeCache(t: CachedToken): void {
    if (!this.file) return
    try {
      mkdirSync(join(this.file, '..'), {recursive: true, mode: 0o700})
      const tmp = `${this.file}.${process.pid}.tmp`
      writeFileSync(tmp, JSON.stringify(t), {mode: 0o600})
      chmodSync(tmp, 0o600)
      renameSync(tmp, this.file)
    } catch { /* a cache we cannot write only costs a token fetch next time */ }
  }

  /** Forget the token (memory and disk), e.g. after a 401. */
  invalidate(): void {
    this.current = undefined
    if (this.file) rmSync(this.file, {force: true})
  }

  async token(): Promise<string> {
    if (this.fresh(this.current)) return this.current.access_token
    const cached = this.readCache()
    if (this.fresh(cached)) {
      this.current = cached
      return cached.access_token
    }
    this.inflight ??= this.fetchToken().finally(() => {
      this.inflight = undefined
    })
    return this.inflight
  }

  private async fetchToken(): Promise<string> {
    const basic = Buffer.from(`${this.creds.clientId}:${this.creds.clientSecret}`).toString('base64')
    registerSecret(basic)
    let res
    try {
      res = await this.http.request<Record<string, unknown>>({
        method: 'POST',
        url: this.creds.tokenEndpoint,
        headers: {authorization: `Basic ${basic}`},
        form: {grant_type: 'client_credentials', scope: `tsg_id:${this.creds.tsgId}`},
        context: 'get an access token',
      })
    } catch (error) {
      if (error instanceof DaystromError && error.status !== undefined && error.status >= 400 && error.status < 500) {
        const body = (error as DaystromError & {response?: {body?: unknown}}).response?.body
        throw new DaystromError(`the token endpoint rejected the client credentials (HTTP ${error.status})${messageFromBody(body) ? `: ${messageFromBody(body)}` : ''}`, {
          code: 'E_TOKEN_REJECTED', exit: EXIT.AUTH, status: error.status,
          suggestions: ['daystrom auth status', 'daystrom auth login'],
        })
      }
      throw error
    }
    const body = res.body
    if (!body || typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      throw new DaystromError('the token endpoint answered without access_token/expires_in', {code: 'E_AUTH_INVALID_RESPONSE', exit: EXIT.AUTH})
    }
    registerSecret(body.access_token)
    const token: CachedToken = {access_token: body.access_token, expires_at: this.now() + body.expires_in * 1000,
      token_type: typeof body.token_type === 'string' ? body.token_type : undefined}
    this.current = token
    this.writeCache(token)
    return token.access_token
  }
}
