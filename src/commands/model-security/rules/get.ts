import {Args} from '@oclif/core'

import type {Rule} from '../../../lib/airs/types.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {resolveRule} from '../../../lib/command/resolve.js'
import {ruleDetail} from '../../../lib/command/views.js'

export default class RulesGet extends ModelSecurityCommand<typeof RulesGet> {
  static summary = 'Show a security rule, by UUID or name: remediation, editable fields with allowed values, defaults.'
  static examples = ['<%= config.bin %> <%= command.id %> "Stored In Approved File Format"', '<%= config.bin %> <%= command.id %> cd178d93-7ebc-44f6-a9ca-6374c3114c05 --json']
  static args = {rule: Args.string({description: 'Rule UUID or exact name.', required: true})}

  async run(): Promise<Rule> {
    const client = await this.client()
    return this.emitObject(await resolveRule(client, this.args.rule), ruleDetail)
  }
}
