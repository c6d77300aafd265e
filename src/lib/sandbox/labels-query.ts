/**
 * `labels_query` of `GET /v1/scans`: terms `key=value` combined with AND / OR (case-insensitive, AND binds
 * tighter) and one level of parentheses, e.g. `env=prod AND (team=ml OR team=data)`. Compiled to a SQL
 * predicate over `scan_labels` with bound parameters.
 */
import {LABEL_RE} from '../airs/enums.js'

type Node = {kind: 'term'; key: string; value: string} | {kind: 'and' | 'or'; left: Node; right: Node}

export class LabelsQueryError extends Error {}

function tokenize(src: string): string[] {
  const tokens: string[] = []
  const re = /\s*(\(|\)|[^\s()]+)/gy
  let m: RegExpExecArray | null
  let pos = 0
  while (pos < src.length) {
    re.lastIndex = pos
    m = re.exec(src)
    if (!m) {
      if (/^\s*$/.test(src.slice(pos))) break
      throw new LabelsQueryError(`unexpected character at ${pos}`)
    }
    tokens.push(m[1])
    pos = re.lastIndex
  }
  return tokens
}

export function parseLabelsQuery(src: string): Node {
  const tokens = tokenize(src)
  let i = 0
  let depth = 0
  const peek = (): string | undefined => tokens[i]
  const isOp = (t: string | undefined, op: string): boolean => t !== undefined && t.toUpperCase() === op

  function primary(): Node {
    const t = tokens[i++]
    if (t === undefined) throw new LabelsQueryError('unexpected end of query')
    if (t === '(') {
      depth++
      if (depth > 1) throw new LabelsQueryError('only one level of parentheses is supported')
      const inner = or()
      if (tokens[i++] !== ')') throw new LabelsQueryError('missing closing parenthesis')
      depth--
      return inner
    }
    const eq = t.indexOf('=')
    if (eq <= 0) throw new LabelsQueryError(`expected key=value, got "${t}"`)
    const key = t.slice(0, eq)
    const value = t.slice(eq + 1)
    if (!LABEL_RE.test(key) || !LABEL_RE.test(value)) throw new LabelsQueryError(`invalid label term "${t}" (keys and values match [a-zA-Z0-9_-]+)`)
    return {kind: 'term', key, value}
  }

  function and(): Node {
    let left = primary()
    while (isOp(peek(), 'AND')) {
      i++
      left = {kind: 'and', left, right: primary()}
    }
    return left
  }

  function or(): Node {
    let left = and()
    while (isOp(peek(), 'OR')) {
      i++
      left = {kind: 'or', left, right: and()}
    }
    return left
  }

  if (tokens.length === 0) throw new LabelsQueryError('empty query')
  const node = or()
  if (i < tokens.length) throw new LabelsQueryError(`unexpected "${tokens[i]}"`)
  return node
}

/** SQL predicate (scans aliased `s`) and its parameters. */
export function labelsQuerySql(node: Node): {sql: string; params: string[]} {
  if (node.kind === 'term') {
    return {sql: 'EXISTS (SELECT 1 FROM scan_labels l WHERE l.scan_uuid = s.uuid AND l.key = ? AND l.value = ?)', params: [node.key, node.value]}
  }
  const l = labelsQuerySql(node.left)
  const r = labelsQuerySql(node.right)
  return {sql: `(${l.sql} ${node.kind === 'and' ? 'AND' : 'OR'} ${r.sql})`, params: [...l.params, ...r.params]}
}
