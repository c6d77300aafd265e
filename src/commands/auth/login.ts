import {Flags} from '@oclif/core'

import {DaystromError, EXIT, usageError} from '../../lib/airs/errors.js'
import {DaystromCommand} from '../../lib/command/base.js'
import {overridesFrom, settingFlags} from '../../lib/config/connection-flags.js'
import {credentialsFile, settingsFile} from '../../lib/config/paths.js'
import {maskSecret, resolveConfig} from '../../lib/config/resolve.js'
import {PROFILE_NAME_RE} from '../../lib/config/schemas.js'
import {type ProfileSettings, saveProfile, selectedProfile} from '../../lib/config/store.js'
import {checkToken} from '../../lib/config/token-check.js'

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8').trim()
}

export default class AuthLogin extends DaystromCommand<typeof AuthLogin> {
  static summary = 'Save service-account credentials to a profile.'
  static description = `Prompts for what is missing on a terminal. Without a terminal, give the settings as flags and the client
secret on stdin (--client-secret-stdin, or simply pipe it). Settings go to <config dir>/config.json, the secret to
credentials.json (mode 0600). The credentials are checked by requesting a token unless --no-verify.
A secret given as a plain flag value would land in your shell history, so --client-secret also needs --insecure-secret-flag.`

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    'printf %s "$SECRET" | <%= config.bin %> <%= command.id %> --client-id sa@123.iam.panserviceaccount.com --tsg-id 1234567890 --client-secret-stdin',
    '<%= config.bin %> <%= command.id %> --profile staging --data-endpoint https://api.eu.example/aims/data',
  ]

  static flags = {
    ...settingFlags,
    'client-secret-stdin': Flags.boolean({summary: 'Read the client secret from stdin.'}),
    'client-secret': Flags.string({summary: 'The client secret as a flag value (lands in shell history; needs --insecure-secret-flag).', hidden: false}),
    'insecure-secret-flag': Flags.boolean({summary: 'Accept --client-secret despite the shell-history risk.'}),
    verify: Flags.boolean({summary: 'Check the credentials by requesting a token (--no-verify to skip).', allowNo: true, default: true}),
  }

  async run(): Promise<Record<string, unknown>> {
    const f = this.flags
    const profile = f.profile ?? selectedProfile().name
    if (!PROFILE_NAME_RE.test(profile)) throw usageError(`--profile: invalid name "${profile}": use 1-64 letters, digits, '.', '_' or '-'`)
    if (f['client-secret'] !== undefined && !f['insecure-secret-flag']) {
      throw usageError('--client-secret puts the secret in your shell history; pipe it with --client-secret-stdin instead, or add --insecure-secret-flag if you insist')
    }
    const interactive = process.stdin.isTTY && process.stderr.isTTY && !this.jsonEnabled()
    const current = resolveConfig(profile, overridesFrom(f))
    const settings: ProfileSettings = {}
    for (const [flag, key] of [['client-id', 'client_id'], ['tsg-id', 'tsg_id'], ['data-endpoint', 'data_endpoint'], ['mgmt-endpoint', 'mgmt_endpoint'], ['token-endpoint', 'token_endpoint']] as const) {
      const v = f[flag]
      if (v !== undefined) {
        if (key.endsWith('endpoint') && !/^https?:\/\//.test(v)) throw usageError(`--${flag}: expected an http(s) URL, got "${v}"`)
        settings[key] = key.endsWith('endpoint') ? v.replace(/\/+$/, '') : v
      }
    }
    let secret = f['client-secret']
    if (secret === undefined && (f['client-secret-stdin'] || !process.stdin.isTTY)) secret = await readAllStdin() || undefined

    if (interactive) {
      const {createInterface} = await import('node:readline/promises')
      const rl = createInterface({input: process.stdin, output: process.stderr, terminal: true})
      try {
        if (!settings.client_id) settings.client_id = (await rl.question(`Client ID${current.settings.client_id.value ? ` [${current.settings.client_id.value}]` : ''}: `)).trim() || current.settings.client_id.value
        if (!settings.tsg_id) settings.tsg_id = (await rl.question(`TSG ID${current.settings.tsg_id.value ? ` [${current.settings.tsg_id.value}]` : ''}: `)).trim() || current.settings.tsg_id.value
        if (secret === undefined) {
          const out = process.stderr
          out.write('Client secret (hidden): ')
          const rlAny = rl as unknown as {_writeToOutput?: (s: string) => void}
          rlAny._writeToOutput = () => {}
          secret = (await rl.question('')).trim() || undefined
          out.write('\n')
        }
      } finally {
        rl.close()
      }
    }
    settings.client_id ??= current.settings.client_id.value
    settings.tsg_id ??= current.settings.tsg_id.value
    const missing = [!settings.client_id && '--client-id', !settings.tsg_id && '--tsg-id', !secret && !current.settings.client_secret.value && 'the client secret (--client-secret-stdin)'].filter(Boolean)
    if (missing.length > 0) throw usageError(`missing ${missing.join(', ')} (no terminal to prompt on)`)

    const effective = resolveConfig(profile, {...overridesFrom(f), client_id: settings.client_id, tsg_id: settings.tsg_id})
    let verified: string | undefined
    if (f.verify) {
      const check = await checkToken({
        clientId: settings.client_id!, clientSecret: secret ?? current.settings.client_secret.value!, tsgId: settings.tsg_id!,
        dataEndpoint: effective.settings.data_endpoint.value!, mgmtEndpoint: effective.settings.mgmt_endpoint.value!,
        tokenEndpoint: settings.token_endpoint ?? effective.settings.token_endpoint.value!,
      }, {debug: f.debug ? l => process.stderr.write(`[debug] ${l}\n`) : undefined})
      if (!check.ok) {
        throw new DaystromError(`credentials not saved: ${check.message}`, {code: check.code ?? 'E_AUTH_REJECTED', exit: EXIT.AUTH,
          suggestions: ['check the client id, secret and TSG id', 'use --no-verify to save without checking']})
      }
      verified = check.message
    }
    saveProfile(profile, settings, secret)
    const result = {profile, client_id: settings.client_id, tsg_id: settings.tsg_id, client_secret: maskSecret(secret ?? current.settings.client_secret.value),
      verified: Boolean(verified), settings_file: settingsFile(), credentials_file: credentialsFile()}
    this.note(`Saved profile "${profile}" (${settingsFile()}; secret in ${credentialsFile()}, mode 0600)${verified ? `; ${verified}` : ''}.`)
    return result
  }
}
