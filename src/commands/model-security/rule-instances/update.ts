import {Args, Flags} from '@oclif/core'

import {RULE_STATES} from '../../../lib/airs/enums.js'
import {usageError} from '../../../lib/airs/errors.js'
import type {FieldValues, RuleInstance, RuleInstanceUpdate} from '../../../lib/airs/types.js'
import {assertValid, readConfigInput} from '../../../lib/command/config-input.js'
import {checkFields, fieldPairs} from '../../../lib/command/group-body.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {renderJson} from '../../../lib/command/output.js'
import {isUuid, resolveGroupUuid} from '../../../lib/command/resolve.js'
import {resolveInstance} from '../../../lib/command/rule-instance.js'
import {ruleInstanceDetail} from '../../../lib/command/views.js'

export default class RuleInstancesUpdate extends ModelSecurityCommand<typeof RuleInstancesUpdate> {
  static summary = 'Change the state or field values of a rule instance.'
  static description = `--field key=value replaces that key's list with the given values (repeat the flag, or use commas, for several).
--add-field / --remove-field merge into the current list (read-modify-write). Keys and values are checked against the
rule's editable fields and allowed values. --config FILE takes the body as JSON/YAML ({"state", "field_values"});
security_group_uuid is added from the group argument.`

  static examples = [
    '<%= config.bin %> <%= command.id %> "Default LOCAL" "Stored In Approved File Format" --state BLOCKING',
    '<%= config.bin %> <%= command.id %> "Default LOCAL" 8dc7a788-bb16-4da0-9e41-8741f80e3ae6 --add-field approved_formats=onnx',
    'echo \'{"state": "BLOCKING"}\' > update.json; <%= config.bin %> <%= command.id %> <group> <instance> --config update.json',
  ]

  static args = {
    group: Args.string({description: 'Group UUID or exact name.', required: true}),
    instance: Args.string({description: 'Rule instance UUID, or the name of its rule.', required: true}),
  }

  static flags = {
    state: Flags.option({summary: 'New state.', options: [...RULE_STATES], exclusive: ['config']})(),
    field: Flags.string({summary: 'Replace a field\'s list: key=value (repeatable).', multiple: true, exclusive: ['config']}),
    'add-field': Flags.string({summary: 'Add a value to a field\'s list: key=value (repeatable).', multiple: true, exclusive: ['config']}),
    'remove-field': Flags.string({summary: 'Remove a value from a field\'s list: key=value (repeatable).', multiple: true, exclusive: ['config']}),
    config: Flags.string({summary: 'Body from a JSON or YAML file (- for stdin).'}),
    'dry-run': Flags.boolean({summary: 'Print the request that would be sent, and send nothing.'}),
  }

  async run(): Promise<RuleInstance | {method: string; path: string; body: RuleInstanceUpdate}> {
    const f = this.flags
    const replace = fieldPairs(f.field, '--field')
    const add = fieldPairs(f['add-field'], '--add-field')
    const remove = fieldPairs(f['remove-field'], '--remove-field')
    let fileBody: Record<string, unknown> | undefined
    if (f.config) {
      const doc = await readConfigInput(f.config)
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw usageError(`${f.config}: expected a JSON/YAML object`)
      fileBody = doc as Record<string, unknown>
      // validate before anything is sent; the group's UUID is filled in once resolved
      assertValid('RuleInstanceUpdate', {...fileBody, security_group_uuid: fileBody.security_group_uuid ?? '00000000-0000-4000-8000-000000000000'},
        f.config === '-' ? '<stdin>' : f.config)
    } else if (!f.state && replace.size + add.size + remove.size === 0) {
      this.error('nothing to update: give --state, --field, --add-field, --remove-field or --config FILE', {exit: 2, code: 'E_USAGE'})
    }

    const client = await this.client()
    const group = await resolveGroupUuid(client, this.args.group)
    let body: RuleInstanceUpdate
    let instanceUuid: string
    if (fileBody) {
      if (fileBody.security_group_uuid !== undefined && fileBody.security_group_uuid !== group) {
        throw usageError(`${f.config}: security_group_uuid ${JSON.stringify(fileBody.security_group_uuid)} differs from the group argument (${group})`)
      }
      body = {...fileBody, security_group_uuid: group}
      instanceUuid = isUuid(this.args.instance) ? this.args.instance : (await resolveInstance(client, group, this.args.instance)).uuid
    } else {
      const needCurrent = replace.size + add.size + remove.size > 0 || !isUuid(this.args.instance)
      const current = needCurrent ? await resolveInstance(client, group, this.args.instance) : undefined
      instanceUuid = current?.uuid ?? this.args.instance
      body = {security_group_uuid: group}
      if (f.state) body.state = f.state
      if (current) {
        const fields: Record<string, string[]> = {...current.field_values as Record<string, string[]>}
        for (const [k, v] of replace) fields[k] = [...new Set(v)]
        for (const [k, v] of add) fields[k] = [...new Set([...(fields[k] ?? []), ...v])]
        for (const [k, v] of remove) {
          const missing = v.filter(x => !(fields[k] ?? []).includes(x))
          if (missing.length > 0) throw usageError(`--remove-field: ${k} does not contain ${missing.map(m => `"${m}"`).join(', ')} (current: ${(fields[k] ?? []).join(', ') || 'empty'})`)
          fields[k] = (fields[k] ?? []).filter(x => !v.includes(x))
        }
        const changed: FieldValues = Object.fromEntries([...new Set([...replace.keys(), ...add.keys(), ...remove.keys()])].map(k => [k, fields[k]]))
        checkFields(current.rule, changed, '--field')
        if (replace.size + add.size + remove.size > 0) body.field_values = fields
      }
      assertValid('RuleInstanceUpdate', body, 'flags', true)
    }
    if (f['dry-run']) {
      const request = {method: 'PUT', path: `/v1/security-groups/${group}/rule-instances/${instanceUuid}`, body}
      if (!this.jsonEnabled()) this.log(renderJson(request))
      return request
    }
    return this.emitObject(await client.updateRuleInstance(group, instanceUuid, body), ruleInstanceDetail)
  }
}
