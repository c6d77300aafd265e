import {Args, Flags} from '@oclif/core'

import {RULE_STATES} from '../../../lib/airs/enums.js'
import type {RuleInstance} from '../../../lib/airs/types.js'
import {pagingFlags} from '../../../lib/command/flags.js'
import {fetchList} from '../../../lib/command/list.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {resolveGroupUuid, resolveRuleUuid} from '../../../lib/command/resolve.js'
import {ruleInstanceColumns} from '../../../lib/command/views.js'

export default class RuleInstancesList extends ModelSecurityCommand<typeof RuleInstancesList> {
  static summary = 'List the rule instances of a security group.'
  static examples = ['<%= config.bin %> <%= command.id %> "Default LOCAL"', '<%= config.bin %> <%= command.id %> prod-s3 --state BLOCKING --all', '<%= config.bin %> <%= command.id %> prod-s3 --rule "Stored In Approved File Format"']
  static columns = ruleInstanceColumns
  static args = {group: Args.string({description: 'Group UUID or exact name.', required: true})}
  static flags = {
    rule: Flags.string({summary: 'Only the instance of this security rule (name or UUID).'}),
    state: Flags.option({summary: 'Only instances in this state.', options: [...RULE_STATES]})(),
    ...pagingFlags(10),
  }

  async run(): Promise<RuleInstance[]> {
    const f = this.flags
    const client = await this.client()
    const [group, rule] = await Promise.all([resolveGroupUuid(client, this.args.group), f.rule ? resolveRuleUuid(client, f.rule) : undefined])
    const items = await fetchList(client, q => client.listRuleInstances(group, {...q, security_rule_uuid: rule, state: f.state}), f, this.pagingNote)
    return this.emitList(items)
  }
}
