/**
 * Rendering a scan comparison: readable sections for the terminal, markdown for a pull-request comment, and
 * flat change rows (one per change) for csv/ndjson and the table flags.
 */
import {type Column, formatCell, renderTable, type TableOptions} from '../command/output.js'
import type {DiffFile, DiffViolation, RuleResult, ScanDiff, ScanSide} from './diff.js'

/** One change per row: what csv, ndjson, --columns/--sort/--filter work on. */
export interface DiffRow {
  section: 'outcome' | 'violation' | 'rule' | 'file'
  change: string
  rule: string | null
  state: string | null
  file: string | null
  threat: string | null
  before: string | null
  after: string | null
  detail: string | null
}

export const diffRowColumns: Column<DiffRow>[] = [
  {key: 'section'},
  {key: 'change'},
  {key: 'rule'},
  {key: 'state'},
  {key: 'file'},
  {key: 'threat'},
  {key: 'before'},
  {key: 'after'},
  {key: 'detail'},
]

const ruleText = (r: RuleResult | null): string | null => (r ? `${r.result} (${r.state}, ${r.violation_count} violation${r.violation_count === 1 ? '' : 's'})` : null)
const shortSha = (s: string | null): string => (s ? s.slice(0, 12) : 'unknown')
const fileText = (f: DiffFile): string => `${f.formats.join(', ') || 'no format'} · ${shortSha(f.sha256)}`

/** The flat rows; unchanged violations are included (change = unchanged), unchanged files are not. */
export function diffRows(d: ScanDiff): DiffRow[] {
  const empty = {rule: null, state: null, file: null, threat: null, before: null, after: null, detail: null}
  const v = (change: string, x: DiffViolation): DiffRow => ({
    ...empty, section: 'violation', change, rule: x.rule_name, state: x.rule_instance_state, file: x.file, threat: x.threat,
    detail: [x.description, x.module || x.operator ? `(${[x.module, x.operator].filter(Boolean).join('.')})` : ''].filter(Boolean).join(' '),
  })
  return [
    {...empty, section: 'outcome', change: d.outcome.changed ? 'changed' : 'unchanged', before: d.outcome.before, after: d.outcome.after},
    ...d.violations.new.map(x => v('new', x)),
    ...d.violations.resolved.map(x => v('resolved', x)),
    ...d.violations.unchanged.map(x => v('unchanged', x)),
    ...d.rules.map((r): DiffRow => ({...empty, section: 'rule', change: r.change, rule: r.rule_name, state: r.after?.state ?? r.before?.state ?? null,
      before: ruleText(r.before), after: ruleText(r.after)})),
    ...d.files.added.map((f): DiffRow => ({...empty, section: 'file', change: 'added', file: f.path, after: fileText(f)})),
    ...d.files.removed.map((f): DiffRow => ({...empty, section: 'file', change: 'removed', file: f.path, before: fileText(f)})),
    ...d.files.changed.map((c): DiffRow => ({...empty, section: 'file', change: 'changed', file: c.path, before: fileText(c.before), after: fileText(c.after)})),
  ]
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** "1 new violation (1 BLOCKING), 2 resolved, 3 unchanged; 1 rule changed; files: 1 added, 0 removed, 1 changed" */
export function diffSummaryLine(d: ScanDiff): string {
  const s = d.summary
  return `${plural(s.violations_new, 'new violation')}${s.violations_new_blocking ? ` (${s.violations_new_blocking} BLOCKING)` : ''}, ` +
    `${s.violations_resolved} resolved, ${s.violations_unchanged} unchanged; ${plural(s.rules_changed, 'rule')} changed; ` +
    `files: ${s.files_added} added, ${s.files_removed} removed, ${s.files_changed} changed, ${s.files_unchanged} unchanged`
}

const violationColumns: Column<DiffViolation>[] = [
  {key: 'rule_name', header: 'RULE'},
  {key: 'rule_instance_state', header: 'STATE'},
  {key: 'file'},
  {key: 'threat'},
  {key: 'description', get: v => v.description},
]

function sideLine(label: string, s: ScanSide): string {
  return `${label}  ${s.uuid}  ${s.eval_outcome}  ${s.model_uri}  (${s.security_group_name}, ${formatCell(s.created_at)})`
}

/** The terminal view: a header, then one section per category with its count (warnings are the caller's: stderr). */
export function renderDiffSections(d: ScanDiff, opts: TableOptions = {}): string {
  const indent = (text: string) => text.split('\n').map(l => `  ${l}`).join('\n')
  const width = opts.width ? opts.width - 2 : undefined
  const table = <T>(rows: T[], cols: Column<T>[]) => indent(renderTable(rows, cols, {...opts, width}))
  const blocks: string[] = []
  blocks.push([
    `Outcome: ${d.outcome.before} → ${d.outcome.after}${d.outcome.changed ? '' : ' (unchanged)'}`,
    sideLine('a', d.a),
    sideLine('b', d.b),
    `Summary: ${d.summary.identical ? 'no differences; ' : ''}${diffSummaryLine(d)}`,
  ].join('\n'))
  const section = (title: string, count: string | number, body?: string) => blocks.push(`${title} (${count})${body ? `\n${body}` : ''}`)
  const blocking = d.summary.violations_new_blocking
  const list = <T>(rows: T[], cols: Column<T>[]) => (rows.length > 0 ? table(rows, cols) : undefined)
  section('New violations', `${d.violations.new.length}${blocking ? `, ${blocking} BLOCKING` : ''}`, list(d.violations.new, violationColumns))
  section('Resolved violations', d.violations.resolved.length, list(d.violations.resolved, violationColumns))
  section('Unchanged violations', d.violations.unchanged.length, list(d.violations.unchanged, violationColumns))
  section('Rule evaluations changed', d.rules.length, list(d.rules, [
    {key: 'rule_name', header: 'RULE'}, {key: 'change'},
    {key: 'before', get: r => ruleText(r.before) ?? 'not evaluated'}, {key: 'after', get: r => ruleText(r.after) ?? 'not evaluated'},
  ]))
  const files = [
    ...d.files.added.map(f => ({change: 'added', path: f.path, before: '', after: fileText(f)})),
    ...d.files.removed.map(f => ({change: 'removed', path: f.path, before: fileText(f), after: ''})),
    ...d.files.changed.map(c => ({change: 'changed', path: c.path, before: fileText(c.before), after: fileText(c.after)})),
  ]
  section('Files changed', `${files.length}; ${d.files.unchanged} unchanged`,
    list(files, [{key: 'change'}, {key: 'path'}, {key: 'before', header: 'BEFORE (FORMATS · SHA256)'}, {key: 'after', header: 'AFTER (FORMATS · SHA256)'}]))
  return blocks.join('\n\n')
}

const ICON: Record<string, string> = {ALLOWED: '✅', BLOCKED: '⛔', ERROR: '❌', PENDING: '⏳'}
const md = (s: string | number | null | undefined) => String(s ?? '').replaceAll('|', '\\|').replaceAll(/\r?\n/g, '<br>')
const code = (s: string | null) => (s ? `\`${md(s.replaceAll('`', "'"))}\`` : '')
const outcome = (o: string) => `${ICON[o] ? `${ICON[o]} ` : ''}${o}`

function mdViolations(title: string, list: DiffViolation[], collapsed = false, blocking = 0): string[] {
  if (list.length === 0) return []
  const count = `${list.length}${blocking ? `, ${blocking} BLOCKING` : ''}`
  const rows = ['| Rule | State | File | Threat | Description |', '| --- | --- | --- | --- | --- |',
    ...list.map(v => `| ${md(v.rule_name)} | ${v.rule_instance_state} | ${code(v.file)} | ${md(v.threat ?? '')} | ${md(v.description)} |`)]
  return collapsed
    ? ['', `<details><summary>${title} (${count})</summary>`, '', ...rows, '', '</details>']
    : ['', `### ${title} (${count})`, '', ...rows]
}

/** A markdown comparison fit for a pull-request comment or $GITHUB_STEP_SUMMARY. */
export function renderDiffMarkdown(d: ScanDiff): string {
  const out: string[] = [
    `## Model scan comparison: ${outcome(d.outcome.before)} → ${outcome(d.outcome.after)}`,
    '',
    '| | Scan | Outcome | Model | Security group | Created |',
    '| --- | --- | --- | --- | --- | --- |',
    ...([['Before', d.a], ['After', d.b]] as const).map(([label, s]) =>
      `| ${label} | ${code(s.uuid)} | ${s.eval_outcome} | ${code(s.model_uri)} | ${md(s.security_group_name)} | ${formatCell(s.created_at)} |`),
    '',
    `**${d.summary.identical ? 'No differences.' : diffSummaryLine(d)}**`,
  ]
  for (const w of d.warnings) out.push('', `> ⚠️ ${md(w)}`)
  out.push(...mdViolations('🆕 New violations', d.violations.new, false, d.summary.violations_new_blocking))
  out.push(...mdViolations('✔️ Resolved violations', d.violations.resolved))
  if (d.rules.length > 0) {
    out.push('', `### Rule evaluations changed (${d.rules.length})`, '', '| Rule | Before | After |', '| --- | --- | --- |',
      ...d.rules.map(r => `| ${md(r.rule_name)} | ${ruleText(r.before) ?? 'not evaluated'} | ${ruleText(r.after) ?? 'not evaluated'} |`))
  }
  const files = d.files.added.length + d.files.removed.length + d.files.changed.length
  if (files > 0) {
    out.push('', `### Files changed (${files})`, '', '| Change | Path | Before | After |', '| --- | --- | --- | --- |',
      ...d.files.added.map(f => `| added | ${code(f.path)} | | ${md(fileText(f))} |`),
      ...d.files.removed.map(f => `| removed | ${code(f.path)} | ${md(fileText(f))} | |`),
      ...d.files.changed.map(c => `| changed | ${code(c.path)} | ${md(fileText(c.before))} | ${md(fileText(c.after))} |`))
  }
  out.push(...mdViolations('Unchanged violations', d.violations.unchanged, true))
  return out.join('\n') + '\n'
}
