/**
 * Errors and the exit-code contract (conventions §6.3). Every error a user can act on carries a stable
 * `code`, an exit code and, where useful, suggestions. Codes are part of the JSON contract: never rename.
 */
import type {ValidationErrorItem} from './types.js'

export const EXIT = {
  OK: 0, GENERIC: 1, USAGE: 2, AUTH: 3, NOT_FOUND: 4, REJECTED: 5, NETWORK: 6, CONFIG: 7,
  BLOCKED: 8, SCAN_ERROR: 9, INTERNAL: 10, WAIT_TIMEOUT: 11,
  /** `policy diff --detailed-exitcode`: the tenant differs from the policy file (changes pending). */
  POLICY_DRIFT: 12,
  INTERRUPTED: 130,
} as const

export interface DaystromErrorOptions {
  code: string
  exit: number
  status?: number
  details?: unknown
  suggestions?: string[]
  requestId?: string
  cause?: unknown
}

export class DaystromError extends Error {
  readonly code: string
  readonly exit: number
  readonly status?: number
  readonly details?: unknown
  readonly suggestions?: string[]
  readonly requestId?: string
  /** oclif reads `oclif.exit` for the process exit code in human mode. */
  readonly oclif: {exit: number}

  constructor(message: string, opts: DaystromErrorOptions) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause})
    this.name = 'DaystromError'
    this.code = opts.code
    this.exit = opts.exit
    this.status = opts.status
    this.details = opts.details
    this.suggestions = opts.suggestions
    this.requestId = opts.requestId
    this.oclif = {exit: opts.exit}
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {code: this.code, message: this.message, exit: this.exit}
    if (this.status !== undefined) out.status = this.status
    if (this.details !== undefined) out.details = this.details
    if (this.requestId) out.request_id = this.requestId
    if (this.suggestions?.length) out.suggestions = this.suggestions
    return out
  }
}

export const usageError = (message: string, details?: unknown, suggestions?: string[]) =>
  new DaystromError(message, {code: 'E_USAGE', exit: EXIT.USAGE, details, suggestions})

export const configError = (message: string, details?: unknown) =>
  new DaystromError(message, {code: 'E_CONFIG_INVALID', exit: EXIT.CONFIG, details})

/** Render the service's 422 `detail` (string or list) readably, one line per item. */
export function renderDetail(detail: unknown): string | undefined {
  if (typeof detail === 'string') return detail
  if (!Array.isArray(detail)) return undefined
  return (detail as ValidationErrorItem[]).map(d => {
    const loc = Array.isArray(d.loc) ? d.loc.join('.') : ''
    const input = d.input === undefined ? '' : ` (got ${JSON.stringify(d.input)?.slice(0, 80)})`
    return `${loc ? loc + ': ' : ''}${d.msg ?? JSON.stringify(d)}${input}`
  }).join('\n')
}

/** The service's own message from an error body, in the order the SDK uses plus FastAPI's `detail`. */
export function messageFromBody(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return typeof body === 'string' && body.trim() ? body.trim().slice(0, 2000) : undefined
  const b = body as Record<string, unknown>
  const detail = renderDetail(b.detail)
  if (detail) return detail
  for (const k of ['error_message', 'message', 'error_description', 'error']) {
    if (typeof b[k] === 'string') return b[k]
  }
  const e = b.error as Record<string, unknown> | undefined
  if (e && typeof e.message === 'string') return e.message
  return undefined
}

export function httpError(status: number, body: unknown, context: string, requestId?: string): DaystromError {
  const serviceMessage = messageFromBody(body)
  const details = body && typeof body === 'object' ? body : undefined
  if (status === 401 || status === 403) {
    return new DaystromError(`${context}: ${status === 401 ? 'authentication failed' : 'permission denied'} (HTTP ${status})${serviceMessage ? `: ${serviceMessage}` : ''}`, {
      code: status === 401 ? 'E_AUTH_REJECTED' : 'E_FORBIDDEN', exit: EXIT.AUTH, status, details, requestId,
      suggestions: ['daystrom auth status', 'daystrom auth login'],
    })
  }
  if (status === 404) {
    return new DaystromError(`${context}: not found (HTTP 404)${serviceMessage ? `: ${serviceMessage}` : ''}`, {
      code: 'E_NOT_FOUND', exit: EXIT.NOT_FOUND, status, details, requestId,
    })
  }
  if (status === 400 || status === 409 || status === 422) {
    const sep = serviceMessage?.includes('\n') ? ':\n' : ': '
    return new DaystromError(`${context}: the service rejected the request (HTTP ${status})${serviceMessage ? sep + serviceMessage : ''}`, {
      code: status === 409 ? 'E_CONFLICT' : status === 422 ? 'E_VALIDATION' : 'E_BAD_REQUEST', exit: EXIT.REJECTED, status, details, requestId,
    })
  }
  if (status === 429 || status >= 500) {
    return new DaystromError(`${context}: the service is unavailable (HTTP ${status}) after retries${serviceMessage ? `: ${serviceMessage}` : ''}`, {
      code: status === 429 ? 'E_RATE_LIMITED' : 'E_SERVER', exit: EXIT.NETWORK, status, details, requestId,
      suggestions: ['retry later, or raise --retries / --http-timeout'],
    })
  }
  return new DaystromError(`${context}: unexpected HTTP ${status}${serviceMessage ? `: ${serviceMessage}` : ''}`, {
    code: 'E_HTTP', exit: EXIT.GENERIC, status, details, requestId,
  })
}

export function networkError(err: Error & {code?: string}, context: string): DaystromError {
  const timeout = err.name === 'TimeoutError' || err.code === 'ETIMEDOUT'
  return new DaystromError(`${context}: ${timeout ? 'request timed out' : 'network error'}${err.code ? ` (${err.code})` : ''}: ${err.message}`, {
    code: timeout ? 'E_TIMEOUT' : 'E_NETWORK', exit: EXIT.NETWORK, cause: err,
    suggestions: ['check the endpoint and your proxy settings (HTTPS_PROXY, NO_PROXY)', 'raise --http-timeout or --retries'],
  })
}
