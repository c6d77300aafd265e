import {Flags} from '@oclif/core'

import {globalFlags} from '../lib/command/base.js'
import {connectionFlags, daystromVersion, ModelSecurityCommand} from '../lib/command/model-security.js'

export default class Mcp extends ModelSecurityCommand<typeof Mcp> {
  static summary = 'Run a Model Context Protocol (MCP) server on stdio for AI assistants: read-only AIRS tools, the local scanner, scan comparison.'
  static description = `Tools: list_scans, get_scan, list_violations, explain_rule, list_groups, get_group, diff_scans, scan_local_path (a dry run: nothing is sent); with --allow-writes also create_scan and add_labels.

The server uses the same credentials, profiles and --sandbox as every command; with --sandbox one embedded sandbox runs for the server's lifetime. stdout carries only the protocol; logs (and --debug's request log, secrets redacted) go to stderr. Configure your MCP client to run e.g. {"command": "daystrom", "args": ["mcp", "--profile", "prod"]}.`
  static examples = [
    '<%= config.bin %> <%= command.id %> --profile prod',
    '<%= config.bin %> <%= command.id %> --sandbox',
    '<%= config.bin %> <%= command.id %> --profile dev --allow-writes --debug 2> daystrom-mcp.log',
  ]

  // the protocol owns stdout: no --json, output format or table flags here (cast: a subset of the parent's flags)
  static enableJsonFlag = false
  static baseFlags = {profile: globalFlags.profile, debug: globalFlags.debug, ...connectionFlags} as unknown as typeof ModelSecurityCommand.baseFlags

  static flags = {
    'allow-writes': Flags.boolean({summary: 'Also offer the write tools create_scan and add_labels (off by default: read-only).'}),
  }

  async run(): Promise<void> {
    const f = this.flags
    // built before serving: bad credentials fail here, and a sandbox starts once and lives as long as the server
    const client = await this.client()
    const {createMcpServer} = await import('../lib/mcp/server.js')
    const {serveStdio} = await import('../lib/mcp/stdio.js')
    const log = f.debug ? (line: string) => process.stderr.write(`[mcp] ${line}\n`) : undefined
    const target = this.usingSandbox() ? 'the offline daystrom sandbox' : (f.profile ? `profile ${f.profile}` : 'the configured credentials')
    const {server, tools} = createMcpServer({version: daystromVersion(), client: () => Promise.resolve(client), allowWrites: f['allow-writes'], target, log})
    process.stderr.write(`daystrom MCP server on stdio (${target}; ${f['allow-writes'] ? 'writes allowed' : 'read-only'}; tools: ${tools.join(', ')})\n`)
    if (process.stdin.isTTY) process.stderr.write('Waiting for an MCP client on stdin (Ctrl-C to stop).\n')
    await serveStdio(server)
    log?.('client disconnected; shutting down')
  }
}
