/**
 * SQLite persistence of the sandbox (better-sqlite3, WAL, busy_timeout). Every request that writes runs in
 * one `BEGIN IMMEDIATE` transaction, so any number of processes can share one database file without
 * losing a write. Response objects are stored as JSON documents (`doc`) next to the columns that filters
 * and sorting need.
 */
import {randomBytes, randomUUID} from 'node:crypto'
import {existsSync, mkdirSync, rmSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'

import type BetterSqlite3 from 'better-sqlite3'

import {GROUP_SOURCE_TYPES} from '../airs/enums.js'
import type {Rule, RuleInstance, SecurityGroup} from '../airs/types.js'
import {RULES, defaultGroupUuid, ruleCompatible, stableUuid} from './catalog.js'

export type DB = BetterSqlite3.Database

export const SANDBOX_TSG_ID = '1000000001'
const SCHEMA_VERSION = '1'

export function sandboxDbPath(dataDir: string): string {
  return join(dataDir, 'sandbox', 'sandbox.db')
}

/** ISO-8601 with microseconds and `Z`, as the service prints. */
export function isoNow(offsetMicros = 0): string {
  return isoMicros(Date.now(), offsetMicros)
}

export function isoMicros(ms: number, offsetMicros = 0): string {
  const extraMs = Math.floor(offsetMicros / 1000)
  const micros = offsetMicros % 1000
  return new Date(ms + extraMs).toISOString().replace('Z', String(micros).padStart(3, '0') + 'Z')
}

export function newUuid(): string {
  return randomUUID()
}

const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rules (uuid TEXT PRIMARY KEY, ord INTEGER NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS groups (
  seq INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, name TEXT NOT NULL, description TEXT NOT NULL,
  source_type TEXT NOT NULL, state TEXT NOT NULL, is_tombstone INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rule_instances (
  seq INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, group_uuid TEXT NOT NULL, rule_uuid TEXT NOT NULL,
  state TEXT NOT NULL, field_values TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ri_group ON rule_instances(group_uuid);
CREATE TABLE IF NOT EXISTS scans (
  seq INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  model_uri TEXT NOT NULL, group_uuid TEXT NOT NULL, source_type TEXT NOT NULL, eval_outcome TEXT NOT NULL,
  model_version_uuid TEXT, settle_at INTEGER, claim_until INTEGER NOT NULL DEFAULT 0, claim_owner TEXT,
  request TEXT, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS scans_created ON scans(created_at);
CREATE INDEX IF NOT EXISTS scans_group ON scans(group_uuid);
CREATE INDEX IF NOT EXISTS scans_pending ON scans(settle_at) WHERE eval_outcome = 'PENDING';
CREATE TABLE IF NOT EXISTS scan_labels (
  scan_uuid TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (scan_uuid, key));
CREATE INDEX IF NOT EXISTS labels_kv ON scan_labels(key, value);
CREATE TABLE IF NOT EXISTS evaluations (
  seq INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, scan_uuid TEXT NOT NULL, created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL, result TEXT NOT NULL, rule_instance_uuid TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS evals_scan ON evaluations(scan_uuid);
CREATE TABLE IF NOT EXISTS violations (
  seq INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, scan_uuid TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS viol_scan ON violations(scan_uuid);
CREATE TABLE IF NOT EXISTS files (
  seq INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, scan_uuid TEXT NOT NULL, path TEXT NOT NULL,
  parent_path TEXT NOT NULL, type TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS files_scan ON files(scan_uuid, parent_path);
CREATE TABLE IF NOT EXISTS models (
  seq INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL, latest_outcome TEXT, latest_scan_time TEXT, latest_formats TEXT NOT NULL DEFAULT '[]',
  latest_source_types TEXT NOT NULL DEFAULT '[]', doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS model_versions (
  seq INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, model_uuid TEXT NOT NULL, fingerprint TEXT NOT NULL,
  created_at TEXT NOT NULL, latest_scan_uuid TEXT, doc TEXT NOT NULL, UNIQUE (model_uuid, fingerprint));
`

let DatabaseCtor: typeof BetterSqlite3 | undefined

function loadDriver(): typeof BetterSqlite3 {
  if (!DatabaseCtor) {
    const require = createRequire(import.meta.url)
    DatabaseCtor = require('better-sqlite3') as typeof BetterSqlite3
  }
  return DatabaseCtor
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** Retry a statement that can meet SQLITE_BUSY outside busy_timeout's reach (journal-mode switch). */
function withBusyRetry<T>(fn: () => T): T {
  for (let attempt = 0; ; attempt++) {
    try {
      return fn()
    } catch (error) {
      const code = (error as {code?: string}).code ?? ''
      if (!code.startsWith('SQLITE_BUSY') && !code.startsWith('SQLITE_LOCKED') || attempt > 200) throw error
      sleepSync(10 + Math.floor(Math.random() * 20))
    }
  }
}

/** Open (and create, migrate and seed on first use) the sandbox database. */
export function openStore(dataDir: string): DB {
  const path = sandboxDbPath(dataDir)
  mkdirSync(dirname(path), {recursive: true})
  const Database = loadDriver()
  const db = new Database(path)
  db.pragma('busy_timeout = 15000')
  withBusyRetry(() => db.pragma('journal_mode = WAL'))
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = OFF')
  const seeded = (() => {
    try {
      return db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() !== undefined
    } catch {
      return false
    }
  })()
  if (!seeded) withBusyRetry(() => db.transaction(() => initialise(db)).immediate())
  return db
}

function initialise(db: DB): void {
  db.exec(DDL)
  if (db.prepare("SELECT value FROM meta WHERE key = 'schema'").get()) return
  const ins = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)')
  ins.run('token_secret', randomBytes(32).toString('hex'))
  ins.run('created_at', isoNow())
  const insRule = db.prepare('INSERT INTO rules (uuid, ord, name, doc) VALUES (?, ?, ?, ?)')
  RULES.forEach((r, i) => insRule.run(r.uuid, i, r.name, JSON.stringify(r)))
  const nowMs = Date.now()
  GROUP_SOURCE_TYPES.forEach((source, i) => {
    const uuid = defaultGroupUuid(source)
    // one microsecond apart, LOCAL newest: the default (created_at desc) listing starts with Default LOCAL
    const createdAt = isoMicros(nowMs, GROUP_SOURCE_TYPES.length - i)
    insertGroup(db, {
      uuid, name: `Default ${source}`, description: `Auto-created default security group for ${source} models`,
      source_type: source, created_at: createdAt,
    }, {}, (ruleUuid: string) => stableUuid(`instance:${uuid}:${ruleUuid}`))
  })
  ins.run('schema', SCHEMA_VERSION)
}

export interface GroupInsert { uuid: string; name: string; description: string; source_type: string; created_at: string }
export type RuleConfigs = Record<string, {state?: string | null; field_values?: Record<string, string[]>}>

/** Insert a group and provision one rule instance per compatible rule (default state unless overridden). */
export function insertGroup(db: DB, g: GroupInsert, configs: RuleConfigs, instanceUuid: (ruleUuid: string) => string = () => newUuid()): void {
  db.prepare(`INSERT INTO groups (uuid, name, description, source_type, state, is_tombstone, created_at, updated_at)
    VALUES (?, ?, ?, ?, 'ACTIVE', 0, ?, ?)`).run(g.uuid, g.name, g.description, g.source_type, g.created_at, g.created_at)
  const ins = db.prepare(`INSERT INTO rule_instances (uuid, group_uuid, rule_uuid, state, field_values, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)`)
  for (const rule of loadRules(db)) {
    if (!ruleCompatible(rule, g.source_type)) continue
    const cfg = configs[rule.uuid] ?? configs[rule.uuid.toLowerCase()]
    const state = cfg?.state ?? rule.default_state
    const fieldValues = {...rule.default_values, ...cfg?.field_values}
    ins.run(instanceUuid(rule.uuid), g.uuid, rule.uuid, state, JSON.stringify(fieldValues), g.created_at, g.created_at)
  }
}

const statements = new WeakMap<DB, Map<string, BetterSqlite3.Statement>>()

/** A prepared statement, compiled once per connection. */
export function stmt(db: DB, sql: string): BetterSqlite3.Statement {
  let m = statements.get(db)
  if (!m) {
    m = new Map()
    statements.set(db, m)
  }
  let s = m.get(sql)
  if (!s) {
    s = db.prepare(sql)
    if (m.size > 500) m.clear()
    m.set(sql, s)
  }
  return s
}

let rulesCache: {db: DB; rules: Rule[]} | undefined

export function loadRules(db: DB): Rule[] {
  if (rulesCache?.db === db) return rulesCache.rules
  const rules = (db.prepare('SELECT doc FROM rules ORDER BY ord').all() as Array<{doc: string}>).map(r => JSON.parse(r.doc) as Rule)
  rulesCache = {db, rules}
  return rules
}

export function ruleByUuid(db: DB, uuid: string): Rule | undefined {
  const lower = uuid.toLowerCase()
  return loadRules(db).find(r => r.uuid === lower)
}

export function tokenSecret(db: DB): string {
  return (db.prepare("SELECT value FROM meta WHERE key = 'token_secret'").get() as {value: string}).value
}

export interface GroupRow { seq: number; uuid: string; name: string; description: string; source_type: string; state: string; is_tombstone: number; created_at: string; updated_at: string }
export interface InstanceRow { seq: number; uuid: string; group_uuid: string; rule_uuid: string; state: string; field_values: string; created_at: string; updated_at: string }

export function groupDoc(row: GroupRow): SecurityGroup {
  return {
    uuid: row.uuid, tsg_id: SANDBOX_TSG_ID, created_at: row.created_at, updated_at: row.updated_at, name: row.name,
    description: row.description, source_type: row.source_type as SecurityGroup['source_type'],
    state: row.state as SecurityGroup['state'], is_tombstone: row.is_tombstone === 1,
  }
}

export function instanceDoc(db: DB, row: InstanceRow): RuleInstance {
  const rule = ruleByUuid(db, row.rule_uuid)!
  return {
    uuid: row.uuid, tsg_id: SANDBOX_TSG_ID, created_at: row.created_at, updated_at: row.updated_at,
    security_group_uuid: row.group_uuid, security_rule_uuid: row.rule_uuid, state: row.state as RuleInstance['state'],
    field_values: JSON.parse(row.field_values) as RuleInstance['field_values'], rule,
  }
}

export function getGroup(db: DB, uuid: string): GroupRow | undefined {
  return db.prepare('SELECT * FROM groups WHERE uuid = ?').get(uuid.toLowerCase()) as GroupRow | undefined
}

/** Cheap, read-only counts for `daystrom sandbox status`. */
export function sandboxStatus(dataDir: string): {exists: boolean; dbPath: string; counts: Record<string, number>} {
  const dbPath = sandboxDbPath(dataDir)
  if (!existsSync(dbPath)) return {exists: false, dbPath, counts: {}}
  const Database = loadDriver()
  const db = new Database(dbPath, {readonly: true, fileMustExist: true})
  try {
    db.pragma('busy_timeout = 5000')
    const one = (sql: string): number => (db.prepare(sql).get() as {n: number}).n
    const counts: Record<string, number> = {}
    const queries: Record<string, string> = {
      security_groups: 'SELECT count(*) AS n FROM groups WHERE is_tombstone = 0',
      deleted_security_groups: 'SELECT count(*) AS n FROM groups WHERE is_tombstone = 1',
      security_rules: 'SELECT count(*) AS n FROM rules',
      rule_instances: 'SELECT count(*) AS n FROM rule_instances',
      scans: 'SELECT count(*) AS n FROM scans',
      pending_scans: "SELECT count(*) AS n FROM scans WHERE eval_outcome = 'PENDING'",
      evaluations: 'SELECT count(*) AS n FROM evaluations',
      violations: 'SELECT count(*) AS n FROM violations',
      files: 'SELECT count(*) AS n FROM files',
      labels: 'SELECT count(*) AS n FROM scan_labels',
      models: 'SELECT count(*) AS n FROM models',
      model_versions: 'SELECT count(*) AS n FROM model_versions',
    }
    for (const [k, sql] of Object.entries(queries)) {
      try {
        counts[k] = one(sql)
      } catch {
        counts[k] = 0
      }
    }
    return {exists: true, dbPath, counts}
  } finally {
    db.close()
  }
}

/** Delete the sandbox database (and its WAL/SHM side files). */
export function resetSandbox(dataDir: string): void {
  const path = sandboxDbPath(dataDir)
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path + suffix, {force: true})
}
