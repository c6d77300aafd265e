/**
 * The sandbox: an embedded, offline, persistent emulator of AIRS Model Security (OAuth token endpoint,
 * management plane, data plane) on loopback. Public entry point; everything else in this folder is internal.
 *
 *   const sb = await startSandbox({dataDir})
 *   // sb.tokenUrl, sb.mgmtUrl, sb.dataUrl, sb.credentials -> the normal client and OAuth
 *   await sb.close()
 *
 * State lives in `<dataDir>/sandbox/sandbox.db` (SQLite, WAL). Any number of processes may open it at once.
 */
import {SandboxServer} from './server.js'
import {type DB, SANDBOX_TSG_ID, openStore, resetSandbox, sandboxDbPath, sandboxStatus} from './store.js'

/** Fixed, documented credentials of every sandbox (they protect nothing: the sandbox binds loopback). */
export const SANDBOX_CREDENTIALS: {clientId: string; clientSecret: string; tsgId: string} = Object.freeze({
  clientId: 'daystrom-sandbox',
  clientSecret: 'sandbox-secret',
  tsgId: SANDBOX_TSG_ID,
})

export interface SandboxOptions {
  dataDir: string
  /** Interface to bind; default 127.0.0.1. */
  host?: string
  /** Port; 0 (default) picks a free port. */
  port?: number
  /** Delay between a scan's creation and its settling, in ms (default 250). */
  settleDelayMs?: number
  /** Lifetime of access tokens in seconds (default 900, as on the service). */
  tokenTtlSeconds?: number
  /** Receives one line per request and internal events. */
  log?: (line: string) => void
}

export interface SandboxHandle {
  url: string
  tokenUrl: string
  mgmtUrl: string
  dataUrl: string
  credentials: typeof SANDBOX_CREDENTIALS
  dbPath: string
  close(): Promise<void>
}

/** Internal extras used by our tests and benchmark (not part of the lead's contract). */
export interface SandboxHandleInternal extends SandboxHandle {
  db: DB
  /** Settle due scans now and wait for local scans this process started. */
  settleNow(): Promise<void>
}

export async function startSandbox(opts: SandboxOptions): Promise<SandboxHandle> {
  const db = openStore(opts.dataDir)
  const host = opts.host ?? '127.0.0.1'
  const server = new SandboxServer({
    db, host, port: opts.port ?? 0, settleDelayMs: opts.settleDelayMs ?? 250, tokenTtlSeconds: opts.tokenTtlSeconds ?? 900,
    credentials: SANDBOX_CREDENTIALS, log: opts.log,
  })
  let addr
  try {
    addr = await server.listen()
  } catch (error) {
    db.close()
    throw error
  }
  const hostPart = addr.address.includes(':') ? `[${addr.address}]` : addr.address
  const url = `http://${hostPart}:${addr.port}`
  let closing: Promise<void> | undefined
  const handle: SandboxHandleInternal = {
    url,
    tokenUrl: `${url}/oauth2/access_token`,
    mgmtUrl: `${url}/aims/mgmt`,
    dataUrl: `${url}/aims/data`,
    credentials: SANDBOX_CREDENTIALS,
    dbPath: sandboxDbPath(opts.dataDir),
    db,
    close() {
      closing ??= server.close().finally(() => db.close())
      return closing
    },
    async settleNow() {
      server.settle()
      await server.drain()
    },
  }
  return handle
}

export {resetSandbox, sandboxDbPath, sandboxStatus}
