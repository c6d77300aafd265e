/**
 * The built-in (PANW-managed) rule catalog the sandbox seeds on first use (api reference §7,
 * threat-codes.md §3). Real rule UUIDs are not public: ours are stable, derived from the rule name
 * (`stableUuid('rule:' + name)`), so every sandbox everywhere has the same catalog UUIDs.
 *
 * Where sources disagree on a default state we chose:
 * - the five artifact threat rules: BLOCKING, except Suspicious Model Components Check (ALLOWING: it flags
 *   capabilities, not proven attacks, and fires on mainstream GGUF chat templates);
 * - Stored In Approved File Format: ALLOWING; Stored In Approved Location: DISABLED (as seen in a real
 *   "Default LOCAL" group: 7 instances, 6 evaluated);
 * - Hugging Face metadata rules: License Exists / License Is Valid For Use / Organization Verified By Hugging Face
 *   ALLOWING, Model Is Blocked / Organization Is Blocked BLOCKING.
 * Catalog order is the evaluation order observed on the service.
 */
import {createHash} from 'node:crypto'

import type {RuleState, RuleType, SourceType} from '../airs/enums.js'
import type {FieldValues, Rule, RuleEditableField} from '../airs/types.js'

export function stableUuid(seed: string): string {
  const h = createHash('sha256').update('daystrom-sandbox:' + seed).digest('hex')
  const variant = ((Number.parseInt(h[16], 16) & 0x3) | 0x8).toString(16)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

const DOCS = 'https://docs.paloaltonetworks.com/ai-runtime-security/ai-model-security/model-security-to-secure-your-ai-models/understanding-ai-model-security-rules'

export const NON_HF_SOURCES: SourceType[] = ['LOCAL', 'S3', 'GCS', 'AZURE', 'ARTIFACTORY', 'GITLAB']

export const RULE_NAMES = {
  licenseExists: 'License Exists',
  licenseValid: 'License Is Valid For Use',
  modelBlocked: 'Model Is Blocked',
  orgBlocked: 'Organization Is Blocked',
  orgVerified: 'Organization Verified By Hugging Face',
  approvedFormat: 'Stored In Approved File Format',
  approvedLocation: 'Stored In Approved Location',
  knownOperators: 'Known Framework Operators Check',
  loadTime: 'Load Time Code Execution Check',
  backdoor: 'Model Architecture Backdoor Check',
  runtime: 'Runtime Code Execution Check',
  suspicious: 'Suspicious Model Components Check',
} as const

interface RuleSeed {
  name: string
  description: string
  rule_type: RuleType
  compatible_sources: SourceType[]
  default_state: RuleState
  remediation: {description: string; steps: string[]; slug: string}
  editable_fields?: RuleEditableField[]
  default_values?: FieldValues
}

const listField = (attribute: string, display: string, description: string): RuleEditableField => ({
  attribute_name: attribute, type: 'LIST', display_name: display, display_type: 'LIST', description, dropdown_values: null,
})

const SEEDS: RuleSeed[] = [
  {
    name: RULE_NAMES.licenseExists, description: 'Models should have a license', rule_type: 'METADATA',
    compatible_sources: ['HUGGING_FACE'], default_state: 'ALLOWING',
    remediation: {description: 'Use models that declare a license', slug: 'license-exists',
      steps: ['Check the model card and repository for a license', 'Ask the publisher to declare a license or choose another model']},
  },
  {
    name: RULE_NAMES.licenseValid, description: 'Models license should be valid for use', rule_type: 'METADATA',
    compatible_sources: ['HUGGING_FACE'], default_state: 'ALLOWING',
    remediation: {description: 'Use models whose license is on the approved list', slug: 'license-is-valid-for-use',
      steps: ['Review the model license with your legal team', 'Add it to approved_licenses in the security group if it is acceptable', 'Otherwise choose a model with an approved license']},
    editable_fields: [listField('approved_licenses', 'Approved Licenses', 'License identifiers a model may carry')],
    default_values: {approved_licenses: ['apache-2.0', 'mit', 'bsd-3-clause']},
  },
  {
    name: RULE_NAMES.modelBlocked, description: 'Models on the deny list must not be used', rule_type: 'METADATA',
    compatible_sources: ['HUGGING_FACE'], default_state: 'BLOCKING',
    remediation: {description: 'Do not use a model that is explicitly denied', slug: 'model-is-blocked',
      steps: ['Choose another model', 'If the model was denied by mistake, remove it from denied_org_models']},
    editable_fields: [listField('denied_org_models', 'Denied Models', 'Models (organization/model) that must not be used')],
    default_values: {denied_org_models: []},
  },
  {
    name: RULE_NAMES.orgBlocked, description: 'Models from denied organizations must not be used', rule_type: 'METADATA',
    compatible_sources: ['HUGGING_FACE'], default_state: 'BLOCKING',
    remediation: {description: 'Do not use models published by a denied organization', slug: 'organization-is-blocked',
      steps: ['Choose a model from another organization', 'If the organization was denied by mistake, remove it from deny_orgs']},
    editable_fields: [listField('deny_orgs', 'Denied Organizations', 'Organizations whose models must not be used')],
    default_values: {deny_orgs: []},
  },
  {
    name: RULE_NAMES.orgVerified, description: 'Organization that produced the model should be verified by Hugging Face',
    rule_type: 'METADATA', compatible_sources: ['HUGGING_FACE'], default_state: 'ALLOWING',
    remediation: {description: 'Prefer models from verified organizations', slug: 'organization-verified-by-hugging-face',
      steps: ['Check that the organization name is not a look-alike of a known publisher', 'Approve the organization/model pair in approved_org_models if you trust it']},
    editable_fields: [listField('approved_org_models', 'Approved Models', 'Models (organization/model) approved despite an unverified organization')],
    default_values: {approved_org_models: []},
  },
  {
    name: RULE_NAMES.approvedFormat, description: 'Model files must use a serialization format on the approved list',
    rule_type: 'ARTIFACT', compatible_sources: ['ALL'], default_state: 'ALLOWING',
    remediation: {description: 'Convert the model to an approved format', slug: 'stored-in-approved-file-format',
      steps: ['Identify the files flagged by the scan', 'Re-export them in an approved format such as safetensors and re-scan']},
    editable_fields: [listField('approved_formats', 'Approved Formats', 'Formats a model file may be stored in')],
    default_values: {approved_formats: ['safetensors', 'safetensors_index', 'json', 'yaml']},
  },
  {
    name: RULE_NAMES.approvedLocation, description: 'Models should be stored in an approved location', rule_type: 'METADATA',
    compatible_sources: NON_HF_SOURCES, default_state: 'DISABLED',
    remediation: {description: 'Store models only in approved locations', slug: 'stored-in-approved-location',
      steps: ['Move the model to an approved bucket, registry or directory', 'Or add its location prefix to approved_locations']},
    editable_fields: [listField('approved_locations', 'Approved Locations', 'Location prefixes (s3, gs, a bucket URI or a local path)')],
    default_values: {approved_locations: ['s3', 'gs', '/']},
  },
  {
    name: RULE_NAMES.knownOperators, description: 'Model artifacts should only contain known safe TensorFlow operators',
    rule_type: 'ARTIFACT', compatible_sources: ['ALL'], default_state: 'BLOCKING',
    remediation: {description: 'Make sure no custom operators able to run arbitrary code are present', slug: 'known-framework-operators-check',
      steps: ['Review the flagged operators', 'If trusted custom operators are normal for this model, set the rule to ALLOWING in the group', 'Otherwise source another model']},
  },
  {
    name: RULE_NAMES.loadTime, description: 'Model artifacts should not contain unsafe operators that are run upon deserialization',
    rule_type: 'ARTIFACT', compatible_sources: ['ALL'], default_state: 'BLOCKING',
    remediation: {description: 'Do not load the model: code runs as soon as it is deserialized', slug: 'load-time-code-execution-check',
      steps: ['Do not load the flagged files', 'Investigate where the model came from', 'Use a model stored in a safe format such as safetensors']},
  },
  {
    name: RULE_NAMES.backdoor, description: 'Model architecture files should not contain backdoor attacks',
    rule_type: 'ARTIFACT', compatible_sources: ['ALL'], default_state: 'BLOCKING',
    remediation: {description: 'Remove the hidden data path or use another model', slug: 'model-architecture-backdoor-check',
      steps: ['Inspect the flagged graph for parallel paths that bypass the main computation', 'Source the model from a trusted publisher']},
  },
  {
    name: RULE_NAMES.runtime, description: 'Model artifacts should not contain code that executes during inference',
    rule_type: 'ARTIFACT', compatible_sources: ['ALL'], default_state: 'BLOCKING',
    remediation: {description: 'Do not run the model: it executes code during inference', slug: 'runtime-code-execution-check',
      steps: ['Do not serve the flagged model', 'Review the flagged layers or operators', 'Rebuild the model without executable layers']},
  },
  {
    name: RULE_NAMES.suspicious, description: 'Model artifacts should not contain suspicious components',
    rule_type: 'ARTIFACT', compatible_sources: ['ALL'], default_state: 'ALLOWING',
    remediation: {description: 'Review components that could enable code execution later', slug: 'suspicious-model-components-check',
      steps: ['Review the flagged components', 'Remove them or accept the risk explicitly']},
  },
]

export const RULES: Rule[] = SEEDS.map(s => ({
  uuid: stableUuid('rule:' + s.name),
  name: s.name,
  description: s.description,
  rule_type: s.rule_type,
  compatible_sources: s.compatible_sources,
  default_state: s.default_state,
  remediation: {description: s.remediation.description, steps: s.remediation.steps, url: `${DOCS}#${s.remediation.slug}`},
  editable_fields: s.editable_fields ?? [],
  constant_values: {},
  default_values: s.default_values ?? {},
}))

export const RULES_BY_UUID = new Map(RULES.map(r => [r.uuid, r]))
export const RULES_BY_NAME = new Map(RULES.map(r => [r.name, r]))
export const RULE_ORDER = new Map(RULES.map((r, i) => [r.uuid, i]))

export function ruleCompatible(rule: Rule, source: string): boolean {
  return rule.compatible_sources.includes('ALL') || rule.compatible_sources.includes(source as SourceType)
}

export function defaultGroupUuid(source: string): string {
  return stableUuid('group:Default ' + source)
}
