/**
 * Scan labels from the command line: `-l key=value` (repeatable) or `--labels JSON` (an array of
 * {key, value} objects, or a {key: value} map). Keys and values are checked locally against the service's
 * pattern and lengths, and at most 50 labels per call, so bad input never reaches the network (exit 2).
 */
import {Flags} from '@oclif/core'

import {LABEL_KEY_MAX, LABEL_PATTERN, LABEL_RE, LABEL_VALUE_MAX, LABELS_MAX} from '../airs/enums.js'
import {usageError} from '../airs/errors.js'
import type {Label} from '../airs/types.js'

const ALLOWED = `letters, digits, "_" and "-" only (${LABEL_PATTERN})`

/** Check one label key; `what` names the flag (and position) for the message. */
export function validateLabelKey(key: string, what: string): string {
  if (typeof key !== 'string' || key.length === 0) throw usageError(`${what}: the label key is empty`)
  if (key.length > LABEL_KEY_MAX) throw usageError(`${what}: label key "${key.slice(0, 40)}…" is ${key.length} characters; at most ${LABEL_KEY_MAX} allowed`)
  if (!LABEL_RE.test(key)) throw usageError(`${what}: invalid label key "${key}": ${ALLOWED}`)
  return key
}

export function validateLabelValue(value: string, key: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw usageError(`${what}: the value of label "${key}" is empty`)
  if (value.length > LABEL_VALUE_MAX) throw usageError(`${what}: the value of label "${key}" is ${value.length} characters; at most ${LABEL_VALUE_MAX} allowed`)
  if (!LABEL_RE.test(value)) throw usageError(`${what}: invalid value "${value}" of label "${key}": ${ALLOWED}`)
  return value
}

export function validateLabels(labels: Label[], what: string, {min = 1} = {}): Label[] {
  if (labels.length < min) throw usageError(`${what}: at least ${min} label${min === 1 ? '' : 's'} required`)
  if (labels.length > LABELS_MAX) throw usageError(`${what}: ${labels.length} labels given; at most ${LABELS_MAX} per call`)
  const seen = new Set<string>()
  for (const l of labels) {
    validateLabelKey(l.key, what)
    validateLabelValue(l.value, l.key, what)
    if (seen.has(l.key)) throw usageError(`${what}: label key "${l.key}" given more than once`)
    seen.add(l.key)
  }
  return labels
}

/** `key=value` pairs (from `-l`). */
export function parseLabelPairs(pairs: string[], what = '--label'): Label[] {
  return pairs.map(p => {
    const eq = p.indexOf('=')
    if (eq <= 0) throw usageError(`${what}: expected key=value, got "${p}"`)
    return {key: p.slice(0, eq).trim(), value: p.slice(eq + 1).trim()}
  })
}

/** `--labels` JSON: `[{"key":"env","value":"prod"}]` or `{"env":"prod"}`. */
export function parseLabelsJson(text: string, what = '--labels'): Label[] {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    throw usageError(`${what}: not valid JSON (${(error as Error).message}); expected e.g. '[{"key":"env","value":"prod"}]'`)
  }
  if (Array.isArray(data)) {
    return data.map((item, i) => {
      if (!item || typeof item !== 'object' || Array.isArray(item)) throw usageError(`${what}: item ${i} is not an object with "key" and "value"`)
      const o = item as Record<string, unknown>
      const extra = Object.keys(o).filter(k => k !== 'key' && k !== 'value')
      if (extra.length > 0) throw usageError(`${what}: item ${i} has unknown field${extra.length > 1 ? 's' : ''} ${extra.map(e => `"${e}"`).join(', ')}; only "key" and "value" are allowed`)
      if (typeof o.key !== 'string' || typeof o.value !== 'string') throw usageError(`${what}: item ${i} needs string "key" and "value"`)
      return {key: o.key, value: o.value}
    })
  }
  if (data && typeof data === 'object') {
    return Object.entries(data as Record<string, unknown>).map(([key, value]) => {
      if (typeof value !== 'string') throw usageError(`${what}: the value of "${key}" must be a string`)
      return {key, value}
    })
  }
  throw usageError(`${what}: expected a JSON array of {"key","value"} objects, e.g. '[{"key":"env","value":"prod"}]'`)
}

/** Labels from `-l` pairs and/or `--labels` JSON, validated. `undefined` when neither was given. */
export function labelsFromFlags(pairs: string[] | undefined, json: string | undefined, {required = false} = {}): Label[] | undefined {
  if (!pairs?.length && json === undefined) {
    if (required) throw usageError('no labels given: pass -l key=value (repeatable) or --labels \'[{"key":"env","value":"prod"}]\'')
    return undefined
  }
  const labels = [...(json === undefined ? [] : parseLabelsJson(json)), ...parseLabelPairs(pairs ?? [])]
  return validateLabels(labels, pairs?.length && json !== undefined ? '--label/--labels' : (json === undefined ? '--label' : '--labels'))
}

/** The flags of `labels add|set`. */
export const labelFlags = {
  label: Flags.string({char: 'l', summary: 'Label key=value (repeatable; letters, digits, _ and -; at most 50).', multiple: true}),
  labels: Flags.string({summary: 'Labels as JSON: \'[{"key":"env","value":"prod"}]\' (or {"env":"prod"}).'}),
}

export const labelColumns = [{key: 'scan_uuid', header: 'SCAN'}, {key: 'labels'}]

