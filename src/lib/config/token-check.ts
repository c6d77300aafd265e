/** "Can a token be obtained?" for auth login/status: one token request (or the cached token). */
import {DaystromError} from '../airs/errors.js'
import {userAgent} from '../util/version.js'
import {cacheDir} from './paths.js'
import type {Credentials} from './resolve.js'

export interface TokenCheck { ok: boolean; message: string; code?: string }

export async function checkToken(creds: Credentials, opts: {timeoutMs?: number; retries?: number; debug?: (l: string) => void} = {}): Promise<TokenCheck> {
  const {HttpTransport} = await import('../airs/http.js')
  const {TokenProvider} = await import('../airs/auth.js')
  const http = new HttpTransport({retries: opts.retries ?? 1, timeoutMs: opts.timeoutMs ?? 30_000, userAgent: userAgent(), debug: opts.debug})
  const provider = new TokenProvider(creds, http, cacheDir())
  try {
    await provider.token()
    return {ok: true, message: `a token was obtained from ${creds.tokenEndpoint}`}
  } catch (error) {
    if (error instanceof DaystromError) return {ok: false, message: error.message, code: error.code}
    throw error
  }
}
