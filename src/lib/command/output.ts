/**
 * Rendering of results: table, csv, markdown, json, ndjson, yaml. Table flags act on the same row objects
 * that --json returns, in this order: filter -> sort -> column projection -> render (conventions §8).
 */
import {usageError} from '../airs/errors.js'

export const OUTPUT_FORMATS = ['table', 'json', 'yaml', 'csv', 'ndjson', 'markdown'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

export interface Column<T = Record<string, unknown>> {
  key: string
  header?: string
  /** Value of the cell; defaults to the row's property `key` (dotted paths allowed). */
  get?: (row: T) => unknown
  /** Only shown with --extended or when named in --columns. */
  extended?: boolean
}

export interface TableOptions {
  columns?: string
  sort?: string
  filter?: string[]
  header?: boolean
  truncate?: boolean
  extended?: boolean
  /** Terminal width to fit (undefined = no fitting). */
  width?: number
}

export interface DetailSection { title?: string; rows: Array<[string, unknown]>; text?: string }

export const headerOf = (c: Column<never>): string => c.header ?? c.key.toUpperCase().replaceAll('_', ' ')

export function getPath(obj: unknown, path: string): unknown {
  let cur = obj
  for (const seg of path.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[seg]
  }
  return cur
}

export function cellValue<T>(row: T, col: Column<T>): unknown {
  return col.get ? col.get(row) : getPath(row, col.key)
}

const ISO_RE = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/

/** Human text of a value: arrays joined, labels as k=v, timestamps without microseconds. */
export function formatCell(value: unknown, human = true): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') {
    if (human) {
      const m = ISO_RE.exec(value)
      if (m) return `${m[1]} ${m[2]}${m[4] === 'Z' ? 'Z' : m[4]}`
    }
    return value
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value)) {
    return value.map(v => (v && typeof v === 'object' && 'key' in v && 'value' in v)
      ? `${(v as {key: string}).key}=${(v as {value: string}).value}` : formatCell(v, human)).join(', ')
  }
  return JSON.stringify(value)
}

function findColumn<T>(columns: Column<T>[], name: string): Column<T> | undefined {
  const n = name.trim().toLowerCase()
  return columns.find(c => c.key.toLowerCase() === n || headerOf(c as Column<never>).toLowerCase() === n)
}

function unknownColumn<T>(flag: string, name: string, columns: Column<T>[]): Error {
  return usageError(`${flag}: unknown column "${name}". Available columns: ${columns.map(c => c.key).join(', ')}`)
}

const collator = new Intl.Collator(undefined, {numeric: true, sensitivity: 'base'})

/** filter -> sort. Filters are `column=substring` (case-insensitive), all must match. */
export function filterAndSort<T>(rows: T[], columns: Column<T>[], opts: TableOptions): T[] {
  let out = rows
  for (const f of opts.filter ?? []) {
    const eq = f.indexOf('=')
    if (eq <= 0) throw usageError(`--filter: expected column=value, got "${f}"`)
    const name = f.slice(0, eq)
    const needle = f.slice(eq + 1).toLowerCase()
    const col = findColumn(columns, name)
    if (!col) throw unknownColumn('--filter', name, columns)
    out = out.filter(r => formatCell(cellValue(r, col), false).toLowerCase().includes(needle))
  }
  if (opts.sort) {
    const keys = opts.sort.split(',').map(s => s.trim()).filter(Boolean).map(s => {
      const desc = s.startsWith('-')
      const name = desc ? s.slice(1) : s
      const col = findColumn(columns, name)
      if (!col) throw unknownColumn('--sort', name, columns)
      return {col, desc}
    })
    out = [...out].sort((a, b) => {
      for (const {col, desc} of keys) {
        const va = cellValue(a, col)
        const vb = cellValue(b, col)
        const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : collator.compare(formatCell(va, false), formatCell(vb, false))
        if (c !== 0) return desc ? -c : c
      }
      return 0
    })
  }
  return out
}

/** Check --columns/--sort/--filter against the columns before anything is fetched (exit 2 on unknowns). */
export function validateTableOptions<T>(columns: Column<T>[], opts: TableOptions): void {
  selectColumns(columns, opts)
  filterAndSort([], columns, opts)
}

export function selectColumns<T>(columns: Column<T>[], opts: TableOptions): Column<T>[] {
  if (opts.columns) {
    return opts.columns.split(',').map(s => s.trim()).filter(Boolean).map(name => {
      const col = findColumn(columns, name)
      if (!col) throw unknownColumn('--columns', name, columns)
      return col
    })
  }
  return columns.filter(c => opts.extended || !c.extended)
}

// eslint-disable-next-line @typescript-eslint/no-misused-spread -- code points, not UTF-16 units: cheap, right for table text
const visibleLength = (s: string) => [...s].length

function truncateTo(s: string, width: number): string {
  // eslint-disable-next-line @typescript-eslint/no-misused-spread -- code points, as visibleLength counts them
  const chars = [...s]
  if (chars.length <= width) return s
  return width <= 1 ? chars.slice(0, width).join('') : chars.slice(0, width - 1).join('') + '…'
}

export function renderTable<T>(rows: T[], columns: Column<T>[], opts: TableOptions): string {
  const header = columns.map(c => headerOf(c as Column<never>))
  const cells = rows.map(r => columns.map(c => formatCell(cellValue(r, c)).replaceAll(/\s*\n\s*/g, ' ')))
  const widths = columns.map((_, i) => Math.max(opts.header === false ? 0 : visibleLength(header[i]), ...cells.map(row => visibleLength(row[i])), 1))
  if (opts.truncate !== false && opts.width && opts.width > 20) {
    const gap = 2 * (columns.length - 1)
    let total = widths.reduce((a, b) => a + b, 0) + gap
    while (total > opts.width) {
      const widest = widths.indexOf(Math.max(...widths))
      if (widths[widest] <= 8) break
      widths[widest]--
      total--
    }
  }
  const line = (vals: string[]) => vals.map((v, i) => {
    const t = truncateTo(v, widths[i])
    return i === vals.length - 1 ? t : t + ' '.repeat(widths[i] - visibleLength(t))
  }).join('  ').trimEnd()
  const out: string[] = []
  if (opts.header !== false) out.push(line(header))
  for (const row of cells) out.push(line(row))
  return out.join('\n')
}

function csvEscape(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export function renderCsv<T>(rows: T[], columns: Column<T>[], opts: TableOptions): string {
  const out: string[] = []
  if (opts.header !== false) out.push(columns.map(c => csvEscape(c.key)).join(','))
  for (const r of rows) out.push(columns.map(c => csvEscape(formatCell(cellValue(r, c), false))).join(','))
  return out.join('\r\n')
}

const mdEscape = (s: string) => s.replaceAll('|', '\\|').replaceAll(/\r?\n/g, '<br>')

export function renderMarkdown<T>(rows: T[], columns: Column<T>[], opts: TableOptions): string {
  const out: string[] = []
  if (opts.header !== false) {
    out.push(`| ${columns.map(c => mdEscape(headerOf(c as Column<never>))).join(' | ')} |`)
    out.push(`|${columns.map(() => ' --- ').join('|')}|`)
  }
  for (const r of rows) out.push(`| ${columns.map(c => mdEscape(formatCell(cellValue(r, c)))).join(' | ')} |`)
  return out.join('\n')
}

export function renderDetail(sections: DetailSection[]): string {
  const blocks: string[] = []
  for (const s of sections) {
    const lines: string[] = []
    if (s.title) lines.push(s.title)
    const rows = s.rows.filter(([, v]) => v !== undefined)
    const width = Math.max(0, ...rows.map(([k]) => k.length))
    for (const [k, v] of rows) {
      const text = formatCell(v)
      lines.push(`${s.title ? '  ' : ''}${(k + ':').padEnd(width + 1)} ${text.includes('\n') ? text.replaceAll('\n', '\n' + ' '.repeat(width + (s.title ? 4 : 2))) : text}`)
    }
    if (s.text) lines.push(s.text)
    blocks.push(lines.join('\n'))
  }
  return blocks.join('\n\n')
}

export async function renderYaml(data: unknown): Promise<string> {
  const {stringify} = await import('yaml')
  return stringify(data, {lineWidth: 0}).trimEnd()
}

export const renderJson = (data: unknown): string => JSON.stringify(data, null, 2)
export const renderNdjson = (items: unknown[]): string => items.map(i => JSON.stringify(i)).join('\n')
