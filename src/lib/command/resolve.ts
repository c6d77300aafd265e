/**
 * Groups and rules are addressed by UUID or by exact name. An unknown name exits 4 with the closest names;
 * an ambiguous one exits 2 and lists the matches.
 */
import type {ModelSecurityClient} from '../airs/client.js'
import {UUID_RE} from '../airs/enums.js'
import {DaystromError, EXIT} from '../airs/errors.js'
import type {Rule, SecurityGroup} from '../airs/types.js'

interface Named { uuid: string; name: string }

async function findByName<T extends Named>(client: ModelSecurityClient, name: string, kind: string,
  list: (q: {skip?: number; limit?: number; search_query?: string}) => ReturnType<ModelSecurityClient['listSecurityGroups']> | ReturnType<ModelSecurityClient['listSecurityRules']>,
  listCommand: string): Promise<T> {
  const search = name.length >= 3 && name.length <= 1000 ? name : undefined
  const all: T[] = []
  for await (const item of client.paginate(q => list({...q, search_query: search}) as never, {limit: 100})) all.push(item as T)
  const exact = all.filter(i => i.name === name)
  if (exact.length === 1) return exact[0]
  if (exact.length > 1) {
    throw new DaystromError(`${kind} name "${name}" is ambiguous; ${exact.length} match:\n${exact.map(i => `  ${i.uuid}  ${i.name}`).join('\n')}\nUse the UUID instead.`, {
      code: 'E_AMBIGUOUS_NAME', exit: EXIT.USAGE, details: {matches: exact.map(i => ({uuid: i.uuid, name: i.name}))},
    })
  }
  const lower = name.toLowerCase()
  const close = all.filter(i => i.name.toLowerCase().includes(lower) || lower.includes(i.name.toLowerCase())).slice(0, 5)
  throw new DaystromError(`no ${kind} named "${name}"${close.length > 0 ? `. Did you mean:\n${close.map(i => `  ${i.name} (${i.uuid})`).join('\n')}` : ''}`, {
    code: 'E_NOT_FOUND', exit: EXIT.NOT_FOUND, details: {name, candidates: close.map(i => ({uuid: i.uuid, name: i.name}))},
    suggestions: [listCommand],
  })
}

export const isUuid = (s: string): boolean => UUID_RE.test(s)

export async function resolveGroup(client: ModelSecurityClient, ref: string): Promise<SecurityGroup> {
  if (isUuid(ref)) return client.getSecurityGroup(ref)
  return findByName<SecurityGroup>(client, ref, 'security group', q => client.listSecurityGroups(q), 'daystrom model-security groups list')
}

/** A group UUID from a UUID (no request) or a name (looked up). */
export async function resolveGroupUuid(client: ModelSecurityClient, ref: string): Promise<string> {
  return isUuid(ref) ? ref : (await resolveGroup(client, ref)).uuid
}

export async function resolveRule(client: ModelSecurityClient, ref: string): Promise<Rule> {
  if (isUuid(ref)) return client.getSecurityRule(ref)
  return findByName<Rule>(client, ref, 'security rule', q => client.listSecurityRules(q), 'daystrom model-security rules list')
}

export async function resolveRuleUuid(client: ModelSecurityClient, ref: string): Promise<string> {
  return isUuid(ref) ? ref : (await resolveRule(client, ref)).uuid
}
