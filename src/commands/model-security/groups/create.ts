import {Flags} from '@oclif/core'

import {GROUP_SOURCE_TYPES} from '../../../lib/airs/enums.js'
import type {GroupCreate, SecurityGroup} from '../../../lib/airs/types.js'
import {assertValid, readConfigInput} from '../../../lib/command/config-input.js'
import {parseRuleSpecs, ruleConfigurations} from '../../../lib/command/group-body.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {renderJson} from '../../../lib/command/output.js'
import {groupDetail} from '../../../lib/command/views.js'

export default class GroupsCreate extends ModelSecurityCommand<typeof GroupsCreate> {
  static summary = 'Create a security group.'
  static description = `From flags, or from a JSON/YAML file (--config FILE, or - for stdin) holding the request body:
{"name", "source_type", "description", "rule_configurations": {"<rule uuid>": {"state", "field_values"}}}.
The body is validated locally before it is sent. The service provisions one rule instance per compatible rule.`

  static examples = [
    '<%= config.bin %> <%= command.id %> --name prod-s3-strict --source-type S3 --rule "Stored In Approved File Format=BLOCKING"',
    '<%= config.bin %> <%= command.id %> --config group.json',
    'cat group.yaml | <%= config.bin %> <%= command.id %> --config -',
  ]

  static flags = {
    name: Flags.string({summary: 'Group name (1-255 characters).', exclusive: ['config']}),
    'source-type': Flags.option({summary: 'Where the models come from.', options: [...GROUP_SOURCE_TYPES], exclusive: ['config']})(),
    description: Flags.string({summary: 'Description (up to 1000 characters).', exclusive: ['config']}),
    rule: Flags.string({summary: 'Initial state of a rule: NAME_OR_UUID=STATE (repeatable).', multiple: true, exclusive: ['config']}),
    config: Flags.string({summary: 'Request body from a JSON or YAML file (- for stdin).', exclusive: ['name', 'source-type', 'description', 'rule']}),
    'dry-run': Flags.boolean({summary: 'Print the request that would be sent, and send nothing.'}),
  }

  async run(): Promise<SecurityGroup | {method: string; path: string; body: GroupCreate}> {
    const f = this.flags
    let body: GroupCreate
    if (f.config) {
      body = await readConfigInput(f.config) as GroupCreate
      assertValid('GroupCreate', body, f.config === '-' ? '<stdin>' : f.config)
    } else {
      if (!f.name || !f['source-type']) this.error('--name and --source-type are required (or give --config FILE)', {exit: 2, code: 'E_USAGE'})
      body = {name: f.name, source_type: f['source-type']}
      if (f.description !== undefined) body.description = f.description
      assertValid('GroupCreate', body, 'flags', true)
      const specs = parseRuleSpecs(f.rule ?? [])
      if (specs.length > 0) body.rule_configurations = await ruleConfigurations(await this.client(), specs)
    }
    if (f['dry-run']) {
      const request = {method: 'POST', path: '/v1/security-groups', body}
      if (!this.jsonEnabled()) this.log(renderJson(request))
      return request
    }
    const client = await this.client()
    const group = await client.createSecurityGroup(body)
    return this.emitObject(group, groupDetail)
  }
}
