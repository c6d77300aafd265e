import {Flags} from '@oclif/core'

import {EXIT} from '../../../lib/airs/errors.js'
import {finishGate} from '../../../lib/command/gate.js'
import {PolicyCommand} from '../../../lib/policy/command.js'
import type {Plan} from '../../../lib/policy/plan.js'
import {fileFlag, planFormat, planJson, preparePlan, pruneFlag, readPolicy, renderPlan, warningLine} from '../../../lib/policy/session.js'

export default class PolicyDiff extends PolicyCommand<typeof PolicyDiff> {
  static aliases = ['model-security:policy:plan']
  static summary = 'Show the changes policy apply would make (alias: policy plan). Never writes.'
  static description = `Reads the tenant and compares it with the file: groups to create (with their rules), descriptions and rule instances
(state, field lists) to change, and with --prune groups the file does not name to delete (never a group whose name
starts with "Default ", such as the service's "Default <SOURCE>" groups). Rules and fields the file does not list are left alone; field lists compare as sets. Exceptions show which
state is in force and why; after expiry the rule's state in the file (or its default state) applies again.

Output: a Terraform-like plan (+ create, ~ update, - delete, before → after) and a summary line; -o markdown for a
pull-request comment; --json for {changes, summary, exceptions, warnings}. Exit 0, or with --detailed-exitcode 12
when changes are pending (a drift alarm). An invalid file exits 7.`

  static examples = [
    '<%= config.bin %> <%= command.id %> -f policy.yaml',
    '<%= config.bin %> <%= command.id %> -f policy.yaml -o markdown > plan.md',
    '<%= config.bin %> <%= command.id %> -f policy.yaml --detailed-exitcode --profile prod   # 12 = drift',
    '<%= config.bin %> model-security policy plan -f policy.yaml --prune --json',
  ]

  static flags = {
    file: fileFlag,
    prune: pruneFlag,
    'detailed-exitcode': Flags.boolean({summary: 'Exit 12 when changes are pending (0 when the tenant matches the file).'}),
  }

  async run(): Promise<Plan> {
    const format = planFormat(this.jsonEnabled(), (this.flags as {output?: string}).output)
    const {source, doc} = await readPolicy(this.flags.file)
    const {plan, warnings} = await preparePlan(await this.client(), source, doc, new Date(), {prune: this.flags.prune})
    for (const w of [...warnings.map(warningLine), ...plan.warnings.map(w => `warning: ${w}`)]) process.stderr.write(`${w}\n`)
    if (!this.jsonEnabled()) this.log(await renderPlan(plan, format, source.file))
    const result = planJson(plan)
    const drift = this.flags['detailed-exitcode'] && plan.summary.total > 0
    return finishGate(this, result, drift ? EXIT.POLICY_DRIFT : EXIT.OK, j => this.logJson(j))
  }
}
