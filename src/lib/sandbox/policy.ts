/**
 * Policy evaluation (issue 4 §4, threat-codes.md §4.4): one evaluation per non-DISABLED rule instance,
 * PASSED / FAILED / ERROR; one violation per finding, attributed to the rule that owns it; BLOCKED iff a
 * BLOCKING rule failed. Pure functions: the store writes what this returns.
 */
import {existsSync, readFileSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'

import type {FileScanData, Rule, ScanDetails} from '../airs/types.js'
import {THREATS, isThreatCategory, ruleForThreat} from '../scanner/threats.js'
import {RULE_NAMES} from './catalog.js'

export interface PolicyInstance { uuid: string; state: string; rule: Rule; field_values: Record<string, string[]> }

export interface ViolationDraft {
  description: string; file: string | null; hash: string | null; module: string | null; operator: string | null
  threat: string | null; threat_description: string | null; threat_kb_url: string | null; insights_url: string | null
}

export interface EvaluationDraft { instance: PolicyInstance; result: 'PASSED' | 'FAILED' | 'ERROR'; violations: ViolationDraft[] }

export interface PolicyInput {
  modelUri: string
  sourceType: string
  details: ScanDetails
  instances: PolicyInstance[]
  /** Licence identifier known locally (LICENSE file or model card), `undefined` when nothing says. */
  license?: string | null
  /** A LICENSE-like file exists, even if its identifier is unknown. */
  hasLicenseFile?: boolean
}

export interface PolicyResult {
  evaluations: EvaluationDraft[]
  outcome: 'ALLOWED' | 'BLOCKED'
  summary: {rules_failed: number; rules_passed: number; total_rules: number}
  /** file_path -> FAILED when a violation names it. */
  failedFiles: Set<string>
}

/** Organisations Hugging Face shows as verified, as far as an offline sandbox can know. */
const VERIFIED_HF_ORGS = new Set([
  'google', 'google-bert', 'google-t5', 'meta-llama', 'facebook', 'microsoft', 'openai', 'openai-community', 'mistralai',
  'qwen', 'deepseek-ai', 'nvidia', 'huggingface', 'huggingfaceh4', 'huggingfacetb', 'hf-internal-testing', 'bigscience',
  'stabilityai', 'sentence-transformers', 'distilbert', 'allenai', 'apple', 'ibm-granite', 'amazon', 'intel', 'salesforce',
  'tiiuae', 'eleutherai', 'cohereforai', 'databricks', 'baai', 'thudm', 'nousresearch', 'bartowski', 'unsloth',
])

export function hfOrgModel(uri: string): {org: string; model: string} | undefined {
  const m = /^(?:https?:\/\/)?(?:www\.)?(?:huggingface\.co|hf\.co)\/([^/?#]+)\/([^/?#]+)/i.exec(uri)
  if (m) return {org: m[1], model: m[2]}
  const short = /^(?:hf:\/\/)([^/]+)\/([^/?#]+)/i.exec(uri)
  return short ? {org: short[1], model: short[2]} : undefined
}

const LICENSE_FILE_RE = /^(?:.*\/)?(?:LICEN[CS]E|COPYING)(?:[.-][^/]*)?$/i

/** Detect a licence identifier from a LICENSE file or a model card (`license:` in README.md front matter). */
export function detectLocalLicense(root: string): {license: string | null; hasLicenseFile: boolean} {
  let dir = root
  try {
    if (!statSync(root).isDirectory()) dir = join(root, '..')
  } catch {
    return {license: null, hasLicenseFile: false}
  }
  let license: string | null = null
  let hasLicenseFile = false
  try {
    const readme = ['README.md', 'readme.md', 'MODEL_CARD.md'].map(n => join(dir, n)).find(p => existsSync(p))
    if (readme) {
      const text = readFileSync(readme, 'utf8').slice(0, 64 * 1024)
      const fm = /^---\s*\n([\s\S]*?)\n---/.exec(text)
      const lm = fm && /^license:\s*["']?([A-Za-z0-9.+_-]+)["']?\s*$/m.exec(fm[1])
      if (lm) license = lm[1].toLowerCase()
    }
    const names = readdirSync(dir).filter(n => LICENSE_FILE_RE.test(n))
    if (names.length > 0) {
      hasLicenseFile = true
      if (!license) license = identifyLicenseText(readFileSync(join(dir, names[0]), 'utf8').slice(0, 64 * 1024))
    }
  } catch {
    // unreadable directory: nothing is known
  }
  return {license, hasLicenseFile}
}

export function identifyLicenseText(text: string): string | null {
  const t = text.replace(/\s+/g, ' ')
  if (/Apache License,? Version 2\.0/i.test(t)) return 'apache-2.0'
  if (/\bMIT License\b/i.test(t) || /Permission is hereby granted, free of charge/i.test(t)) return 'mit'
  if (/Neither the name of/i.test(t) && /Redistribution and use/i.test(t)) return 'bsd-3-clause'
  if (/Redistribution and use/i.test(t)) return 'bsd-2-clause'
  if (/GNU GENERAL PUBLIC LICENSE/i.test(t)) return /Version 3/i.test(t) ? 'gpl-3.0' : 'gpl-2.0'
  if (/Creative Commons/i.test(t)) return 'cc'
  return 'other'
}

function locationApproved(uri: string, approved: string[]): boolean {
  const lower = uri.toLowerCase()
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(lower)?.[1]
  for (const entry of approved) {
    const e = entry.toLowerCase()
    if (scheme && (e === scheme || e === scheme + '://')) return true
    if (lower.startsWith(e)) return true
    if (!scheme && e === '/' && (uri.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(uri) || uri.startsWith('file:'))) return true
  }
  return false
}

export function evaluatePolicy(input: PolicyInput): PolicyResult {
  const {details} = input
  const files: FileScanData[] = details.files ?? []
  const evaluations: EvaluationDraft[] = []
  const failedFiles = new Set<string>()
  const threatViolations = new Map<string, ViolationDraft[]>() // rule name -> drafts
  const seen = new Set<string>()
  for (const f of files) {
    if (f.modelscan_status !== 'SCANNED') continue
    for (const issue of f.issues_detected ?? []) {
      const code = issue.threat ?? null
      const ruleName = code ? (ruleForThreat(code) ?? RULE_NAMES.suspicious) : RULE_NAMES.suspicious
      const key = [ruleName, f.file_path, code, issue.operator ?? '', issue.module ?? ''].join('\u0000')
      if (seen.has(key)) continue
      seen.add(key)
      const info = code && isThreatCategory(code) ? THREATS[code] : undefined
      const list = threatViolations.get(ruleName) ?? []
      list.push({
        description: issue.description, file: f.file_path, hash: f.blob_id || f.sha256 || null,
        module: issue.module ?? null, operator: issue.operator ?? null, threat: code,
        threat_description: info?.title.slice(0, 256) ?? null, threat_kb_url: info?.kbUrl ?? null, insights_url: null,
      })
      threatViolations.set(ruleName, list)
    }
  }
  const scanned = files.filter(f => f.modelscan_status === 'SCANNED').length
  const errored = files.filter(f => f.modelscan_status === 'ERROR').length
  const hf = hfOrgModel(input.modelUri)
  const meta = (description: string): ViolationDraft => ({
    description, file: null, hash: null, module: null, operator: null, threat: null, threat_description: null, threat_kb_url: null, insights_url: null,
  })

  for (const inst of input.instances) {
    if (inst.state === 'DISABLED') continue
    const name = inst.rule.name
    const fv = inst.field_values ?? {}
    let violations: ViolationDraft[] = []
    let error = false
    switch (name) {
      case RULE_NAMES.approvedFormat: {
        const approved = new Set((fv.approved_formats ?? []).map(s => s.toLowerCase()))
        for (const f of files) {
          if (f.modelscan_status === 'ERROR') continue
          for (const fmt of f.formats ?? []) {
            if (fmt === 'not_model' || approved.has(fmt.toLowerCase())) continue
            violations.push({
              ...meta(`Model file \`${f.file_path}\` is stored in an unapproved format: **${fmt}**`),
              file: f.file_path, hash: f.blob_id || f.sha256 || null, threat: 'UNAPPROVED_FORMATS',
              threat_description: THREATS.UNAPPROVED_FORMATS.title,
            })
          }
        }
        if (violations.length === 0 && scanned === 0 && errored > 0) error = true
        break
      }
      case RULE_NAMES.approvedLocation: {
        const approved = fv.approved_locations ?? []
        if (!locationApproved(input.modelUri, approved)) {
          violations.push(meta(`Model location \`${input.modelUri}\` is not an approved location: **${approved.join(', ') || 'none approved'}**`))
        }
        break
      }
      case RULE_NAMES.licenseExists:
        if (!input.license && !input.hasLicenseFile) violations.push(meta(`input data has a null license`))
        break
      case RULE_NAMES.licenseValid: {
        const approved = (fv.approved_licenses ?? []).map(s => s.toLowerCase())
        const lic = input.license ?? null
        if (!lic || !approved.includes(lic.toLowerCase())) violations.push(meta(`Invalid license: **${lic ?? 'null'}**`))
        break
      }
      case RULE_NAMES.modelBlocked: {
        const denied = (fv.denied_org_models ?? []).map(s => s.toLowerCase())
        if (hf && denied.includes(`${hf.org}/${hf.model}`.toLowerCase())) violations.push(meta(`Model **${hf.org}/${hf.model}** is blocked by the security group`))
        break
      }
      case RULE_NAMES.orgBlocked: {
        const denied = (fv.deny_orgs ?? []).map(s => s.toLowerCase())
        if (hf && denied.includes(hf.org.toLowerCase())) violations.push(meta(`Organization **${hf.org}** is blocked by the security group`))
        break
      }
      case RULE_NAMES.orgVerified: {
        if (!hf) {
          error = true
          break
        }
        const approved = (fv.approved_org_models ?? []).map(s => s.toLowerCase())
        const pair = `${hf.org}/${hf.model}`
        if (!VERIFIED_HF_ORGS.has(hf.org.toLowerCase()) && !approved.includes(pair.toLowerCase())) {
          violations.push(meta(`Organization **${hf.org}** is not verified by Hugging Face and model **${pair}** has not been explicitly approved`))
        }
        break
      }
      default: {
        violations = threatViolations.get(name) ?? []
        if (violations.length === 0 && scanned === 0 && errored > 0) error = true
      }
    }
    for (const v of violations) if (v.file) failedFiles.add(v.file)
    evaluations.push({instance: inst, result: violations.length > 0 ? 'FAILED' : error ? 'ERROR' : 'PASSED', violations})
  }
  const failed = evaluations.filter(e => e.result === 'FAILED')
  const blocked = failed.some(e => e.instance.state === 'BLOCKING')
  return {
    evaluations,
    outcome: blocked ? 'BLOCKED' : 'ALLOWED',
    summary: {rules_failed: failed.length, rules_passed: evaluations.filter(e => e.result === 'PASSED').length, total_rules: evaluations.length},
    failedFiles,
  }
}

export function licenseFromFiles(files: FileScanData[]): boolean {
  return files.some(f => LICENSE_FILE_RE.test(f.file_path))
}
