import {Flags} from '@oclif/core'

import {PolicyCommand} from '../../../lib/policy/command.js'
import type {Diagnostic} from '../../../lib/policy/load.js'
import {checkAgainstTenant, fileFlag, readPolicy, warningLine} from '../../../lib/policy/session.js'
import {documentCounts} from '../../../lib/policy/validate.js'

interface ValidateResult {
  valid: true
  file: string
  catalog_checked: boolean
  groups: number
  rules: number
  exceptions: number
  warnings: Diagnostic[]
}

export default class PolicyValidate extends PolicyCommand<typeof PolicyValidate> {
  static summary = 'Check a policy file: its format, then its rules against the live rule catalog. Never writes.'
  static description = `Schema first (no request is made when the file's shape is wrong), then against the tenant (or the sandbox's with
--sandbox): unknown rule names (with the closest names), rules that do not apply to the group's source type, fields a
rule does not let you edit, values outside a rule's allowed values, duplicate group names, exceptions for rules the
group cannot have, and groups that exist with another source type (that needs a delete and a create). An expired
exception is a warning; --strict makes every warning an error. Every problem names file:line:column and the JSON
pointer. Exit 7 when the document is invalid, 0 otherwise. Only read requests are made.`

  static examples = [
    '<%= config.bin %> <%= command.id %> -f policy.yaml',
    '<%= config.bin %> <%= command.id %> -f policy.yaml --strict --profile prod',
    '<%= config.bin %> <%= command.id %> -f policy.yaml --offline    # schema only, no credentials needed',
  ]

  static flags = {
    file: fileFlag,
    strict: Flags.boolean({summary: 'Treat warnings (expired exceptions, exceptions that change nothing) as errors.'}),
    offline: Flags.boolean({summary: 'Check only the document itself (schema, dates, duplicates): no request, no credentials.'}),
  }

  async run(): Promise<ValidateResult> {
    const {source, doc} = await readPolicy(this.flags.file)
    let warnings: Diagnostic[] = []
    if (!this.flags.offline) {
      warnings = (await checkAgainstTenant(await this.client(), source, new Date(), this.flags.strict)).warnings
      for (const w of warnings) this.logToStderr(warningLine(w))
    }
    const counts = documentCounts(doc)
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
    this.log(`${source.file} is valid: ${plural(counts.groups, 'group')}, ${plural(counts.rules, 'managed rule')}, ${plural(counts.exceptions, 'exception')}`
      + (this.flags.offline ? ' (--offline: the rule catalog was not checked).' : `${warnings.length > 0 ? `, ${plural(warnings.length, 'warning')}` : ''}.`))
    return {valid: true, file: source.file, catalog_checked: !this.flags.offline, ...counts, warnings}
  }
}
