/**
 * The one registry of scan report formats, shared by `scans report -o FORMAT` and `--report FORMAT=PATH` on the
 * gating commands (`scans create --wait`, `scans wait`). A format is added here and nowhere else: its name, how
 * it renders one or several scans, its file extension, whether appending to an existing file is its expected
 * use, and which data beyond {scan, evaluations, violations} it needs (the collector then fetches it).
 *
 * Also here: parsing and checking `--report` values (before any request), collecting the report data
 * (paginated), and writing the reports (`-` = stdout; appendable formats append; every report is attempted,
 * and the failures are returned together so the caller can report them after the others were written).
 */
import {Flags} from '@oclif/core'
import {appendFile, mkdir, stat, writeFile} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'

import type {ModelSecurityClient} from '../airs/client.js'
import {DaystromError, EXIT, usageError} from '../airs/errors.js'
import type {Evaluation, Scan, Violation} from '../airs/types.js'
import {renderJson} from './output.js'
import {listAllScanFiles} from '../scans/files.js'
import {buildCycloneDx} from './cyclonedx.js'
import {buildJunit, buildMarkdown, buildSarif, type ReportData, type ReportOptions} from './reports.js'
import {fetchScanModel} from './scan-data.js'

/** Data a format may need beyond the scan, its evaluations and its violations. */
export type ReportNeed = 'files' | 'model'

export interface ReportFormat {
  /** One line for help texts. */
  summary: string
  /** The usual file extension, with its dot. */
  extension: string
  /** Appending to an existing file is the expected use (markdown into $GITHUB_STEP_SUMMARY). */
  appendable: boolean
  /** What the collector must fetch besides scan, evaluations and violations. */
  needs: readonly ReportNeed[]
  /** The report of one or several scans (several: one document covering all of them). */
  render(inputs: ReportData[], opts: ReportOptions): string
}

/** The data of `scans report --json` and of the json format: exactly {scan, evaluations, violations}. */
const jsonData = ({scan, evaluations, violations}: ReportData) => ({scan, evaluations, violations})

export const REPORT_FORMATS = {
  sarif: {
    summary: 'SARIF 2.1.0 for GitHub code scanning: one run covering every scan',
    extension: '.sarif', appendable: false, needs: [],
    render: (inputs, opts) => renderJson(buildSarif(inputs, opts)),
  },
  junit: {
    summary: 'JUnit XML: a testsuite per scan, a testcase per rule evaluation',
    extension: '.xml', appendable: false, needs: [],
    render: inputs => buildJunit(inputs),
  },
  markdown: {
    summary: 'a markdown summary (a section per scan), appended to an existing file such as $GITHUB_STEP_SUMMARY',
    extension: '.md', appendable: true, needs: [],
    render: inputs => buildMarkdown(inputs),
  },
  cyclonedx: {
    summary: 'a CycloneDX 1.6 JSON ML-BOM: the model, every file with its SHA-256, each violation a vulnerability',
    extension: '.cdx.json', appendable: false, needs: ['files', 'model'],
    render: (inputs, opts) => renderJson(buildCycloneDx(inputs.map(i => ({...i, files: i.files ?? []})), opts)),
  },
  json: {
    summary: 'the report data: {scan, evaluations, violations}, an array of them for several scans',
    extension: '.json', appendable: false, needs: [],
    render: inputs => renderJson(inputs.length === 1 ? jsonData(inputs[0]) : inputs.map(i => jsonData(i))),
  },
} satisfies Record<string, ReportFormat>

export type ReportFormatName = keyof typeof REPORT_FORMATS
export const REPORT_FORMAT_NAMES = Object.keys(REPORT_FORMATS) as ReportFormatName[]

export function reportFormat(name: string): ReportFormat | undefined {
  return Object.hasOwn(REPORT_FORMATS, name) ? (REPORT_FORMATS as Record<string, ReportFormat>)[name] : undefined
}

// ---------------------------------------------------------------- flags

const ARTIFACT_ROOT_SUMMARY = 'SARIF: path of the model directory relative to the repository root, prefixed to file URIs.'
export const artifactRootFlag = Flags.string({summary: ARTIFACT_ROOT_SUMMARY})

/** `--report` and `--artifact-root` of the gating commands. */
export const reportFlags = {
  report: Flags.string({
    summary: `After the verdict, write a report: FORMAT=PATH, FORMAT one of ${REPORT_FORMAT_NAMES.join(', ')}; PATH "-" is stdout; markdown appends (repeatable).`,
    multiple: true, multipleNonGreedy: true, helpGroup: 'REPORT',
  }),
  'artifact-root': Flags.string({summary: ARTIFACT_ROOT_SUMMARY, helpGroup: 'REPORT'}),
}

/** Check `--artifact-root`: GitHub code scanning needs URIs relative to the repository root. */
export function parseArtifactRoot(value: string | undefined): string | undefined {
  if (value !== undefined && (/^[a-z][a-z0-9+.-]*:/i.test(value) || value.startsWith('/') || value.startsWith('\\'))) {
    throw usageError(`--artifact-root: "${value}" must be a path relative to the repository root (GitHub code scanning needs relative URIs)`)
  }
  return value
}

export interface ReportTarget {
  format: ReportFormatName
  /** `-` for stdout. */
  path: string
  /** The flag value as given, for messages. */
  spec: string
}

/**
 * Parse `--report FORMAT=PATH` values; every mistake is a usage error (exit 2) naming the flag and the value:
 * no `=`, an unknown format, an empty path, two reports to stdout (or one beside --json, which owns stdout),
 * the same file twice.
 */
export function parseReportTargets(values: string[] | undefined, opts: {json?: boolean; flag?: string} = {}): ReportTarget[] {
  const flag = opts.flag ?? '--report'
  const out: ReportTarget[] = []
  const seen = new Map<string, string>()
  const example = (f: ReportFormatName) => `${flag} ${f}=model-scan${REPORT_FORMATS[f].extension}`
  for (const spec of values ?? []) {
    const eq = spec.indexOf('=')
    if (eq < 0) {
      throw usageError(`${flag} "${spec}": expected FORMAT=PATH, e.g. ${example('sarif')} (formats: ${REPORT_FORMAT_NAMES.join(', ')}; PATH - is stdout)`)
    }
    const name = spec.slice(0, eq).trim().toLowerCase()
    const path = spec.slice(eq + 1)
    if (!reportFormat(name)) {
      throw usageError(`${flag} "${spec}": unknown format "${spec.slice(0, eq)}"; allowed: ${REPORT_FORMAT_NAMES.join(', ')}`)
    }
    const format = name as ReportFormatName
    if (path.trim() === '') throw usageError(`${flag} "${spec}": empty path; give a file, or - for stdout (e.g. ${example(format)})`)
    const key = path === '-' ? '-' : resolve(path)
    const previous = seen.get(key)
    if (previous !== undefined) {
      throw usageError(path === '-'
        ? `${flag} "${spec}": only one report can go to stdout, and ${flag} "${previous}" already does`
        : `${flag} "${spec}": ${path} is already the target of ${flag} "${previous}"; give each report its own file`)
    }
    if (path === '-' && opts.json) throw usageError(`${flag} "${spec}": stdout carries the --json result; write the report to a file`)
    seen.set(key, spec)
    out.push({format, path, spec})
  }
  return out
}

/** `--report` and `--artifact-root` of a gating command, checked together (before any request). */
export function parseReportFlags(f: {report?: string[]; 'artifact-root'?: string}, json: boolean): {reports: ReportTarget[]; artifactRoot?: string} {
  const reports = parseReportTargets(f.report, {json})
  const artifactRoot = parseArtifactRoot(f['artifact-root'])
  if (artifactRoot !== undefined && !reports.some(r => r.format === 'sarif')) {
    throw usageError(`--artifact-root ${artifactRoot}: it only applies to the SARIF written by --report sarif=PATH`)
  }
  return {reports, artifactRoot}
}

export const toStdout = (targets: ReportTarget[]): boolean => targets.some(t => t.path === '-')

// ---------------------------------------------------------------- data

export type ReportClient = Pick<ModelSecurityClient, 'paginate' | 'listScanEvaluations' | 'listScanViolations' | 'listScanFiles' | 'getModelVersion' | 'getModel'>

/** What the given formats need, together. */
export function reportNeeds(formats: Iterable<string>): Set<ReportNeed> {
  const needs = new Set<ReportNeed>()
  for (const f of formats) for (const n of reportFormat(f)?.needs ?? []) needs.add(n)
  return needs
}

/**
 * Fetch every page of each scan's evaluations and violations, and, when a format needs them, its whole file tree
 * (every FILE and DIRECTORY entry, flat) and the model version and model it was filed under.
 */
export async function collectReportData(client: ReportClient, scans: Scan[], needs: Set<ReportNeed> = new Set()): Promise<ReportData[]> {
  const all = async <T>(pages: AsyncIterable<T>): Promise<T[]> => {
    const out: T[] = []
    for await (const x of pages) out.push(x)
    return out
  }
  return Promise.all(scans.map(async scan => {
    const [evaluations, violations, files, models] = await Promise.all([
      all<Evaluation>(client.paginate(q => client.listScanEvaluations(scan.uuid, {...q, sort_field: 'created_at', sort_order: 'asc'}), {limit: 100})),
      all<Violation>(client.paginate(q => client.listScanViolations(scan.uuid, q), {limit: 100})),
      needs.has('files') ? listAllScanFiles(client, scan.uuid) : Promise.resolve(undefined),
      needs.has('model') ? fetchScanModel(client, scan) : Promise.resolve(undefined),
    ])
    const data: ReportData = {scan, evaluations, violations}
    if (files !== undefined) data.files = files
    if (models !== undefined) Object.assign(data, models)
    return data
  }))
}

// ---------------------------------------------------------------- writing

export interface ReportFailure {
  /** The flag and value that asked for the report, e.g. `--report sarif=out/model.sarif`. */
  target: string
  path: string
  message: string
}

export interface WriteHooks {
  /** Where `-` goes (the command's stdout). */
  stdout(text: string): void
  /** A line for humans after each file written (stderr; silent in --json). */
  note?(line: string): void
}

const withNewline = (text: string) => text.endsWith('\n') ? text : `${text}\n`

/** Write one report; appendable formats append to an existing non-empty file, after a blank line. */
export async function writeReport(path: string, format: ReportFormat, text: string): Promise<'wrote' | 'appended'> {
  const body = withNewline(text)
  const dir = dirname(resolve(path))
  await mkdir(dir, {recursive: true}).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST' || code === 'ENOTDIR') throw Object.assign(new Error(`${dir} is not a directory`), {code: 'ENOTDIR'})
    throw error
  })
  if (format.appendable) {
    const st = await stat(path).catch(() => undefined)
    if (st?.isFile() && st.size > 0) {
      await appendFile(path, `\n${body}`)
      return 'appended'
    }
  }
  await writeFile(path, body)
  return 'wrote'
}

/** `EACCES: permission denied, open 'x'` -> the message as node gives it (it already starts with the code). */
export const writeErrorText = (e: NodeJS.ErrnoException): string => e.code && !e.message.startsWith(e.code) ? `${e.code}: ${e.message}` : e.message

/**
 * Render and write every report. A report that cannot be written does not stop the others; the failures are
 * returned (see reportWriteError).
 */
export async function writeReports(targets: ReportTarget[], data: ReportData[], opts: ReportOptions, hooks: WriteHooks): Promise<ReportFailure[]> {
  const failures: ReportFailure[] = []
  const what = data.length === 1 ? `scan ${data[0].scan.uuid}` : `${data.length} scans`
  for (const t of targets) {
    const format = REPORT_FORMATS[t.format] as ReportFormat
    const text = format.render(data, opts)
    if (t.path === '-') {
      hooks.stdout(text.replace(/\n$/, ''))
      continue
    }
    try {
      const how = await writeReport(t.path, format, text)
      hooks.note?.(`${how === 'appended' ? 'Appended' : 'Wrote'} the ${t.format} report of ${what} to ${t.path}`)
    } catch (error) {
      const e = error as NodeJS.ErrnoException
      failures.push({target: `--report ${t.spec}`, path: t.path, message: writeErrorText(e)})
    }
  }
  return failures
}

const GATE_VERDICT: Record<number, string> = {
  [EXIT.OK]: 'passed', [EXIT.BLOCKED]: 'BLOCKED', [EXIT.SCAN_ERROR]: 'ERROR', [EXIT.WAIT_TIMEOUT]: 'timed out',
}

/**
 * The error for reports that could not be written (exit 7). It names the gate's verdict, which its exit code
 * would otherwise have carried.
 */
export function reportWriteError(failures: ReportFailure[], gateExitCode?: number): DaystromError {
  const list = failures.map(f => `${f.target}: ${f.message}`).join('\n')
  const verdict = gateExitCode === undefined ? '' : ` (the gate ${GATE_VERDICT[gateExitCode] ?? 'ended'}: exit ${gateExitCode} without this error)`
  return new DaystromError(`could not write ${failures.length === 1 ? 'a report' : `${failures.length} reports`}${verdict}\n${list}`, {
    code: 'E_REPORT_WRITE', exit: EXIT.CONFIG,
    details: {failed: failures.map(f => ({report: f.target, path: f.path, error: f.message})), ...(gateExitCode === undefined ? {} : {gate_exit: gateExitCode})},
  })
}
