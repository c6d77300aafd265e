/**
 * Credential and endpoint resolution (design §5): flag > environment > selected profile > default,
 * remembering which source won for each setting (shown by `auth status`).
 * Environment families, in order: PANW_MODEL_SEC_*, PANW_MGMT_*, then the official Python client's names.
 * An empty variable counts as unset.
 */
import type {Credentials} from '../airs/client.js'
import {DaystromError, EXIT} from '../airs/errors.js'
import {credentialsFile, settingsFile} from './paths.js'
import {readCredentials, readSettings, selectedProfile} from './store.js'

export const DEFAULT_ENDPOINTS = {
  data: 'https://api.sase.paloaltonetworks.com/aims/data',
  mgmt: 'https://api.sase.paloaltonetworks.com/aims/mgmt',
  token: 'https://auth.apps.paloaltonetworks.com/oauth2/access_token',
}

export type SettingName = 'client_id' | 'client_secret' | 'tsg_id' | 'data_endpoint' | 'mgmt_endpoint' | 'token_endpoint'

interface EnvSource { name: string; map?: (v: string) => string }

const trimSlash = (v: string) => v.replace(/\/+$/, '')

export const ENV_FAMILIES: Record<SettingName, EnvSource[]> = {
  client_id: [{name: 'PANW_MODEL_SEC_CLIENT_ID'}, {name: 'PANW_MGMT_CLIENT_ID'}, {name: 'MODEL_SECURITY_CLIENT_ID'}],
  client_secret: [{name: 'PANW_MODEL_SEC_CLIENT_SECRET'}, {name: 'PANW_MGMT_CLIENT_SECRET'}, {name: 'MODEL_SECURITY_CLIENT_SECRET'}],
  tsg_id: [{name: 'PANW_MODEL_SEC_TSG_ID'}, {name: 'PANW_MGMT_TSG_ID'}, {name: 'TSG_ID'}],
  data_endpoint: [{name: 'PANW_MODEL_SEC_DATA_ENDPOINT'}, {name: 'MODEL_SECURITY_API_ENDPOINT', map: v => trimSlash(v) + '/data'}],
  mgmt_endpoint: [{name: 'PANW_MODEL_SEC_MGMT_ENDPOINT'}, {name: 'MODEL_SECURITY_API_ENDPOINT', map: v => trimSlash(v) + '/mgmt'}],
  token_endpoint: [{name: 'PANW_MODEL_SEC_TOKEN_ENDPOINT'}, {name: 'PANW_MGMT_TOKEN_ENDPOINT'}],
}

export const SETTING_FLAGS: Record<SettingName, string | undefined> = {
  client_id: '--client-id', client_secret: undefined, tsg_id: '--tsg-id',
  data_endpoint: '--data-endpoint', mgmt_endpoint: '--mgmt-endpoint', token_endpoint: '--token-endpoint',
}

export interface Resolved { value?: string; source: string }

export interface ResolvedConfig {
  profile: {name: string; source: string; exists: boolean}
  settings: Record<SettingName, Resolved>
}

export type SettingOverrides = Partial<Record<SettingName, string | undefined>>

export function resolveConfig(profileFlag?: string, overrides: SettingOverrides = {}): ResolvedConfig {
  const profile = selectedProfile(profileFlag)
  const fileSettings = readSettings().profiles?.[profile.name]
  const fileSecret = readCredentials().profiles?.[profile.name]?.client_secret
  const settings = {} as Record<SettingName, Resolved>
  for (const name of Object.keys(ENV_FAMILIES) as SettingName[]) {
    const flagValue = overrides[name]
    if (flagValue !== undefined && flagValue !== '') {
      settings[name] = {value: name.endsWith('endpoint') ? trimSlash(flagValue) : flagValue, source: `flag ${SETTING_FLAGS[name] ?? name}`}
      continue
    }
    const env = ENV_FAMILIES[name].find(e => (process.env[e.name] ?? '').trim() !== '')
    if (env) {
      const raw = process.env[env.name]!.trim()
      settings[name] = {value: env.map ? env.map(raw) : (name.endsWith('endpoint') ? trimSlash(raw) : raw), source: `env ${env.name}`}
      continue
    }
    const fromFile = name === 'client_secret' ? fileSecret : fileSettings?.[name]
    if (fromFile) {
      settings[name] = {value: fromFile, source: `profile "${profile.name}" (${name === 'client_secret' ? credentialsFile() : settingsFile()})`}
      continue
    }
    const def = name === 'data_endpoint' ? DEFAULT_ENDPOINTS.data : name === 'mgmt_endpoint' ? DEFAULT_ENDPOINTS.mgmt
      : name === 'token_endpoint' ? DEFAULT_ENDPOINTS.token : undefined
    settings[name] = def ? {value: def, source: 'default'} : {source: 'unset'}
  }
  return {profile: {...profile, exists: Boolean(fileSettings || fileSecret)}, settings}
}

export type {Credentials} from '../airs/client.js'

/** The credentials a client needs, or exit 3 naming what is missing and where it can come from. */
export function requireCredentials(resolved: ResolvedConfig): Credentials {
  const s = resolved.settings
  const missing = (['client_id', 'client_secret', 'tsg_id'] as const).filter(n => !s[n].value)
  if (missing.length > 0) {
    const how = missing.map(n => {
      const envs = ENV_FAMILIES[n].map(e => e.name).join(' / ')
      return `  ${n}: ${SETTING_FLAGS[n] ? SETTING_FLAGS[n] + ', ' : ''}${envs}, or \`daystrom auth login\``
    })
    throw new DaystromError(`missing credentials (${missing.join(', ')}) for profile "${resolved.profile.name}". Set:\n${how.join('\n')}\nOr try the offline sandbox with --sandbox.`, {
      code: 'E_AUTH_MISSING', exit: EXIT.AUTH, details: {missing, profile: resolved.profile.name},
      suggestions: ['daystrom auth login', 'daystrom model-security groups list --sandbox'],
    })
  }
  return {
    clientId: s.client_id.value!, clientSecret: s.client_secret.value!, tsgId: s.tsg_id.value!,
    dataEndpoint: s.data_endpoint.value!, mgmtEndpoint: s.mgmt_endpoint.value!, tokenEndpoint: s.token_endpoint.value!,
  }
}

export function maskSecret(secret?: string): string {
  if (!secret) return ''
  if (secret.length <= 8) return '****'
  return `${secret.slice(0, 2)}****${secret.slice(-2)}`
}
