/**
 * Where daystrom keeps its files. Fixed names (not derived from the host CLI's bin) so that the standalone CLI
 * and daystrom linked into another oclif CLI share profiles. `DAYSTROM_*_DIR` override; XDG is honoured.
 */
import {homedir} from 'node:os'
import {join} from 'node:path'

function xdg(envName: string, fallback: string): string {
  const v = process.env[envName]
  return v && v.trim() ? join(v, 'daystrom') : join(homedir(), fallback, 'daystrom')
}

export const configDir = (): string => process.env.DAYSTROM_CONFIG_DIR || xdg('XDG_CONFIG_HOME', '.config')
export const cacheDir = (): string => process.env.DAYSTROM_CACHE_DIR || xdg('XDG_CACHE_HOME', '.cache')
export const dataDir = (): string => process.env.DAYSTROM_DATA_DIR || xdg('XDG_DATA_HOME', join('.local', 'share'))

export const settingsFile = (): string => join(configDir(), 'config.json')
export const credentialsFile = (): string => join(configDir(), 'credentials.json')
