/**
 * The 29 operations of the two planes (11 management, 18 data), as synchronous handlers over the store.
 * Parameters, defaults, limits, sorting and filters follow the OpenAPI documents; bodies are validated with
 * the shared request schemas (src/lib/airs/schemas.ts).
 *
 * Delete semantics (documented choice): `DELETE /v1/security-groups/{uuid}` is a soft delete — the group
 * gets `is_tombstone: true`, disappears from the group list, its rule instances disappear from list
 * operations (listing them answers 404), but GET of the group and of each instance still works. Scans keep
 * referring to a deleted group (their `security_group_uuid`/`security_group_name` are a snapshot) and stay
 * fully readable. While the group still has PENDING scans the delete answers 409 (reported for the service),
 * so a scan never settles against a group that is gone. New scans, updates and a second delete on a deleted
 * group answer 404.
 */
import {
  EVAL_OUTCOMES, EVALUATION_RESULTS, GROUP_SOURCE_TYPES, LABEL_PATTERN, RULE_STATES, SORT_DATE_FIELDS,
  SORT_DIRECTIONS, SORT_FILE_FIELDS, SOURCE_TYPES,
} from '../airs/enums.js'
import type {GroupCreate, GroupUpdate, Label, RuleInstanceUpdate, ScanCreate} from '../airs/types.js'
import {HttpError, checkBody, item, notFound, unprocessable} from './errors.js'
import {LabelsQueryError, labelsQuerySql, parseLabelsQuery} from './labels-query.js'
import {INT_NO_BOUNDS, LIMIT_100, type ParamSpec, SKIP_ANY, SKIP_MIN0, parseQuery} from './params.js'
import {insertScan, scanDocWithLabels, scanJsonWithLabels, setLabels} from './scans.js'
import {sourceTypeOfUri} from '../airs/source-type.js'
import {
  type DB, type GroupRow, type InstanceRow, getGroup, groupDoc, insertGroup, instanceDoc, isoMicros,
  isoNow, loadRules, newUuid, ruleByUuid, stmt,
} from './store.js'

export interface RouteContext {
  db: DB
  params: Record<string, string>
  query: URLSearchParams
  body: unknown
  clientId: string
  settleDelayMs: number
  /** A scan was created: arrange for it to settle in this process too. */
  scheduled: (delayMs: number) => void
}

export interface RouteResult { status: number; body?: unknown; /** Pre-serialised JSON body (hot paths). */ raw?: string }
export type Handler = (ctx: RouteContext) => RouteResult

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  plane: 'mgmt' | 'data'
  path: string
  write: boolean
  handler: Handler
}

const ok = (body: unknown, status = 200): RouteResult => ({status, body})

interface PageOpts { limit: number; skip: number }
function page(p: Record<string, unknown>): PageOpts {
  return {limit: Math.max(0, p.limit as number), skip: Math.max(0, p.skip as number)}
}

const TS = (d: unknown): string => isoMicros((d as Date).getTime())

// ---------------------------------------------------------------- management plane

function listGroups(ctx: RouteContext): RouteResult {
  const q = parseQuery(ctx.query, {
    skip: SKIP_MIN0, limit: LIMIT_100(50), sort_field: {type: 'enum', values: SORT_DATE_FIELDS, default: 'created_at'},
    sort_dir: {type: 'enum', values: SORT_DIRECTIONS, default: 'desc'}, source_types: {type: 'enum', values: SOURCE_TYPES, array: true},
    search_query: {type: 'string', minLength: 3, maxLength: 1000}, enabled_rules: {type: 'uuid', array: true},
  })
  const where = ['g.is_tombstone = 0']
  const args: unknown[] = []
  if (q.source_types) {
    where.push(`g.source_type IN (${(q.source_types as string[]).map(() => '?').join(',')})`)
    args.push(...(q.source_types as string[]))
  }
  if (q.search_query) {
    where.push('(instr(lower(g.uuid), lower(?)) > 0 OR instr(lower(g.name), lower(?)) > 0)')
    args.push(q.search_query, q.search_query)
  }
  if (q.enabled_rules) {
    const rules = q.enabled_rules as string[]
    where.push(`EXISTS (SELECT 1 FROM rule_instances ri WHERE ri.group_uuid = g.uuid AND ri.state != 'DISABLED' AND ri.rule_uuid IN (${rules.map(() => '?').join(',')}))`)
    args.push(...rules)
  }
  const {limit, skip} = page(q)
  const dir = q.sort_dir === 'asc' ? 'ASC' : 'DESC'
  const field = q.sort_field === 'updated_at' ? 'updated_at' : 'created_at'
  const w = where.join(' AND ')
  const total = (ctx.db.prepare(`SELECT count(*) AS n FROM groups g WHERE ${w}`).get(...args) as {n: number}).n
  const rows = ctx.db.prepare(`SELECT * FROM groups g WHERE ${w} ORDER BY g.${field} ${dir}, g.seq ${dir} LIMIT ? OFFSET ?`).all(...args, limit, skip) as GroupRow[]
  return ok({pagination: {total_items: total}, security_groups: rows.map(groupDoc)})
}

function checkRuleConfigs(ctx: RouteContext, body: GroupCreate): void {
  const errs = []
  for (const [key, cfg] of Object.entries(body.rule_configurations ?? {})) {
    const rule = ruleByUuid(ctx.db, key)
    const loc = ['body', 'rule_configurations', key]
    if (!rule) {
      errs.push(item(loc, `Unknown security rule UUID: ${key}`, 'value_error', key))
      continue
    }
    if (!rule.compatible_sources.includes('ALL') && !rule.compatible_sources.includes(body.source_type)) {
      errs.push(item(loc, `Security rule "${rule.name}" is not compatible with source type ${body.source_type} (compatible: ${rule.compatible_sources.join(', ')})`, 'value_error', key))
      continue
    }
    const editable = new Set(rule.editable_fields.map(f => f.attribute_name))
    for (const fk of Object.keys(cfg.field_values ?? {})) {
      if (!editable.has(fk)) {
        errs.push(item([...loc, 'field_values', fk], `Field "${fk}" is not editable on security rule "${rule.name}" (editable: ${[...editable].join(', ') || 'none'})`, 'value_error', fk))
      }
    }
  }
  if (errs.length > 0) throw unprocessable(errs)
}

function createGroup(ctx: RouteContext): RouteResult {
  checkBody('GroupCreate', ctx.body)
  const body = ctx.body as GroupCreate
  if (!(GROUP_SOURCE_TYPES as readonly string[]).includes(body.source_type)) {
    throw unprocessable([item(['body', 'source_type'], `Input should be a concrete source type: ALL is only meaningful in a rule's compatible_sources`, 'value_error', body.source_type)])
  }
  checkRuleConfigs(ctx, body)
  const uuid = newUuid()
  const configs = Object.fromEntries(Object.entries(body.rule_configurations ?? {}).map(([k, v]) => [k.toLowerCase(), v])) as Parameters<typeof insertGroup>[2]
  insertGroup(ctx.db, {uuid, name: body.name, description: body.description ?? '', source_type: body.source_type, created_at: isoNow()}, configs)
  return ok(groupDoc(getGroup(ctx.db, uuid)!), 201)
}

function liveGroup(ctx: RouteContext, uuid: string): GroupRow {
  const g = getGroup(ctx.db, uuid)
  if (!g || g.is_tombstone) throw notFound('Security group', uuid)
  return g
}

function getGroupOp(ctx: RouteContext): RouteResult {
  const g = getGroup(ctx.db, ctx.params.uuid)
  if (!g) throw notFound('Security group', ctx.params.uuid)
  return ok(groupDoc(g))
}

function updateGroup(ctx: RouteContext): RouteResult {
  checkBody('GroupUpdate', ctx.body)
  const body = ctx.body as GroupUpdate
  const g = liveGroup(ctx, ctx.params.uuid)
  const now = isoNow()
  ctx.db.prepare('UPDATE groups SET name = ?, description = ?, updated_at = ? WHERE uuid = ?')
    .run(body.name ?? g.name, body.description ?? g.description, now, g.uuid)
  return ok(groupDoc(getGroup(ctx.db, g.uuid)!))
}

function deleteGroup(ctx: RouteContext): RouteResult {
  const g = liveGroup(ctx, ctx.params.uuid)
  const pending = (ctx.db.prepare("SELECT count(*) AS n FROM scans WHERE group_uuid = ? AND eval_outcome = 'PENDING'").get(g.uuid) as {n: number}).n
  if (pending > 0) throw new HttpError(409, {detail: `Security group ${g.uuid} has ${pending} pending scan(s); delete it when they have finished`})
  ctx.db.prepare('UPDATE groups SET is_tombstone = 1, updated_at = ? WHERE uuid = ?').run(isoNow(), g.uuid)
  return {status: 204}
}

function listInstances(ctx: RouteContext): RouteResult {
  const q = parseQuery(ctx.query, {
    limit: INT_NO_BOUNDS(10), skip: INT_NO_BOUNDS(0), security_rule_uuid: {type: 'uuid'}, state: {type: 'enum', values: RULE_STATES},
  })
  const g = liveGroup(ctx, ctx.params.security_group_uuid)
  let rows = ctx.db.prepare('SELECT * FROM rule_instances WHERE group_uuid = ?').all(g.uuid) as InstanceRow[]
  if (q.security_rule_uuid) rows = rows.filter(r => r.rule_uuid === q.security_rule_uuid)
  if (q.state) rows = rows.filter(r => r.state === q.state)
  const docs = rows.map(r => instanceDoc(ctx.db, r)).sort((a, b) => a.rule.name.localeCompare(b.rule.name))
  const {limit, skip} = page(q)
  return ok({pagination: {total_items: docs.length}, rule_instances: docs.slice(skip, skip + limit)})
}

function findInstance(ctx: RouteContext): {group: GroupRow; row: InstanceRow} {
  const group = getGroup(ctx.db, ctx.params.security_group_uuid)
  if (!group) throw notFound('Security group', ctx.params.security_group_uuid)
  const row = ctx.db.prepare('SELECT * FROM rule_instances WHERE uuid = ? AND group_uuid = ?')
    .get(ctx.params.rule_instance_uuid.toLowerCase(), group.uuid) as InstanceRow | undefined
  if (!row) throw notFound('Rule instance', ctx.params.rule_instance_uuid)
  return {group, row}
}

function getInstance(ctx: RouteContext): RouteResult {
  return ok(instanceDoc(ctx.db, findInstance(ctx).row))
}

function updateInstance(ctx: RouteContext): RouteResult {
  checkBody('RuleInstanceUpdate', ctx.body)
  const body = ctx.body as RuleInstanceUpdate
  if (body.security_group_uuid.toLowerCase() !== ctx.params.security_group_uuid.toLowerCase()) {
    throw unprocessable([item(['body', 'security_group_uuid'], `security_group_uuid must equal the security group in the path (${ctx.params.security_group_uuid})`, 'value_error', body.security_group_uuid)])
  }
  const {group, row} = findInstance(ctx)
  if (group.is_tombstone) throw notFound('Security group', group.uuid)
  const rule = ruleByUuid(ctx.db, row.rule_uuid)!
  const editable = new Set(rule.editable_fields.map(f => f.attribute_name))
  const bad = Object.keys(body.field_values ?? {}).filter(k => !editable.has(k))
  if (bad.length > 0) {
    throw unprocessable(bad.map(k => item(['body', 'field_values', k], `Field "${k}" is not editable on security rule "${rule.name}" (editable: ${[...editable].join(', ') || 'none'})`, 'value_error', k)))
  }
  const fieldValues = {...(JSON.parse(row.field_values) as Record<string, unknown>), ...body.field_values}
  ctx.db.prepare('UPDATE rule_instances SET state = ?, field_values = ?, updated_at = ? WHERE uuid = ?')
    .run(body.state ?? row.state, JSON.stringify(fieldValues), isoNow(), row.uuid)
  return ok(instanceDoc(ctx.db, ctx.db.prepare('SELECT * FROM rule_instances WHERE uuid = ?').get(row.uuid) as InstanceRow))
}

function listRules(ctx: RouteContext): RouteResult {
  const q = parseQuery(ctx.query, {
    limit: INT_NO_BOUNDS(10), skip: INT_NO_BOUNDS(0), source_type: {type: 'enum', values: SOURCE_TYPES},
    search_query: {type: 'string', minLength: 3, maxLength: 1000},
  })
  let rules = loadRules(ctx.db)
  if (q.source_type) {
    const st = q.source_type as string
    rules = rules.filter(r => r.compatible_sources.includes('ALL') || r.compatible_sources.includes(st as never))
  }
  if (q.search_query) {
    const s = (q.search_query as string).toLowerCase()
    rules = rules.filter(r => r.uuid.includes(s) || r.name.toLowerCase().includes(s))
  }
  const {limit, skip} = page(q)
  return ok({pagination: {total_items: rules.length}, rules: rules.slice(skip, skip + limit)})
}

function getRule(ctx: RouteContext): RouteResult {
  const r = ruleByUuid(ctx.db, ctx.params.uuid)
  if (!r) throw notFound('Security rule', ctx.params.uuid)
  return ok(r)
}

function pypiAuth(): RouteResult {
  const token = newUuid().replaceAll('-', '')
  return ok({
    url: `https://_token:sbx${token}@pypi.sandbox.daystrom.invalid/model-security/simple/`,
    expires_at: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
  })
}

// ---------------------------------------------------------------- data plane

function createScan(ctx: RouteContext): RouteResult {
  checkBody('ScanCreate', ctx.body)
  const body = ctx.body as ScanCreate
  if (body.model_uri.trim() === '') throw unprocessable([item(['body', 'model_uri'], 'String should have at least 1 character', 'string_too_short', body.model_uri, {min_length: 1})])
  const group = getGroup(ctx.db, body.security_group_uuid)
  if (!group || group.is_tombstone) throw notFound('Security group', body.security_group_uuid)
  const uriSource = sourceTypeOfUri(body.model_uri)
  const mismatch = uriSource === undefined
    ? group.source_type === 'LOCAL'
    : uriSource !== group.source_type
  if (mismatch) {
    throw new HttpError(400, {detail: `source type mismatch: model_uri ${body.model_uri} is ${uriSource ? `a ${uriSource}` : 'not a LOCAL'} source but security group "${group.name}" (${group.uuid}) is for ${group.source_type}`})
  }
  if (body.labels) {
    const keys = body.labels.map(l => l.key)
    const dup = keys.find((k, i) => keys.indexOf(k) !== i)
    if (dup) throw unprocessable([item(['body', 'labels'], `Duplicate label key: ${dup}`, 'value_error', body.labels)])
  }
  const enabled = (ctx.db.prepare("SELECT count(*) AS n FROM rule_instances WHERE group_uuid = ? AND state != 'DISABLED'").get(group.uuid) as {n: number}).n
  const {uuid} = insertScan(ctx.db, {body, group, clientId: ctx.clientId, settleDelayMs: ctx.settleDelayMs, enabledRules: enabled})
  ctx.scheduled(ctx.settleDelayMs)
  return ok(scanById(ctx.db, uuid), 201)
}

function scanById(db: DB, uuid: string): Record<string, unknown> {
  const row = db.prepare('SELECT uuid, doc FROM scans WHERE uuid = ?').get(uuid.toLowerCase()) as {uuid: string; doc: string} | undefined
  if (!row) throw notFound('Scan', uuid)
  return scanDocWithLabels(db, [row])[0]
}

function requireScan(db: DB, uuid: string): string {
  const row = db.prepare('SELECT uuid FROM scans WHERE uuid = ?').get(uuid.toLowerCase()) as {uuid: string} | undefined
  if (!row) throw notFound('Scan', uuid)
  return row.uuid
}

function listScans(ctx: RouteContext): RouteResult {
  const q = parseQuery(ctx.query, {
    limit: LIMIT_100(10), skip: SKIP_ANY, sort_order: {type: 'enum', values: SORT_DIRECTIONS, default: 'desc'},
    search_query: {type: 'string', maxLength: 256}, security_group_uuid: {type: 'uuid'}, model_version_uuid: {type: 'uuid'},
    source_types: {type: 'enum', values: SOURCE_TYPES, array: true}, eval_outcomes: {type: 'enum', values: EVAL_OUTCOMES, array: true},
    start_time: {type: 'datetime'}, end_time: {type: 'datetime'}, labels_query: {type: 'string', maxLength: 4096},
  })
  const where: string[] = []
  const args: unknown[] = []
  const inList = (col: string, vals: string[]): void => {
    where.push(`${col} IN (${vals.map(() => '?').join(',')})`)
    args.push(...vals)
  }
  if (q.search_query) {
    where.push('(instr(lower(s.model_uri), lower(?)) > 0 OR instr(s.uuid, lower(?)) > 0)')
    args.push(q.search_query, q.search_query)
  }
  if (q.security_group_uuid) { where.push('s.group_uuid = ?'); args.push(q.security_group_uuid) }
  if (q.model_version_uuid) { where.push('s.model_version_uuid = ?'); args.push(q.model_version_uuid) }
  if (q.source_types) inList('s.source_type', q.source_types as string[])
  if (q.eval_outcomes) inList('s.eval_outcome', q.eval_outcomes as string[])
  if (q.start_time) { where.push('s.created_at >= ?'); args.push(TS(q.start_time)) }
  if (q.end_time) { where.push('s.created_at <= ?'); args.push(TS(q.end_time)) }
  if (q.labels_query) {
    try {
      const sql = labelsQuerySql(parseLabelsQuery(q.labels_query as string))
      where.push(sql.sql)
      args.push(...sql.params)
    } catch (error) {
      if (!(error instanceof LabelsQueryError)) throw error
      throw unprocessable([item(['query', 'labels_query'], `Invalid labels query: ${error.message}`, 'value_error', q.labels_query)])
    }
  }
  const w = where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''
  const dir = q.sort_order === 'asc' ? 'ASC' : 'DESC'
  const {limit, skip} = page(q)
  const total = (stmt(ctx.db, `SELECT count(*) AS n FROM scans s ${w}`).get(...args) as {n: number}).n
  const rows = stmt(ctx.db, `SELECT s.uuid, s.doc FROM scans s ${w} ORDER BY s.created_at ${dir}, s.seq ${dir} LIMIT ? OFFSET ?`)
    .all(...args, limit, skip) as Array<{uuid: string; doc: string}>
  return {status: 200, raw: `{"pagination":{"total_items":${total}},"scans":[${scanJsonWithLabels(ctx.db, rows).join(',')}],"count_capped":false}`}
}

function getScan(ctx: RouteContext): RouteResult {
  return ok(scanById(ctx.db, ctx.params.uuid))
}

function listEvaluations(ctx: RouteContext): RouteResult {
  const q = parseQuery(ctx.query, {
    limit: LIMIT_100(10), skip: SKIP_ANY, sort_field: {type: 'enum', values: SORT_DATE_FIELDS, default: 'created_at'},
    sort_order: {type: 'enum', values: SORT_DIRECTIONS, default: 'desc'}, result: {type: 'enum', values: EVALUATION_RESULTS},
    rule_instance_uuid: {type: 'uuid'},
  })
  const scan = requireScan(ctx.db, ctx.params.scan_uuid)
  const where = ['scan_uuid = ?']
  const args: unknown[] = [scan]
  if (q.result) { where.push('result = ?'); args.push(q.result) }
  if (q.rule_instance_uuid) { where.push('rule_instance_uuid = ?'); args.push(q.rule_instance_uuid) }
  const w = where.join(' AND ')
  const dir = q.sort_order === 'asc' ? 'ASC' : 'DESC'
  const field = q.sort_field === 'updated_at' ? 'updated_at' : 'created_at'
  const {limit, skip} = page(q)
  const total = (ctx.db.prepare(`SELECT count(*) AS n FROM evaluations WHERE ${w}`).get(...args) as {n: number}).n
  const rows = ctx.db.prepare(`SELECT doc FROM evaluations WHERE ${w} ORDER BY ${field} ${dir}, seq ${dir} LIMIT ? OFFSET ?`).all(...args, limit, skip) as Array<{doc: string}>
  return ok({pagination: {total_items: total}, evaluations: rows.map(r => JSON.parse(r.doc) as unknown)})
}

function getEvaluation(ctx: RouteContext): RouteResult {
  const row = ctx.db.prepare('SELECT doc FROM evaluations WHERE uuid = ?').get(ctx.params.uuid.toLowerCase()) as {doc: string} | undefined
  if (!row) throw notFound('Evaluation', ctx.params.uuid)
  return ok(JSON.parse(row.doc))
}

function listViolations(ctx: RouteContext): RouteResult {
  const q = parseQuery(ctx.query, {limit: LIMIT_100(10), skip: SKIP_ANY})
  const scan = requireScan(ctx.db, ctx.params.scan_uuid)
  const {limit, skip} = page(q)
  const total = (ctx.db.prepare('SELECT count(*) AS n FROM violations WHERE scan_uuid = ?').get(scan) as {n: number}).n
  const rows = ctx.db.prepare('SELECT doc FROM violations WHERE scan_uuid = ? ORDER BY seq LIMIT ? OFFSET ?').all(scan, limit, skip) as Array<{doc: string}>
  return ok({pagination: {total_items: total}, violations: rows.map(r => JSON.parse(r.doc) as unknown)})
}

function getViolation(ctx: RouteContext): RouteResult {
  const row = ctx.db.prepare('SELECT doc FROM violations WHERE uuid = ?').get(ctx.params.uuid.toLowerCase()) as {doc: string} | undefined
  if (!row) throw notFound('Violation', ctx.params.uuid)
  return ok(JSON.parse(row.doc))
}

function normQueryPath(p: string): string {
  let s = p.replaceAll('\\', '/').trim()
  if (!s.startsWith('/')) s = '/' + s
  s = s.replace(/\/+$/, '')
  return s === '' ? '/' : s
}

function listFiles(ctx: RouteContext): RouteResult {
  const q = parseQuery(ctx.query, {
    limit: LIMIT_100(10), skip: SKIP_MIN0, sort_field: {type: 'enum', values: SORT_FILE_FIELDS, default: 'path'},
    sort_dir: {type: 'enum', values: SORT_DIRECTIONS, default: 'asc'}, query_path: {type: 'string', default: '/'},
  })
  const scan = requireScan(ctx.db, ctx.params.scan_uuid)
  const parent = normQueryPath(q.query_path as string)
  const dir = q.sort_dir === 'desc' ? 'DESC' : 'ASC'
  const order = q.sort_field === 'type' ? `type ${dir}, path ${dir}` : `path ${dir}`
  const {limit, skip} = page(q)
  const total = (ctx.db.prepare('SELECT count(*) AS n FROM files WHERE scan_uuid = ? AND parent_path = ?').get(scan, parent) as {n: number}).n
  const rows = ctx.db.prepare(`SELECT doc FROM files WHERE scan_uuid = ? AND parent_path = ? ORDER BY ${order}, seq LIMIT ? OFFSET ?`)
    .all(scan, parent, limit, skip) as Array<{doc: string}>
  return ok({pagination: {total_items: total}, files: rows.map(r => JSON.parse(r.doc) as unknown)})
}

function labelsView(db: DB, scan: string): {labels: Label[]} {
  return {labels: db.prepare('SELECT key, value FROM scan_labels WHERE scan_uuid = ? ORDER BY seq').all(scan) as Label[]}
}

function labelsBody(ctx: RouteContext): Label[] {
  checkBody('LabelsRequest', ctx.body)
  const labels = (ctx.body as {labels: Label[]}).labels
  const merged = new Map<string, string>()
  for (const l of labels) merged.set(l.key, l.value)
  return [...merged].map(([key, value]) => ({key, value}))
}

function addLabels(ctx: RouteContext): RouteResult {
  const scan = requireScan(ctx.db, ctx.params.scan_uuid)
  const labels = labelsBody(ctx)
  setLabels(ctx.db, scan, labels, false)
  return ok(labelsView(ctx.db, scan))
}

function replaceLabels(ctx: RouteContext): RouteResult {
  const scan = requireScan(ctx.db, ctx.params.scan_uuid)
  const labels = labelsBody(ctx)
  setLabels(ctx.db, scan, labels, true)
  return ok(labelsView(ctx.db, scan))
}

function deleteLabels(ctx: RouteContext): RouteResult {
  const q = parseQuery(ctx.query, {
    keys: {type: 'string', array: true, required: true, minItems: 1, maxItems: 50, minLength: 1, maxLength: 128, pattern: LABEL_PATTERN},
  })
  const scan = requireScan(ctx.db, ctx.params.scan_uuid)
  const keys = q.keys as string[]
  ctx.db.prepare(`DELETE FROM scan_labels WHERE scan_uuid = ? AND key IN (${keys.map(() => '?').join(',')})`).run(scan, ...keys)
  return {status: 204}
}

function prefixFilter(col: string, prefix: unknown): {sql: string; args: unknown[]} {
  if (!prefix) return {sql: '', args: []}
  return {sql: ` AND substr(${col}, 1, ?) = ?`, args: [(prefix as string).length, prefix]}
}

function labelKeys(ctx: RouteContext): RouteResult {
  const q = parseQuery(ctx.query, {
    limit: LIMIT_100(10), skip: SKIP_MIN0, search: {type: 'string', minLength: 1, maxLength: 128, pattern: LABEL_PATTERN},
  })
  const f = prefixFilter('key', q.search)
  const {limit, skip} = page(q)
  const total = (ctx.db.prepare(`SELECT count(DISTINCT key) AS n FROM scan_labels WHERE 1 = 1${f.sql}`).get(...f.args) as {n: number}).n
  const rows = ctx.db.prepare(`SELECT DISTINCT key FROM scan_labels WHERE 1 = 1${f.sql} ORDER BY key LIMIT ? OFFSET ?`).all(...f.args, limit, skip) as Array<{key: string}>
  return ok({pagination: {total_items: total}, keys: rows.map(r => r.key)})
}

function labelValues(ctx: RouteContext): RouteResult {
  const q = parseQuery(ctx.query, {
    limit: LIMIT_100(10), skip: SKIP_MIN0, search: {type: 'string', minLength: 1, maxLength: 256, pattern: LABEL_PATTERN},
  })
  const f = prefixFilter('value', q.search)
  const {limit, skip} = page(q)
  const key = ctx.params.key
  const total = (ctx.db.prepare(`SELECT count(DISTINCT value) AS n FROM scan_labels WHERE key = ?${f.sql}`).get(key, ...f.args) as {n: number}).n
  const rows = ctx.db.prepare(`SELECT DISTINCT value FROM scan_labels WHERE key = ?${f.sql} ORDER BY value LIMIT ? OFFSET ?`).all(key, ...f.args, limit, skip) as Array<{value: string}>
  return ok({pagination: {total_items: total}, values: rows.map(r => r.value)})
}

function listModels(ctx: RouteContext): RouteResult {
  const q = parseQuery(ctx.query, {
    search_query: {type: 'string', maxLength: 256}, limit: LIMIT_100(10), skip: SKIP_MIN0,
    sort_field: {type: 'enum', values: SORT_DATE_FIELDS, default: 'created_at'}, sort_order: {type: 'enum', values: SORT_DIRECTIONS, default: 'desc'},
    latest_version_outcomes: {type: 'enum', values: EVAL_OUTCOMES, array: true}, latest_version_formats: {type: 'string', array: true},
    latest_version_source_types: {type: 'enum', values: SOURCE_TYPES, array: true}, latest_version_scan_time_before: {type: 'datetime'},
    start_time: {type: 'datetime'}, end_time: {type: 'datetime'},
  })
  const where: string[] = []
  const args: unknown[] = []
  if (q.search_query) {
    where.push('(instr(lower(m.name), lower(?)) > 0 OR instr(m.uuid, lower(?)) > 0)')
    args.push(q.search_query, q.search_query)
  }
  const anyOf = (col: string, vals: string[]): void => {
    where.push(`EXISTS (SELECT 1 FROM json_each(m.${col}) j WHERE j.value IN (${vals.map(() => '?').join(',')}))`)
    args.push(...vals)
  }
  if (q.latest_version_outcomes) {
    const vals = q.latest_version_outcomes as string[]
    where.push(`m.latest_outcome IN (${vals.map(() => '?').join(',')})`)
    args.push(...vals)
  }
  if (q.latest_version_formats) anyOf('latest_formats', q.latest_version_formats as string[])
  if (q.latest_version_source_types) anyOf('latest_source_types', q.latest_version_source_types as string[])
  if (q.latest_version_scan_time_before) { where.push('m.latest_scan_time < ?'); args.push(TS(q.latest_version_scan_time_before)) }
  if (q.start_time) { where.push('m.created_at >= ?'); args.push(TS(q.start_time)) }
  if (q.end_time) { where.push('m.created_at <= ?'); args.push(TS(q.end_time)) }
  const w = where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''
  const dir = q.sort_order === 'asc' ? 'ASC' : 'DESC'
  const field = q.sort_field === 'updated_at' ? 'updated_at' : 'created_at'
  const {limit, skip} = page(q)
  const total = (ctx.db.prepare(`SELECT count(*) AS n FROM models m ${w}`).get(...args) as {n: number}).n
  const rows = ctx.db.prepare(`SELECT doc FROM models m ${w} ORDER BY m.${field} ${dir}, m.seq ${dir} LIMIT ? OFFSET ?`).all(...args, limit, skip) as Array<{doc: string}>
  return ok({pagination: {total_items: total}, models: rows.map(r => JSON.parse(r.doc) as unknown)})
}

function getModel(ctx: RouteContext): RouteResult {
  const row = ctx.db.prepare('SELECT doc FROM models WHERE uuid = ?').get(ctx.params.uuid.toLowerCase()) as {doc: string} | undefined
  if (!row) throw notFound('Model', ctx.params.uuid)
  return ok(JSON.parse(row.doc))
}

function listModelVersions(ctx: RouteContext): RouteResult {
  const q = parseQuery(ctx.query, {limit: LIMIT_100(10), skip: SKIP_MIN0, sort_order: {type: 'enum', values: SORT_DIRECTIONS, default: 'desc'}})
  const model = ctx.db.prepare('SELECT uuid FROM models WHERE uuid = ?').get(ctx.params.uuid.toLowerCase()) as {uuid: string} | undefined
  if (!model) throw notFound('Model', ctx.params.uuid)
  const dir = q.sort_order === 'asc' ? 'ASC' : 'DESC'
  const {limit, skip} = page(q)
  const total = (ctx.db.prepare('SELECT count(*) AS n FROM model_versions WHERE model_uuid = ?').get(model.uuid) as {n: number}).n
  const rows = ctx.db.prepare(`SELECT doc FROM model_versions WHERE model_uuid = ? ORDER BY created_at ${dir}, seq ${dir} LIMIT ? OFFSET ?`).all(model.uuid, limit, skip) as Array<{doc: string}>
  return ok({pagination: {total_items: total}, model_versions: rows.map(r => JSON.parse(r.doc) as unknown)})
}

function getModelVersion(ctx: RouteContext): RouteResult {
  const row = ctx.db.prepare('SELECT doc FROM model_versions WHERE uuid = ?').get(ctx.params.uuid.toLowerCase()) as {doc: string} | undefined
  if (!row) throw notFound('Model version', ctx.params.uuid)
  return ok(JSON.parse(row.doc))
}

function listModelVersionFiles(ctx: RouteContext): RouteResult {
  const q = parseQuery(ctx.query, {limit: LIMIT_100(10), skip: SKIP_MIN0})
  const v = ctx.db.prepare('SELECT latest_scan_uuid FROM model_versions WHERE uuid = ?').get(ctx.params.uuid.toLowerCase()) as {latest_scan_uuid: string | null} | undefined
  if (!v) throw notFound('Model version', ctx.params.uuid)
  const {limit, skip} = page(q)
  const scan = v.latest_scan_uuid ?? ''
  const total = (ctx.db.prepare("SELECT count(*) AS n FROM files WHERE scan_uuid = ? AND type = 'FILE'").get(scan) as {n: number}).n
  const rows = ctx.db.prepare("SELECT doc FROM files WHERE scan_uuid = ? AND type = 'FILE' ORDER BY path, seq LIMIT ? OFFSET ?").all(scan, limit, skip) as Array<{doc: string}>
  return ok({pagination: {total_items: total}, files: rows.map(r => JSON.parse(r.doc) as unknown)})
}

export const ROUTES: Route[] = [
  // management plane (11)
  {method: 'GET', plane: 'mgmt', path: '/v1/security-groups', write: false, handler: listGroups},
  {method: 'POST', plane: 'mgmt', path: '/v1/security-groups', write: true, handler: createGroup},
  {method: 'GET', plane: 'mgmt', path: '/v1/security-groups/{uuid}', write: false, handler: getGroupOp},
  {method: 'PUT', plane: 'mgmt', path: '/v1/security-groups/{uuid}', write: true, handler: updateGroup},
  {method: 'DELETE', plane: 'mgmt', path: '/v1/security-groups/{uuid}', write: true, handler: deleteGroup},
  {method: 'GET', plane: 'mgmt', path: '/v1/security-groups/{security_group_uuid}/rule-instances', write: false, handler: listInstances},
  {method: 'GET', plane: 'mgmt', path: '/v1/security-groups/{security_group_uuid}/rule-instances/{rule_instance_uuid}', write: false, handler: getInstance},
  {method: 'PUT', plane: 'mgmt', path: '/v1/security-groups/{security_group_uuid}/rule-instances/{rule_instance_uuid}', write: true, handler: updateInstance},
  {method: 'GET', plane: 'mgmt', path: '/v1/security-rules', write: false, handler: listRules},
  {method: 'GET', plane: 'mgmt', path: '/v1/security-rules/{uuid}', write: false, handler: getRule},
  {method: 'GET', plane: 'mgmt', path: '/v1/pypi/authenticate', write: false, handler: pypiAuth},
  // data plane (18) — label-keys before /v1/scans/{uuid}
  {method: 'GET', plane: 'data', path: '/v1/scans/label-keys', write: false, handler: labelKeys},
  {method: 'GET', plane: 'data', path: '/v1/scans/label-keys/{key}/values', write: false, handler: labelValues},
  {method: 'POST', plane: 'data', path: '/v1/scans', write: true, handler: createScan},
  {method: 'GET', plane: 'data', path: '/v1/scans', write: false, handler: listScans},
  {method: 'GET', plane: 'data', path: '/v1/scans/{uuid}', write: false, handler: getScan},
  {method: 'GET', plane: 'data', path: '/v1/scans/{scan_uuid}/evaluations', write: false, handler: listEvaluations},
  {method: 'GET', plane: 'data', path: '/v1/evaluations/{uuid}', write: false, handler: getEvaluation},
  {method: 'GET', plane: 'data', path: '/v1/scans/{scan_uuid}/rule-violations', write: false, handler: listViolations},
  {method: 'GET', plane: 'data', path: '/v1/violations/{uuid}', write: false, handler: getViolation},
  {method: 'GET', plane: 'data', path: '/v1/scans/{scan_uuid}/files', write: false, handler: listFiles},
  {method: 'POST', plane: 'data', path: '/v1/scans/{scan_uuid}/labels', write: true, handler: addLabels},
  {method: 'PUT', plane: 'data', path: '/v1/scans/{scan_uuid}/labels', write: true, handler: replaceLabels},
  {method: 'DELETE', plane: 'data', path: '/v1/scans/{scan_uuid}/labels', write: true, handler: deleteLabels},
  {method: 'GET', plane: 'data', path: '/v1/models', write: false, handler: listModels},
  {method: 'GET', plane: 'data', path: '/v1/models/{uuid}', write: false, handler: getModel},
  {method: 'GET', plane: 'data', path: '/v1/models/{uuid}/model-versions', write: false, handler: listModelVersions},
  {method: 'GET', plane: 'data', path: '/v1/model-versions/{uuid}', write: false, handler: getModelVersion},
  {method: 'GET', plane: 'data', path: '/v1/model-versions/{uuid}/files', write: false, handler: listModelVersionFiles},
]

/** Path parameters that are not UUIDs, with their constraints. */
export const PATH_PARAM_SPECS: Record<string, ParamSpec> = {
  key: {type: 'string', minLength: 1, maxLength: 128, pattern: LABEL_PATTERN},
}
