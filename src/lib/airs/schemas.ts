/**
 * JSON Schemas of the request bodies (draft 2020-12 subset that ajv 8 understands).
 * The one truth for the wire format of what we send: the CLI validates `--config` files and flag-built
 * bodies with them before any request, and the sandbox validates incoming requests with the same schemas.
 */
import {
  ERROR_CODES, LABEL_KEY_MAX, LABEL_PATTERN, LABEL_VALUE_MAX, LABELS_MAX, MODELSCAN_STATUSES,
  RULE_FIELD_VALUE_KEYS, RULE_STATES, SCAN_ORIGINS, SOURCE_TYPES, THREAT_CATEGORIES,
} from './enums.js'

type Schema = Record<string, unknown>

const nullable = (s: Schema): Schema => ({anyOf: [s, {type: 'null'}]})
const uuid: Schema = {type: 'string', format: 'uuid'}

export const labelSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'value'],
  properties: {
    key: {type: 'string', minLength: 1, maxLength: LABEL_KEY_MAX, pattern: LABEL_PATTERN},
    value: {type: 'string', minLength: 1, maxLength: LABEL_VALUE_MAX, pattern: LABEL_PATTERN},
  },
}

export const fieldValuesSchema: Schema = {
  type: 'object',
  propertyNames: {enum: [...RULE_FIELD_VALUE_KEYS]},
  additionalProperties: {type: 'array', items: {type: 'string'}},
}

export const ruleConfigurationSchema: Schema = {
  type: 'object',
  properties: {
    state: nullable({enum: [...RULE_STATES]}),
    field_values: fieldValuesSchema,
  },
}

export const groupCreateSchema: Schema = {
  $id: 'GroupCreate',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'source_type'],
  properties: {
    name: {type: 'string', minLength: 1, maxLength: 255},
    source_type: {enum: [...SOURCE_TYPES]},
    description: {type: 'string', maxLength: 1000},
    rule_configurations: {
      type: 'object',
      propertyNames: {maxLength: 64},
      additionalProperties: ruleConfigurationSchema,
    },
  },
}

export const groupUpdateSchema: Schema = {
  $id: 'GroupUpdate',
  type: 'object',
  additionalProperties: false,
  properties: {
    name: nullable({type: 'string', minLength: 1, maxLength: 255}),
    description: nullable({type: 'string', maxLength: 1000}),
  },
}

export const ruleInstanceUpdateSchema: Schema = {
  $id: 'RuleInstanceUpdate',
  type: 'object',
  additionalProperties: false,
  required: ['security_group_uuid'],
  properties: {
    security_group_uuid: uuid,
    state: nullable({enum: [...RULE_STATES]}),
    field_values: nullable(fieldValuesSchema),
  },
}

export const modelScanIssueSchema: Schema = {
  type: 'object',
  required: ['description', 'source'],
  properties: {
    description: {type: 'string', maxLength: 4096},
    source: {type: 'string', maxLength: 1024},
    threat: nullable({enum: [...THREAT_CATEGORIES]}),
    module: nullable({type: 'string', maxLength: 256}),
    operator: nullable({type: 'string', maxLength: 256}),
  },
}

export const fileScanDataSchema: Schema = {
  type: 'object',
  required: ['file_path', 'modelscan_status', 'blob_id'],
  properties: {
    file_path: {type: 'string', maxLength: 1024},
    modelscan_status: {enum: [...MODELSCAN_STATUSES]},
    blob_id: {type: 'string', maxLength: 256},
    error_message: nullable({type: 'string', maxLength: 1024}),
    formats: nullable({type: 'array', maxItems: 20, items: {type: 'string', maxLength: 256}}),
    issues_detected: nullable({type: 'array', items: modelScanIssueSchema}),
    sha256: nullable({type: 'string', maxLength: 256}),
    size_bytes: nullable({type: 'integer'}),
  },
}

export const MAX_SCAN_DETAILS_FILES = 1000

export const scanDetailsSchema: Schema = {
  $id: 'ScanDetails',
  type: 'object',
  additionalProperties: false,
  required: ['scanner_version', 'time_started', 'files', 'total_files_scanned', 'total_files_skipped',
    'model_formats', 'model_size_bytes', 'scan_duration_ms'],
  properties: {
    scanner_version: {type: 'string', maxLength: 64},
    time_started: {type: 'string', format: 'date-time'},
    files: {type: 'array', maxItems: MAX_SCAN_DETAILS_FILES, items: fileScanDataSchema},
    total_files_scanned: {type: 'integer'},
    total_files_skipped: {type: 'integer'},
    model_formats: {type: 'array', maxItems: 100, items: {type: 'string', maxLength: 64}},
    model_size_bytes: {type: 'integer'},
    scan_duration_ms: {type: 'integer'},
    error_code: nullable({enum: [...ERROR_CODES]}),
    error_message: nullable({type: 'string', maxLength: 1024}),
  },
}

export const scanCreateSchema: Schema = {
  $id: 'ScanCreate',
  type: 'object',
  additionalProperties: false,
  required: ['model_uri', 'security_group_uuid'],
  properties: {
    model_uri: {type: 'string'},
    security_group_uuid: uuid,
    scan_origin: nullable({enum: [...SCAN_ORIGINS]}),
    allow_patterns: nullable({type: 'array', items: {type: 'string', maxLength: 256}}),
    ignore_patterns: nullable({type: 'array', items: {type: 'string', maxLength: 256}}),
    labels: nullable({type: 'array', maxItems: LABELS_MAX, items: labelSchema}),
    model_author: nullable({type: 'string'}),
    model_name: nullable({type: 'string'}),
    model_version: nullable({type: 'string'}),
    scan_details: nullable({$ref: 'ScanDetails'}),
  },
}

export const labelsRequestSchema: Schema = {
  $id: 'LabelsRequest',
  type: 'object',
  additionalProperties: false,
  required: ['labels'],
  properties: {labels: {type: 'array', minItems: 1, maxItems: LABELS_MAX, items: labelSchema}},
}

/** Every request-body schema, by name. */
export const requestSchemas = {
  GroupCreate: groupCreateSchema,
  GroupUpdate: groupUpdateSchema,
  RuleInstanceUpdate: ruleInstanceUpdateSchema,
  ScanDetails: scanDetailsSchema,
  ScanCreate: scanCreateSchema,
  LabelsRequest: labelsRequestSchema,
} as const

export type RequestSchemaName = keyof typeof requestSchemas

