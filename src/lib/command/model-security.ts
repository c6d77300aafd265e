/**
 * ModelSecurityCommand: a DaystromCommand with connection flags and a lazily built AIRS client, so that
 * --help, parse errors and offline paths never touch credentials or load got. With --sandbox (or
 * DAYSTROM_SANDBOX=1) the client talks to an in-process sandbox on a free loopback port, through the same
 * HTTP client and OAuth flow.
 */
import {type Command, Flags} from '@oclif/core'

import type {Credentials, ModelSecurityClient} from '../airs/client.js'
import {usageError} from '../airs/errors.js'
import {overridesFrom, settingFlags} from '../config/connection-flags.js'
import {cacheDir, dataDir} from '../config/paths.js'
import type {SettingOverrides} from '../config/resolve.js'
import {parseDuration} from '../util/duration.js'
import {userAgent} from '../util/version.js'
import {DaystromCommand, globalFlags} from './base.js'

const CONNECTION = 'CONNECTION'

export const connectionFlags = {
  sandbox: Flags.boolean({summary: 'Run against the embedded offline sandbox (no account needed).', env: 'DAYSTROM_SANDBOX', helpGroup: 'GLOBAL'}),
  retries: Flags.integer({summary: 'Retries for failed idempotent requests (429, 5xx, resets, timeouts).', env: 'DAYSTROM_RETRIES', min: 0, max: 10, default: 4, helpGroup: CONNECTION}),
  'http-timeout': Flags.string({summary: 'Timeout of one HTTP request (90s, 2m, or seconds).', env: 'DAYSTROM_HTTP_TIMEOUT', default: '30s', helpGroup: CONNECTION}),
  ...settingFlags,
}

/** Re-exported from their new home (src/lib/util/version.ts) for code that still imports them from here. */
export {daystromVersion, userAgent} from '../util/version.js'

type SandboxHandle = {close(): Promise<void>}

export abstract class ModelSecurityCommand<T extends typeof Command> extends DaystromCommand<T> {
  static baseFlags = {...globalFlags, ...connectionFlags}

  private clientPromise?: Promise<ModelSecurityClient>
  private sandboxHandle?: SandboxHandle

  protected connectionOverrides(): SettingOverrides {
    return overridesFrom(this.flags)
  }

  protected usingSandbox(): boolean {
    return Boolean((this.flags as {sandbox?: boolean}).sandbox)
  }

  /** The AIRS client, built on first use. */
  protected client(): Promise<ModelSecurityClient> {
    this.clientPromise ??= this.buildClient()
    return this.clientPromise
  }

  private async buildClient(): Promise<ModelSecurityClient> {
    const f = this.flags as Record<string, unknown>
    let timeoutMs: number
    try {
      timeoutMs = parseDuration((f['http-timeout'] as string | undefined) ?? '30s')
    } catch (error) {
      throw usageError(`--http-timeout: ${(error as Error).message}`)
    }
    const debug = f.debug ? (line: string) => process.stderr.write(`[debug] ${line}\n`) : undefined
    let creds: Credentials
    if (this.usingSandbox()) {
      const {startSandbox} = await import('../sandbox/index.js')
      const handle = await startSandbox({dataDir: dataDir()})
      this.sandboxHandle = handle
      creds = {...handle.credentials, dataEndpoint: handle.dataUrl, mgmtEndpoint: handle.mgmtUrl, tokenEndpoint: handle.tokenUrl}
      debug?.(`sandbox on ${handle.url} (data in ${handle.dbPath})`)
    } else {
      const {requireCredentials, resolveConfig} = await import('../config/resolve.js')
      creds = requireCredentials(resolveConfig(f.profile as string | undefined, this.connectionOverrides()))
    }
    const {ModelSecurityClient} = await import('../airs/client.js')
    // a sandbox listens on a new port each time: caching its tokens on disk would only leave files behind
    return new ModelSecurityClient({
      ...creds, retries: Number(f.retries ?? 4), timeoutMs, userAgent: userAgent(), debug,
      cacheDir: this.sandboxHandle ? undefined : cacheDir(),
    })
  }

  protected async finally(err: Error | undefined): Promise<unknown> {
    if (this.sandboxHandle) {
      const h = this.sandboxHandle
      this.sandboxHandle = undefined
      await h.close()
    }
    return super.finally(err)
  }
}
