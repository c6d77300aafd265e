/** Flags naming the connection settings, shared by `auth login` and the model-security commands. */
import {Flags} from '@oclif/core'

const CONNECTION = 'CONNECTION'

export const settingFlags = {
  'client-id': Flags.string({summary: 'OAuth client id (service account).', helpGroup: CONNECTION}),
  'tsg-id': Flags.string({summary: 'Tenant service group id.', helpGroup: CONNECTION}),
  'data-endpoint': Flags.string({summary: 'Data-plane base URL.', helpGroup: CONNECTION}),
  'mgmt-endpoint': Flags.string({summary: 'Management-plane base URL.', helpGroup: CONNECTION}),
  'token-endpoint': Flags.string({summary: 'OAuth2 token URL.', helpGroup: CONNECTION}),
}

export function overridesFrom(f: Record<string, unknown>): Record<'client_id' | 'tsg_id' | 'data_endpoint' | 'mgmt_endpoint' | 'token_endpoint', string | undefined> {
  return {
    client_id: f['client-id'] as string | undefined, tsg_id: f['tsg-id'] as string | undefined,
    data_endpoint: f['data-endpoint'] as string | undefined, mgmt_endpoint: f['mgmt-endpoint'] as string | undefined,
    token_endpoint: f['token-endpoint'] as string | undefined,
  }
}
