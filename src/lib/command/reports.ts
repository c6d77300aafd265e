/**
 * Scan reports for CI: SARIF 2.1.0 (GitHub code scanning), JUnit XML (one testcase per rule evaluation) and
 * a markdown summary (a job summary). Pure functions of the scans, their evaluations and their violations.
 * Each builder takes one scan or several: several scans make one SARIF run holding every scan's results, one
 * JUnit testsuite per scan, one markdown section per scan.
 */
import type {Evaluation, Model, ModelVersion, Scan, ScanDetails, ScanFile, Violation} from '../airs/types.js'
import {outcomeReason} from './gate.js'

export interface ReportInput { scan: Scan; evaluations: Evaluation[]; violations: Violation[] }
/**
 * A report's data as the collector gathers it: `files`, `model` and `modelVersion` only when a format asked for
 * them; `details` when the scan was made on this machine (the local scanner's scan_details).
 */
export interface ReportData extends ReportInput {
  files?: ScanFile[]
  model?: Model | null
  modelVersion?: ModelVersion | null
  details?: ScanDetails | null
}
export interface ReportOptions {
  toolVersion: string
  /** Prefix of artifact URIs, relative to the repository root (e.g. `models/bert`). */
  artifactRoot?: string
}

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json'
const INFO_URI = 'https://docs.paloaltonetworks.com/ai-runtime-security/ai-model-security'

/** A stable rule id from the rule name: "Stored In Approved File Format" -> "stored-in-approved-file-format". */
export function ruleSlug(name: string): string {
  const slug = name.normalize('NFKD').toLowerCase().replaceAll(/[^a-z0-9]+/g, '-').replaceAll(/^-+|-+$/g, '')
  return slug || 'rule'
}

export function sarifLevel(state: string | undefined): 'error' | 'warning' | 'note' {
  if (state === 'BLOCKING') return 'error'
  if (state === 'ALLOWING') return 'warning'
  return 'note'
}

/** A relative URI for a file of the model: no scheme, no leading slash, optional root prefix, percent-encoded. */
export function artifactUri(file: string, root?: string): string {
  const clean = (p: string) => p.replaceAll('\\', '/').split('/').filter(s => s && s !== '.').join('/')
  const joined = [root ? clean(root) : '', clean(file)].filter(Boolean).join('/')
  return joined.split('/').map(seg => encodeURIComponent(seg)).join('/')
}

const plain = (md: string) => md.replaceAll(/\*\*([^*]+)\*\*/g, '$1').replaceAll(/`([^`]+)`/g, '$1')

interface RuleInfo { id: string; name: string; description: string; state: string; steps: string[]; url?: string }

const asList = (input: ReportInput | ReportInput[]): ReportInput[] => Array.isArray(input) ? input : [input]

function collectRules(inputs: ReportInput[]): RuleInfo[] {
  const rules = new Map<string, RuleInfo>()
  const add = (name: string, description: string, state: string) => {
    const id = ruleSlug(name)
    if (!rules.has(id)) rules.set(id, {id, name, description, state, steps: []})
    return rules.get(id)!
  }
  for (const input of inputs) {
    for (const v of input.violations) {
      const r = add(v.rule_name, v.rule_description, v.rule_instance_state)
      // a rule BLOCKING in one scan's group and ALLOWING in another's is reported at its strictest
      if (v.rule_instance_state === 'BLOCKING') r.state = 'BLOCKING'
      if (r.steps.length === 0 && v.remediation?.steps?.length) r.steps = [...v.remediation.steps]
      if (!r.url && v.remediation?.url) r.url = v.remediation.url
    }
    for (const e of input.evaluations) if (e.result === 'FAILED') add(e.rule_name, e.rule_description, e.rule_instance_state)
  }
  return [...rules.values()].sort((a, b) => a.id.localeCompare(b.id))
}

/**
 * The SARIF 2.1.0 log: one run (for one scan or several), one reportingDescriptor per violated rule, one result
 * per violation.
 */
export function buildSarif(input: ReportInput | ReportInput[], opts: ReportOptions): Record<string, unknown> {
  const inputs = asList(input)
  const rules = collectRules(inputs)
  const index = new Map(rules.map((r, i) => [r.id, i]))
  const artifacts: string[] = []
  const artifactIndex = new Map<string, number>()
  const fallbackUri = artifactUri('.', opts.artifactRoot) || '.'
  const results = inputs.flatMap(({scan, violations}) => violations.map(v => {
    const id = ruleSlug(v.rule_name)
    const uri = v.file ? artifactUri(v.file, opts.artifactRoot) : fallbackUri
    if (v.file && !artifactIndex.has(uri)) {
      artifactIndex.set(uri, artifacts.length)
      artifacts.push(uri)
    }
    const artifactLocation: Record<string, unknown> = {uri, uriBaseId: '%SRCROOT%'}
    if (artifactIndex.has(uri)) artifactLocation.index = artifactIndex.get(uri)
    const extra = [v.threat ? `Threat ${v.threat}${v.threat_description ? `: ${v.threat_description}` : ''}.` : '',
      v.module ? `Module: ${v.module}.` : '', v.operator ? `Operator: ${v.operator}.` : ''].filter(Boolean).join(' ')
    const result: Record<string, unknown> = {
      ruleId: id,
      ruleIndex: index.get(id),
      level: sarifLevel(v.rule_instance_state),
      message: {text: `${plain(v.description)}${extra ? ` ${extra}` : ''}`},
      locations: [{physicalLocation: {artifactLocation, region: {startLine: 1}}}],
      partialFingerprints: {'airsViolation/v1': [id, v.file ?? '', v.threat ?? '', v.module ?? '', v.operator ?? ''].join('|')},
      properties: {
        'airs-violation-uuid': v.uuid, 'airs-scan-uuid': scan.uuid, 'rule-instance-state': v.rule_instance_state,
        ...(v.threat ? {threat: v.threat} : {}), ...(v.hash ? {hash: v.hash} : {}),
      },
    }
    return result
  }))
  const groups = [...new Set(inputs.map(i => i.scan.security_group_name ? ruleSlug(i.scan.security_group_name) : 'scan'))].sort()
  const scanProps = (scan: Scan) => ({
    'airs-scan-uuid': scan.uuid, 'eval-outcome': scan.eval_outcome, 'model-uri': scan.model_uri, 'security-group': scan.security_group_name,
  })
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [{
      tool: {driver: {
        name: 'daystrom model-security',
        version: opts.toolVersion,
        informationUri: INFO_URI,
        rules: rules.map(r => ({
          id: r.id,
          name: r.name.replaceAll(/[^A-Za-z0-9]+/g, ' ').trim().split(' ').filter(Boolean).map(w => w[0].toUpperCase() + w.slice(1)).join('') || 'Rule',
          shortDescription: {text: r.name},
          fullDescription: {text: r.description || r.name},
          help: {
            text: r.steps.length ? `Remediation:\n${r.steps.map((s, i) => `${i + 1}. ${s}`).join('\n')}${r.url ? `\n${r.url}` : ''}` : (r.url ?? r.description ?? r.name),
            markdown: r.steps.length ? `**Remediation**\n\n${r.steps.map((s, i) => `${i + 1}. ${s}`).join('\n')}${r.url ? `\n\n[Documentation](${r.url})` : ''}` : (r.url ? `[Documentation](${r.url})` : r.description || r.name),
          },
          ...(r.url ? {helpUri: r.url} : {}),
          defaultConfiguration: {level: sarifLevel(r.state)},
          properties: {tags: ['security', 'ai-model-security'], 'rule-instance-state': r.state, ...(r.state === 'BLOCKING' ? {'security-severity': '8.0'} : {'security-severity': '4.0'})},
        })),
      }},
      automationDetails: {id: `daystrom/model-security/${groups.join('+')}/`},
      artifacts: artifacts.map(uri => ({location: {uri, uriBaseId: '%SRCROOT%'}})),
      results,
      properties: inputs.length === 1 ? scanProps(inputs[0].scan) : {'airs-scans': inputs.map(i => scanProps(i.scan))},
    }],
  }
}

const xmlEscape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
  .replaceAll('"', '&quot;').replaceAll("'", '&apos;')
  // eslint-disable-next-line no-control-regex
  .replaceAll(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')

const seconds = (from?: string | null, to?: string | null) => {
  const a = from ? Date.parse(from) : Number.NaN
  const b = to ? Date.parse(to) : Number.NaN
  return Number.isFinite(a) && Number.isFinite(b) && b >= a ? ((b - a) / 1000).toFixed(3) : '0'
}

interface Suite { lines: string[]; tests: number; failures: number; errors: number; time: number }

function junitSuite(input: ReportInput): Suite {
  const {scan, evaluations, violations} = input
  let tests = evaluations.length
  const failures = evaluations.filter(e => e.result === 'FAILED').length
  let errors = evaluations.filter(e => e.result === 'ERROR').length
  const byInstance = new Map<string, Violation[]>()
  for (const v of violations) byInstance.set(v.rule_instance_uuid, [...(byInstance.get(v.rule_instance_uuid) ?? []), v])
  const classname = `model-security.${ruleSlug(scan.security_group_name || 'scan')}`
  const cases: string[] = []
  for (const e of evaluations) {
    const open = `    <testcase classname="${xmlEscape(classname)}" name="${xmlEscape(e.rule_name)}" time="0"`
    if (e.result === 'FAILED') {
      const vs = byInstance.get(e.rule_instance_uuid) ?? []
      const body = vs.length
        ? vs.map(v => `${v.file ? `${v.file}: ` : ''}${plain(v.description)}${v.threat ? ` [${v.threat}]` : ''}`).join('\n')
        : `${e.violation_count} violation(s)`
      const steps = vs.find(v => v.remediation?.steps?.length)?.remediation.steps ?? []
      const text = `${body}${steps.length ? `\nRemediation:\n${steps.map((s, i) => `${i + 1}. ${s}`).join('\n')}` : ''}`
      cases.push(`${open}>`,
        `      <failure message="${xmlEscape(`${e.rule_name}: ${e.violation_count} violation(s) (${e.rule_instance_state})`)}" type="${xmlEscape(e.rule_instance_state)}">${xmlEscape(text)}</failure>`,
        '    </testcase>')
    } else if (e.result === 'ERROR') {
      cases.push(`${open}>`,
        `      <error message="${xmlEscape(`${e.rule_name}: the rule could not be evaluated`)}" type="ERROR">${xmlEscape(scan.error_message ?? e.rule_description)}</error>`,
        '    </testcase>')
    } else {
      cases.push(`${open}/>`)
    }
  }
  if (evaluations.length === 0 && scan.eval_outcome === 'ERROR') {
    cases.push(`    <testcase classname="${xmlEscape(classname)}" name="scan" time="0">`,
      `      <error message="${xmlEscape(outcomeReason(scan))}" type="${xmlEscape(scan.error_code ?? 'ERROR')}"/>`, '    </testcase>')
    tests = 1
    errors = 1
  }
  const time = seconds(scan.time_started ?? scan.created_at, scan.updated_at)
  const lines = [
    `  <testsuite name="${xmlEscape(`AIRS model scan: ${scan.model_uri}`)}" tests="${tests}" failures="${failures}" errors="${errors}" skipped="0" timestamp="${xmlEscape(scan.created_at)}" time="${time}">`,
    '    <properties>',
    ...[['scan_uuid', scan.uuid], ['eval_outcome', scan.eval_outcome], ['model_uri', scan.model_uri], ['security_group', scan.security_group_name],
      ['source_type', scan.source_type], ...(scan.error_code ? [['error_code', scan.error_code]] : [])]
      .map(([k, v]) => `      <property name="${xmlEscape(k)}" value="${xmlEscape(v ?? '')}"/>`),
    '    </properties>',
    ...cases,
    '  </testsuite>',
  ]
  return {lines, tests, failures, errors, time: Number(time)}
}

/**
 * JUnit XML: one testsuite per scan, one testcase per rule evaluation; FAILED -> failure, ERROR -> error
 * (a failed scan without evaluations is one errored testcase).
 */
export function buildJunit(input: ReportInput | ReportInput[]): string {
  const suites = asList(input).map(i => junitSuite(i))
  const sum = (k: 'tests' | 'failures' | 'errors') => suites.reduce((n, s) => n + s[k], 0)
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="daystrom model-security" tests="${sum('tests')}" failures="${sum('failures')}" errors="${sum('errors')}" time="${suites.reduce((n, s) => n + s.time, 0).toFixed(3)}">`,
    ...suites.flatMap(s => s.lines),
    '</testsuites>',
  ].join('\n')
}

const ICON: Record<string, string> = {ALLOWED: '✅', BLOCKED: '⛔', ERROR: '❌', PENDING: '⏳'}
const mdCell = (s: string | null | undefined) => (s ?? '').replaceAll('|', '\\|').replaceAll(/\r?\n/g, '<br>')

const WORST: Record<string, number> = {ALLOWED: 0, BLOCKED: 1, ERROR: 2, PENDING: 3}

/**
 * A markdown summary fit for $GITHUB_STEP_SUMMARY: one section per scan; with several scans, a table of their
 * outcomes first.
 */
export function buildMarkdown(input: ReportInput | ReportInput[]): string {
  const inputs = asList(input)
  if (inputs.length === 1) return markdownSection(inputs[0], '##')
  const worst = inputs.map(i => i.scan.eval_outcome).sort((a, b) => (WORST[b] ?? 0) - (WORST[a] ?? 0))[0]
  const head = [
    `## ${ICON[worst] ?? ''} Model scans: ${inputs.length} scans, worst outcome ${worst}`.replace('##  ', '## '), '',
    '| Outcome | Model | Security group | Scan |', '| --- | --- | --- | --- |',
    ...inputs.map(({scan}) => `| ${ICON[scan.eval_outcome] ?? ''} ${scan.eval_outcome} | \`${mdCell(scan.model_uri)}\` | ${mdCell(scan.security_group_name)} | \`${scan.uuid}\` |`),
    '',
  ]
  return [...head, ...inputs.map(i => markdownSection(i, '###'))].join('\n').trimEnd() + '\n'
}

function markdownSection(input: ReportInput, h: '##' | '###'): string {
  const sub = `${h}#`
  const {scan, evaluations, violations} = input
  const s = scan.eval_summary
  const out: string[] = [
    `${h} ${ICON[scan.eval_outcome] ?? ''} Model scan ${scan.eval_outcome}`.replace(`${h}  `, `${h} `),
    '',
    `**Model:** \`${scan.model_uri}\`  `,
    `**Security group:** ${scan.security_group_name} (${scan.source_type})  `,
    `**Scan:** \`${scan.uuid}\` · ${scan.created_at}  `,
  ]
  if (s) out.push(`**Rules:** ${s.rules_passed ?? 0} passed, ${s.rules_failed ?? 0} failed, ${s.total_rules ?? 0} total`)
  if (scan.eval_outcome === 'ERROR') out.push('', `> **Error:** ${[scan.error_code, scan.error_message].filter(Boolean).join(': ') || 'the scan failed'}`)
  if (scan.labels?.length) out.push('', `**Labels:** ${scan.labels.map(l => `\`${l.key}=${l.value}\``).join(' ')}`)
  if (evaluations.length > 0) {
    out.push('', `${sub} Rule evaluations`, '', '| Result | Rule | State | Violations |', '| --- | --- | --- | --- |')
    const order: Record<string, number> = {FAILED: 0, ERROR: 1, PASSED: 2}
    for (const e of [...evaluations].sort((a, b) => (order[a.result] ?? 3) - (order[b.result] ?? 3) || a.rule_name.localeCompare(b.rule_name))) {
      out.push(`| ${e.result === 'PASSED' ? '✅' : e.result === 'FAILED' ? '❌' : '⚠️'} ${e.result} | ${mdCell(e.rule_name)} | ${e.rule_instance_state} | ${e.violation_count} |`)
    }
  }
  if (violations.length > 0) {
    out.push('', `${sub} Violations (${violations.length})`, '', '| Rule | State | File | Threat | Description |', '| --- | --- | --- | --- | --- |')
    for (const v of violations) {
      out.push(`| ${mdCell(v.rule_name)} | ${v.rule_instance_state} | ${v.file ? `\`${mdCell(v.file)}\`` : ''} | ${mdCell(v.threat ?? '')} | ${mdCell(v.description)} |`)
    }
    const seen = new Set<string>()
    const remediations: string[] = []
    for (const v of violations) {
      if (seen.has(v.rule_name) || !v.remediation?.steps?.length) continue
      seen.add(v.rule_name)
      remediations.push(`**${v.rule_name}**`, '', ...v.remediation.steps.map((st, i) => `${i + 1}. ${st}`),
        ...(v.remediation.url ? ['', `[Documentation](${v.remediation.url})`] : []), '')
    }
    if (remediations.length) out.push('', `${sub} Remediation`, '', ...remediations)
  }
  return out.join('\n').trimEnd() + '\n'
}
