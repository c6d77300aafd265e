/**
 * Redaction for everything that may reach a terminal or a log: Authorization headers, client secrets,
 * access tokens in bodies, credentials inside URLs (PyPI index URLs carry a token), and any secret value
 * registered at runtime.
 */
const registered = new Set<string>()

/** Remember a secret value so that every later redact() call masks it wherever it appears. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) registered.add(value)
}

export const MASK = '****'

/** Mask the password part of `scheme://user:password@host` URLs. */
export function maskUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s/:@"']*):([^\s/@"']+)@/gi, `$1$2:${MASK}@`)
}

export function redact(text: string): string {
  let out = text
  for (const secret of registered) out = out.split(secret).join(MASK)
  out = out
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, `$1 ${MASK}`)
    .replace(/("(?:access_token|refresh_token|id_token|client_secret|password|token)"\s*:\s*")[^"]*(")/gi, `$1${MASK}$2`)
    .replace(/\b(client_secret|access_token|password)=[^&\s"]+/gi, `$1=${MASK}`)
  return maskUrlCredentials(out)
}

export function redactHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(headers)) {
    out[k] = /^(authorization|proxy-authorization|cookie|set-cookie|x-pan-token)$/i.test(k)
      ? (typeof v === 'string' && /^(Bearer|Basic)\s/i.test(v) ? `${v.split(/\s/)[0]} ${MASK}` : MASK)
      : (typeof v === 'string' ? redact(v) : v)
  }
  return out
}
