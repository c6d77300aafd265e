/**
 * Scan lifecycle. A scan is created PENDING with a settle time (`settle_at`) and the request it needs to
 * settle; it settles asynchronously, as on the service.
 *
 * A LOCAL scan that arrives with `scan_details` needs no work beyond evaluating them, so it is due at once:
 * the create answer still says PENDING (as the service's does), and the first read settles it. Other scans
 * settle after the sandbox's settle delay.
 *
 * Settling is driven by whoever looks: every data-plane request first settles the scans that are due
 * (`settleDue`, one IMMEDIATE transaction per scan), and a timer in the process that created the scan does
 * the same. So `scans create` in one process and `scans wait` in another still see the scan settle — the
 * outcome never depends on the creating process staying alive.
 *
 * A LOCAL scan without `scan_details` whose `model_uri` is a path on this machine is scanned by the
 * sandbox itself with the local scanner (imported lazily). That work is asynchronous, so the scan is
 * *claimed* (`claim_owner`, `claim_until`, renewed by a heartbeat) while it runs; a process that exits
 * releases its claims on close, and a claim that is not renewed expires, so any reader re-runs an abandoned
 * scan. Remote sources end in ERROR: the sandbox is offline and cannot reach them.
 */
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {basename, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import type {Label, ScanCreate, ScanDetails} from '../airs/types.js'
import {RULES_BY_UUID} from './catalog.js'
import {type EvaluationDraft, detectLocalLicense, evaluatePolicy, hfOrgModel, licenseFromFiles} from './policy.js'
import {type DB, type GroupRow, SANDBOX_TSG_ID, isoNow, newUuid, stmt} from './store.js'

export const SCANNER_VERSION = 'daystrom-sandbox-1'
const CLAIM_LEASE_MS = 15_000
const HEARTBEAT_MS = 4000

export interface StoredRequest {
  body: ScanCreate
  localPath?: string
}

export interface ScanRow {
  seq: number; uuid: string; created_at: string; updated_at: string; model_uri: string; group_uuid: string
  source_type: string; eval_outcome: string; model_version_uuid: string | null; settle_at: number | null
  claim_until: number; claim_owner: string | null; request: string | null; doc: string
}

export function localPathOf(uri: string): string | undefined {
  try {
    if (/^file:\/\//i.test(uri)) return fileURLToPath(uri)
  } catch {
    return undefined
  }
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(uri)) return undefined
  return resolve(uri)
}

export function ownerFor(clientId: string): string {
  return `${clientId}@${SANDBOX_TSG_ID}.iam.panserviceaccount.com`
}

function labelsFor(db: DB, uuids: string[]): Map<string, Label[]> {
  const byScan = new Map<string, Label[]>()
  const chunk = 500
  for (let i = 0; i < uuids.length; i += chunk) {
    const part = uuids.slice(i, i + chunk)
    const rows = stmt(db, `SELECT scan_uuid, key, value FROM scan_labels WHERE scan_uuid IN (${part.map(() => '?').join(',')}) ORDER BY seq`)
      .all(...part) as Array<{scan_uuid: string; key: string; value: string}>
    for (const r of rows) {
      const list = byScan.get(r.scan_uuid) ?? []
      list.push({key: r.key, value: r.value})
      byScan.set(r.scan_uuid, list)
    }
  }
  return byScan
}

export function scanDocWithLabels(db: DB, docs: Array<{uuid: string; doc: string}>): Record<string, unknown>[] {
  if (docs.length === 0) return []
  const byScan = labelsFor(db, docs.map(d => d.uuid))
  return docs.map(d => ({...(JSON.parse(d.doc) as Record<string, unknown>), labels: byScan.get(d.uuid) ?? []}))
}

/** The same as scanDocWithLabels, as JSON text, without re-parsing the stored documents (the hot list path). */
export function scanJsonWithLabels(db: DB, docs: Array<{uuid: string; doc: string}>): string[] {
  if (docs.length === 0) return []
  const byScan = labelsFor(db, docs.map(d => d.uuid))
  return docs.map(d => `${d.doc.slice(0, -1)},"labels":${JSON.stringify(byScan.get(d.uuid) ?? [])}}`)
}

export function setLabels(db: DB, scanUuid: string, labels: Label[], replace: boolean): void {
  if (replace) db.prepare('DELETE FROM scan_labels WHERE scan_uuid = ?').run(scanUuid)
  let seq = (db.prepare('SELECT coalesce(max(seq), 0) AS m FROM scan_labels WHERE scan_uuid = ?').get(scanUuid) as {m: number}).m
  const upsert = db.prepare(`INSERT INTO scan_labels (scan_uuid, key, value, seq) VALUES (?, ?, ?, ?)
    ON CONFLICT (scan_uuid, key) DO UPDATE SET value = excluded.value`)
  for (const l of labels) upsert.run(scanUuid, l.key, l.value, ++seq)
}

/** When a new scan becomes due: at once for a LOCAL scan that brought its scan_details, else after the delay. */
export function settleAtFor(body: ScanCreate, sourceType: string, settleDelayMs: number, now = Date.now()): number {
  return sourceType === 'LOCAL' && body.scan_details ? now : now + settleDelayMs
}

/** Insert a PENDING scan (inside the request's transaction). */
export function insertScan(db: DB, args: {body: ScanCreate; group: GroupRow; clientId: string; settleDelayMs: number; enabledRules: number}): {uuid: string} {
  const {body, group} = args
  const uuid = newUuid()
  const now = isoNow()
  const doc = {
    uuid, tsg_id: SANDBOX_TSG_ID, created_at: now, updated_at: now, model_uri: body.model_uri, owner: ownerFor(args.clientId),
    scan_origin: body.scan_origin ?? 'MODEL_SECURITY_API', security_group_uuid: group.uuid, security_group_name: group.name,
    model_version_uuid: null, eval_outcome: 'PENDING', source_type: group.source_type, created_by: null,
    enabled_rule_count_snapshot: args.enabledRules, error_code: null, error_message: null, eval_summary: null,
    model_formats: null, scanner_version: null, time_started: null, total_files_scanned: null, total_files_skipped: null,
  }
  const stored: StoredRequest = {body}
  if (group.source_type === 'LOCAL') stored.localPath = localPathOf(body.model_uri)
  db.prepare(`INSERT INTO scans (uuid, created_at, updated_at, model_uri, group_uuid, source_type, eval_outcome, settle_at, request, doc)
    VALUES (?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?)`).run(uuid, now, now, body.model_uri, group.uuid, group.source_type,
    settleAtFor(body, group.source_type, args.settleDelayMs), JSON.stringify(stored), JSON.stringify(doc))
  if (body.labels && body.labels.length > 0) setLabels(db, uuid, body.labels, false)
  return {uuid}
}

function updateScanDoc(db: DB, row: ScanRow, patch: Record<string, unknown>, outcome: string, modelVersionUuid: string | null): void {
  const now = isoNow()
  const doc = {...(JSON.parse(row.doc) as Record<string, unknown>), ...patch, eval_outcome: outcome, model_version_uuid: modelVersionUuid, updated_at: now}
  db.prepare(`UPDATE scans SET eval_outcome = ?, updated_at = ?, model_version_uuid = ?, settle_at = NULL, claim_until = 0,
    claim_owner = NULL, request = NULL, doc = ? WHERE uuid = ?`).run(outcome, now, modelVersionUuid, JSON.stringify(doc), row.uuid)
}

export function finishError(db: DB, row: ScanRow, code: string, message: string, details?: ScanDetails): void {
  updateScanDoc(db, row, {
    error_code: code, error_message: message, eval_summary: null,
    ...(details ? {
      scanner_version: details.scanner_version, time_started: details.time_started, model_formats: details.model_formats,
      total_files_scanned: details.total_files_scanned, total_files_skipped: details.total_files_skipped,
    } : {}),
  }, 'ERROR', null)
}

function normPath(p: string): string {
  return p.replaceAll('\\', '/').replace(/^(\.\/)+/, '').replace(/^\/+/, '')
}

function parentPath(p: string): string {
  const i = p.lastIndexOf('/')
  return i < 0 ? '/' : '/' + p.slice(0, i)
}

interface Instance { uuid: string; state: string; rule_uuid: string; field_values: string }

/** Evaluate uploaded (or locally produced) scan_details and write evaluations, violations, files, model version. */
export function finishWithDetails(db: DB, row: ScanRow, req: StoredRequest, details: ScanDetails, localRoot?: string): void {
  if (details.error_code) {
    finishError(db, row, details.error_code, details.error_message ?? `The scanner reported ${details.error_code}`, details)
    return
  }
  const instances = (db.prepare('SELECT uuid, state, rule_uuid, field_values FROM rule_instances WHERE group_uuid = ?').all(row.group_uuid) as Instance[])
    .map(i => ({uuid: i.uuid, state: i.state, rule: RULES_BY_UUID.get(i.rule_uuid)!, field_values: JSON.parse(i.field_values) as Record<string, string[]>}))
    .filter(i => i.rule)
  const order = [...RULES_BY_UUID.keys()]
  instances.sort((a, b) => order.indexOf(a.rule.uuid) - order.indexOf(b.rule.uuid))
  const root = localRoot ?? (req.localPath && existsSync(req.localPath) ? req.localPath : undefined)
  const lic = root ? detectLocalLicense(root) : {license: null, hasLicenseFile: licenseFromFiles(details.files)}
  let result: ReturnType<typeof evaluatePolicy>
  try {
    result = evaluatePolicy({
      modelUri: row.model_uri, sourceType: row.source_type, details, instances,
      license: lic.license, hasLicenseFile: lic.hasLicenseFile || licenseFromFiles(details.files),
    })
  } catch (error) {
    finishError(db, row, 'POLICY_EVAL_ERROR', `Policy evaluation failed: ${(error as Error).message}`, details)
    return
  }
  const now = Date.now()
  const versionUuid = deriveModelVersion(db, row, req.body, details, result.outcome, result.summary, lic.license)
  writeEvaluations(db, row.uuid, result.evaluations, now)
  writeFiles(db, row.uuid, versionUuid, details, result.failedFiles)
  updateScanDoc(db, row, {
    error_code: null, error_message: null, eval_summary: result.summary, model_formats: details.model_formats,
    scanner_version: details.scanner_version, time_started: details.time_started,
    total_files_scanned: details.total_files_scanned, total_files_skipped: details.total_files_skipped,
  }, result.outcome, versionUuid)
}

function writeEvaluations(db: DB, scanUuid: string, evals: EvaluationDraft[], nowMs: number): void {
  const insE = db.prepare('INSERT INTO evaluations (uuid, scan_uuid, created_at, updated_at, result, rule_instance_uuid, doc) VALUES (?, ?, ?, ?, ?, ?, ?)')
  const insV = db.prepare('INSERT INTO violations (uuid, scan_uuid, doc) VALUES (?, ?, ?)')
  evals.forEach((e, i) => {
    const ts = new Date(nowMs).toISOString().replace('Z', String(i).padStart(3, '0') + 'Z')
    const base = {
      rule_instance_uuid: e.instance.uuid, rule_name: e.instance.rule.name, rule_description: e.instance.rule.description,
      rule_instance_state: e.instance.state,
    }
    const uuid = newUuid()
    insE.run(uuid, scanUuid, ts, ts, e.result, e.instance.uuid, JSON.stringify({
      uuid, tsg_id: SANDBOX_TSG_ID, created_at: ts, updated_at: ts, result: e.result, violation_count: e.violations.length,
      scan_uuid: scanUuid, ...base,
    }))
    for (const v of e.violations) {
      const vu = newUuid()
      insV.run(vu, scanUuid, JSON.stringify({
        uuid: vu, tsg_id: SANDBOX_TSG_ID, created_at: ts, updated_at: ts, description: v.description, ...base,
        remediation: {steps: e.instance.rule.remediation.steps, url: e.instance.rule.remediation.url},
        file: v.file === null ? null : normPath(v.file).slice(0, 256), hash: v.hash, module: v.module, operator: v.operator,
        threat: v.threat, threat_description: v.threat_description, insights_url: v.insights_url, threat_kb_url: v.threat_kb_url,
      }))
    }
  })
}

function writeFiles(db: DB, scanUuid: string, versionUuid: string, details: ScanDetails, failed: Set<string>): void {
  const now = isoNow()
  const ins = db.prepare('INSERT INTO files (uuid, scan_uuid, path, parent_path, type, doc) VALUES (?, ?, ?, ?, ?, ?)')
  const dirs = new Map<string, boolean>() // dir path -> has failed descendant
  const rows: Array<{path: string; type: string; result: string; blob: string | null; formats: string[] | null}> = []
  const seen = new Set<string>()
  for (const f of details.files) {
    const p = normPath(f.file_path)
    if (!p || seen.has(p)) continue
    seen.add(p)
    const isFailed = failed.has(f.file_path)
    const result = f.modelscan_status === 'ERROR' ? 'ERROR' : isFailed ? 'FAILED' : f.modelscan_status === 'SKIPPED' ? 'SKIPPED' : 'SUCCESS'
    rows.push({path: p, type: 'FILE', result, blob: f.blob_id || null, formats: f.formats ?? null})
    const parts = p.split('/')
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/')
      dirs.set(d, (dirs.get(d) ?? false) || result === 'FAILED')
    }
  }
  for (const [d, bad] of dirs) rows.push({path: d, type: 'DIRECTORY', result: bad ? 'FAILED' : 'SUCCESS', blob: null, formats: null})
  for (const r of rows) {
    const uuid = newUuid()
    const parent = parentPath(r.path)
    ins.run(uuid, scanUuid, r.path, parent, r.type, JSON.stringify({
      uuid, tsg_id: SANDBOX_TSG_ID, created_at: now, updated_at: now, path: r.path, parent_path: parent, type: r.type,
      result: r.result, model_version_uuid: versionUuid, blob_id: r.blob, formats: r.formats, scan_uuid: scanUuid,
    }))
  }
}

export function fingerprintOf(details: ScanDetails): string {
  const lines = details.files.map(f => `${normPath(f.file_path)}\t${f.sha256 ?? f.blob_id ?? ''}\t${f.size_bytes ?? ''}`).sort()
  return createHash('sha256').update(lines.join('\n')).digest('hex')
}

function modelNameOf(body: ScanCreate): string {
  if (body.model_name) return body.model_name
  const hf = hfOrgModel(body.model_uri)
  if (hf) return `${hf.org}/${hf.model}`
  const trimmed = body.model_uri.replace(/[/\\]+$/, '')
  return basename(trimmed.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '/')) || body.model_uri
}

function deriveModelVersion(db: DB, row: ScanRow, body: ScanCreate, details: ScanDetails, outcome: string,
  summary: Record<string, number>, license: string | null): string {
  const now = isoNow()
  const name = modelNameOf(body).slice(0, 256)
  const fingerprint = fingerprintOf(details)
  const hf = hfOrgModel(body.model_uri)
  let model = db.prepare('SELECT uuid, doc FROM models WHERE name = ?').get(name) as {uuid: string; doc: string} | undefined
  if (!model) {
    const uuid = newUuid()
    const doc = {uuid, tsg_id: SANDBOX_TSG_ID, created_at: now, updated_at: now, name}
    db.prepare('INSERT INTO models (uuid, name, created_at, updated_at, doc) VALUES (?, ?, ?, ?, ?)').run(uuid, name, now, now, JSON.stringify(doc))
    model = {uuid, doc: JSON.stringify(doc)}
  }
  let version = db.prepare('SELECT uuid, doc FROM model_versions WHERE model_uuid = ? AND fingerprint = ?').get(model.uuid, fingerprint) as {uuid: string; doc: string} | undefined
  if (!version) {
    const uuid = newUuid()
    const doc = {
      uuid, tsg_id: SANDBOX_TSG_ID, created_at: now, updated_at: now,
      revision: body.model_version ?? (hf ? 'main' : fingerprint.slice(0, 12)), model_uuid: model.uuid, fingerprint,
    }
    db.prepare('INSERT INTO model_versions (uuid, model_uuid, fingerprint, created_at, doc) VALUES (?, ?, ?, ?, ?)').run(uuid, model.uuid, fingerprint, now, JSON.stringify(doc))
    version = {uuid, doc: JSON.stringify(doc)}
  }
  const vdoc = JSON.parse(version.doc) as Record<string, unknown>
  const sources = [...new Set([...(vdoc.source_types as string[] | undefined ?? []), row.source_type])]
  const newV = {
    ...vdoc, updated_at: now, file_count: details.files.length, license: license ?? (vdoc.license as string | null | undefined) ?? null,
    latest_scan_time: now, hf_commit_sha: null, hf_commit_title: null, hf_commit_authors: null,
    hf_model_name: hf?.model ?? null, hf_organization: hf?.org ?? null, model_formats: details.model_formats,
    source_types: sources, last_eval_outcome: outcome, last_eval_summary: summary,
  }
  db.prepare('UPDATE model_versions SET latest_scan_uuid = ?, doc = ? WHERE uuid = ?').run(row.uuid, JSON.stringify(newV), version.uuid)
  const mdoc = {
    ...(JSON.parse(model.doc) as Record<string, unknown>), updated_at: now, latest_version_uuid: version.uuid, latest_version_fingerprint: fingerprint,
    latest_version_revision: vdoc.revision, latest_version_hf_commit_sha: null, latest_version_outcome: outcome,
    latest_version_formats: details.model_formats, latest_version_source_types: sources, latest_version_scan_time: now,
  }
  db.prepare(`UPDATE models SET updated_at = ?, latest_outcome = ?, latest_scan_time = ?, latest_formats = ?, latest_source_types = ?, doc = ?
    WHERE uuid = ?`).run(now, outcome, now, JSON.stringify(details.model_formats), JSON.stringify(sources), JSON.stringify(mdoc), model.uuid)
  return version.uuid
}

const REMOTE_CODES: Record<string, string> = {
  S3: 'UNSUPPORTED_REMOTE_STORAGE', GCS: 'UNSUPPORTED_REMOTE_STORAGE', AZURE: 'UNSUPPORTED_REMOTE_STORAGE',
  ARTIFACTORY: 'UNKNOWN_REMOTE_SERVICE_ERROR', GITLAB: 'UNKNOWN_REMOTE_SERVICE_ERROR', HUGGING_FACE: 'UNKNOWN_REMOTE_SERVICE_ERROR',
}

export interface SettleContext {
  db: DB
  owner: string
  closed: () => boolean
  log: (line: string) => void
  /** Called with work the caller must track (local scans in flight). */
  track: (p: Promise<void>) => void
  /** Aborted when the sandbox closes: local scans in flight stop (their claims were released). */
  signal?: AbortSignal
}

/** Settle every PENDING scan whose settle time has passed. Returns how many were settled or claimed. */
export function settleDue(ctx: SettleContext): number {
  const now = Date.now()
  const due = ctx.db.prepare(`SELECT uuid FROM scans WHERE eval_outcome = 'PENDING' AND settle_at <= ? AND claim_until < ?`).all(now, now) as Array<{uuid: string}>
  let n = 0
  for (const {uuid} of due) {
    let launch: {path: string; req: StoredRequest} | undefined
    try {
      launch = settleOne(ctx, uuid, () => n++)
    } catch (error) {
      const code = (error as {code?: string}).code ?? ''
      if (code.startsWith('SQLITE_BUSY')) continue // another process holds the lock: the next reader settles it
      ctx.log(`settling scan ${uuid} failed: ${(error as Error).stack ?? String(error)}`)
      // never leave a scan PENDING forever because of a sandbox bug: settle it as an internal error
      ctx.db.transaction(() => {
        const row = ctx.db.prepare('SELECT * FROM scans WHERE uuid = ?').get(uuid) as ScanRow | undefined
        if (row?.eval_outcome === 'PENDING') finishError(ctx.db, row, 'INTERNAL_ERROR', `The sandbox failed to evaluate this scan: ${(error as Error).message}`.slice(0, 1024))
      }).immediate()
      n++
    }
    if (launch) ctx.track(runLocalScan(ctx, uuid, launch.path, launch.req))
  }
  return n
}

function settleOne(ctx: SettleContext, uuid: string, counted: () => void): {path: string; req: StoredRequest} | undefined {
  return ctx.db.transaction((): {path: string; req: StoredRequest} | undefined => {
    const row = ctx.db.prepare('SELECT * FROM scans WHERE uuid = ?').get(uuid) as ScanRow | undefined
    const t = Date.now()
    if (!row || row.eval_outcome !== 'PENDING' || row.settle_at === null || row.settle_at > t || row.claim_until >= t) return undefined
    counted()
    const req = JSON.parse(row.request ?? '{}') as StoredRequest
    if (req.body?.scan_details) {
      finishWithDetails(ctx.db, row, req, req.body.scan_details)
      return undefined
    }
    if (row.source_type !== 'LOCAL') {
      finishError(ctx.db, row, REMOTE_CODES[row.source_type] ?? 'UNKNOWN_REMOTE_SERVICE_ERROR',
        `The daystrom sandbox is offline and cannot reach ${row.source_type} (${row.model_uri}). Scan a local copy instead: ` +
        'daystrom model-security scans create --model-path DIR (the client scans it and sends scan_details).')
      return undefined
    }
    const path = req.localPath
    if (!path || !existsSync(path)) {
      finishError(ctx.db, row, 'MISSING_ARTIFACTS', `No scan_details were sent and ${row.model_uri} is not a path on the sandbox host`)
      return undefined
    }
    ctx.db.prepare('UPDATE scans SET claim_owner = ?, claim_until = ? WHERE uuid = ?').run(ctx.owner, t + CLAIM_LEASE_MS, uuid)
    return {path, req}
  }).immediate()
}

async function runLocalScan(ctx: SettleContext, uuid: string, path: string, req: StoredRequest): Promise<void> {
  const heartbeat = setInterval(() => {
    if (ctx.closed()) return
    try {
      ctx.db.prepare('UPDATE scans SET claim_until = ? WHERE uuid = ? AND claim_owner = ?').run(Date.now() + CLAIM_LEASE_MS, uuid, ctx.owner)
    } catch {
      // a busy database only delays the heartbeat
    }
  }, HEARTBEAT_MS)
  heartbeat.unref()
  let details: ScanDetails | undefined
  let failure: {code: string; message: string} | undefined
  try {
    const spec = '../scanner/index.js'
    const mod = await import(spec) as {scanPath?: (target: string, o: {allowPatterns?: string[]; ignorePatterns?: string[]; signal?: AbortSignal}) => Promise<{scanDetails: ScanDetails}>}
    if (typeof mod.scanPath !== 'function') throw Object.assign(new Error('scanPath is not exported'), {code: 'ERR_MODULE_NOT_FOUND'})
    const res = await mod.scanPath(path, {allowPatterns: req.body.allow_patterns ?? undefined, ignorePatterns: req.body.ignore_patterns ?? undefined, signal: ctx.signal})
    details = res.scanDetails
  } catch (error) {
    const e = error as {code?: string; message?: string}
    failure = e.code === 'ERR_MODULE_NOT_FOUND'
      ? {code: 'SCAN_ERROR', message: 'The local scanner is not available in this build of daystrom, so the sandbox cannot scan ' + path + '; send scan_details instead'}
      : {code: 'SCAN_ERROR', message: `The local scanner failed on ${path}: ${e.message ?? String(error)}`.slice(0, 1024)}
  } finally {
    clearInterval(heartbeat)
  }
  if (ctx.closed()) return
  ctx.db.transaction(() => {
    const row = ctx.db.prepare('SELECT * FROM scans WHERE uuid = ?').get(uuid) as ScanRow | undefined
    if (!row || row.eval_outcome !== 'PENDING' || row.claim_owner !== ctx.owner) return
    if (failure || !details) finishError(ctx.db, row, failure?.code ?? 'SCAN_ERROR', failure?.message ?? 'no scan result')
    else finishWithDetails(ctx.db, row, req, details, path)
  }).immediate()
}

/** Release this process's claims so another process can re-run the scans at once. */
export function releaseClaims(db: DB, owner: string): void {
  db.prepare("UPDATE scans SET claim_until = 0, claim_owner = NULL WHERE claim_owner = ? AND eval_outcome = 'PENDING'").run(owner)
}

/**
 * Insert `count` already-settled scans in one transaction, straight into the store (benchmarks and large
 * fixtures; no evaluations or files are written). Returns the group they were created under.
 */
export function seedSettledScans(db: DB, count: number, opts: {groupUuid?: string; uriPrefix?: string} = {}): {groupUuid: string} {
  const group = (opts.groupUuid
    ? db.prepare('SELECT * FROM groups WHERE uuid = ?').get(opts.groupUuid)
    : db.prepare("SELECT * FROM groups WHERE source_type = 'LOCAL' AND is_tombstone = 0 ORDER BY seq LIMIT 1").get()) as GroupRow
  const ins = db.prepare(`INSERT INTO scans (uuid, created_at, updated_at, model_uri, group_uuid, source_type, eval_outcome, settle_at, request, doc)
    VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)`)
  const base = Date.now() - count * 1000
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const uuid = newUuid()
      const ts = new Date(base + i * 1000).toISOString().replace('Z', '000Z')
      const outcome = i % 7 === 0 ? 'BLOCKED' : 'ALLOWED'
      const uri = `${opts.uriPrefix ?? '/models/bench-'}${i}`
      const summary = outcome === 'BLOCKED' ? {rules_failed: 1, rules_passed: 5, total_rules: 6} : {rules_failed: 0, rules_passed: 6, total_rules: 6}
      const doc = {
        uuid, tsg_id: SANDBOX_TSG_ID, created_at: ts, updated_at: ts, model_uri: uri, owner: ownerFor('daystrom-sandbox'),
        scan_origin: 'MODEL_SECURITY_SDK', security_group_uuid: group.uuid, security_group_name: group.name, model_version_uuid: null,
        eval_outcome: outcome, source_type: group.source_type, created_by: null, enabled_rule_count_snapshot: 6, error_code: null,
        error_message: null, eval_summary: summary, model_formats: ['safetensors', 'json'], scanner_version: SCANNER_VERSION,
        time_started: ts, total_files_scanned: 3, total_files_skipped: 0,
      }
      ins.run(uuid, ts, ts, uri, group.uuid, group.source_type, outcome, JSON.stringify(doc))
      if (i % 2 === 0) setLabels(db, uuid, [{key: 'bench', value: `b${i % 10}`}], false)
    }
  }).immediate()
  return {groupUuid: group.uuid}
}
