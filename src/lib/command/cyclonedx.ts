/**
 * A CycloneDX 1.6 ML-BOM (JSON) of one or several scans: the model as a `machine-learning-model` component,
 * each scanned file as a `file` component (SHA-256, size, formats), the scan's facts as `daystrom:*`
 * properties, and each violation as a `vulnerabilities` entry affecting its file (or the model, for metadata
 * rules). A pure function of its inputs: no clock, no randomness, every list in a fixed order, so the same scan
 * gives a byte-identical BOM. Hand-built JSON (README "Architecture": why not @cyclonedx/cyclonedx-library).
 *
 * Layout: files are top-level `components` linked to their model through `dependencies` (not nested under
 * the model): every consumer reads the flat inventory, and the graph gives the model -> files tree. With one
 * scan the model is `metadata.component`; with several, `metadata.component` is the set and each model is a
 * component of `components`, its files beside it.
 */
import {createHash} from 'node:crypto'

import type {Evaluation, FileScanData, Model, ModelVersion, Scan, ScanDetails, ScanFile, Violation} from '../airs/types.js'
import {isThreatCategory, THREATS} from '../scanner/threats.js'
import {outcomeLine} from './gate.js'
import {ruleSlug} from './reports.js'
import {normalizeModelPath, scanFilePath} from '../scans/files.js'

export const CYCLONEDX_SCHEMA = 'http://cyclonedx.org/schema/bom-1.6.schema.json'
export const AIRS_SOURCE = 'Prisma AIRS AI Model Security'
const AIRS_DOCS = 'https://docs.paloaltonetworks.com/ai-runtime-security/ai-model-security'
/** RFC 4122 name space for URLs, the name space of the serial number's v5 UUID. */
const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8'

export interface CycloneDxInput {
  scan: Scan
  evaluations: Evaluation[]
  violations: Violation[]
  /** The scan's files listing, the whole tree (directory entries are skipped). */
  files: ScanFile[]
  /** Enrichment when fetched: the model version (revision, licence, fingerprint) and model (name) of the scan. */
  modelVersion?: ModelVersion | null
  model?: Model | null
  /** The local scanner's scan_details when the scan was made here: exact SHA-256 and size of every file. */
  details?: ScanDetails | null
}
export interface CycloneDxOptions { toolVersion: string }

export interface CdxProperty { name: string; value: string }
export interface CdxHash { alg: 'SHA-256'; content: string }
export interface CdxExternalReference { type: string; url: string; comment?: string }
export interface CdxComponent {
  type: 'application' | 'machine-learning-model' | 'file'
  'bom-ref': string
  group?: string
  name: string
  version?: string
  description?: string
  hashes?: CdxHash[]
  licenses?: Array<{license: {name: string; acknowledgement: 'declared'}}>
  purl?: string
  externalReferences?: CdxExternalReference[]
  properties?: CdxProperty[]
}
export type CdxSeverity = 'critical' | 'high' | 'medium' | 'low' | 'unknown'
export interface CdxVulnerability {
  'bom-ref': string
  id: string
  source: {name: string; url?: string}
  ratings: Array<{source: {name: string}; severity: CdxSeverity; method: 'other'; justification: string}>
  cwes?: number[]
  description: string
  detail?: string
  recommendation?: string
  advisories?: Array<{title: string; url: string}>
  created?: string
  updated?: string
  analysis: {state: 'in_triage'; detail: string; firstIssued?: string; lastUpdated?: string}
  affects: Array<{ref: string}>
  properties: CdxProperty[]
}
export interface CdxDependency { ref: string; dependsOn?: string[] }
export interface CycloneDxBom {
  $schema: string
  bomFormat: 'CycloneDX'
  specVersion: '1.6'
  serialNumber: string
  version: 1
  metadata: {
    timestamp?: string
    tools: {components: Array<Record<string, unknown>>; services: Array<Record<string, unknown>>}
    component: CdxComponent
  }
  components: CdxComponent[]
  dependencies: CdxDependency[]
  vulnerabilities: CdxVulnerability[]
}

/** Code-point order: the same on every machine (localeCompare depends on the ICU locale). */
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** RFC 4122 name-based UUID, version 5 (SHA-1). */
export function uuidV5(name: string, namespace: string): string {
  const hash = createHash('sha1').update(Buffer.from(namespace.replaceAll('-', ''), 'hex')).update(name, 'utf8').digest()
  hash[6] = (hash[6] & 0x0F) | 0x50
  hash[8] = (hash[8] & 0x3F) | 0x80
  const h = hash.subarray(0, 16).toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** The BOM's serial number: a v5 UUID of `urn:daystrom:cyclonedx:scans:<scan UUIDs, lower case, sorted, comma-joined>`. */
export function bomSerialNumber(scanUuids: string[]): string {
  const ids = [...new Set(scanUuids.map(u => u.toLowerCase()))].sort(cmp)
  return `urn:uuid:${uuidV5(`urn:daystrom:cyclonedx:scans:${ids.join(',')}`, NAMESPACE_URL)}`
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/
const NAIVE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?$/

/** A service timestamp as an RFC 3339 date-time; a zone-less one is UTC (the service's clock). Else undefined. */
export function isoTimestamp(value: string | null | undefined): string | undefined {
  if (!value) return undefined
  const s = value.trim().replace(/^(\d{4}-\d{2}-\d{2}) /, '$1T').replace(/z$/, 'Z')
  const out = RFC3339.test(s) ? s : NAIVE.test(s) ? `${s}Z` : undefined
  if (!out) return undefined
  const [y, mo, d, h, mi, sec] = out.split(/[-T:.Z+]/).slice(0, 6).map(Number)
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate()
  return mo >= 1 && mo <= 12 && d >= 1 && d <= days && h < 24 && mi < 60 && sec < 60 ? out : undefined
}

const isSha256 = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{64}$/i.test(s)

/** An absolute http(s) URL in its normalised form, or undefined. */
function webUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value.trim())) return undefined
  try {
    return new URL(value.trim()).href
  } catch {
    return undefined
  }
}

const plain = (md: string) => md.replaceAll(/\*\*([^*]+)\*\*/g, '$1').replaceAll(/`([^`]+)`/g, '$1')

type Pair = [name: string, value: string | number | null | undefined]

/** Properties in the given (fixed) order, empty values left out; lists that could come back in another order are sorted by the caller. */
function props(pairs: Pair[]): CdxProperty[] {
  const out: CdxProperty[] = []
  for (const [name, value] of pairs) {
    if (value === undefined || value === null || value === '') continue
    out.push({name, value: String(value)})
  }
  return out
}

const HF = /^(?:(?:https?:\/\/)?(?:www\.)?(?:huggingface\.co|hf\.co)\/|hf:\/\/)([^/?#@]+)\/([^/?#@]+)/i

/** The model's location as a URL for an external reference: remote URIs as they are, absolute local paths as file: URLs. */
export function modelLocationUrl(uri: string): string | undefined {
  const u = uri.trim()
  if (/^(?:www\.)?(?:huggingface\.co|hf\.co)\//i.test(u)) return modelLocationUrl(`https://${u}`)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u) && !/^file:/i.test(u)) {
    try {
      return new URL(u).href
    } catch {
      return undefined
    }
  }
  let p = u.replace(/^file:\/\//i, '').replaceAll('\\', '/')
  if (/^[a-z]:\//i.test(p)) p = `/${p}`
  if (!p.startsWith('/')) return undefined // relative: no base to resolve it against
  return 'file://' + p.split('/').map((seg, i) => (i === 1 && /^[a-z]:$/i.test(seg) ? seg : encodeURIComponent(seg))).join('/')
}

function modelIdentity(scan: Scan, model?: Model | null): {group?: string; name: string; hf?: {org: string; repo: string}} {
  const m = HF.exec(scan.model_uri.trim())
  const hf = m && scan.source_type === 'HUGGING_FACE' ? {org: m[1], repo: m[2]} : undefined
  const named = model?.name?.trim()
  if (named) {
    const slash = named.indexOf('/')
    return hf && slash > 0 ? {group: named.slice(0, slash), name: named.slice(slash + 1), hf} : {name: named, hf}
  }
  if (hf) return {group: hf.org, name: hf.repo, hf}
  const trimmed = scan.model_uri.trim().replace(/[?#].*$/, '').replaceAll('\\', '/').replace(/\/+$/, '')
  const last = trimmed.split('/').pop() ?? ''
  return {name: last && !/:$/.test(last) ? last : scan.model_uri}
}

/** CWE of a PAIT code's family: 1xx deserialization (ARV: archive path traversal), 2xx backdoor. 3xx: none fits well. */
function cwesOf(code: string | null | undefined): number[] | undefined {
  if (!code) return undefined
  if (code === 'PAIT-ARV-100') return [22]
  const m = /^PAIT-[A-Z]+-(\d)\d\d$/.exec(code)
  if (m?.[1] === '1') return [502]
  if (m?.[1] === '2') return [506]
  return undefined
}

type ThreatKind = 'malicious' | 'suspicious' | 'policy'

function threatKind(code: string | null | undefined): ThreatKind {
  if (!code) return 'policy'
  if (isThreatCategory(code)) return THREATS[code].kind
  return /^PAIT-/.test(code) ? 'suspicious' : 'policy'
}

/**
 * Severity from the rule's state at scan time and the kind of finding: BLOCKING -> critical for malicious code
 * (a PAIT code the taxonomy marks malicious), high otherwise; ALLOWING -> medium for a threat code, low for a
 * policy finding (unapproved format, metadata rule); any other state -> unknown.
 */
export function cdxSeverity(state: string | null | undefined, threat?: string | null): CdxSeverity {
  const kind = threatKind(threat)
  if (state === 'BLOCKING') return kind === 'malicious' ? 'critical' : 'high'
  if (state === 'ALLOWING') return kind === 'policy' ? 'low' : 'medium'
  return 'unknown'
}

/** The vulnerability id: the threat code, or `AIRS-RULE-<RULE-SLUG>` for a violation without one. */
export const vulnerabilityId = (v: Pick<Violation, 'threat' | 'rule_name'>): string =>
  v.threat?.trim() || `AIRS-RULE-${ruleSlug(v.rule_name).toUpperCase()}`

interface FileFacts { path: string; listing?: ScanFile; detail?: FileScanData; violationHashes: string[] }

const modelRef = (scan: Scan) => `model:${scan.uuid.toLowerCase()}`
const fileRef = (scan: Scan, path: string) => `file:${scan.uuid.toLowerCase()}:${path}`

function collectFiles(input: CycloneDxInput): FileFacts[] {
  const byPath = new Map<string, FileFacts>()
  const facts = (path: string) => {
    let f = byPath.get(path)
    if (!f) byPath.set(path, f = {path, violationHashes: []})
    return f
  }
  for (const f of input.files) {
    if (f.type === 'DIRECTORY') continue
    const path = scanFilePath(f)
    if (path) facts(path).listing ??= f
  }
  for (const d of input.details?.files ?? []) {
    const path = normalizeModelPath(d.file_path)
    if (path) facts(path).detail ??= d
  }
  for (const v of input.violations) {
    const path = v.file ? normalizeModelPath(v.file) : ''
    if (!path) continue
    const f = facts(path)
    if (v.hash) f.violationHashes.push(v.hash)
  }
  return [...byPath.values()].sort((a, b) => cmp(a.path, b.path))
}

function fileComponent(scan: Scan, f: FileFacts): CdxComponent {
  const l = f.listing
  const d = f.detail
  const sha = [l?.sha256, d?.sha256, l?.blob_id, d?.blob_id, ...f.violationHashes].find(isSha256)
  const size = [l?.size_bytes, d?.size_bytes].find((n): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0)
  const formats = [...new Set([...(l?.formats ?? []), ...(l ? [] : d?.formats ?? [])])]
  const blob = l?.blob_id || d?.blob_id
  const c: CdxComponent = {type: 'file', 'bom-ref': fileRef(scan, f.path), name: f.path}
  if (sha) c.hashes = [{alg: 'SHA-256', content: sha.toLowerCase()}]
  c.properties = props([
    ...formats.map((x): Pair => ['daystrom:file:format', x]),
    ['daystrom:file:size', size],
    ['daystrom:file:result', l?.result],
    ['daystrom:file:scan-status', d?.modelscan_status],
    ['daystrom:file:error', d?.error_message],
    ['daystrom:file:blob-id', blob && blob.toLowerCase() !== sha?.toLowerCase() ? blob : undefined],
    ['daystrom:file:listed', l ? undefined : 'false'],
  ])
  return c
}

function modelComponent(input: CycloneDxInput): CdxComponent {
  const {scan, modelVersion: mv, model} = input
  const id = modelIdentity(scan, model)
  const license = mv?.license?.trim()
  const commit = mv?.hf_commit_sha && /^[0-9a-f]{7,64}$/i.test(mv.hf_commit_sha) ? `@${mv.hf_commit_sha.toLowerCase()}` : ''
  const url = modelLocationUrl(scan.model_uri)
  const c: CdxComponent = {
    type: 'machine-learning-model',
    'bom-ref': modelRef(scan),
    ...(id.group ? {group: id.group} : {}),
    name: id.name,
    ...(mv?.revision ? {version: mv.revision} : {}),
    description: `Model scanned by ${AIRS_SOURCE} (security group "${scan.security_group_name}", ${scan.source_type}): ${outcomeLine(scan)}`,
    ...(license ? {licenses: [{license: {name: license, acknowledgement: 'declared' as const}}]} : {}),
    ...(id.hf ? {purl: `pkg:huggingface/${encodeURIComponent(id.hf.org)}/${encodeURIComponent(id.hf.repo)}${commit}`} : {}),
    ...(url ? {externalReferences: [{type: 'distribution', url, comment: 'The model location AIRS scanned (model_uri)'}]} : {}),
  }
  const s = scan.eval_summary
  const labels = [...(scan.labels ?? [])].sort((x, y) => cmp(x.key, y.key) || cmp(x.value, y.value))
  const rules = input.evaluations.map(e => ({slug: ruleSlug(e.rule_name), e})).sort((x, y) => cmp(x.slug, y.slug) || cmp(x.e.uuid, y.e.uuid))
  c.properties = props([
    ['daystrom:scan:uuid', scan.uuid],
    ['daystrom:scan:outcome', scan.eval_outcome],
    ['daystrom:scan:error-code', scan.error_code],
    ['daystrom:scan:error-message', scan.error_message],
    ['daystrom:scan:security-group:name', scan.security_group_name],
    ['daystrom:scan:security-group:uuid', scan.security_group_uuid],
    ['daystrom:scan:source-type', scan.source_type],
    ['daystrom:scan:origin', scan.scan_origin],
    ['daystrom:scan:model-uri', scan.model_uri],
    ['daystrom:scan:model-version-uuid', scan.model_version_uuid],
    ['daystrom:model:uuid', model?.uuid ?? mv?.model_uuid],
    ['daystrom:model-version:fingerprint', mv?.fingerprint],
    ['daystrom:model-version:hf-commit-sha', mv?.hf_commit_sha],
    ['daystrom:scan:scanner-version', scan.scanner_version],
    ['daystrom:scan:created-at', isoTimestamp(scan.created_at)],
    ['daystrom:scan:time-started', isoTimestamp(scan.time_started)],
    ['daystrom:scan:updated-at', isoTimestamp(scan.updated_at)],
    ['daystrom:scan:rules-passed', s?.rules_passed],
    ['daystrom:scan:rules-failed', s?.rules_failed],
    ['daystrom:scan:rules-total', s?.total_rules],
    ['daystrom:scan:files-scanned', scan.total_files_scanned],
    ['daystrom:scan:files-skipped', scan.total_files_skipped],
    ...[...new Set(scan.model_formats ?? [])].sort(cmp).map((x): Pair => ['daystrom:scan:model-format', x]),
    ...labels.map((l): Pair => [`daystrom:scan:label:${l.key}`, l.value]),
    ...rules.flatMap(({slug, e}): Pair[] => [[`daystrom:rule:${slug}:result`, e.result], [`daystrom:rule:${slug}:state`, e.rule_instance_state]]),
  ])
  return c
}

function vulnerability(scan: Scan, v: Violation, affects: string): CdxVulnerability {
  const code = v.threat?.trim() || null
  const info = code && isThreatCategory(code) ? THREATS[code] : undefined
  const state: string = v.rule_instance_state ?? ''
  const severity = cdxSeverity(state, code)
  const kb = webUrl(v.threat_kb_url) ?? info?.kbUrl ?? undefined
  const remediationUrl = webUrl(v.remediation?.url)
  const steps = (v.remediation?.steps ?? []).filter(s => typeof s === 'string' && s.trim())
  const group = scan.security_group_name
  const kind = threatKind(code)
  const advisories: Array<{title: string; url: string}> = []
  const advise = (title: string, url: string | undefined) => {
    if (url && !advisories.some(a => a.url === url)) advisories.push({title, url})
  }
  advise(`Remediation: ${v.rule_name}`, remediationUrl)
  if (code) advise(`${code}: ${v.threat_description || info?.title || 'threat'}`, kb)
  advise('Prisma AIRS insights', webUrl(v.insights_url))
  const detail = [
    code ? `${code}: ${v.threat_description || info?.title || 'threat code reported by the scanner'}.` : '',
    `Rule "${v.rule_name}" (${state}): ${v.rule_description}.`.replace(/\.\.$/, '.'),
    v.module ? `Module: ${v.module}.` : '', v.operator ? `Operator: ${v.operator}.` : '',
  ].filter(Boolean).join(' ')
  const cwes = cwesOf(code)
  const created = isoTimestamp(v.created_at)
  const updated = isoTimestamp(v.updated_at)
  const recommendation = steps.length ? steps.map((s, i) => `${i + 1}. ${s}`).join('\n') : remediationUrl ? `See ${remediationUrl}` : undefined
  const analysisDetail = state === 'BLOCKING'
    ? `The BLOCKING rule "${v.rule_name}" failed on this finding: it blocks the model in security group "${group}".`
    : state === 'ALLOWING'
      ? `The ALLOWING rule "${v.rule_name}" recorded this finding: it does not block the model in security group "${group}".`
      : `Rule "${v.rule_name}" (${state || 'unknown state'}) in security group "${group}".`
  return {
    'bom-ref': `violation:${v.uuid.toLowerCase()}`,
    id: vulnerabilityId(v),
    source: kb ? {name: AIRS_SOURCE, url: kb} : {name: AIRS_SOURCE},
    ratings: [{source: {name: AIRS_SOURCE}, severity, method: 'other',
      justification: `${state || 'unknown'} rule "${v.rule_name}" in security group "${group}"${kind === 'malicious' ? ', malicious code' : kind === 'suspicious' ? ', suspicious code' : ''}`}],
    ...(cwes ? {cwes} : {}),
    description: plain(v.description),
    detail,
    ...(recommendation ? {recommendation} : {}),
    ...(advisories.length ? {advisories} : {}),
    ...(created ? {created} : {}),
    ...(updated ? {updated} : {}),
    analysis: {state: 'in_triage', detail: analysisDetail, ...(created ? {firstIssued: created} : {}), ...(updated ? {lastUpdated: updated} : {})},
    affects: [{ref: affects}],
    properties: props([
      ['daystrom:violation:uuid', v.uuid],
      ['daystrom:scan:uuid', scan.uuid],
      ['daystrom:rule:name', v.rule_name],
      ['daystrom:rule:state', state],
      ['daystrom:rule:instance-uuid', v.rule_instance_uuid],
      ['daystrom:violation:file', v.file ? normalizeModelPath(v.file) : undefined],
      ['daystrom:violation:module', v.module],
      ['daystrom:violation:operator', v.operator],
      ['daystrom:violation:hash', v.hash],
    ]),
  }
}

interface ScanParts { model: CdxComponent; files: CdxComponent[]; dependencies: CdxDependency[]; vulnerabilities: CdxVulnerability[]; timestamp?: string }

function scanParts(input: CycloneDxInput): ScanParts {
  const {scan} = input
  const model = modelComponent(input)
  const facts = collectFiles(input)
  const files = facts.map(f => fileComponent(scan, f))
  const refs = files.map(f => f['bom-ref'])
  // A model without files is left out of the graph when its scan did not finish (its files are unknown, not none).
  const settled = scan.eval_outcome === 'ALLOWED' || scan.eval_outcome === 'BLOCKED'
  const dependencies: CdxDependency[] = [
    ...(refs.length ? [{ref: model['bom-ref'], dependsOn: refs}] : settled ? [{ref: model['bom-ref']}] : []),
    ...refs.map(ref => ({ref})),
  ]
  const vulnerabilities = input.violations
    .map(v => {
      const path = v.file ? normalizeModelPath(v.file) : ''
      return {v, ref: path ? fileRef(scan, path) : model['bom-ref']}
    })
    .sort((a, b) => cmp(a.ref, b.ref) || cmp(vulnerabilityId(a.v), vulnerabilityId(b.v)) || cmp(a.v.rule_name, b.v.rule_name) || cmp(a.v.uuid, b.v.uuid))
    .map(({v, ref}) => vulnerability(scan, v, ref))
  return {model, files, dependencies, vulnerabilities, timestamp: isoTimestamp(scan.updated_at) ?? isoTimestamp(scan.created_at)}
}

function latest(timestamps: Array<string | undefined>): string | undefined {
  let best: string | undefined
  for (const t of timestamps) if (t && (!best || Date.parse(t) > Date.parse(best) || (Date.parse(t) === Date.parse(best) && cmp(t, best) > 0))) best = t
  return best
}

/**
 * The CycloneDX 1.6 BOM of the given scans (at least one; duplicates by scan UUID are dropped, the rest ordered
 * by scan UUID so the argument order does not change the document).
 */
export function buildCycloneDx(inputs: CycloneDxInput[], opts: CycloneDxOptions): CycloneDxBom {
  if (inputs.length === 0) throw new Error('buildCycloneDx: at least one scan is needed')
  const unique = [...new Map(inputs.map(i => [i.scan.uuid.toLowerCase(), i])).values()]
    .sort((a, b) => cmp(a.scan.uuid.toLowerCase(), b.scan.uuid.toLowerCase()))
  const serialNumber = bomSerialNumber(unique.map(i => i.scan.uuid))
  const parts = unique.map(i => scanParts(i))
  let component: CdxComponent
  let components: CdxComponent[]
  const dependencies: CdxDependency[] = []
  if (parts.length === 1) {
    component = parts[0].model
    components = parts[0].files
  } else {
    const counts = new Map<string, number>()
    for (const i of unique) counts.set(String(i.scan.eval_outcome), (counts.get(String(i.scan.eval_outcome)) ?? 0) + 1)
    const summary = [...counts].sort((a, b) => cmp(a[0], b[0])).map(([o, n]) => `${n} ${o}`).join(', ')
    component = {
      type: 'application', 'bom-ref': `scans:${serialNumber.slice('urn:uuid:'.length)}`, name: 'AIRS model scans',
      description: `${parts.length} models scanned by ${AIRS_SOURCE}: ${summary}`,
      properties: props(unique.map((i): Pair => ['daystrom:scan:uuid', i.scan.uuid])),
    }
    components = parts.flatMap(p => [p.model, ...p.files])
    dependencies.push({ref: component['bom-ref'], dependsOn: parts.map(p => p.model['bom-ref'])})
  }
  for (const p of parts) dependencies.push(...p.dependencies)
  const timestamp = latest(parts.map(p => p.timestamp))
  return {
    $schema: CYCLONEDX_SCHEMA,
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber,
    version: 1,
    metadata: {
      ...(timestamp ? {timestamp} : {}),
      tools: {
        components: [{type: 'application', name: 'daystrom', version: opts.toolVersion, description: 'CLI for Prisma AIRS AI Model Security'}],
        services: [{provider: {name: 'Palo Alto Networks'}, name: AIRS_SOURCE, externalReferences: [{type: 'documentation', url: AIRS_DOCS}]}],
      },
      component,
    },
    components,
    dependencies,
    vulnerabilities: parts.flatMap(p => p.vulnerabilities),
  }
}
