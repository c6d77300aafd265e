/**
 * Wire types of the AIRS Model Security API (snake_case, as sent and received).
 * Response objects keep unknown fields: every interface allows extra keys.
 */
import type {
  ErrorCode, EvalOutcome, EvaluationResult, FileScanResult, FileType, ModelScanStatus, RuleFieldValueKey,
  RuleState, RuleType, ScanOrigin, SourceType, ThreatCategory,
} from './enums.js'

export interface Extra { [key: string]: unknown }

export interface Pagination extends Extra { total_items?: number | null }

export type FieldValues = Partial<Record<RuleFieldValueKey, string[]>>

export interface SecurityGroup extends Extra {
  uuid: string; tsg_id: string; created_at: string; updated_at: string
  name: string; description: string; source_type: SourceType; state: 'PENDING' | 'ACTIVE'; is_tombstone: boolean
}

export interface RuleConfiguration { state?: RuleState | null; field_values?: FieldValues }
export interface GroupCreate { name: string; source_type: SourceType; description?: string; rule_configurations?: Record<string, RuleConfiguration> }
export interface GroupUpdate { name?: string | null; description?: string | null }

export interface RuleEditableField extends Extra {
  attribute_name: string; type: string; display_name: string; display_type: 'SELECT' | 'LIST'
  description?: string | null; dropdown_values?: Array<{value: string; label: string}> | null
}

export interface Rule extends Extra {
  uuid: string; name: string; description: string; rule_type: RuleType; compatible_sources: SourceType[]
  default_state: RuleState; remediation: {description: string; steps: string[]; url: string}
  editable_fields: RuleEditableField[]; constant_values: Record<string, unknown>; default_values: FieldValues
}

export interface RuleInstance extends Extra {
  uuid: string; tsg_id: string; created_at: string; updated_at: string
  security_group_uuid: string; security_rule_uuid: string; state: RuleState; rule: Rule; field_values?: FieldValues
}

export interface RuleInstanceUpdate { security_group_uuid: string; state?: RuleState | null; field_values?: FieldValues | null }

export interface PyPIAuth extends Extra { url: string; expires_at: string }

export interface Label { key: string; value: string }

export interface EvalSummary extends Extra { rules_failed?: number; rules_passed?: number; total_rules?: number }

export interface ModelScanIssue {
  description: string; source: string; threat?: ThreatCategory | null; module?: string | null; operator?: string | null
}

export interface FileScanData {
  file_path: string; modelscan_status: ModelScanStatus; blob_id: string
  error_message?: string | null; formats?: string[] | null; issues_detected?: ModelScanIssue[] | null
  sha256?: string | null; size_bytes?: number | null
}

export interface ScanDetails {
  scanner_version: string; time_started: string; files: FileScanData[]
  total_files_scanned: number; total_files_skipped: number; model_formats: string[]
  model_size_bytes: number; scan_duration_ms: number; error_code?: ErrorCode | null; error_message?: string | null
}

export interface ScanCreate {
  model_uri: string; security_group_uuid: string; scan_origin?: ScanOrigin | null
  allow_patterns?: string[] | null; ignore_patterns?: string[] | null; labels?: Label[] | null
  model_author?: string | null; model_name?: string | null; model_version?: string | null
  scan_details?: ScanDetails | null
}

// `Known | (string & {})`: the documented values (with completion), and any value the service adds later
export interface Scan extends Extra {
  uuid: string; tsg_id: string; created_at: string; updated_at: string; model_uri: string; owner: string
  scan_origin: ScanOrigin | (string & {}); security_group_uuid: string; security_group_name: string
  eval_outcome: EvalOutcome | (string & {}); source_type: SourceType
  model_version_uuid?: string | null; created_by?: string | null; enabled_rule_count_snapshot?: number | null
  error_code?: ErrorCode | (string & {}) | null; error_message?: string | null; eval_summary?: EvalSummary | null
  labels?: Label[]; model_formats?: string[] | null; scanner_version?: string | null; time_started?: string | null
  total_files_scanned?: number | null; total_files_skipped?: number | null
}

export interface Evaluation extends Extra {
  uuid: string; tsg_id: string; created_at: string; updated_at: string; result: EvaluationResult | (string & {})
  violation_count: number; rule_instance_uuid: string; scan_uuid: string; rule_name: string
  rule_description: string; rule_instance_state: RuleState | (string & {})
}

export interface Violation extends Extra {
  uuid: string; tsg_id: string; created_at: string; updated_at: string; description: string
  rule_instance_uuid: string; rule_name: string; rule_description: string; rule_instance_state: RuleState | (string & {})
  remediation: {steps: string[]; url: string; [k: string]: unknown}
  file?: string | null; hash?: string | null; module?: string | null; operator?: string | null
  threat?: ThreatCategory | (string & {}) | null; threat_description?: string | null
  insights_url?: string | null; threat_kb_url?: string | null
}

export interface ScanFile extends Extra {
  uuid: string; tsg_id: string; created_at: string; updated_at: string; path: string; parent_path: string
  type: FileType | (string & {}); result: FileScanResult | (string & {}); model_version_uuid: string
  blob_id?: string | null; formats?: string[] | null; scan_uuid?: string | null
}

export interface Model extends Extra {
  uuid: string; tsg_id: string; created_at: string; updated_at: string; name: string
  latest_version_uuid?: string | null; latest_version_fingerprint?: string | null; latest_version_revision?: string | null
  latest_version_hf_commit_sha?: string | null; latest_version_outcome?: EvalOutcome | (string & {}) | null
  latest_version_formats?: string[] | null; latest_version_source_types?: SourceType[] | null
  latest_version_scan_time?: string | null
}

export interface ModelVersion extends Extra {
  uuid: string; tsg_id: string; created_at: string; updated_at: string; revision: string; model_uuid: string
  fingerprint?: string | null; file_count?: number | null; license?: string | null; latest_scan_time?: string | null
  hf_commit_sha?: string | null; hf_commit_title?: string | null; hf_commit_authors?: string[] | null
  hf_model_name?: string | null; hf_organization?: string | null; model_formats?: string[] | null
  source_types?: SourceType[] | null; last_eval_outcome?: EvalOutcome | (string & {}) | null; last_eval_summary?: EvalSummary | null
}

/** A page of a list operation: the items under the operation's own key, plus pagination. */
export interface Page<T> { items: T[]; pagination: Pagination; raw: Record<string, unknown> }

export interface ValidationErrorItem { loc: Array<string | number>; msg: string; type: string; input?: unknown; ctx?: Record<string, unknown> }
