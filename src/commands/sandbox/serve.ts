import {Flags} from '@oclif/core'
import {isIP} from 'node:net'

import {DaystromCommand} from '../../lib/command/base.js'

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost' || h === '::1') return true
  return isIP(h) === 4 && h.startsWith('127.')
}

export default class SandboxServe extends DaystromCommand<typeof SandboxServe> {
  static summary = 'Run the sandbox in the foreground as an HTTP server, for any client (this CLI, the SDKs, curl).'
  static description = `Serves the OAuth token endpoint and both API planes of the offline AIRS Model Security emulator, with its
state in the data dir (DAYSTROM_DATA_DIR overrides). It binds 127.0.0.1 unless --host names another address; a
non-loopback address is announced with a warning, because the sandbox credentials are public. Stops cleanly on
Ctrl+C (SIGINT) or SIGTERM.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --port 8765',
    'eval "$(<%= config.bin %> <%= command.id %> --port 8765 | grep ^export)"   # in another shell, after it started',
  ]
  static flags = {
    host: Flags.string({summary: 'Address to bind (loopback by default; anything else must be named here and is warned about).', default: '127.0.0.1'}),
    port: Flags.integer({summary: 'Port to listen on (0 = any free port).', default: 0, min: 0, max: 65_535}),
  }

  async run(): Promise<Record<string, unknown> | undefined> {
    const {host, port} = this.flags
    if (!host.trim()) this.error('--host must name an address', {exit: 2})
    if (!isLoopback(host)) {
      this.logToStderr(`Warning: binding the sandbox to ${host}, which is not a loopback address. Anyone who can reach it can use it with the public sandbox credentials.`)
    }
    const dataDir = process.env.DAYSTROM_DATA_DIR ?? this.config.dataDir
    const {startSandbox} = await import('../../lib/sandbox/index.js')
    const debug = this.flags.debug
    const sb = await startSandbox({dataDir, host, port, log: debug ? line => process.stderr.write(`[sandbox] ${line}\n`) : undefined})
    const c = sb.credentials
    const env = {
      PANW_MODEL_SEC_CLIENT_ID: c.clientId,
      PANW_MODEL_SEC_CLIENT_SECRET: c.clientSecret,
      PANW_MODEL_SEC_TSG_ID: c.tsgId,
      PANW_MODEL_SEC_DATA_ENDPOINT: sb.dataUrl,
      PANW_MODEL_SEC_MGMT_ENDPOINT: sb.mgmtUrl,
      PANW_MODEL_SEC_TOKEN_ENDPOINT: sb.tokenUrl,
    }
    const info = {
      url: sb.url, token_endpoint: sb.tokenUrl, mgmt_endpoint: sb.mgmtUrl, data_endpoint: sb.dataUrl, db_path: sb.dbPath,
      credentials: {client_id: c.clientId, client_secret: c.clientSecret, tsg_id: c.tsgId}, env,
    }
    // listen for the stop signals before announcing the endpoints: a client may send one as soon as it reads them
    const stopped = new Promise<string>(resolve => {
      process.once('SIGINT', () => resolve('SIGINT'))
      process.once('SIGTERM', () => resolve('SIGTERM'))
    })
    if (this.jsonEnabled()) {
      this.logJson(info)
    } else {
      this.log(`daystrom sandbox listening on ${sb.url}`)
      this.log(`  token endpoint  ${sb.tokenUrl}`)
      this.log(`  management      ${sb.mgmtUrl}`)
      this.log(`  data            ${sb.dataUrl}`)
      this.log(`  client id       ${c.clientId}`)
      this.log(`  client secret   ${c.clientSecret}   (public: the sandbox is a local emulator)`)
      this.log(`  tsg id          ${c.tsgId}`)
      this.log(`  database        ${sb.dbPath}`)
      this.log('')
      this.log('# environment for the SDKs and for daystrom without --sandbox:')
      for (const [k, v] of Object.entries(env)) this.log(`export ${k}=${v}`)
      this.logToStderr('Press Ctrl+C to stop.')
    }
    const signal = await stopped
    await sb.close()
    if (!this.jsonEnabled()) this.logToStderr(`Stopped (${signal}).`)
    return undefined
  }
}
