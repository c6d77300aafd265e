/**
 * Reading the tenant for policy commands, with as few requests as the API allows: the rule catalog and the
 * group list at 100 per page, and one rule-instance list (100 per page) per group that needs it, a few at a
 * time.
 */
import type {ModelSecurityClient} from '../airs/client.js'
import type {Rule, RuleInstance, SecurityGroup} from '../airs/types.js'

const PAGE = 100
/** Rule-instance lists in flight at once. */
const CONCURRENCY = 6

async function all<T>(iter: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iter) out.push(item)
  return out
}

export const fetchCatalog = (client: ModelSecurityClient): Promise<Rule[]> =>
  all(client.paginate(q => client.listSecurityRules(q), {limit: PAGE}))

export async function fetchGroups(client: ModelSecurityClient): Promise<SecurityGroup[]> {
  return (await all(client.paginate(q => client.listSecurityGroups(q), {limit: PAGE}))).filter(g => !g.is_tombstone)
}

/** Rule instances of each group, by group UUID. */
export async function fetchInstances(client: ModelSecurityClient, groupUuids: string[]): Promise<Record<string, RuleInstance[]>> {
  const out: Record<string, RuleInstance[]> = {}
  const queue = [...new Set(groupUuids)]
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < queue.length) {
      const uuid = queue[next++]
      out[uuid] = await all(client.paginate(q => client.listRuleInstances(uuid, q), {limit: PAGE}))
    }
  }
  await Promise.all(Array.from({length: Math.min(CONCURRENCY, queue.length)}, worker))
  return out
}
