/**
 * Waiting for scans and the CI gate (conventions §6.3): poll until a scan leaves PENDING, adaptively (a first
 * check after 0.5 s, the pause doubling up to --interval) and with a deadline; progress on stderr (listr2 on a TTY, one plain line per change otherwise, nothing in --json);
 * then the verdict: 0 ALLOWED, 8 BLOCKED, 9 ERROR, 11 still PENDING at the timeout. `--fail-on` chooses
 * which outcomes fail the gate; a timeout always fails. With several scans the worst outcome decides
 * (timeout > ERROR > BLOCKED > ALLOWED).
 */
import {Flags} from '@oclif/core'

import type {ModelSecurityClient} from '../airs/client.js'
import {DaystromError, EXIT, usageError} from '../airs/errors.js'
import type {Evaluation, Scan} from '../airs/types.js'
import {formatDuration, parseDuration} from '../util/duration.js'

export const FAIL_ON_VALUES = ['blocked', 'error', 'never'] as const
export type FailOn = Set<'blocked' | 'error'>

/** Parse `--fail-on` (comma list of blocked, error, never). */
export function parseFailOn(input: string | string[] | undefined, defaultValue = 'blocked,error'): FailOn {
  const text = Array.isArray(input) ? input.join(',') : (input ?? defaultValue)
  const parts = text.split(',').map(s => s.trim().toLowerCase()).filter(Boolean)
  if (parts.length === 0) throw usageError(`--fail-on: empty; allowed: ${FAIL_ON_VALUES.join(', ')} (comma-separated)`)
  const out: FailOn = new Set()
  for (const p of parts) {
    if (!(FAIL_ON_VALUES as readonly string[]).includes(p)) {
      throw usageError(`--fail-on: unknown value "${p}"; allowed: ${FAIL_ON_VALUES.join(', ')} (comma-separated, e.g. blocked,error)`)
    }
    if (p === 'never') {
      if (parts.length > 1) throw usageError('--fail-on: "never" cannot be combined with other values')
      return out
    }
    out.add(p as 'blocked' | 'error')
  }
  return out
}

/** Exit code of one outcome under --fail-on (0 when it does not fail the gate). */
export function outcomeExit(outcome: string | undefined, failOn: FailOn, timedOut = false): number {
  if (timedOut || outcome === 'PENDING') return EXIT.WAIT_TIMEOUT
  if (outcome === 'ERROR') return failOn.has('error') ? EXIT.SCAN_ERROR : EXIT.OK
  if (outcome === 'BLOCKED') return failOn.has('blocked') ? EXIT.BLOCKED : EXIT.OK
  return EXIT.OK
}

const SEVERITY: Record<number, number> = {[EXIT.OK]: 0, [EXIT.BLOCKED]: 1, [EXIT.SCAN_ERROR]: 2, [EXIT.WAIT_TIMEOUT]: 3}

/** The gate over several scans: the worst failing outcome decides; any timeout exits 11. */
export function gateExit(scans: Array<Pick<Scan, 'eval_outcome'>>, failOn: FailOn, timedOut = false): number {
  let worst: number = EXIT.OK
  for (const s of scans) {
    const code = outcomeExit(s.eval_outcome, failOn, timedOut && s.eval_outcome === 'PENDING')
    if (SEVERITY[code] > SEVERITY[worst]) worst = code
  }
  return worst
}

/** Why a scan did not pass, in one line (empty for ALLOWED/PENDING). */
export function outcomeReason(scan: Scan): string {
  if (scan.eval_outcome === 'ERROR') return [scan.error_code, scan.error_message].filter(Boolean).join(': ') || 'the scan failed'
  if (scan.eval_outcome === 'BLOCKED') {
    const s = scan.eval_summary
    return s ? `${s.rules_failed ?? 0} of ${s.total_rules ?? 0} rules failed` : 'blocking rules failed'
  }
  return ''
}

export function outcomeLine(scan: Scan): string {
  const reason = outcomeReason(scan)
  return `${scan.eval_outcome}${reason ? ` (${reason})` : ''}`
}

/** Flags of every waiting command. */
export const waitFlags = {
  interval: Flags.string({summary: 'Longest pause between polls: the first check comes after 0.5s, then the pause doubles up to this (500ms, 5s, 1m, or seconds).', default: '5s', helpGroup: 'WAIT'}),
  timeout: Flags.string({summary: 'Give up (exit 11) when a scan is still PENDING after this long (90s, 10m, or seconds).', default: '10m', helpGroup: 'WAIT'}),
  'fail-on': Flags.string({summary: 'Outcomes that fail the gate: blocked, error (comma list) or never.', default: 'blocked,error', helpGroup: 'WAIT'}),
}

export interface WaitSettings { intervalMs: number; timeoutMs: number; failOn: FailOn }

export function parseWaitFlags(f: {interval?: string; timeout?: string; 'fail-on'?: string}): WaitSettings {
  const dur = (name: string, v: string | undefined, dflt: string) => {
    try {
      const ms = parseDuration(v ?? dflt)
      if (ms <= 0) throw new Error(`must be more than 0, got "${v}"`)
      return ms
    } catch (error) {
      throw usageError(`--${name}: ${(error as Error).message}`)
    }
  }
  return {intervalMs: dur('interval', f.interval, '5s'), timeoutMs: dur('timeout', f.timeout, '10m'), failOn: parseFailOn(f['fail-on'])}
}

export interface WaitReporter {
  start(uuids: string[]): void
  /** Called after every poll of a scan. */
  update(scan: Scan, elapsedMs: number): void
  /** Called once at the end (all done or timed out). */
  finish(timedOut: boolean): Promise<void>
}

export const silentReporter = (): WaitReporter => ({start() {}, update() {}, async finish() {}})

/** One line per change of a scan's outcome. */
export function plainReporter(write: (line: string) => void): WaitReporter {
  const last = new Map<string, string>()
  return {
    start(uuids) {
      write(`Waiting for ${uuids.length === 1 ? `scan ${uuids[0]}` : `${uuids.length} scans`}...`)
    },
    update(scan, elapsed) {
      const line = outcomeLine(scan)
      if (last.get(scan.uuid) === line) return
      last.set(scan.uuid, line)
      write(`scan ${scan.uuid}: ${line} after ${formatDuration(elapsed)}`)
    },
    async finish(timedOut) {
      if (timedOut) write('Timed out while waiting; scans still PENDING are reported as such.')
    },
  }
}

/** listr2 task list on stderr: one task per scan, its title showing the status. */
export async function listrReporter(): Promise<WaitReporter> {
  const {Listr, ListrLogger, ProcessOutput} = await import('listr2')
  const logger = new ListrLogger({useIcons: true, processOutput: new ProcessOutput(process.stderr, process.stderr)})
  const pending = new Map<string, {title(t: string): void; resolve(): void; reject(e: Error): void}>()
  let running: Promise<unknown> | undefined
  return {
    start(uuids) {
      const tasks = new Listr(uuids.map(uuid => ({
        title: `scan ${uuid}: PENDING`,
        task: (_ctx: unknown, task: {title: string}) => new Promise<void>((resolve, reject) => {
          pending.set(uuid, {title: t => { task.title = t }, resolve, reject})
        }),
      })), {concurrent: true, exitOnError: false, rendererOptions: {logger}, fallbackRendererOptions: {logger}})
      running = tasks.run().catch(() => undefined)
    },
    update(scan, elapsed) {
      const p = pending.get(scan.uuid)
      if (!p) return
      p.title(`scan ${scan.uuid}: ${outcomeLine(scan)} (${formatDuration(elapsed)})`)
      if (scan.eval_outcome === 'ALLOWED') p.resolve()
      else if (scan.eval_outcome !== 'PENDING') p.reject(new Error(`scan ${scan.uuid}: ${outcomeLine(scan)}`))
      if (scan.eval_outcome !== 'PENDING') pending.delete(scan.uuid)
    },
    async finish(timedOut) {
      // Give listr2's tick a moment to register every task before settling the leftovers.
      await new Promise(r => setTimeout(r, 0))
      for (const [uuid, p] of pending) p.reject(new Error(`scan ${uuid}: still PENDING${timedOut ? ' at the timeout' : ''}`))
      pending.clear()
      await running
    },
  }
}

/** The reporter for the current streams: silent in --json, listr2 on a TTY, plain lines otherwise. */
export async function makeReporter(json: boolean, write: (line: string) => void): Promise<WaitReporter> {
  if (json) return silentReporter()
  if (process.stderr.isTTY && !process.env.CI) return listrReporter()
  return plainReporter(write)
}

export interface WaitResult { scans: Scan[]; timedOut: boolean }

/** Time as the wait loop sees it; tests inject a fake one to check the poll schedule without waiting. */
export interface Clock {
  now(): number
  sleep(ms: number): Promise<void>
}

export const systemClock: Clock = {now: () => Date.now(), sleep: ms => new Promise(r => setTimeout(r, ms))}

/** The pause before the first check of a scan that was just created (a fast service has settled it by then). */
export const FIRST_POLL_MS = 500

/**
 * The pause before the next poll: FIRST_POLL_MS first (or the interval when that is shorter), then twice the
 * previous pause, never more than the interval. With the default 5s: 0.5s, 1s, 2s, 4s, 5s, 5s...
 */
export function nextPollDelay(previousMs: number | undefined, intervalMs: number): number {
  if (previousMs === undefined) return Math.min(FIRST_POLL_MS, intervalMs)
  return Math.min(intervalMs, previousMs * 2)
}

/** Consecutive failed polls (after the client's own retries) tolerated before giving up. */
const MAX_POLL_FAILURES = 3

/**
 * Poll scans until none is PENDING or the deadline passes. Scans given in `initial` (a scan just created) are
 * first checked after FIRST_POLL_MS; others are read at once. Pauses follow nextPollDelay, cut short by the
 * deadline.
 */
export async function waitForScans(client: Pick<ModelSecurityClient, 'getScan'>, uuids: string[], settings: WaitSettings,
  reporter: WaitReporter = silentReporter(),
  opts: {initial?: Map<string, Scan>; note?: (m: string) => void; clock?: Clock} = {}): Promise<WaitResult> {
  const clock = opts.clock ?? systemClock
  const started = clock.now()
  const deadline = started + settings.timeoutMs
  const latest = new Map<string, Scan>(opts.initial ?? [])
  let delay: number | undefined
  let failures = 0
  reporter.start(uuids)
  const isPending = (u: string) => !latest.has(u) || latest.get(u)!.eval_outcome === 'PENDING'
  try {
    for (const s of latest.values()) reporter.update(s, 0)
    let first = !opts.initial?.size
    for (;;) {
      const todo = uuids.filter(isPending)
      if (todo.length === 0) return {scans: uuids.map(u => latest.get(u)!), timedOut: false}
      if (!first) {
        const remaining = deadline - clock.now()
        if (remaining <= 0) break
        delay = nextPollDelay(delay, settings.intervalMs)
        await clock.sleep(Math.min(delay, remaining))
      }
      first = false
      try {
        const got = await Promise.all(todo.map(u => client.getScan(u)))
        failures = 0
        for (const s of got) {
          latest.set(s.uuid, s)
          reporter.update(s, clock.now() - started)
        }
      } catch (error) {
        // 5xx/network errors survive the client's retries only when the service is really unwell; a few
        // more polls are cheap. Anything else (404, auth) is final.
        if (!(error instanceof DaystromError) || error.exit !== EXIT.NETWORK || ++failures >= MAX_POLL_FAILURES || latest.size === 0) throw error
        opts.note?.(`poll failed (${error.message}); retrying`)
      }
      if (clock.now() >= deadline && uuids.some(isPending)) break
    }
    return {scans: uuids.map(u => latest.get(u)!), timedOut: true}
  } finally {
    await reporter.finish(uuids.some(isPending))
  }
}

/** The failed BLOCKING rule evaluations of a BLOCKED scan (for the human view); empty otherwise. */
export async function failedBlockingRules(client: ModelSecurityClient, scan: Scan): Promise<Evaluation[]> {
  if (scan.eval_outcome !== 'BLOCKED') return []
  const page = await client.listScanEvaluations(scan.uuid, {result: 'FAILED', limit: 100})
  return page.items.filter(e => e.rule_instance_state === 'BLOCKING')
}

/** Finish a gating command: print the result in --json mode, then exit with the verdict (not an error). */
export function finishGate<R>(cmd: {jsonEnabled(): boolean; exit(code?: number): never}, result: R, code: number, logJson: (j: unknown) => void): R {
  if (code === 0) return result
  if (cmd.jsonEnabled()) logJson(result)
  return cmd.exit(code)
}
