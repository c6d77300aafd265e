/** Durations: `90s`, `10m`, `1h`, `1h30m`, `500ms` or plain seconds (`30`, `2.5`). Returns milliseconds. */
const UNIT_MS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

export function parseDuration(input: string): number {
  const text = input.trim().toLowerCase()
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g
  let total = 0
  let consumed = 0
  for (const m of text.matchAll(re)) {
    if (m.index !== consumed) break
    total += Number(m[1]) * UNIT_MS[m[2]]
    consumed += m[0].length
  }
  if (consumed === 0 || consumed !== text.length) {
    throw new Error(`invalid duration "${input}": use e.g. 90s, 10m, 1h or a number of seconds`)
  }
  return Math.round(total)
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  const s = ms / 1000
  if (s < 60) return `${Number.isInteger(s) ? s : s.toFixed(1)}s`
  const m = Math.floor(s / 60)
  const rs = Math.round(s - m * 60)
  if (m < 60) return rs ? `${m}m${rs}s` : `${m}m`
  const h = Math.floor(m / 60)
  const rm = m - h * 60
  return rm ? `${h}h${rm}m` : `${h}h`
}

/**
 * A point in time: an ISO date/time, or a duration meaning "that long ago" (`24h`, `7d`).
 * Returns an ISO-8601 string in UTC.
 */
export function parseTimePoint(input: string, now = Date.now()): string {
  const text = input.trim()
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const t = Date.parse(text)
    if (Number.isNaN(t)) throw new Error(`invalid time "${input}": use an ISO date/time (2026-05-01T12:00:00Z) or a duration ago (24h, 7d)`)
    return new Date(t).toISOString()
  }
  try {
    return new Date(now - parseDuration(text)).toISOString()
  } catch {
    throw new Error(`invalid time "${input}": use an ISO date/time (2026-05-01T12:00:00Z) or a duration ago (24h, 7d)`)
  }
}
