/** Rule instances addressed by UUID or by the name of their rule within a group. */
import type {ModelSecurityClient} from '../airs/client.js'
import {DaystromError, EXIT} from '../airs/errors.js'
import type {RuleInstance} from '../airs/types.js'
import {isUuid} from './resolve.js'

export async function resolveInstance(client: ModelSecurityClient, groupUuid: string, ref: string): Promise<RuleInstance> {
  if (isUuid(ref)) return client.getRuleInstance(groupUuid, ref)
  const all: RuleInstance[] = []
  for await (const i of client.paginate(q => client.listRuleInstances(groupUuid, q), {limit: 100})) all.push(i)
  const match = all.filter(i => i.rule?.name === ref)
  if (match.length === 1) return match[0]
  if (match.length > 1) {
    throw new DaystromError(`rule "${ref}" has ${match.length} instances in this group; use one of: ${match.map(i => i.uuid).join(', ')}`, {code: 'E_AMBIGUOUS_NAME', exit: EXIT.USAGE})
  }
  throw new DaystromError(`no rule instance for rule "${ref}" in group ${groupUuid}. Rules in this group: ${all.map(i => i.rule?.name).filter(Boolean).join(', ')}`, {
    code: 'E_NOT_FOUND', exit: EXIT.NOT_FOUND, suggestions: [`daystrom model-security rule-instances list ${groupUuid}`],
  })
}
