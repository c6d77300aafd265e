import {Args} from '@oclif/core'

import type {RuleInstance} from '../../../lib/airs/types.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {resolveGroupUuid} from '../../../lib/command/resolve.js'
import {resolveInstance} from '../../../lib/command/rule-instance.js'
import {ruleInstanceDetail} from '../../../lib/command/views.js'

export default class RuleInstancesGet extends ModelSecurityCommand<typeof RuleInstancesGet> {
  static summary = 'Show one rule instance of a group: its state, field values and the rule behind it.'
  static examples = ['<%= config.bin %> <%= command.id %> "Default LOCAL" 8dc7a788-bb16-4da0-9e41-8741f80e3ae6', '<%= config.bin %> <%= command.id %> "Default LOCAL" "Stored In Approved File Format"']
  static args = {
    group: Args.string({description: 'Group UUID or exact name.', required: true}),
    instance: Args.string({description: 'Rule instance UUID, or the name of its rule.', required: true}),
  }

  async run(): Promise<RuleInstance> {
    const client = await this.client()
    const group = await resolveGroupUuid(client, this.args.group)
    return this.emitObject(await resolveInstance(client, group, this.args.instance), ruleInstanceDetail)
  }
}
