/**
 * Applying a plan: one write request per change, one at a time, in plan order (creates, updates, deletes).
 * The first failure stops the run; every change ends `applied`, `failed` (with the service's message) or
 * `not_attempted`, so the report says exactly what happened, and running apply again plans from the new
 * state and finishes the rest. Progress goes through a runner: listr2 on a TTY, plain lines otherwise,
 * silent in --json mode; all on stderr.
 */
import type {ModelSecurityClient} from '../airs/client.js'
import {DaystromError, EXIT} from '../airs/errors.js'
import type {GroupCreate, GroupUpdate, RuleInstanceUpdate} from '../airs/types.js'
import type {Change, Plan, PlanSummary} from './plan.js'
import {changeTitle} from './render.js'

export type ChangeStatus = 'applied' | 'failed' | 'not_attempted'

export type ChangeResult = Change & {
  status: ChangeStatus
  error?: {code: string; message: string; exit: number; status?: number}
}

export interface ApplySummary extends PlanSummary { applied: number; failed: number; not_attempted: number }

export interface ApplyResult {
  changes: ChangeResult[]
  summary: ApplySummary
  exceptions: Plan['exceptions']
  warnings: string[]
}

export interface Step { title: string; run: () => Promise<void> }

/** Runs steps in order and stops at the first that throws (the error is recorded by the step itself). */
export interface StepRunner { run(steps: Step[]): Promise<void> }

export const silentRunner: StepRunner = {
  async run(steps) {
    for (const s of steps) await s.run()
  },
}

/** One line per step on `write`: what starts, what failed. */
export function plainRunner(write: (line: string) => void): StepRunner {
  return {
    async run(steps) {
      for (const [i, s] of steps.entries()) {
        write(`[${i + 1}/${steps.length}] ${s.title}`)
        try {
          await s.run()
        } catch (error) {
          write(`[${i + 1}/${steps.length}] failed: ${(error as Error).message.split('\n')[0]}`)
          throw error
        }
      }
    },
  }
}

/** listr2 on stderr: a task per change, run one after the other; the first failure ends the list. */
export async function listrRunner(): Promise<StepRunner> {
  const {Listr, ListrLogger, ProcessOutput} = await import('listr2')
  const logger = new ListrLogger({useIcons: true, processOutput: new ProcessOutput(process.stderr, process.stderr)})
  return {
    async run(steps) {
      const tasks = new Listr(steps.map(s => ({title: s.title, task: () => s.run()})),
        {concurrent: false, exitOnError: true, rendererOptions: {logger}, fallbackRendererOptions: {logger}} as never)
      await tasks.run()
    },
  }
}

/** The runner for the current streams: silent in --json, listr2 on a TTY, plain lines otherwise. */
export async function makeRunner(json: boolean, write: (line: string) => void): Promise<StepRunner> {
  if (json) return silentRunner
  if (process.stderr.isTTY && !process.env.CI) return listrRunner()
  return plainRunner(write)
}

async function execute(client: ModelSecurityClient, c: Change): Promise<void> {
  switch (c.kind) {
    case 'create_group': await client.createSecurityGroup(c.request.body as GroupCreate); break
    case 'update_group': await client.updateSecurityGroup(c.group_uuid, c.request.body as GroupUpdate); break
    case 'update_rule': await client.updateRuleInstance(c.group_uuid, c.instance_uuid, c.request.body as RuleInstanceUpdate); break
    case 'delete_group': await client.deleteSecurityGroup(c.group_uuid); break
  }
}

function describeFailure(error: unknown): NonNullable<ChangeResult['error']> {
  if (error instanceof DaystromError) {
    return {code: error.code, message: error.message, exit: error.exit, ...(error.status === undefined ? {} : {status: error.status})}
  }
  return {code: 'E_INTERNAL', message: (error as Error)?.message ?? String(error), exit: EXIT.INTERNAL}
}

/** Apply the plan; returns every change with its status and the error that stopped the run, if any. */
export async function applyPlan(client: ModelSecurityClient, p: Plan, runner: StepRunner): Promise<{result: ApplyResult; failure?: Error}> {
  const changes: ChangeResult[] = p.changes.map(c => ({...c, status: 'not_attempted'}))
  let failure: Error | undefined
  const steps: Step[] = changes.map(c => ({
    title: changeTitle(c),
    run: async () => {
      try {
        await execute(client, c)
        c.status = 'applied'
      } catch (error) {
        c.status = 'failed'
        c.error = describeFailure(error)
        failure = error as Error
        throw error
      }
    },
  }))
  try {
    await runner.run(steps)
  } catch (error) {
    // a runner error that is not a step's (listr2 itself) still stops the run
    failure ??= error as Error
  }
  const count = (s: ChangeStatus): number => changes.filter(c => c.status === s).length
  return {
    result: {
      changes,
      summary: {...p.summary, applied: count('applied'), failed: count('failed'), not_attempted: count('not_attempted')},
      exceptions: p.exceptions,
      warnings: p.warnings,
    },
    failure,
  }
}

const LABEL: Record<ChangeStatus, string> = {applied: 'applied', failed: 'FAILED', not_attempted: 'not attempted'}

/** The report of an interrupted apply: each change applied / failed (with the service's message) / not attempted. */
export function renderApplyReport(r: ApplyResult): string {
  const s = r.summary
  const out = [`Apply stopped: ${s.applied} of ${s.total} change${s.total === 1 ? '' : 's'} applied, ${s.failed} failed, ${s.not_attempted} not attempted.`]
  for (const c of r.changes) {
    const msg = c.error ? `\n${' '.repeat(17)}${c.error.message.replaceAll('\n', '\n' + ' '.repeat(17))}` : ''
    out.push(`  ${LABEL[c.status].padEnd(14)} ${changeTitle(c)}${msg}`)
  }
  out.push('Fix the cause and run the same command again: it plans from the tenant\'s current state, so applied changes are not repeated.')
  return out.join('\n')
}

/** One line for a finished apply. */
export function appliedLine(r: ApplyResult): string {
  const s = r.summary
  if (s.total === 0) return 'No changes. The tenant already matches the file.'
  return `Apply complete: ${s.applied} change${s.applied === 1 ? '' : 's'} (${s.create} group${s.create === 1 ? '' : 's'} created, ${s.update} updated, ${s.delete} deleted).`
}
