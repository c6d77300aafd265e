/**
 * The body of `scans create` (POST /v1/scans) from flags or from `--config FILE`, checked locally before any
 * request: pattern lengths, labels, an empty URI or group, and the ScanCreate schema. The group may still be a
 * name at this point; the command resolves it to a UUID.
 */
import {resolve} from 'node:path'

import {UUID_RE} from '../airs/enums.js'
import {DaystromError, EXIT, usageError} from '../airs/errors.js'
import type {ScanCreate, SecurityGroup} from '../airs/types.js'
import {assertValid, readConfigInput} from './config-input.js'
import {labelsFromFlags} from './labels.js'

export interface ScanCreateFlags {
  config?: string
  'model-uri'?: string
  'model-path'?: string
  group?: string
  'scan-origin'?: string
  'model-name'?: string
  'model-author'?: string
  'model-version'?: string
  'allow-pattern'?: string[]
  'ignore-pattern'?: string[]
  label?: string[]
  labels?: string
}

export interface ScanRequest {
  body: ScanCreate
  /** The group as given (name or UUID); undefined when none was. */
  groupRef?: string
  /** Where the body came from, for messages: `flags`, the file, or `<stdin>`. */
  source: string
}

/** A placeholder UUID, to validate a body whose group is still a name. */
export const PLACEHOLDER_UUID = '00000000-0000-4000-8000-000000000000'

export async function scanRequestFrom(f: ScanCreateFlags): Promise<ScanRequest> {
  if (f.config) {
    const source = f.config === '-' ? '<stdin>' : f.config
    const doc = await readConfigInput(f.config)
    assertValid('ScanCreate', doc, source)
    const body = doc as ScanCreate
    return {body, groupRef: body.security_group_uuid, source}
  }
  for (const [flag, list] of [['--allow-pattern', f['allow-pattern']], ['--ignore-pattern', f['ignore-pattern']]] as const) {
    const long = (list ?? []).find(p => p.length > 256 || p.length === 0)
    if (long !== undefined) throw usageError(`${flag}: patterns must be 1-256 characters, got ${long.length}`)
  }
  if (f['model-uri'] !== undefined && f['model-uri'].trim() === '') throw usageError('--model-uri: empty')
  if (f.group !== undefined && f.group.trim() === '') throw usageError('--group: empty')
  const labels = labelsFromFlags(f.label, f.labels)
  const body: ScanCreate = {
    model_uri: f['model-uri'] ?? resolve(f['model-path']!),
    security_group_uuid: f.group !== undefined && UUID_RE.test(f.group) ? f.group : '',
    scan_origin: (f['scan-origin'] ?? 'MODEL_SECURITY_SDK') as ScanCreate['scan_origin'],
    ...(f['model-name'] === undefined ? {} : {model_name: f['model-name']}),
    ...(f['model-author'] === undefined ? {} : {model_author: f['model-author']}),
    ...(f['model-version'] === undefined ? {} : {model_version: f['model-version']}),
    ...(f['allow-pattern'] ? {allow_patterns: f['allow-pattern']} : {}),
    ...(f['ignore-pattern'] ? {ignore_patterns: f['ignore-pattern']} : {}),
    ...(labels ? {labels} : {}),
  }
  // everything but the group, which may still be a name
  assertValid('ScanCreate', {...body, security_group_uuid: body.security_group_uuid || PLACEHOLDER_UUID}, 'flags', true)
  return {body, groupRef: f.group, source: 'flags'}
}

/**
 * The group's source type must match the model's (an S3 group cannot scan a Hugging Face model): the error
 * names the group as the caller knows it (`--group "x"`, a file pointer, a tool argument) and the model likewise,
 * and says what to use instead.
 */
export function assertSourceMatches(group: Pick<SecurityGroup, 'uuid' | 'source_type'>, expected: string | undefined,
  names: {group: string; model: string; suggestion: string}): void {
  if (!expected || group.source_type === expected) return
  throw new DaystromError(`${names.group} is a ${group.source_type} group, but ${names.model} is a ${expected} model; use a ${expected} group`, {
    code: 'E_SOURCE_TYPE_MISMATCH', exit: EXIT.USAGE, details: {group: group.uuid, group_source_type: group.source_type, model_source_type: expected},
    suggestions: [names.suggestion],
  })
}
