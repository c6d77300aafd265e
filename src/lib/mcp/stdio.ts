/**
 * Serving an MCP server on stdio for the lifetime of the client's connection. stdout belongs to the protocol:
 * while the server runs, anything else that writes to process.stdout (or console.log/info/debug) is sent to
 * stderr instead, so no stray line can corrupt the JSON-RPC stream. Returns when the client disconnects
 * (stdin ends), the protocol closes, or on SIGINT/SIGTERM.
 */
import type {McpServer} from '@modelcontextprotocol/sdk/server/mcp.js'
import type {Writable} from 'node:stream'

export async function serveStdio(server: McpServer): Promise<void> {
  const {StdioServerTransport} = await import('@modelcontextprotocol/sdk/server/stdio.js')
  const stdout = process.stdout
  // the protocol's own writer is the real one; restore it (own property or inherited) on the way out
  const ownWrite = Object.getOwnPropertyDescriptor(stdout, 'write')
  const realWrite = stdout.write.bind(stdout)
  const protocolOut = {
    write: (chunk: string): boolean => realWrite(chunk),
    once(event: string, listener: () => void) {
      stdout.once(event, listener)
      return protocolOut
    },
  }
  const saved = {log: console.log, info: console.info, debug: console.debug}
  stdout.write = ((...args: Parameters<typeof process.stderr.write>) => process.stderr.write(...args)) as typeof stdout.write
  console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args)

  let finish!: () => void
  const closed = new Promise<void>(resolve => {
    finish = resolve
  })
  server.server.onclose = () => finish()
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    server.close().catch(() => undefined).finally(() => finish())
  }
  process.stdin.on('end', stop)
  process.stdin.on('close', stop)
  stdout.on('error', stop) // the client went away (EPIPE): stop instead of crashing
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    await server.connect(new StdioServerTransport(process.stdin, protocolOut as unknown as Writable))
    await closed
  } finally {
    process.stdin.off('end', stop)
    process.stdin.off('close', stop)
    stdout.off('error', stop)
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    if (ownWrite) Object.defineProperty(stdout, 'write', ownWrite)
    else delete (stdout as {write?: unknown}).write
    Object.assign(console, saved)
  }
}
