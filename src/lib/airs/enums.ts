/**
 * Enumerations of the AIRS Model Security wire format. One place for each list:
 * flags (`options`), JSON Schemas, the sandbox and the renderers all read these.
 */
export const SOURCE_TYPES = ['LOCAL', 'HUGGING_FACE', 'S3', 'GCS', 'AZURE', 'ARTIFACTORY', 'GITLAB', 'ALL'] as const
/** Source types a group can have (ALL only appears in a rule's compatible_sources). */
export const GROUP_SOURCE_TYPES = ['LOCAL', 'HUGGING_FACE', 'S3', 'GCS', 'AZURE', 'ARTIFACTORY', 'GITLAB'] as const
export const RULE_STATES = ['DISABLED', 'ALLOWING', 'BLOCKING'] as const
export const RULE_TYPES = ['METADATA', 'ARTIFACT'] as const
export const GROUP_STATES = ['PENDING', 'ACTIVE'] as const
export const RULE_FIELD_VALUE_KEYS = [
  'approved_formats', 'approved_locations', 'approved_licenses', 'deny_orgs', 'denied_org_models', 'approved_org_models',
] as const
export const EDITABLE_FIELD_TYPES = ['SELECT', 'LIST'] as const
export const EVAL_OUTCOMES = ['PENDING', 'ALLOWED', 'BLOCKED', 'ERROR'] as const
export const EVALUATION_RESULTS = ['PASSED', 'FAILED', 'ERROR'] as const
export const FILE_SCAN_RESULTS = ['SKIPPED', 'SUCCESS', 'ERROR', 'FAILED'] as const
export const FILE_TYPES = ['DIRECTORY', 'FILE'] as const
export const MODELSCAN_STATUSES = ['SCANNED', 'SKIPPED', 'ERROR'] as const
export const SCAN_ORIGINS = ['MODEL_SECURITY_SDK', 'MODEL_SECURITY_API', 'MODEL_SECURITY_FRONTEND', 'HUGGING_FACE'] as const
export const SORT_DATE_FIELDS = ['created_at', 'updated_at'] as const
export const SORT_FILE_FIELDS = ['path', 'type'] as const
export const SORT_DIRECTIONS = ['asc', 'desc'] as const
export const ERROR_CODES = [
  'UNKNOWN_ERROR', 'SCAN_ERROR', 'INVALID_RESPONSE', 'ACCESS_DENIED', 'MISSING_CREDENTIALS', 'NO_SUCH_KEY',
  'NO_SUCH_BUCKET', 'INVALID_BUCKET_NAME', 'INTERNAL_ERROR', 'SERVICE_UNAVAILABLE', 'INVALID_OBJECT_STATE',
  'UNKNOWN_REMOTE_SERVICE_ERROR', 'UNSUPPORTED_REMOTE_STORAGE', 'MISSING_ARTIFACTS', 'WORKER_ERROR',
  'POLICY_EVAL_ERROR', 'RESOURCE_NOT_FOUND', 'SCAN_DATA_PENDING',
] as const
export const THREAT_CATEGORIES = [
  'PAIT-ARV-100', 'PAIT-GGUF-100', 'PAIT-GGUF-101', 'PAIT-KERAS-100', 'PAIT-KERAS-101', 'PAIT-KERAS-102',
  'PAIT-JOBLIB-100', 'PAIT-JOBLIB-101', 'PAIT-PKL-100', 'PAIT-PKL-101', 'PAIT-PYTCH-100', 'PAIT-PYTCH-101',
  'PAIT-EXDIR-100', 'PAIT-EXDIR-101', 'PAIT-ONNX-200', 'PAIT-TF-200', 'PAIT-LMAFL-300', 'PAIT-LITERT-300',
  'PAIT-LITERT-301', 'PAIT-LITERT-302', 'PAIT-KERAS-300', 'PAIT-KERAS-301', 'PAIT-TCHST-300', 'PAIT-TCHST-301',
  'PAIT-TF-300', 'PAIT-TF-301', 'PAIT-TF-302', 'PAIT-TMT-300', 'PAIT-TMT-301', 'UNAPPROVED_FORMATS',
] as const

export type SourceType = (typeof SOURCE_TYPES)[number]
export type RuleState = (typeof RULE_STATES)[number]
export type RuleType = (typeof RULE_TYPES)[number]
export type RuleFieldValueKey = (typeof RULE_FIELD_VALUE_KEYS)[number]
export type EvalOutcome = (typeof EVAL_OUTCOMES)[number]
export type EvaluationResult = (typeof EVALUATION_RESULTS)[number]
export type FileScanResult = (typeof FILE_SCAN_RESULTS)[number]
export type FileType = (typeof FILE_TYPES)[number]
export type ModelScanStatus = (typeof MODELSCAN_STATUSES)[number]
export type ScanOrigin = (typeof SCAN_ORIGINS)[number]
export type ErrorCode = (typeof ERROR_CODES)[number]
export type ThreatCategory = (typeof THREAT_CATEGORIES)[number]

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
export const UUID_RE = new RegExp(UUID_PATTERN)
export const LABEL_PATTERN = '^[a-zA-Z0-9_-]+$'
export const LABEL_RE = new RegExp(LABEL_PATTERN)
export const LABEL_KEY_MAX = 128
export const LABEL_VALUE_MAX = 256
export const LABELS_MAX = 50
