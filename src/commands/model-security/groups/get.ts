import {Args, Flags} from '@oclif/core'

import type {RuleInstance, SecurityGroup} from '../../../lib/airs/types.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {renderTable} from '../../../lib/command/output.js'
import {resolveGroup} from '../../../lib/command/resolve.js'
import {groupDetail, ruleInstanceColumns} from '../../../lib/command/views.js'

type GroupWithRules = SecurityGroup & {rule_instances?: RuleInstance[]}

export default class GroupsGet extends ModelSecurityCommand<typeof GroupsGet> {
  static summary = 'Show a security group, by UUID or name.'
  static examples = [
    '<%= config.bin %> <%= command.id %> "Default LOCAL"',
    '<%= config.bin %> <%= command.id %> 5453a4ba-9f15-416f-b9b4-68b8af586622 --with-rules',
  ]

  static args = {group: Args.string({description: 'Group UUID or exact name.', required: true})}
  static flags = {
    'with-rules': Flags.boolean({summary: 'Include the group\'s rule instances (all pages).'}),
  }

  async run(): Promise<GroupWithRules> {
    const client = await this.client()
    const group: GroupWithRules = await resolveGroup(client, this.args.group)
    if (this.flags['with-rules']) {
      const instances: RuleInstance[] = []
      for await (const i of client.paginate(q => client.listRuleInstances(group.uuid, q), {limit: 100})) instances.push(i)
      group.rule_instances = instances
    }
    return this.emitObject(group, g => {
      const sections = groupDetail(g)
      if (g.rule_instances) {
        sections.push({title: `Rule instances (${g.rule_instances.length})`,
          rows: [], text: renderTable(g.rule_instances, ruleInstanceColumns.filter(c => !c.extended), {truncate: false})})
      }
      return sections
    })
  }
}
