/**
 * The PAIT threat taxonomy as the local scanner and the sandbox see it: one row per `ThreatCategory`,
 * with the primary built-in rule that reports it (threat-codes.md §2 "Rule" primary column, §3).
 * `UNAPPROVED_FORMATS` is the policy code of "Stored In Approved File Format" (not a KB threat).
 *
 * Problems that have no PAIT code of their own are issues with `threat: null`, which threat-codes.md §4.4
 * routes to Suspicious Model Components: archive bombs and header tricks, corrupt headers, ONNX custom
 * domains, code-like strings in format metadata, and resource exhaustion of a pickle (memo/DUP "billion
 * laughs" expansion, budgets no pickler reaches): a load-time denial of service is suspicious, not code
 * execution, so it does not take the format's x00/x01 code.
 */
import {THREAT_CATEGORIES, type ThreatCategory} from '../airs/enums.js'

export interface ThreatInfo {
  code: ThreatCategory
  title: string
  kind: 'malicious' | 'suspicious' | 'policy'
  /** Exact built-in rule name that reports it, e.g. 'Load Time Code Execution Check'. */
  rule: string
  kbUrl: string | null
}

export const RULE_LOAD_TIME = 'Load Time Code Execution Check'
export const RULE_RUNTIME = 'Runtime Code Execution Check'
export const RULE_KNOWN_OPERATORS = 'Known Framework Operators Check'
export const RULE_BACKDOOR = 'Model Architecture Backdoor Check'
export const RULE_SUSPICIOUS = 'Suspicious Model Components Check'
export const RULE_APPROVED_FORMAT = 'Stored In Approved File Format'

const KB = 'https://protectai.com/insights/knowledge-base'

function slugFor(code: string): string | null {
  const m = /^PAIT-[A-Z]+-(\d)\d\d$/.exec(code)
  if (!m) return null
  return m[1] === '1' ? 'deserialization-threats' : m[1] === '2' ? 'backdoor-threats' : 'runtime-threats'
}

type Row = [title: string, kind: ThreatInfo['kind'], rule: string]

const ROWS: Record<ThreatCategory, Row> = {
  'PAIT-ARV-100': ['Archive slip can write to file system at load time', 'malicious', RULE_LOAD_TIME],
  'PAIT-GGUF-100': ['GGUF Model Template Containing Suspicious Content', 'suspicious', RULE_SUSPICIOUS],
  'PAIT-GGUF-101': ['GGUF Model Template Containing Arbitrary Code Execution Detected', 'malicious', RULE_LOAD_TIME],
  'PAIT-KERAS-100': ['Keras Lambda Layers Can Execute Code', 'suspicious', RULE_SUSPICIOUS],
  'PAIT-KERAS-101': ['Keras Model Lambda Layer Arbitrary Code Execution (Detected at Model Load Time)', 'malicious', RULE_LOAD_TIME],
  'PAIT-KERAS-102': ['Keras Model Lambda Layer Suspicious Operator Detected at Model Load Time', 'suspicious', RULE_LOAD_TIME],
  'PAIT-JOBLIB-100': ['Joblib Model Arbitrary Code Execution (Detected at Model Load Time)', 'malicious', RULE_LOAD_TIME],
  'PAIT-JOBLIB-101': ['Joblib Model Suspicious Code Execution Detected at Model Load Time', 'suspicious', RULE_LOAD_TIME],
  'PAIT-PKL-100': ['Pickle Model Arbitrary Code Execution (Detected at Model Load Time)', 'malicious', RULE_LOAD_TIME],
  'PAIT-PKL-101': ['Pickle Model Suspicious Code Execution Detected at Model Load Time', 'suspicious', RULE_LOAD_TIME],
  'PAIT-PYTCH-100': ['PyTorch Model Arbitrary Code Execution (Detected at Model Load Time)', 'malicious', RULE_LOAD_TIME],
  'PAIT-PYTCH-101': ['PyTorch Model Suspicious Code Execution Detected at Model Load Time', 'suspicious', RULE_LOAD_TIME],
  'PAIT-EXDIR-100': ['Exdir Model Arbitrary Code Execution (Detected at Model Load Time)', 'malicious', RULE_LOAD_TIME],
  'PAIT-EXDIR-101': ['Exdir Model Suspicious Code Execution Detected at Model Load Time', 'suspicious', RULE_LOAD_TIME],
  'PAIT-ONNX-200': ['ONNX Model Contains Architectural Backdoor', 'malicious', RULE_BACKDOOR],
  'PAIT-TF-200': ['TensorFlow SavedModel Contains Architectural Backdoor', 'malicious', RULE_BACKDOOR],
  'PAIT-LMAFL-300': ['Llamafile Can Execute Malicious Code During Inference', 'suspicious', RULE_RUNTIME],
  'PAIT-LITERT-300': ['LiteRT Model Contains Unknown Operators', 'suspicious', RULE_KNOWN_OPERATORS],
  'PAIT-LITERT-301': ['LiteRT Model Contains Arbitrary Code Execution at Run Time', 'malicious', RULE_RUNTIME],
  'PAIT-LITERT-302': ['LiteRT Model Contains Suspicious File-Reading Operator', 'suspicious', RULE_SUSPICIOUS],
  'PAIT-KERAS-300': ['Keras Model Lambda Layer Arbitrary Code Execution Detected at Model Run Time', 'malicious', RULE_RUNTIME],
  'PAIT-KERAS-301': ['Keras Model Contains Unknown or Custom Layer', 'suspicious', RULE_KNOWN_OPERATORS],
  'PAIT-TCHST-300': ['TorchScript Model Arbitrary Code Execution Detected at Model Load Time', 'malicious', RULE_RUNTIME],
  'PAIT-TCHST-301': ['TorchScript Model Suspicious Code Detected', 'suspicious', RULE_SUSPICIOUS],
  'PAIT-TF-300': ['TensorFlow SavedModel Contains Unknown Operators', 'suspicious', RULE_KNOWN_OPERATORS],
  'PAIT-TF-301': ['TensorFlow SavedModel Contains Arbitrary Code Execution at Model Run Time', 'malicious', RULE_RUNTIME],
  'PAIT-TF-302': ['TensorFlow SavedModel Contains Suspicious File-Reading Operator', 'suspicious', RULE_SUSPICIOUS],
  'PAIT-TMT-300': ['Model Contains Unknown Components at Run Time', 'suspicious', RULE_KNOWN_OPERATORS],
  'PAIT-TMT-301': ['Model Contains Arbitrary Code Execution at Run Time', 'malicious', RULE_RUNTIME],
  UNAPPROVED_FORMATS: ['Model stored in a format the security group does not approve', 'policy', RULE_APPROVED_FORMAT],
}

export const THREATS: Record<ThreatCategory, ThreatInfo> = Object.fromEntries(
  THREAT_CATEGORIES.map((code) => {
    const [title, kind, rule] = ROWS[code]
    const slug = slugFor(code)
    return [code, {code, title, kind, rule, kbUrl: slug ? `${KB}/${slug}/${code}` : null}]
  }),
) as Record<ThreatCategory, ThreatInfo>

/** The rule an issue without a PAIT code (`threat: null`) is reported under (threat-codes.md §4.4 step 3). */
export const RULE_FOR_UNCLASSIFIED = RULE_SUSPICIOUS

export function isThreatCategory(code: string): code is ThreatCategory {
  return Object.prototype.hasOwnProperty.call(THREATS, code)
}

/**
 * Primary rule for a threat code. Unknown future `PAIT-*-1xx` → Load Time, `2xx` → Backdoor, `3xx` → Runtime
 * (threat-codes.md §4.4 step 2); anything else → undefined.
 */
export function ruleForThreat(code: string): string | undefined {
  if (isThreatCategory(code)) return THREATS[code].rule
  const m = /^PAIT-[A-Z0-9]+-(\d)\d\d$/.exec(code)
  if (!m) return undefined
  if (m[1] === '1') return RULE_LOAD_TIME
  if (m[1] === '2') return RULE_BACKDOOR
  if (m[1] === '3') return RULE_RUNTIME
  return undefined
}
