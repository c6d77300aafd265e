/**
 * Reading a policy file (YAML or JSON; `-` for stdin) with the `yaml` parser, which also reads JSON and keeps
 * every node's source range: any JSON pointer into the document maps back to a line:column. Syntax errors
 * (including duplicate keys, which JSON.parse would silently accept) exit 7 with their position.
 */
import type {Document, LineCounter, Node as YamlNode} from 'yaml'

import {DaystromError, EXIT} from '../airs/errors.js'
import {pointerToPath} from '../airs/validate.js'
import {readInputText} from '../command/config-input.js'

export interface Position { line: number; column: number }

export interface PolicySource {
  /** How messages name the file (the path as given, or `<stdin>`). */
  file: string
  /** The parsed document (plain data). */
  data: unknown
  /** Where a JSON pointer points (the key for `key: true`), or its nearest existing ancestor. */
  locate(pointer: string, opts?: {key?: boolean}): Position
}

export interface Diagnostic {
  severity: 'error' | 'warning'
  file: string
  line: number
  column: number
  /** RFC 6901 pointer into the document ('' = the whole document). */
  pointer: string
  message: string
}

/** `policy.yaml:12:9 /groups/0/rules/…: message` */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column} ${d.pointer || '/'}: ${d.message}`
}

/** Exit 7 for an invalid document: every error on its own line; details carry them for --json. */
export function invalidDocument(file: string, unsorted: Diagnostic[]): DaystromError {
  const diagnostics = [...unsorted].sort((a, b) => a.line - b.line || a.column - b.column)
  const errors = diagnostics.filter(d => d.severity === 'error')
  const warnings = diagnostics.filter(d => d.severity === 'warning')
  const lines = [...errors.map(formatDiagnostic), ...warnings.map(d => `warning: ${formatDiagnostic(d)}`)]
  return new DaystromError(`${file}: invalid policy document (${errors.length} error${errors.length === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}`, {
    code: 'E_POLICY_INVALID', exit: EXIT.CONFIG, details: {file, problems: diagnostics},
    suggestions: ['daystrom model-security policy schema   # the document format'],
  })
}

type YamlModule = typeof import('yaml')

function nodeAt(yaml: YamlModule, doc: Document, path: Array<string | number>, key: boolean): YamlNode | undefined {
  let node: unknown = doc.contents
  let best: YamlNode | undefined = yaml.isNode(node) ? node : undefined
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]
    const last = i === path.length - 1
    if (yaml.isMap(node)) {
      const pair = node.items.find(p => (yaml.isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg))
      if (!pair) return best
      if (last && key && yaml.isNode(pair.key)) return pair.key
      node = pair.value
      // a key with no value (`state:`) has no value node: point at the key
      best = yaml.isNode(node) ? node : (yaml.isNode(pair.key) ? pair.key : best)
    } else if (yaml.isSeq(node)) {
      const item: unknown = node.items[Number(seg)]
      if (!yaml.isNode(item)) return best
      node = item
      best = item
    } else {
      return best
    }
  }
  return best
}

/** Parse policy text; `file` names it in messages. */
export async function parsePolicy(text: string, file: string): Promise<PolicySource> {
  const yaml = await import('yaml')
  const lineCounter: LineCounter = new yaml.LineCounter()
  const position = (offset: number): Position => {
    const {line, col} = lineCounter.linePos(offset)
    return {line, column: col}
  }
  if (text.trim() === '') {
    throw invalidDocument(file, [{severity: 'error', file, line: 1, column: 1, pointer: '', message: 'the file is empty'}])
  }
  const doc = yaml.parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true})
  if (doc.errors.length > 0) {
    throw invalidDocument(file, doc.errors.map(e => ({
      severity: 'error' as const, file, ...position(e.pos[0]), pointer: '',
      message: `not valid YAML or JSON: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
    })))
  }
  const data: unknown = doc.toJS({maxAliasCount: 100})
  return {
    file,
    data,
    locate(pointer, opts = {}) {
      const node = nodeAt(yaml, doc, pointerToPath(pointer), Boolean(opts.key))
      return node?.range ? position(node.range[0]) : {line: 1, column: 1}
    },
  }
}

/** Read and parse a policy file (`-` = stdin). */
export async function loadPolicy(path: string): Promise<PolicySource> {
  const {text, source} = await readInputText(path)
  return parsePolicy(text, source)
}
