/**
 * Collecting what a scan recorded through the client, for comparisons: the scan, every rule evaluation,
 * every violation and every file of its tree (the files endpoint lists one directory per request). Used by
 * `scans diff` and the MCP server's diff_scans tool.
 */
import type {ModelSecurityClient, PageFetcher} from '../airs/client.js'
import {DaystromError, EXIT, usageError} from '../airs/errors.js'
import type {Scan} from '../airs/types.js'
import {requireUuid} from '../command/scan-views.js'
import {diffScans, type ScanData, type ScanDiff} from './diff.js'
import {flattenFileTree, walkScanFiles} from './files.js'

/** The two scans to compare: by scan UUID, or the latest scan of each model version. */
export interface DiffRefs { by: 'scan' | 'model-version'; a: string; b: string }

/** How the caller names its inputs, for error messages (CLI arguments/flags or MCP tool arguments). */
export interface DiffRefNames { scans: [string, string]; versions: [string, string]; scansHint: string; versionsHint: string }

export const CLI_DIFF_NAMES: DiffRefNames = {
  scans: ['scanA', 'scanB'], versions: ['--model-version (first)', '--model-version (second)'],
  scansHint: 'two scan UUIDs (<scanA> <scanB>)', versionsHint: 'two --model-version UUIDs',
}

/** Check the inputs before any request: exactly two scan UUIDs or exactly two model version UUIDs (exit 2). */
export function parseDiffRefs(scans: string[], versions: string[], names: DiffRefNames = CLI_DIFF_NAMES): DiffRefs {
  const expected = `expected ${names.scansHint} or ${names.versionsHint}`
  if (scans.length > 0 && versions.length > 0) {
    throw usageError(`${expected}, not a mix: got ${scans.length} scan${scans.length === 1 ? '' : 's'} and ${versions.length} model version${versions.length === 1 ? '' : 's'}`)
  }
  if (versions.length > 0) {
    if (versions.length !== 2) throw usageError(`${expected}: got ${versions.length} model version${versions.length === 1 ? '' : 's'}`)
    const hint = 'model version UUIDs come from `daystrom model-security models versions <model>`'
    return {by: 'model-version', a: requireUuid(versions[0], names.versions[0], hint), b: requireUuid(versions[1], names.versions[1], hint)}
  }
  if (scans.length !== 2) throw usageError(`${expected}: got ${scans.length} scan${scans.length === 1 ? '' : 's'}`)
  return {by: 'scan', a: requireUuid(scans[0], names.scans[0]), b: requireUuid(scans[1], names.scans[1])}
}

/** The newest scan of a model version (exit 4 when it has none). */
export async function latestScanOfVersion(client: ModelSecurityClient, versionUuid: string): Promise<Scan> {
  const page = await client.listScans({model_version_uuid: versionUuid, sort_order: 'desc', limit: 1})
  const scan = page.items[0]
  if (!scan) {
    throw new DaystromError(`no scan found for model version ${versionUuid}`, {
      code: 'E_NOT_FOUND', exit: EXIT.NOT_FOUND, details: {model_version_uuid: versionUuid},
      suggestions: [`daystrom model-security models version ${versionUuid}`, `daystrom model-security scans list --model-version ${versionUuid}`],
    })
  }
  return scan
}

/**
 * A PENDING scan has recorded nothing yet (evaluations, violations and files are written when it settles),
 * so a comparison with it would report everything of the other side as resolved or new. We refuse, with the
 * gate's code for "still PENDING" (11), and point at `scans wait`.
 */
export function assertSettled(scan: Scan, label: string): void {
  if (scan.eval_outcome !== 'PENDING') return
  throw new DaystromError(`scan ${label} (${scan.uuid}) is still PENDING: it has no results to compare yet; wait for it first`, {
    code: 'E_SCAN_PENDING', exit: EXIT.WAIT_TIMEOUT, details: {scan_uuid: scan.uuid},
    suggestions: [`daystrom model-security scans wait ${scan.uuid}`],
  })
}

async function all<T>(client: ModelSecurityClient, fetch: PageFetcher<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of client.paginate(fetch, {limit: 100})) out.push(item)
  return out
}

/** Everything a settled scan recorded: evaluations (oldest first), violations and the whole file tree. */
export async function fetchScanData(client: ModelSecurityClient, scan: Scan): Promise<ScanData> {
  const [evaluations, violations, tree] = await Promise.all([
    all(client, q => client.listScanEvaluations(scan.uuid, {...q, sort_field: 'created_at', sort_order: 'asc'})),
    all(client, q => client.listScanViolations(scan.uuid, q)),
    walkScanFiles(client, scan.uuid),
  ])
  return {scan, evaluations, violations, files: flattenFileTree(tree)}
}

/** The two scans named by the refs (both fetched at once), checked to be settled. */
export async function resolveDiffScans(client: ModelSecurityClient, refs: DiffRefs): Promise<[Scan, Scan]> {
  const get = (uuid: string) => (refs.by === 'scan' ? client.getScan(uuid) : latestScanOfVersion(client, uuid))
  const [a, b] = await Promise.all([get(refs.a), get(refs.b)])
  assertSettled(a, 'a')
  assertSettled(b, 'b')
  return [a, b]
}

/** Fetch both scans and compare them. */
export async function compareScans(client: ModelSecurityClient, refs: DiffRefs): Promise<ScanDiff> {
  const [a, b] = await resolveDiffScans(client, refs)
  const [da, db] = await Promise.all([fetchScanData(client, a), a.uuid === b.uuid ? undefined : fetchScanData(client, b)])
  return diffScans(da, db ?? da)
}
