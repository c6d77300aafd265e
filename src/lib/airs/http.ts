/**
 * The HTTP layer on got 14: timeouts, retries with exponential backoff and full jitter (honouring
 * Retry-After), proxies from HTTPS_PROXY/HTTP_PROXY/NO_PROXY, a daystrom User-Agent, and a redacted debug log.
 *
 * Retry policy: idempotent methods are retried on 429, 500, 502, 503, 504 and on connection resets and
 * timeouts. A POST is retried only when the connection was never established (the request provably did
 * not reach the server): ECONNREFUSED, ENOTFOUND, EAI_AGAIN.
 */
import got, {type Got, HTTPError, type Method, RequestError} from 'got'

import {httpError, networkError} from './errors.js'
import {proxyAgentFor} from './proxy.js'
import {redact, redactHeaders} from './redact.js'

export interface HttpOptions {
  retries: number
  timeoutMs: number
  userAgent: string
  debug?: (line: string) => void
  /** Base of the exponential backoff (ms); DAYSTROM_RETRY_BASE_MS overrides (tests). */
  retryBaseMs?: number
  maxRetryAfterMs?: number
}

export interface HttpRequest {
  method: Method
  url: string
  searchParams?: URLSearchParams
  json?: unknown
  form?: Record<string, string>
  headers?: Record<string, string>
  /** What the request is for, used in error messages ("list security groups"). */
  context: string
}

export interface HttpResponse<T = unknown> {
  status: number
  body: T
  headers: Record<string, string | string[] | undefined>
}

const RETRY_STATUS = [429, 500, 502, 503, 504]
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'])
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE'])

export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (!v) return undefined
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000)
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : Math.max(0, t - now)
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (raw === '') return undefined
  if (contentType?.includes('json') || /^[\s]*[[{"]/.test(raw)) {
    try {
      return JSON.parse(raw)
    } catch {
      return raw
    }
  }
  return raw
}

export class HttpTransport {
  private readonly got: Got
  private readonly opts: HttpOptions

  constructor(opts: HttpOptions) {
    this.opts = opts
    const base = opts.retryBaseMs ?? (Number(process.env.DAYSTROM_RETRY_BASE_MS) || 500)
    const maxRetryAfter = opts.maxRetryAfterMs ?? 120_000
    const debug = opts.debug
    this.got = got.extend({
      throwHttpErrors: true,
      timeout: {request: opts.timeoutMs},
      headers: {'user-agent': opts.userAgent, accept: 'application/json'},
      retry: {
        limit: opts.retries,
        methods: ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'POST'],
        statusCodes: RETRY_STATUS,
        errorCodes: ['ETIMEDOUT', 'ECONNRESET', 'EADDRINUSE', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'ENETUNREACH', 'EAI_AGAIN'],
        maxRetryAfter: undefined,
        calculateDelay: ({attemptCount, error, retryOptions}) => {
          if (attemptCount > retryOptions.limit) return 0
          const method = error.options.method.toUpperCase()
          const status = error.response?.statusCode
          if (!IDEMPOTENT.has(method)) {
            // non-idempotent: only when the request never left this machine
            if (status !== undefined || !NEVER_CONNECTED.has(error.code)) return 0
          } else if (status !== undefined && !RETRY_STATUS.includes(status)) {
            return 0
          } else if (status === undefined && !retryOptions.errorCodes.includes(error.code) && error.name !== 'TimeoutError') {
            return 0
          }
          const retryAfter = parseRetryAfter(error.response?.headers['retry-after'])
          let delay = retryAfter !== undefined
            ? Math.min(retryAfter, maxRetryAfter)
            : Math.floor(Math.random() * Math.min(30_000, base * 2 ** (attemptCount - 1)))
          if (delay <= 0) delay = 1 // 0 means "do not retry" to got
          return delay
        },
      },
      hooks: debug ? {
        beforeRequest: [options => {
          const url = options.url?.toString() ?? ''
          debug(`→ ${options.method} ${redact(url)}`)
          debug(`  headers ${JSON.stringify(redactHeaders(options.headers))}`)
          const body = options.json === undefined ? (typeof options.body === 'string' ? options.body : undefined) : JSON.stringify(options.json)
          const form = options.form ? new URLSearchParams(options.form as Record<string, string>).toString() : undefined
          if (body ?? form) debug(`  body ${redact((body ?? form)!).slice(0, 4000)}`)
        }],
        beforeRetry: [(error, retryCount) => {
          debug(`↻ retry ${retryCount} of ${error.options.method} ${redact(error.options.url?.toString() ?? '')} after ${error.response ? `HTTP ${error.response.statusCode}` : error.code ?? error.message}`)
        }],
        afterResponse: [response => {
          const ms = response.timings.phases.total
          debug(`← ${response.statusCode} ${response.request.options.method} ${redact(response.url)}${ms === undefined ? '' : ` (${ms} ms)`}`)
          const raw = typeof response.body === 'string' ? response.body : ''
          if (raw) debug(`  body ${redact(raw).slice(0, 4000)}`)
          return response
        }],
      } : {},
    })
  }

  async request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>> {
    try {
      const response = await this.got(req.url, {
        method: req.method,
        searchParams: req.searchParams,
        json: req.json,
        form: req.form,
        headers: req.headers,
        agent: proxyAgentFor(req.url),
        responseType: 'text',
      })
      return {status: response.statusCode, body: parseBody(response.body, response.headers['content-type']) as T, headers: response.headers}
    } catch (error) {
      if (error instanceof HTTPError) {
        const r = error.response
        const body = parseBody(typeof r.body === 'string' ? r.body : '', r.headers['content-type'])
        const requestId = (r.headers['x-request-id'] ?? r.headers['x-amzn-requestid']) as string | undefined
        throw Object.assign(httpError(r.statusCode, body, req.context, requestId), {response: {status: r.statusCode, body}})
      }
      if (error instanceof RequestError) throw networkError(error, req.context)
      throw error
    }
  }
}

/** Repeated keys for arrays (`source_types=S3&source_types=GCS`); undefined/null/'' skipped. */
export function toSearchParams(query: Record<string, unknown> | undefined): URLSearchParams | undefined {
  if (!query) return undefined
  const sp = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue
    if (Array.isArray(v)) for (const item of v) sp.append(k, String(item))
    else sp.append(k, typeof v === 'string' ? v : JSON.stringify(v))
  }
  return [...sp.keys()].length > 0 ? sp : undefined
}
