/**
 * The MCP tools: each is an input schema, an output schema and a handler over the same AIRS client, name
 * resolution, scanner and scan comparison the commands use. A handler returns structured data; the wrapper
 * adds the text block (the same JSON, as the specification recommends for older clients) and turns every
 * failure (bad argument, 404, service error, bug) into a tool result with isError, never a crash.
 */
import type {McpServer} from '@modelcontextprotocol/sdk/server/mcp.js'
import type {CallToolResult, ToolAnnotations} from '@modelcontextprotocol/sdk/types.js'
import {stat} from 'node:fs/promises'
import {resolve} from 'node:path'
import {z} from 'zod'

import type {ModelSecurityClient} from '../airs/client.js'
import {DaystromError, usageError} from '../airs/errors.js'
import {redact} from '../airs/redact.js'
import {sourceTypeOfUri} from '../airs/source-type.js'
import type {Evaluation, Label, Page, Rule, RuleInstance, Scan, ScanCreate} from '../airs/types.js'
import {validateBody} from '../airs/validate.js'
import {outcomeReason, silentReporter, waitForScans} from '../command/gate.js'
import {validateLabels} from '../command/labels.js'
import {resolveGroup, resolveGroupUuid, resolveRule, resolveRuleUuid} from '../command/resolve.js'
import {assertSourceMatches} from '../command/scan-request.js'
import type {ScanDiff} from '../scans/diff.js'
import {compareScans, parseDiffRefs} from '../scans/fetch.js'
import {parseTimePoint} from '../util/duration.js'
import {
  EvaluationSchema, evalOutcomes, FileScanDataSchema, GroupSchema, LabelSchema, nameOrUuid, pageInput, pageOutput, RuleExplanationSchema,
  RuleInstanceSummarySchema, ScanDiffShape, ScanSchema, sortDateField, sortDirection, sourceTypes, uuid, ViolationSchema,
} from './schemas.js'

export interface ToolContext {
  /** The AIRS client (built once, shared by every call). */
  client: () => Promise<ModelSecurityClient>
  /** Diagnostics: stderr, never stdout. */
  log: (line: string) => void
  allowWrites: boolean
}

type Shape = z.ZodRawShape
type Out<S extends Shape> = z.objectOutputType<S, z.ZodTypeAny>

interface ToolSpec<I extends Shape, O extends Shape> {
  title: string
  description: string
  input: I
  output: O
  annotations: ToolAnnotations
  run: (args: Out<I>) => Promise<Out<O>>
}

/** The message a client (and the model behind it) sees for a failure: what went wrong and what to do. */
export function toolErrorText(error: unknown): string {
  if (error instanceof DaystromError) {
    const meta = [error.code, error.status ? `HTTP ${error.status}` : ''].filter(Boolean).join(', ')
    const hint = error.suggestions?.length ? `\nTry: ${error.suggestions.join(' | ')}` : ''
    return redact(`${error.message}${hint}\n[${meta}]`)
  }
  if (error instanceof z.ZodError) return redact(`invalid arguments: ${error.issues.map(i => `${i.path.join('.') || '(arguments)'}: ${i.message}`).join('; ')}`)
  const message = error instanceof Error ? error.message : String(error)
  return redact(`internal error: ${message} (a bug in daystrom; please report it)`)
}

function register<I extends Shape, O extends Shape>(server: McpServer, ctx: ToolContext, name: string, spec: ToolSpec<I, O>): void {
  const handler = async (args: Out<I>): Promise<CallToolResult> => {
    const started = Date.now()
    try {
      const data = await spec.run(args)
      ctx.log(`tool ${name}: ok (${Date.now() - started} ms)`)
      return {content: [{type: 'text', text: JSON.stringify(data, null, 2)}], structuredContent: data}
    } catch (error) {
      const text = toolErrorText(error)
      ctx.log(`tool ${name}: error (${Date.now() - started} ms): ${text.split('\n')[0]}`)
      return {isError: true, content: [{type: 'text', text}]}
    }
  }
  server.registerTool(name, {
    title: spec.title, description: spec.description, inputSchema: spec.input, outputSchema: spec.output, annotations: spec.annotations,
  }, handler as never)
}

const READ: ToolAnnotations = {readOnlyHint: true, openWorldHint: false}

function pageInfo<T>(page: Page<T>, skip: number, limit: number): z.infer<z.ZodObject<typeof pageOutput>> {
  const total = typeof page.pagination.total_items === 'number' ? page.pagination.total_items : null
  const end = skip + page.items.length
  const more = total === null ? page.items.length === limit : end < total
  return {total_items: total, skip, returned: page.items.length, next_skip: more && page.items.length > 0 ? end : null}
}

function timePoint(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  try {
    return parseTimePoint(value)
  } catch (error) {
    throw usageError(`${name}: ${(error as Error).message}`)
  }
}

async function allPages<T>(client: ModelSecurityClient, fetch: (q: {skip?: number; limit?: number}) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = []
  for await (const item of client.paginate(fetch, {limit: 100})) out.push(item)
  return out
}

/** Why a scan has its outcome, in one sentence. */
/** Every FAILED rule evaluation of a settled scan (none while PENDING or for an ERROR scan). */
async function failedRules(client: ModelSecurityClient, scan: Scan): Promise<Evaluation[]> {
  if (scan.eval_outcome !== 'BLOCKED' && scan.eval_outcome !== 'ALLOWED') return []
  return allPages(client, q => client.listScanEvaluations(scan.uuid, {...q, result: 'FAILED'}))
}

export function scanWhy(scan: Scan, failed: Evaluation[]): string {
  const blocking = failed.filter(e => e.rule_instance_state === 'BLOCKING')
  const allowing = failed.filter(e => e.rule_instance_state !== 'BLOCKING')
  const names = (es: Evaluation[]) => es.map(e => `${e.rule_name} (${e.violation_count} violation${e.violation_count === 1 ? '' : 's'})`).join(', ')
  switch (scan.eval_outcome) {
    case 'PENDING': return 'the scan is still being evaluated; call get_scan again in a few seconds'
    case 'ERROR': return `the scan failed: ${outcomeReason(scan)}`
    case 'BLOCKED': return `${outcomeReason(scan)}${blocking.length ? `; BLOCKING rules that failed: ${names(blocking)}` : ''}${allowing.length ? `; also failed (ALLOWING, recorded only): ${names(allowing)}` : ''}`
    default: return `no BLOCKING rule failed${allowing.length ? `; failed ALLOWING rules (recorded only): ${names(allowing)}` : ''}`
  }
}

function explainRule(r: Rule): z.infer<typeof RuleExplanationSchema> {
  const defaults = (r.default_values ?? {}) as Record<string, string[] | undefined>
  return {
    uuid: r.uuid, name: r.name, description: r.description ?? null, rule_type: r.rule_type ?? null, default_state: r.default_state ?? null,
    compatible_sources: r.compatible_sources ?? [],
    remediation: {description: r.remediation?.description ?? null, steps: r.remediation?.steps ?? [], url: r.remediation?.url || null},
    editable_fields: (r.editable_fields ?? []).map(f => ({
      attribute_name: f.attribute_name, display_name: f.display_name ?? null, type: f.type ?? null, display_type: f.display_type ?? null,
      description: f.description ?? null, allowed_values: f.dropdown_values?.length ? f.dropdown_values.map(d => d.value) : null,
      default: defaults[f.attribute_name] ?? null,
    })),
    constant_values: r.constant_values ?? {},
  }
}

function instanceSummary(i: RuleInstance): z.infer<typeof RuleInstanceSummarySchema> {
  return {
    uuid: i.uuid, rule_name: i.rule?.name ?? null, rule_uuid: i.security_rule_uuid, state: i.state, rule_type: i.rule?.rule_type ?? null,
    default_state: i.rule?.default_state ?? null, field_values: i.field_values ?? {},
  }
}

/** The shape check between the diff module's type and the declared output schema (compile time). */
const diffOutput = (d: ScanDiff): Out<typeof ScanDiffShape> => d

async function scanLocally(path: string, allow?: string[], ignore?: string[]): Promise<{root: string; report: Awaited<ReturnType<typeof import('../scanner/index.js').scanPath>>}> {
  const root = resolve(path)
  const st = await stat(root).catch(() => undefined)
  if (!st) throw usageError(`path: "${path}" does not exist${root === path ? '' : ` (resolved to ${root})`}`)
  const {scanPath} = await import('../scanner/index.js')
  return {root, report: await scanPath(root, {allowPatterns: allow, ignorePatterns: ignore})}
}

const patterns = z.array(z.string().min(1).max(256)).max(100)

/** Register every tool (the write tools only when allowed). Returns the names registered. */
export function registerTools(server: McpServer, ctx: ToolContext): string[] {
  const names: string[] = []
  const add = <I extends Shape, O extends Shape>(name: string, spec: ToolSpec<I, O>) => {
    register(server, ctx, name, spec)
    names.push(name)
  }

  add('list_scans', {
    title: 'List scans',
    description: 'List model scans, newest first, with the same filters as `daystrom model-security scans list`. Filters combine (AND); a list filter matches any of its values. Each scan has its outcome (ALLOWED, BLOCKED, ERROR or PENDING), model URI, security group and rule summary.',
    input: {
      group: nameOrUuid('group').optional().describe('Only scans of this security group (exact name or UUID).'),
      source_types: sourceTypes.optional().describe('Only scans of these source types.'),
      eval_outcomes: evalOutcomes.optional().describe('Only scans with these outcomes.'),
      search: z.string().max(256).optional().describe('Match the model URI or scan UUID.'),
      since: z.string().optional().describe('Created at or after: an ISO time or a duration ago (24h, 7d).'),
      until: z.string().optional().describe('Created at or before: an ISO time or a duration ago.'),
      labels_query: z.string().max(4096).optional().describe('Label query, e.g. "env=prod AND team=ml".'),
      model_version: uuid('model_version').optional().describe('Only scans of this model version (UUID).'),
      sort_order: sortDirection.optional().describe('Order by creation time (default desc: newest first).'),
      ...pageInput(20),
    },
    output: {scans: z.array(ScanSchema), ...pageOutput},
    annotations: READ,
    run: async a => {
      const since = timePoint('since', a.since)
      const until = timePoint('until', a.until)
      if (since && until && since > until) throw usageError(`since (${since}) is after until (${until})`)
      const client = await ctx.client()
      const group = a.group === undefined ? undefined : await resolveGroupUuid(client, a.group)
      const page = await client.listScans({
        skip: a.skip, limit: a.limit, security_group_uuid: group, source_types: a.source_types, eval_outcomes: a.eval_outcomes,
        search_query: a.search, start_time: since, end_time: until, labels_query: a.labels_query, model_version_uuid: a.model_version,
        sort_order: a.sort_order,
      })
      return {scans: page.items, ...pageInfo(page, a.skip, a.limit)}
    },
  })

  add('get_scan', {
    title: 'Get a scan and why it has its outcome',
    description: 'One scan by UUID: its outcome, why (the failed BLOCKING rules of a BLOCKED scan, the error of an ERROR scan), and every failed rule evaluation with its state and violation count. Use list_violations for the findings themselves.',
    input: {scan: uuid('scan').describe('Scan UUID.')},
    output: {
      scan: ScanSchema, why: z.string().describe('Why the scan has its outcome.'),
      failed_rules: z.array(EvaluationSchema).describe('Failed rule evaluations (BLOCKING ones decide the outcome; ALLOWING ones are recorded only).'),
    },
    annotations: READ,
    run: async a => {
      const client = await ctx.client()
      const scan = await client.getScan(a.scan)
      const failed = await failedRules(client, scan)
      return {scan, why: scanWhy(scan, failed), failed_rules: failed}
    },
  })

  add('list_violations', {
    title: 'List the violations of a scan',
    description: 'The rule violations a scan found: rule and its state at scan time, file, threat code (PAIT-...), module/operator, description and remediation steps.',
    input: {scan: uuid('scan').describe('Scan UUID.'), ...pageInput(50)},
    output: {scan_uuid: z.string(), violations: z.array(ViolationSchema), ...pageOutput},
    annotations: READ,
    run: async a => {
      const client = await ctx.client()
      const page = await client.listScanViolations(a.scan, {skip: a.skip, limit: a.limit})
      return {scan_uuid: a.scan, violations: page.items, ...pageInfo(page, a.skip, a.limit)}
    },
  })

  add('explain_rule', {
    title: 'Explain a security rule',
    description: 'A security rule of the catalog, by exact name or UUID: what it checks, how to remediate a violation, its editable fields (with allowed values and defaults), its default state and the source types it applies to.',
    input: {rule: nameOrUuid('rule').describe('Rule name (exact, e.g. "Load Time Code Execution Check") or UUID.')},
    output: {rule: RuleExplanationSchema},
    annotations: READ,
    run: async a => ({rule: explainRule(await resolveRule(await ctx.client(), a.rule))}),
  })

  add('list_groups', {
    title: 'List security groups',
    description: 'Security groups (policies): each binds a source type (LOCAL, HUGGING_FACE, S3, ...) to rule instances. Same filters as `daystrom model-security groups list`.',
    input: {
      source_types: sourceTypes.optional().describe('Only groups of these source types.'),
      search: z.string().min(3).max(1000).optional().describe('Match group name or UUID (3-1000 characters).'),
      enabled_rules: z.array(nameOrUuid('enabled_rules item')).max(50).optional().describe('Only groups where these rules (names or UUIDs) are ALLOWING or BLOCKING.'),
      sort_field: sortDateField.optional(),
      sort_dir: sortDirection.optional(),
      ...pageInput(50),
    },
    output: {groups: z.array(GroupSchema), ...pageOutput},
    annotations: READ,
    run: async a => {
      const client = await ctx.client()
      const rules = a.enabled_rules ? await Promise.all(a.enabled_rules.map(r => resolveRuleUuid(client, r))) : undefined
      const page = await client.listSecurityGroups({
        skip: a.skip, limit: a.limit, source_types: a.source_types, search_query: a.search, enabled_rules: rules,
        sort_field: a.sort_field, sort_dir: a.sort_dir,
      })
      return {groups: page.items, ...pageInfo(page, a.skip, a.limit)}
    },
  })

  add('get_group', {
    title: 'Get a security group with its rules',
    description: 'One security group by exact name or UUID, with all its rule instances: each rule\'s state (DISABLED, ALLOWING, BLOCKING) and field values. Use explain_rule for a rule\'s details.',
    input: {group: nameOrUuid('group').describe('Group name (exact, e.g. "Default LOCAL") or UUID.')},
    output: {group: GroupSchema, rule_instances: z.array(RuleInstanceSummarySchema)},
    annotations: READ,
    run: async a => {
      const client = await ctx.client()
      const group = await resolveGroup(client, a.group)
      const instances = await allPages(client, q => client.listRuleInstances(group.uuid, q))
      return {group, rule_instances: instances.map(i => instanceSummary(i))}
    },
  })

  add('diff_scans', {
    title: 'Compare two scans',
    description: 'Compare scan a (before) with scan b (after): outcome change, violations new/resolved/unchanged (matched by rule, file, threat, module and operator, not by UUID), rule evaluations whose result changed, files added/removed/changed (by sha256). Give scan_a and scan_b, or model_version_a and model_version_b (the latest scan of each). A PENDING scan is refused: wait until it settles.',
    input: {
      scan_a: uuid('scan_a').optional().describe('UUID of the first scan (before).'),
      scan_b: uuid('scan_b').optional().describe('UUID of the second scan (after).'),
      model_version_a: uuid('model_version_a').optional().describe('Instead of scans: the first model version (its latest scan).'),
      model_version_b: uuid('model_version_b').optional().describe('Instead of scans: the second model version (its latest scan).'),
    },
    output: ScanDiffShape,
    annotations: READ,
    run: async a => {
      const present = (...xs: Array<string | undefined>) => xs.filter((x): x is string => x !== undefined)
      const refs = parseDiffRefs(present(a.scan_a, a.scan_b), present(a.model_version_a, a.model_version_b), {
        scans: ['scan_a', 'scan_b'], versions: ['model_version_a', 'model_version_b'],
        scansHint: 'scan_a and scan_b', versionsHint: 'model_version_a and model_version_b',
      })
      return diffOutput(await compareScans(await ctx.client(), refs))
    },
  })

  add('scan_local_path', {
    title: 'Scan a local model (dry run)',
    description: 'Statically scan a model file or directory on this machine with daystrom\'s local scanner (nothing is loaded or executed) and return the findings per file: formats, sha256, status and issues with PAIT threat codes. A dry run: nothing is sent to the service and no scan is recorded.',
    input: {
      path: z.string().min(1).describe('File or directory to scan (absolute, or relative to the server\'s working directory).'),
      allow_patterns: patterns.optional().describe('Only scan files matching these globs.'),
      ignore_patterns: patterns.optional().describe('Skip files matching these globs.'),
    },
    output: {
      path: z.string(), sent: z.literal(false).describe('Always false: nothing was sent to the service.'),
      scanner_version: z.string(), total_files_scanned: z.number().int(), total_files_skipped: z.number().int(),
      model_formats: z.array(z.string()), model_size_bytes: z.number().int(), issues: z.number().int().describe('Issues found across all files.'),
      files: z.array(FileScanDataSchema), notes: z.array(z.string()), truncated: z.boolean(),
    },
    annotations: {readOnlyHint: true, openWorldHint: false},
    run: async a => {
      const {root, report} = await scanLocally(a.path, a.allow_patterns, a.ignore_patterns)
      const d = report.scanDetails
      return {
        path: root, sent: false as const, scanner_version: d.scanner_version, total_files_scanned: d.total_files_scanned,
        total_files_skipped: d.total_files_skipped, model_formats: d.model_formats, model_size_bytes: d.model_size_bytes,
        issues: d.files.reduce((n, f) => n + (f.issues_detected?.length ?? 0), 0), files: d.files, notes: report.notes, truncated: report.truncated,
      }
    },
  })

  if (!ctx.allowWrites) return names

  add('create_scan', {
    title: 'Start a scan (write)',
    description: 'Start a scan of a model: model_uri for a remote model (s3://, gs://, https://huggingface.co/..., ...), or model_path for a directory on this machine (scanned here, findings sent with the scan). The group\'s source type must match the model. With wait, polls until the verdict or timeout_seconds.',
    input: {
      model_uri: z.string().min(1).optional().describe('Remote model location.'),
      model_path: z.string().min(1).optional().describe('Local file or directory (LOCAL groups): scanned here.'),
      group: nameOrUuid('group').describe('Security group (exact name or UUID).'),
      model_name: z.string().optional(), model_author: z.string().optional(), model_version: z.string().optional(),
      labels: z.array(LabelSchema).max(50).optional().describe('Labels to attach, e.g. [{"key":"env","value":"ci"}].'),
      allow_patterns: patterns.optional(), ignore_patterns: patterns.optional(),
      wait: z.boolean().default(false).describe('Wait for the verdict (polling).'),
      timeout_seconds: z.number().int().min(1).max(1800).default(50).describe('With wait: give up after this long (the scan keeps running).'),
    },
    output: {scan: ScanSchema, waited: z.boolean(), timed_out: z.boolean(), why: z.string()},
    annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true},
    run: async a => {
      if ((a.model_uri === undefined) === (a.model_path === undefined)) throw usageError('give exactly one of model_uri (remote) or model_path (a local directory)')
      if (a.labels) validateLabels(a.labels, 'labels')
      // the group and its source type first (cheap), then the local scan (maybe long), then the request check
      const client = await ctx.client()
      const group = await resolveGroup(client, a.group)
      const uri = a.model_path === undefined ? a.model_uri! : resolve(a.model_path)
      const expected = sourceTypeOfUri(uri)
      assertSourceMatches(group, expected, {group: `group "${a.group}"`, model: uri, suggestion: `list_groups with source_types ["${expected}"]`})
      const local = a.model_path === undefined ? undefined : await scanLocally(a.model_path, a.allow_patterns, a.ignore_patterns)
      const body: ScanCreate = {
        model_uri: uri, security_group_uuid: group.uuid, scan_origin: 'MODEL_SECURITY_SDK',
        ...(a.model_name === undefined ? {} : {model_name: a.model_name}),
        ...(a.model_author === undefined ? {} : {model_author: a.model_author}),
        ...(a.model_version === undefined ? {} : {model_version: a.model_version}),
        ...(a.allow_patterns ? {allow_patterns: a.allow_patterns} : {}),
        ...(a.ignore_patterns ? {ignore_patterns: a.ignore_patterns} : {}),
        ...(a.labels ? {labels: a.labels} : {}),
        ...(local ? {scan_details: local.report.scanDetails} : {}),
      }
      const problems = validateBody('ScanCreate', body)
      if (problems.length > 0) throw usageError(`invalid scan request: ${problems.map(p => `${p.pointer || '/'}: ${p.message}`).join('; ')}`)
      const created = await client.createScan(body)
      if (!a.wait) return {scan: created, waited: false, timed_out: false, why: 'started; call get_scan with its uuid for the verdict'}
      const {scans, timedOut} = await waitForScans(client, [created.uuid], {intervalMs: 1000, timeoutMs: a.timeout_seconds * 1000, failOn: new Set()},
        silentReporter(), {initial: new Map([[created.uuid, created]])})
      const scan = scans[0]
      const failed = await failedRules(client, scan)
      return {scan, waited: true, timed_out: timedOut, why: scanWhy(scan, failed)}
    },
  })

  add('add_labels', {
    title: 'Add labels to a scan (write)',
    description: 'Add key/value labels to a scan (an existing key gets the new value). Keys and values: letters, digits, "_" and "-".',
    input: {scan: uuid('scan').describe('Scan UUID.'), labels: z.array(LabelSchema).min(1).max(50).describe('e.g. [{"key":"env","value":"prod"}]')},
    output: {scan_uuid: z.string(), labels: z.array(LabelSchema)},
    annotations: {readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false},
    run: async a => {
      const labels: Label[] = validateLabels(a.labels, 'labels')
      const response = await (await ctx.client()).addScanLabels(a.scan, labels)
      const got = (response as {labels?: Label[]}).labels
      return {scan_uuid: a.scan, labels: Array.isArray(got) ? got : labels}
    },
  })

  return names
}
