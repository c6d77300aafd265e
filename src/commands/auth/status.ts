import {Flags} from '@oclif/core'

import {EXIT} from '../../lib/airs/errors.js'
import {DaystromCommand} from '../../lib/command/base.js'
import type {Column} from '../../lib/command/output.js'
import {overridesFrom, settingFlags} from '../../lib/config/connection-flags.js'
import {maskSecret, requireCredentials, resolveConfig, type SettingName} from '../../lib/config/resolve.js'
import {checkToken} from '../../lib/config/token-check.js'

interface SettingRow { setting: string; value: string; source: string }

export default class AuthStatus extends DaystromCommand<typeof AuthStatus> {
  static summary = 'Show which credentials are in force, where each came from, and whether a token can be obtained.'
  static description = 'Exits 0 when a token can be obtained (or with --offline), 3 when credentials are missing or rejected.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --profile staging --json', '<%= config.bin %> <%= command.id %> --offline']
  static columns: Column<SettingRow>[] = [{key: 'setting'}, {key: 'value'}, {key: 'source'}]
  static flags = {
    ...settingFlags,
    offline: Flags.boolean({summary: 'Do not request a token.'}),
  }

  async run(): Promise<Record<string, unknown>> {
    const resolved = resolveConfig(this.flags.profile, overridesFrom(this.flags))
    const settings = Object.fromEntries(Object.entries(resolved.settings).map(([k, v]) =>
      [k, {value: k === 'client_secret' ? (v.value ? maskSecret(v.value) : null) : (v.value ?? null), source: v.source}]))
    let token: {ok: boolean; message: string; code?: string} | undefined
    if (!this.flags.offline) {
      try {
        const creds = requireCredentials(resolved)
        token = await checkToken(creds, {retries: 0, debug: this.flags.debug ? l => process.stderr.write(`[debug] ${l}\n`) : undefined})
      } catch (error) {
        token = {ok: false, message: (error as Error).message.split('\n')[0], code: (error as {code?: string}).code}
      }
    }
    const result = {profile: resolved.profile, settings, token: token ?? null}
    if (!this.jsonEnabled()) {
      const rows: SettingRow[] = Object.entries(settings).map(([k, v]) => ({setting: k as SettingName, value: v.value ?? '(unset)', source: v.source}))
      this.log(`Profile: ${resolved.profile.name} (${resolved.profile.source}${resolved.profile.exists ? '' : ', not saved'})`)
      await this.emitList(rows)
      if (token) this.log(`Token: ${token.ok ? 'OK' : 'FAILED'} - ${token.message}`)
    }
    if (token && !token.ok) {
      if (this.jsonEnabled()) this.logJson(result)
      this.exit(EXIT.AUTH)
    }
    return result
  }
}
