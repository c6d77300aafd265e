/**
 * Comparing two scans: a pure function of what each scan found (its record, rule evaluations, violations and
 * files). Nothing here talks to the service; src/lib/scans/fetch.ts collects a ScanData through the client.
 *
 * Matching is by content, never by UUID (every scan gets fresh UUIDs for everything it records):
 *  - violations: by rule name, file, threat, module and operator (a second dangerous call in a file that was
 *    already flagged is a new finding, not the same one). Equal keys pair up one to one, so two identical
 *    findings before and three after give two unchanged and one new;
 *  - rule evaluations: by rule name (rule instance UUIDs differ between groups);
 *  - files: by path (leading slashes ignored), content by sha256 when the service reports one, else by
 *    blob_id (content-addressed). Directories are not compared; a file whose digest is unknown on either
 *    side counts as changed only when its formats differ.
 */
import type {EvalSummary, Evaluation, Scan, ScanFile, Violation} from '../airs/types.js'
import {normalizeModelPath, scanFilePath} from './files.js'

/** Everything one scan recorded. */
export interface ScanData {
  scan: Scan
  evaluations: Evaluation[]
  violations: Violation[]
  files: ScanFile[]
}

/** Who a side of the comparison is. */
export interface ScanSide {
  uuid: string
  model_uri: string
  eval_outcome: string
  security_group_uuid: string
  security_group_name: string
  source_type: string
  model_version_uuid: string | null
  created_at: string
  eval_summary: EvalSummary | null
  error_code: string | null
  error_message: string | null
}

/** A violation as compared: what was found where, and under which rule state. */
export interface DiffViolation {
  rule_name: string
  rule_instance_state: string
  file: string | null
  threat: string | null
  module: string | null
  operator: string | null
  description: string
  /** The violation's UUID in the scan it comes from (b for new and unchanged, a for resolved). */
  uuid: string
}

export interface UnchangedViolation extends DiffViolation {
  /** The matching violation's UUID in scan a. */
  previous_uuid: string
  /** The rule's state when scan a ran (it may differ from rule_instance_state, the state in scan b). */
  previous_state: string
}

export interface RuleResult { result: string; state: string; violation_count: number }

export type RuleChangeKind = 'result' | 'state' | 'added' | 'removed'

/** A rule whose evaluation differs: `added` = evaluated only in b, `removed` = only in a. */
export interface RuleChange {
  rule_name: string
  change: RuleChangeKind
  before: RuleResult | null
  after: RuleResult | null
}

export interface DiffFile { path: string; sha256: string | null; formats: string[]; result: string }

export interface FileChange { path: string; before: DiffFile; after: DiffFile }

export interface DiffSummary {
  violations_new: number
  violations_new_blocking: number
  violations_resolved: number
  violations_unchanged: number
  rules_changed: number
  files_added: number
  files_removed: number
  files_changed: number
  files_unchanged: number
  /** No change at all: same outcome, no new or resolved violation, no rule or file change. */
  identical: boolean
}

export interface ScanDiff {
  a: ScanSide
  b: ScanSide
  outcome: {before: string; after: string; changed: boolean}
  violations: {new: DiffViolation[]; resolved: DiffViolation[]; unchanged: UnchangedViolation[]}
  rules: RuleChange[]
  files: {added: DiffFile[]; removed: DiffFile[]; changed: FileChange[]; unchanged: number}
  summary: DiffSummary
  /** Why parts of the comparison may mislead (a scan in ERROR, different security groups, ...). */
  warnings: string[]
}

const nn = <T>(v: T | null | undefined): T | null => (v === undefined ? null : v)

/** `./a/b`, `/a/b` and `a\b` are all `a/b` (one normalisation for every consumer of scan paths). */
export const normalizePath = normalizeModelPath

function side(s: Scan): ScanSide {
  return {
    uuid: s.uuid, model_uri: s.model_uri, eval_outcome: s.eval_outcome, security_group_uuid: s.security_group_uuid,
    security_group_name: s.security_group_name, source_type: s.source_type, model_version_uuid: nn(s.model_version_uuid),
    created_at: s.created_at, eval_summary: nn(s.eval_summary), error_code: nn(s.error_code), error_message: nn(s.error_message),
  }
}

function diffViolation(v: Violation): DiffViolation {
  return {
    rule_name: v.rule_name, rule_instance_state: v.rule_instance_state, file: v.file ? normalizePath(v.file) : null,
    threat: nn(v.threat), module: nn(v.module), operator: nn(v.operator), description: v.description, uuid: v.uuid,
  }
}

/** The identity of a violation across scans. */
export function violationKey(v: Pick<Violation, 'rule_name' | 'file' | 'threat' | 'module' | 'operator'>): string {
  return [v.rule_name, v.file ? normalizePath(v.file) : '', v.threat ?? '', v.module ?? '', v.operator ?? ''].join('\u0000')
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const violationOrder = (a: DiffViolation, b: DiffViolation) =>
  byText(a.rule_name, b.rule_name) || byText(a.file ?? '', b.file ?? '') || byText(a.threat ?? '', b.threat ?? '')
  || byText(a.module ?? '', b.module ?? '') || byText(a.operator ?? '', b.operator ?? '') || byText(a.description, b.description)

function diffViolations(a: Violation[], b: Violation[]): ScanDiff['violations'] {
  const before = new Map<string, Violation[]>()
  for (const v of a) {
    const k = violationKey(v)
    const list = before.get(k)
    if (list) list.push(v)
    else before.set(k, [v])
  }
  const added: DiffViolation[] = []
  const unchanged: UnchangedViolation[] = []
  for (const v of b) {
    const match = before.get(violationKey(v))?.shift()
    if (match) unchanged.push({...diffViolation(v), previous_uuid: match.uuid, previous_state: match.rule_instance_state})
    else added.push(diffViolation(v))
  }
  const resolved = [...before.values()].flat().map(v => diffViolation(v))
  return {new: added.sort(violationOrder), resolved: resolved.sort(violationOrder), unchanged: unchanged.sort(violationOrder)}
}

const ruleResult = (e: Evaluation): RuleResult => ({result: e.result, state: e.rule_instance_state, violation_count: e.violation_count})

function diffRules(a: Evaluation[], b: Evaluation[]): RuleChange[] {
  const before = new Map(a.map(e => [e.rule_name, e]))
  const after = new Map(b.map(e => [e.rule_name, e]))
  const out: RuleChange[] = []
  for (const name of [...new Set([...before.keys(), ...after.keys()])].sort(byText)) {
    const x = before.get(name)
    const y = after.get(name)
    if (!x) out.push({rule_name: name, change: 'added', before: null, after: ruleResult(y!)})
    else if (!y) out.push({rule_name: name, change: 'removed', before: ruleResult(x), after: null})
    else if (x.result !== y.result) out.push({rule_name: name, change: 'result', before: ruleResult(x), after: ruleResult(y)})
    else if (x.rule_instance_state !== y.rule_instance_state) out.push({rule_name: name, change: 'state', before: ruleResult(x), after: ruleResult(y)})
  }
  return out
}

function diffFile(f: ScanFile): DiffFile {
  const sha = typeof f.sha256 === 'string' && f.sha256 ? f.sha256 : (f.blob_id || null)
  return {path: scanFilePath(f), sha256: sha, formats: [...(f.formats ?? [])].sort(byText), result: f.result}
}

function contentChanged(x: DiffFile, y: DiffFile): boolean {
  if (x.sha256 && y.sha256) return x.sha256 !== y.sha256
  return x.formats.join('\u0000') !== y.formats.join('\u0000')
}

function diffFiles(a: ScanFile[], b: ScanFile[]): ScanDiff['files'] {
  const index = (files: ScanFile[]) => {
    const m = new Map<string, DiffFile>()
    for (const f of files) {
      if (f.type === 'DIRECTORY') continue
      const d = diffFile(f)
      if (d.path && !m.has(d.path)) m.set(d.path, d)
    }
    return m
  }
  const before = index(a)
  const after = index(b)
  const added: DiffFile[] = []
  const removed: DiffFile[] = []
  const changed: FileChange[] = []
  let unchanged = 0
  for (const [path, y] of after) {
    const x = before.get(path)
    if (!x) added.push(y)
    else if (contentChanged(x, y)) changed.push({path, before: x, after: y})
    else unchanged++
  }
  for (const [path, x] of before) if (!after.has(path)) removed.push(x)
  const byPath = (p: {path: string}, q: {path: string}) => byText(p.path, q.path)
  return {added: added.sort(byPath), removed: removed.sort(byPath), changed: changed.sort(byPath), unchanged}
}

function warningsFor(a: Scan, b: Scan): string[] {
  const out: string[] = []
  if (a.uuid === b.uuid) out.push(`both sides are the same scan (${a.uuid})`)
  if (a.security_group_uuid !== b.security_group_uuid) {
    out.push(`the scans were judged by different security groups ("${a.security_group_name}" and "${b.security_group_name}"): rule changes may come from the policy, not the model`)
  }
  for (const [label, s] of [['a', a], ['b', b]] as const) {
    if (s.eval_outcome === 'ERROR') {
      const why = [s.error_code, s.error_message].filter(Boolean).join(': ')
      out.push(`scan ${label} (${s.uuid}) ended in ERROR${why ? ` (${why})` : ''}: its rules were not evaluated, so violations and rules missing on that side are not real changes`)
    }
  }
  return out
}

/** Compare scan a (before) with scan b (after). */
export function diffScans(a: ScanData, b: ScanData): ScanDiff {
  const violations = diffViolations(a.violations, b.violations)
  const rules = diffRules(a.evaluations, b.evaluations)
  const files = diffFiles(a.files, b.files)
  const outcome = {before: a.scan.eval_outcome, after: b.scan.eval_outcome, changed: a.scan.eval_outcome !== b.scan.eval_outcome}
  const summary: DiffSummary = {
    violations_new: violations.new.length,
    violations_new_blocking: violations.new.filter(v => v.rule_instance_state === 'BLOCKING').length,
    violations_resolved: violations.resolved.length,
    violations_unchanged: violations.unchanged.length,
    rules_changed: rules.length,
    files_added: files.added.length,
    files_removed: files.removed.length,
    files_changed: files.changed.length,
    files_unchanged: files.unchanged,
    identical: false,
  }
  summary.identical = !outcome.changed && violations.new.length === 0 && violations.resolved.length === 0 && rules.length === 0
    && files.added.length === 0 && files.removed.length === 0 && files.changed.length === 0
  return {a: side(a.scan), b: side(b.scan), outcome, violations, rules, files, summary, warnings: warningsFor(a.scan, b.scan)}
}

/** The violations that fail `--fail-on-new`: found by b, not by a, under a BLOCKING rule. */
export const newBlockingViolations = (d: ScanDiff): DiffViolation[] => d.violations.new.filter(v => v.rule_instance_state === 'BLOCKING')
