/**
 * Profiles: settings in config.json, secrets in credentials.json (mode 0600), both validated with ajv.
 * A malformed or invalid file is an error (exit 7) naming the file, the JSON pointer and the reason.
 */
import {chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'

import {configError} from '../airs/errors.js'
import {validateWith} from '../airs/validate.js'
import {credentialsFile, settingsFile} from './paths.js'
import {credentialsFileSchema, settingsFileSchema} from './schemas.js'

export interface ProfileSettings {
  client_id?: string
  tsg_id?: string
  data_endpoint?: string
  mgmt_endpoint?: string
  token_endpoint?: string
}

export interface SettingsFile { current_profile?: string; profiles?: Record<string, ProfileSettings> }
export interface CredentialsFile { profiles?: Record<string, {client_secret?: string}> }

function readJsonFile<T>(file: string, schema: Record<string, unknown> & {$id: string}): T {
  if (!existsSync(file)) return {} as T
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw configError(`${file}: cannot be read: ${(error as Error).message}`, {file})
  }
  let doc: unknown
  try {
    doc = text.trim() === '' ? {} : JSON.parse(text)
  } catch (error) {
    throw configError(`${file}: is not valid JSON: ${(error as Error).message}`, {file})
  }
  const problems = validateWith(schema, doc)
  if (problems.length > 0) {
    const lines = problems.map(p => `  ${p.pointer || '/'}: ${p.message}`)
    throw configError(`${file}: is invalid:\n${lines.join('\n')}`, {file, problems: problems.map(p => ({pointer: p.pointer, message: p.message}))})
  }
  return doc as T
}

function writeJsonFile(file: string, doc: unknown, mode: number): void {
  mkdirSync(dirname(file), {recursive: true, mode: 0o700})
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(doc, null, 2) + '\n', {mode})
  chmodSync(tmp, mode)
  renameSync(tmp, file)
}

export const readSettings = (): SettingsFile => readJsonFile<SettingsFile>(settingsFile(), settingsFileSchema)
export const readCredentials = (): CredentialsFile => readJsonFile<CredentialsFile>(credentialsFile(), credentialsFileSchema)
export const writeSettings = (doc: SettingsFile): void => writeJsonFile(settingsFile(), doc, 0o644)
export const writeCredentials = (doc: CredentialsFile): void => writeJsonFile(credentialsFile(), doc, 0o600)

export const DEFAULT_PROFILE = 'default'

/** The profile a command uses: --profile/DAYSTROM_PROFILE, else the file's current_profile, else "default". */
export function selectedProfile(flag?: string): {name: string; source: string} {
  if (flag) return {name: flag, source: process.env.DAYSTROM_PROFILE === flag ? 'env DAYSTROM_PROFILE' : 'flag --profile'}
  const current = readSettings().current_profile
  if (current) return {name: current, source: `${settingsFile()} current_profile`}
  return {name: DEFAULT_PROFILE, source: 'default'}
}

export function saveProfile(name: string, settings: ProfileSettings, secret?: string, makeCurrent = true): void {
  const s = readSettings()
  s.profiles = {...s.profiles, [name]: {...s.profiles?.[name], ...settings}}
  if (makeCurrent || !s.current_profile) s.current_profile = name
  writeSettings(s)
  if (secret !== undefined) {
    const c = readCredentials()
    c.profiles = {...c.profiles, [name]: {client_secret: secret}}
    writeCredentials(c)
  }
}

export function removeProfile(name: string): boolean {
  const s = readSettings()
  const c = readCredentials()
  const had = Boolean(s.profiles?.[name] || c.profiles?.[name])
  if (s.profiles?.[name]) {
    delete s.profiles[name]
    if (s.current_profile === name) delete s.current_profile
    writeSettings(s)
  }
  if (c.profiles?.[name]) {
    delete c.profiles[name]
    writeCredentials(c)
  }
  return had
}
