/**
 * zod schemas of the MCP tools' inputs and outputs (the SDK turns them into the JSON Schemas clients see).
 * Service objects are declared by the fields the tools rely on and pass every other field through (the
 * service adds fields over time; results keep them), so their JSON Schemas allow additional properties.
 */
import {z} from 'zod'

import {EVAL_OUTCOMES, GROUP_SOURCE_TYPES, RULE_STATES, SORT_DATE_FIELDS, SORT_DIRECTIONS, UUID_RE} from '../airs/enums.js'

const optStr = z.string().nullable().optional()
const optStrs = z.array(z.string()).nullable().optional()

export const uuid = (what: string) => z.string().regex(UUID_RE, `${what} must be a UUID like 0313419a-33ec-4264-b2ad-c0a3a09aaa39`)
/** A group or rule: UUID or exact name. */
export const nameOrUuid = (what: string) => z.string().trim().min(1, `${what} must not be empty`).max(1000)

export const pageInput = (defaultLimit: number) => ({
  limit: z.number().int().min(1).max(100).default(defaultLimit).describe(`Items to return (1-100, default ${defaultLimit}).`),
  skip: z.number().int().min(0).default(0).describe('Items to skip first (use next_skip of the previous call to page on).'),
})

export const pageOutput = {
  total_items: z.number().int().nullable().describe('How many items match, when the service says.'),
  skip: z.number().int(),
  returned: z.number().int(),
  next_skip: z.number().int().nullable().describe('Pass as skip to get the next page; null when this was the last page.'),
}

export const sourceTypes = z.array(z.enum(GROUP_SOURCE_TYPES))
export const evalOutcomes = z.array(z.enum(EVAL_OUTCOMES))
export const sortDirection = z.enum(SORT_DIRECTIONS)
export const sortDateField = z.enum(SORT_DATE_FIELDS)
export const ruleState = z.enum(RULE_STATES)

export const LabelSchema = z.object({key: z.string(), value: z.string()})

export const EvalSummarySchema = z.object({
  rules_failed: z.number().int().optional(), rules_passed: z.number().int().optional(), total_rules: z.number().int().optional(),
}).passthrough()

export const ScanSchema = z.object({
  uuid: z.string(), model_uri: z.string(), eval_outcome: z.string(), created_at: z.string(),
  security_group_uuid: z.string().optional(), security_group_name: z.string().optional(), source_type: z.string().optional(),
  scan_origin: z.string().optional(), owner: z.string().optional(), updated_at: z.string().optional(),
  model_version_uuid: optStr, error_code: optStr, error_message: optStr, eval_summary: EvalSummarySchema.nullable().optional(),
  labels: z.array(LabelSchema).optional(), model_formats: optStrs, total_files_scanned: z.number().int().nullable().optional(),
  total_files_skipped: z.number().int().nullable().optional(),
}).passthrough()

export const EvaluationSchema = z.object({
  uuid: z.string(), rule_name: z.string(), result: z.string(), rule_instance_state: z.string(), violation_count: z.number().int(),
  rule_description: z.string().optional(), rule_instance_uuid: z.string().optional(),
}).passthrough()

export const ViolationSchema = z.object({
  uuid: z.string(), rule_name: z.string(), rule_instance_state: z.string(), description: z.string(),
  file: optStr, threat: optStr, threat_description: optStr, module: optStr, operator: optStr, hash: optStr,
  remediation: z.object({steps: z.array(z.string()).optional(), url: z.string().optional()}).passthrough().nullable().optional(),
}).passthrough()

export const GroupSchema = z.object({
  uuid: z.string(), name: z.string(), source_type: z.string(), description: z.string().nullable().optional(), state: z.string().optional(),
}).passthrough()

export const RuleInstanceSummarySchema = z.object({
  uuid: z.string(), rule_name: z.string().nullable(), rule_uuid: z.string(), state: z.string(), rule_type: z.string().nullable(),
  default_state: z.string().nullable(), field_values: z.record(z.array(z.string())),
})

export const EditableFieldSchema = z.object({
  attribute_name: z.string(), display_name: z.string().nullable(), type: z.string().nullable(), display_type: z.string().nullable(),
  description: z.string().nullable(), allowed_values: z.array(z.string()).nullable().describe('null: any value'),
  default: z.array(z.string()).nullable(),
})

export const RuleExplanationSchema = z.object({
  uuid: z.string(), name: z.string(), description: z.string().nullable(), rule_type: z.string().nullable(),
  default_state: z.string().nullable(), compatible_sources: z.array(z.string()),
  remediation: z.object({description: z.string().nullable(), steps: z.array(z.string()), url: z.string().nullable()}),
  editable_fields: z.array(EditableFieldSchema), constant_values: z.record(z.unknown()),
})

export const FileScanDataSchema = z.object({
  file_path: z.string(), modelscan_status: z.string(), blob_id: z.string().optional(), sha256: optStr,
  size_bytes: z.number().int().nullable().optional(), formats: optStrs, error_message: optStr,
  issues_detected: z.array(z.object({
    description: z.string(), source: z.string(), threat: optStr, module: optStr, operator: optStr,
  })).nullable().optional(),
})

// ---- the scan comparison (mirrors src/lib/scans/diff.ts; the diff_scans handler type-checks the match) ----

const ScanSideSchema = z.object({
  uuid: z.string(), model_uri: z.string(), eval_outcome: z.string(), security_group_uuid: z.string(), security_group_name: z.string(),
  source_type: z.string(), model_version_uuid: z.string().nullable(), created_at: z.string(), eval_summary: EvalSummarySchema.nullable(),
  error_code: z.string().nullable(), error_message: z.string().nullable(),
})
const DiffViolationSchema = z.object({
  rule_name: z.string(), rule_instance_state: z.string(), file: z.string().nullable(), threat: z.string().nullable(),
  module: z.string().nullable(), operator: z.string().nullable(), description: z.string(), uuid: z.string(),
})
const RuleResultSchema = z.object({result: z.string(), state: z.string(), violation_count: z.number().int()})
const DiffFileSchema = z.object({path: z.string(), sha256: z.string().nullable(), formats: z.array(z.string()), result: z.string()})

export const ScanDiffShape = {
  a: ScanSideSchema.describe('The first scan (before).'),
  b: ScanSideSchema.describe('The second scan (after).'),
  outcome: z.object({before: z.string(), after: z.string(), changed: z.boolean()}),
  violations: z.object({
    new: z.array(DiffViolationSchema).describe('Found by b, not by a.'),
    resolved: z.array(DiffViolationSchema).describe('Found by a, not by b.'),
    unchanged: z.array(DiffViolationSchema.extend({previous_uuid: z.string(), previous_state: z.string()})),
  }),
  rules: z.array(z.object({
    rule_name: z.string(), change: z.enum(['result', 'state', 'added', 'removed']),
    before: RuleResultSchema.nullable(), after: RuleResultSchema.nullable(),
  })).describe('Rule evaluations whose result or state differs, or that only one scan evaluated.'),
  files: z.object({
    added: z.array(DiffFileSchema), removed: z.array(DiffFileSchema),
    changed: z.array(z.object({path: z.string(), before: DiffFileSchema, after: DiffFileSchema})),
    unchanged: z.number().int(),
  }),
  summary: z.object({
    violations_new: z.number().int(), violations_new_blocking: z.number().int(), violations_resolved: z.number().int(),
    violations_unchanged: z.number().int(), rules_changed: z.number().int(), files_added: z.number().int(),
    files_removed: z.number().int(), files_changed: z.number().int(), files_unchanged: z.number().int(), identical: z.boolean(),
  }),
  warnings: z.array(z.string()),
}
