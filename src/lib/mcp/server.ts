/**
 * daystrom as a Model Context Protocol server: read-only tools over AIRS Model Security (scans, violations,
 * rules, groups, scan comparison, the local scanner as a dry run), plus two write tools when allowed. The
 * MCP SDK is heavy: this module is imported only by `daystrom mcp` (and tests), never by other commands.
 */
import {McpServer} from '@modelcontextprotocol/sdk/server/mcp.js'

import type {ModelSecurityClient} from '../airs/client.js'
import {registerTools} from './tools.js'

export interface DaystromMcpOptions {
  /** Version reported to clients (daystrom's). */
  version: string
  /** The AIRS client, built once by the caller (with --sandbox: backed by the sandbox for the server's lifetime). */
  client: () => Promise<ModelSecurityClient>
  /** Adds create_scan and add_labels. */
  allowWrites?: boolean
  /** What the client talks to, for the instructions: "the offline daystrom sandbox", "profile prod", ... */
  target?: string
  /** Diagnostics (stderr). */
  log?: (line: string) => void
}

export function serverInstructions(allowWrites: boolean, target?: string): string {
  return [
    `daystrom exposes Palo Alto Networks Prisma AIRS AI Model Security${target ? ` (${target})` : ''}: the service that scans ML model artifacts (pickle, PyTorch, Keras, ONNX, safetensors, GGUF, ...) for unsafe deserialization, injected code, unapproved formats and licence problems, and judges each scan against a security group (a policy of rules, each DISABLED, ALLOWING or BLOCKING).`,
    'A scan\'s outcome is ALLOWED, BLOCKED (a BLOCKING rule failed), ERROR (the scan itself failed) or PENDING (still running).',
    'Typical uses: find scans (list_scans, filter by outcome, group, labels, time), explain a verdict (get_scan gives the failed rules and why; list_violations the findings per file with PAIT threat codes; explain_rule the rule, its remediation and settings), review policy (list_groups, get_group), see what changed between two scans or model versions (diff_scans), and check a model on this machine before publishing it (scan_local_path: static analysis only, nothing is sent).',
    'Groups and rules are addressed by exact name or UUID; scans, violations and model versions by UUID. Lists are paged: pass next_skip as skip for more.',
    allowWrites
      ? 'Writes are enabled: create_scan starts a scan (recorded in the service) and add_labels labels a scan. Confirm with the user before writing.'
      : 'The server is read-only: it records nothing in the service (start it with --allow-writes for create_scan and add_labels).',
  ].join('\n')
}

/** A configured MCP server (not yet connected to a transport), and the names of its tools. */
export function createMcpServer(opts: DaystromMcpOptions): {server: McpServer; tools: string[]} {
  const allowWrites = Boolean(opts.allowWrites)
  const server = new McpServer(
    {name: 'daystrom', title: 'daystrom: Prisma AIRS AI Model Security', version: opts.version},
    {instructions: serverInstructions(allowWrites, opts.target)},
  )
  const tools = registerTools(server, {client: opts.client, allowWrites, log: opts.log ?? (() => {})})
  return {server, tools}
}
