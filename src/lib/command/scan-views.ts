/** Table columns and detail views of the data-plane objects: scans, evaluations, violations, files, models, versions, labels. */
import {UUID_RE} from '../airs/enums.js'
import {usageError} from '../airs/errors.js'
import type {EvalSummary, Evaluation, FileScanData, Model, ModelVersion, Scan, ScanFile, Violation} from '../airs/types.js'
import {outcomeReason} from './gate.js'
import type {Column, DetailSection} from './output.js'

const summaryText = (s: EvalSummary | null | undefined): string =>
  s ? `${s.rules_passed ?? 0}/${s.rules_failed ?? 0}/${s.total_rules ?? 0}` : ''

export const scanColumns: Column<Scan>[] = [
  {key: 'eval_outcome', header: 'OUTCOME'},
  {key: 'model_uri', header: 'MODEL URI'},
  {key: 'security_group_name', header: 'GROUP'},
  {key: 'source_type', header: 'SOURCE'},
  {key: 'rules', header: 'RULES P/F/T', get: s => summaryText(s.eval_summary)},
  {key: 'labels'},
  {key: 'created_at', header: 'CREATED'},
  {key: 'scan_origin', header: 'ORIGIN', extended: true},
  {key: 'model_formats', header: 'FORMATS', extended: true},
  {key: 'total_files_scanned', header: 'FILES', extended: true},
  {key: 'security_group_uuid', header: 'GROUP UUID', extended: true},
  {key: 'uuid'},
]

export function scanDetail(s: Scan, failedRules: Evaluation[] = []): DetailSection[] {
  const sections: DetailSection[] = []
  const reason = outcomeReason(s)
  const head: Array<[string, unknown]> = [['Outcome', s.eval_outcome]]
  if (s.eval_outcome === 'ERROR') {
    head.push(['Error code', s.error_code ?? '(none)'], ['Error message', s.error_message ?? '(none)'])
  } else if (reason) {
    head.push(['Why', reason])
  }
  if (failedRules.length > 0) {
    head.push(['Failed rules', failedRules.map(e => `${e.rule_name} (${e.rule_instance_state}, ${e.violation_count} violation${e.violation_count === 1 ? '' : 's'})`).join('\n')])
  }
  sections.push({rows: head})
  sections.push({rows: [
    ['Model URI', s.model_uri], ['UUID', s.uuid], ['Group', `${s.security_group_name} (${s.security_group_uuid})`],
    ['Source type', s.source_type], ['Origin', s.scan_origin],
    ['Rules', s.eval_summary ? `${s.eval_summary.rules_passed ?? 0} passed, ${s.eval_summary.rules_failed ?? 0} failed, ${s.eval_summary.total_rules ?? 0} total` : undefined],
    ['Enabled rules at scan', s.enabled_rule_count_snapshot ?? undefined],
    ['Files', s.total_files_scanned === null || s.total_files_scanned === undefined ? undefined : `${s.total_files_scanned} scanned, ${s.total_files_skipped ?? 0} skipped`],
    ['Formats', s.model_formats?.length ? s.model_formats : undefined],
    ['Labels', s.labels?.length ? s.labels : undefined],
    ['Model version', s.model_version_uuid ?? undefined], ['Scanner version', s.scanner_version ?? undefined],
    ['Owner', s.owner], ['Created', s.created_at], ['Started', s.time_started ?? undefined], ['Updated', s.updated_at],
  ]})
  return sections
}

export const evaluationColumns: Column<Evaluation>[] = [
  {key: 'result'},
  {key: 'rule_name', header: 'RULE'},
  {key: 'rule_instance_state', header: 'STATE'},
  {key: 'violation_count', header: 'VIOLATIONS'},
  {key: 'rule_description', header: 'DESCRIPTION', extended: true},
  {key: 'rule_instance_uuid', header: 'RULE INSTANCE', extended: true},
  {key: 'created_at', header: 'CREATED', extended: true},
  {key: 'uuid'},
]

export function evaluationDetail(e: Evaluation): DetailSection[] {
  return [{rows: [
    ['Result', e.result], ['Rule', e.rule_name], ['State at scan', e.rule_instance_state], ['Violations', e.violation_count],
    ['Description', e.rule_description], ['UUID', e.uuid], ['Scan', e.scan_uuid], ['Rule instance', e.rule_instance_uuid],
    ['Created', e.created_at], ['Updated', e.updated_at],
  ]}]
}

export const violationColumns: Column<Violation>[] = [
  {key: 'rule_name', header: 'RULE'},
  {key: 'rule_instance_state', header: 'STATE'},
  {key: 'file'},
  {key: 'threat'},
  {key: 'description'},
  {key: 'module', extended: true},
  {key: 'operator', extended: true},
  {key: 'hash', extended: true},
  {key: 'uuid'},
]

export function violationDetail(v: Violation): DetailSection[] {
  const sections: DetailSection[] = [{rows: [
    ['Rule', v.rule_name], ['State at scan', v.rule_instance_state], ['Description', v.description],
    ['File', v.file ?? undefined], ['Hash', v.hash ?? undefined], ['Module', v.module ?? undefined], ['Operator', v.operator ?? undefined],
    ['UUID', v.uuid], ['Rule instance', v.rule_instance_uuid], ['Created', v.created_at],
  ]}]
  if (v.threat || v.threat_description || v.threat_kb_url || v.insights_url) {
    sections.push({title: 'Threat', rows: [
      ['Code', v.threat ?? undefined], ['Description', v.threat_description ?? undefined],
      ['Knowledge base', v.threat_kb_url ?? undefined], ['Insights', v.insights_url ?? undefined],
    ]})
  }
  const r = v.remediation
  if (r && (r.steps?.length || r.url || r.description)) {
    sections.push({title: 'Remediation', rows: [['Description', r.description ?? undefined], ['URL', r.url || undefined]],
      text: (r.steps ?? []).map((s, i) => `  ${i + 1}. ${s}`).join('\n') || undefined})
  }
  sections.push({title: 'Rule', rows: [['Description', v.rule_description]]})
  return sections
}

export const fileColumns: Column<ScanFile>[] = [
  {key: 'path'},
  {key: 'type'},
  {key: 'result'},
  {key: 'formats'},
  {key: 'parent_path', header: 'PARENT', extended: true},
  {key: 'blob_id', header: 'BLOB', extended: true},
  {key: 'uuid'},
]

/** Rows of the local scanner's findings (scans create --model-path --dry-run). */
export interface FindingRow { file: string; status: string; formats: string; size: number | null; threats: string; issues: number; detail: string }

export const findingColumns: Column<FindingRow>[] = [
  {key: 'file'},
  {key: 'status'},
  {key: 'formats'},
  {key: 'size'},
  {key: 'issues'},
  {key: 'threats'},
  {key: 'detail'},
]

export function findingRows(files: FileScanData[]): FindingRow[] {
  return files.map(f => ({
    file: f.file_path, status: f.modelscan_status, formats: (f.formats ?? []).join(', '), size: f.size_bytes ?? null,
    issues: f.issues_detected?.length ?? 0,
    threats: [...new Set((f.issues_detected ?? []).map(i => i.threat).filter(Boolean))].join(', '),
    detail: f.error_message ?? (f.issues_detected ?? []).map(i => i.description).join('; '),
  }))
}

export const modelColumns: Column<Model>[] = [
  {key: 'name'},
  {key: 'latest_version_outcome', header: 'LATEST OUTCOME'},
  {key: 'latest_version_revision', header: 'REVISION'},
  {key: 'latest_version_formats', header: 'FORMATS'},
  {key: 'latest_version_source_types', header: 'SOURCES'},
  {key: 'latest_version_scan_time', header: 'LAST SCAN'},
  {key: 'latest_version_uuid', header: 'LATEST VERSION', extended: true},
  {key: 'created_at', header: 'CREATED', extended: true},
  {key: 'uuid'},
]

export function modelDetail(m: Model): DetailSection[] {
  return [{rows: [
    ['Name', m.name], ['UUID', m.uuid], ['Latest outcome', m.latest_version_outcome ?? undefined],
    ['Latest version', m.latest_version_uuid ?? undefined], ['Revision', m.latest_version_revision ?? undefined],
    ['Fingerprint', m.latest_version_fingerprint ?? undefined], ['HF commit', m.latest_version_hf_commit_sha ?? undefined],
    ['Formats', m.latest_version_formats ?? undefined], ['Source types', m.latest_version_source_types ?? undefined],
    ['Last scan', m.latest_version_scan_time ?? undefined], ['Created', m.created_at], ['Updated', m.updated_at],
  ]}]
}

export const versionColumns: Column<ModelVersion>[] = [
  {key: 'revision'},
  {key: 'last_eval_outcome', header: 'OUTCOME'},
  {key: 'rules', header: 'RULES P/F/T', get: v => summaryText(v.last_eval_summary)},
  {key: 'file_count', header: 'FILES'},
  {key: 'model_formats', header: 'FORMATS'},
  {key: 'source_types', header: 'SOURCES'},
  {key: 'latest_scan_time', header: 'LAST SCAN'},
  {key: 'license', extended: true},
  {key: 'fingerprint', extended: true},
  {key: 'uuid'},
]

export function versionDetail(v: ModelVersion): DetailSection[] {
  const sections: DetailSection[] = [{rows: [
    ['Revision', v.revision], ['UUID', v.uuid], ['Model', v.model_uuid], ['Last outcome', v.last_eval_outcome ?? undefined],
    ['Rules', v.last_eval_summary ? `${v.last_eval_summary.rules_passed ?? 0} passed, ${v.last_eval_summary.rules_failed ?? 0} failed, ${v.last_eval_summary.total_rules ?? 0} total` : undefined],
    ['Files', v.file_count ?? undefined], ['Formats', v.model_formats ?? undefined], ['Source types', v.source_types ?? undefined],
    ['License', v.license ?? undefined], ['Fingerprint', v.fingerprint ?? undefined], ['Last scan', v.latest_scan_time ?? undefined],
    ['Created', v.created_at], ['Updated', v.updated_at],
  ]}]
  if (v.hf_model_name || v.hf_organization || v.hf_commit_sha) {
    sections.push({title: 'Hugging Face', rows: [
      ['Organization', v.hf_organization ?? undefined], ['Model', v.hf_model_name ?? undefined], ['Commit', v.hf_commit_sha ?? undefined],
      ['Commit title', v.hf_commit_title ?? undefined], ['Authors', v.hf_commit_authors ?? undefined],
    ]})
  }
  return sections
}

export const labelKeyColumns: Column<string>[] = [{key: 'key', get: k => k}]
export const labelValueColumns: Column<string>[] = [{key: 'value', get: v => v}]

/** Check a UUID argument or flag before anything is built or sent (exit 2 naming it). */
export function requireUuid(value: string, what: string, hint?: string): string {
  if (!UUID_RE.test(value)) throw usageError(`${what}: "${value}" is not a UUID (like 0313419a-33ec-4264-b2ad-c0a3a09aaa39)${hint ? `; ${hint}` : ''}`)
  return value
}

