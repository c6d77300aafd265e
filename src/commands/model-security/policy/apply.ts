import {Flags} from '@oclif/core'

import {DaystromError, EXIT} from '../../../lib/airs/errors.js'
import {renderJson, renderYaml} from '../../../lib/command/output.js'
import {type ApplyResult, appliedLine, applyPlan, makeRunner, renderApplyReport} from '../../../lib/policy/apply.js'
import {PolicyCommand} from '../../../lib/policy/command.js'
import type {Plan} from '../../../lib/policy/plan.js'
import {renderPlanText} from '../../../lib/policy/render.js'
import {fileFlag, planFormat, planJson, preparePlan, pruneFlag, readPolicy, renderPlan, warningLine} from '../../../lib/policy/session.js'

export default class PolicyApply extends PolicyCommand<typeof PolicyApply> {
  static summary = 'Make the tenant match a policy file: create, update and (with --prune) delete groups.'
  static description = `Validates the file, reads the tenant, prints the plan (as policy diff does) and asks for confirmation on a terminal
(--yes otherwise), then writes: group creates first (with their rules' states and fields in the create request), then
description and rule-instance updates, deletes last. The plan is made from the tenant's state right before applying
(and made again after you confirm, in case the tenant changed meanwhile), so no saved plan is needed.

Idempotent: applying the same file twice makes no write request the second time. On a failure apply stops, reports
each change as applied, failed (with the service's message) or not attempted, and exits with the failure's code;
running it again finishes the rest. Progress goes to stderr; stdout carries only the result (--json: the changes
with their status). --dry-run prints the plan and changes nothing (same as policy diff).`

  static examples = [
    '<%= config.bin %> <%= command.id %> -f policy.yaml',
    '<%= config.bin %> <%= command.id %> -f policy.yaml --yes --profile prod',
    '<%= config.bin %> <%= command.id %> -f policy.yaml --prune --yes --sandbox',
    '<%= config.bin %> <%= command.id %> -f policy.yaml --dry-run -o markdown',
  ]

  static flags = {
    file: fileFlag,
    prune: pruneFlag,
    yes: Flags.boolean({char: 'y', summary: 'Apply without asking for confirmation (needed without a terminal).'}),
    'dry-run': Flags.boolean({summary: 'Print the plan and change nothing (same as policy diff).'}),
  }

  async run(): Promise<Plan | ApplyResult> {
    const f = this.flags
    const format = planFormat(this.jsonEnabled(), (f as {output?: string}).output)
    const {source, doc} = await readPolicy(f.file)
    const client = await this.client()
    const prepare = async (quiet = false): Promise<Plan> => {
      const {plan, warnings} = await preparePlan(client, source, doc, new Date(), {prune: f.prune})
      if (!quiet) for (const w of [...warnings.map(warningLine), ...plan.warnings.map(w => `warning: ${w}`)]) process.stderr.write(`${w}\n`)
      return plan
    }
    let plan = await prepare()
    if (f['dry-run']) {
      if (!this.jsonEnabled()) this.log(await renderPlan(plan, format, source.file))
      return planJson(plan)
    }
    if (plan.summary.total > 0) {
      this.logToStderr(renderPlanText(plan, source.file))
      if (!f.yes) {
        this.assertCanPrompt(`apply ${plan.summary.total} change${plan.summary.total === 1 ? '' : 's'}`)
        plan = await this.confirmPlan(plan, () => prepare(true), source.file)
      }
    }
    const runner = await makeRunner(this.jsonEnabled(), line => process.stderr.write(`${line}\n`))
    const {result, failure} = await applyPlan(client, plan, runner)
    // -o json|yaml: the result as data on stdout (as --json prints it), the report for humans on stderr
    const asData = format === 'json' || format === 'yaml'
    if (failure !== undefined) {
      if (this.jsonEnabled()) this.logJson(result)
      else {
        this.logToStderr(renderApplyReport(result))
        if (asData) this.log(format === 'json' ? renderJson(result) : await renderYaml(result))
      }
      throw failure
    }
    if (!this.jsonEnabled()) {
      if (asData) this.log(format === 'json' ? renderJson(result) : await renderYaml(result))
      else this.log(plan.summary.total === 0 ? `No changes. The tenant matches ${source.file}.` : appliedLine(result))
    }
    return result
  }

  /** Ask on the terminal; after a yes, plan again and ask again if the tenant changed while the user read the plan. */
  private async confirmPlan(shown: Plan, prepare: () => Promise<Plan>, file: string): Promise<Plan> {
    let plan = shown
    for (;;) {
      if (!(await this.confirm(`Apply these ${plan.summary.total} change${plan.summary.total === 1 ? '' : 's'} to the tenant?`))) {
        throw new DaystromError('apply cancelled: nothing was changed', {code: 'E_ABORTED', exit: EXIT.GENERIC})
      }
      const fresh = await prepare()
      if (JSON.stringify(fresh.changes) === JSON.stringify(plan.changes)) return plan
      if (fresh.summary.total === 0) return fresh
      this.logToStderr(`\nThe tenant changed while you were deciding. The plan is now:\n\n${renderPlanText(fresh, file)}`)
      plan = fresh
    }
  }
}
