/**
 * Collecting what a scan report needs beyond the scan itself: every file of the scan (the files listing is one
 * directory level per request, so the tree is walked, each level paginated), and the model and model version
 * the scan was filed under. One place for the walk, used by `scans files --tree` and the CycloneDX report.
 */
import type {ModelSecurityClient} from '../airs/client.js'
import {DaystromError} from '../airs/errors.js'
import type {Model, ModelVersion, Scan, ScanFile} from '../airs/types.js'

const MAX_DEPTH = 64
const NIL_UUID = '00000000-0000-0000-0000-000000000000'

export interface FileNode { file: ScanFile; children: FileNode[] }
export interface WalkOptions { queryPath?: string; sortField?: string; sortDir?: string }

/** A path as `a/b/c`: forward slashes, no leading `/` or `./`, no empty segments. */
export function normalizeModelPath(p: string): string {
  return p.replaceAll('\\', '/').split('/').filter(s => s && s !== '.').join('/')
}

/**
 * The full path of a listing entry inside the model (`onnx/model.onnx`). The service's convention is uncertain
 * (reference §4.2: `config.json` or `/model.pkl`, and a nested entry's `path` may be the full path or only its
 * name): a bare name under a non-root parent is joined to the parent.
 */
export function scanFilePath(f: Pick<ScanFile, 'path' | 'parent_path'>): string {
  const path = normalizeModelPath(f.path)
  const parent = normalizeModelPath(f.parent_path ?? '')
  if (!parent || path === parent || path.startsWith(parent + '/')) return path
  return path.includes('/') ? path : `${parent}/${path}`
}

/** The query_path that lists a directory entry's children (always with the leading slash). */
const dirQueryPath = (f: ScanFile) => `/${scanFilePath(f)}`

/** Walk the files listing from `queryPath` (default: the root), every page of every directory, depth first. */
export async function walkScanFiles(client: ModelSecurityClient, scanUuid: string, opts: WalkOptions = {}): Promise<FileNode[]> {
  const seen = new Set<string>()
  const walk = async (queryPath: string | undefined, depth: number): Promise<FileNode[]> => {
    const key = queryPath ?? '/'
    if (seen.has(key) || depth > MAX_DEPTH) return []
    seen.add(key)
    const entries: ScanFile[] = []
    for await (const e of client.paginate(q => client.listScanFiles(scanUuid, {...q, query_path: queryPath, sort_field: opts.sortField, sort_dir: opts.sortDir}), {limit: 100})) entries.push(e)
    const nodes: FileNode[] = []
    for (const e of entries) nodes.push({file: e, children: e.type === 'DIRECTORY' ? await walk(dirQueryPath(e), depth + 1) : []})
    return nodes
  }
  return walk(opts.queryPath, 0)
}

/** The entries of a walked tree in walk order (directories before their children). */
export function flattenFileTree(nodes: FileNode[]): ScanFile[] {
  const flat: ScanFile[] = []
  const visit = (ns: FileNode[]) => {
    for (const n of ns) {
      flat.push(n.file)
      visit(n.children)
    }
  }
  visit(nodes)
  return flat
}

/** Every entry of a scan's files listing (directories included), the whole tree. */
export async function listAllScanFiles(client: ModelSecurityClient, scanUuid: string): Promise<ScanFile[]> {
  return flattenFileTree(await walkScanFiles(client, scanUuid))
}

/**
 * The model version a scan was filed under and its model (name, revision, licence, fingerprint), or nulls when
 * the scan has none yet (PENDING) or the service no longer has them (404). Other errors propagate.
 */
export async function fetchScanModel(client: ModelSecurityClient, scan: Scan): Promise<{model: Model | null; modelVersion: ModelVersion | null}> {
  const versionUuid = scan.model_version_uuid
  if (!versionUuid || versionUuid === NIL_UUID || scan.eval_outcome === 'PENDING') return {model: null, modelVersion: null}
  const orNull = async <T>(p: Promise<T>): Promise<T | null> => {
    try {
      return await p
    } catch (error) {
      if (error instanceof DaystromError && error.code === 'E_NOT_FOUND') return null
      throw error
    }
  }
  const modelVersion = await orNull(client.getModelVersion(versionUuid))
  const model = modelVersion?.model_uuid ? await orNull(client.getModel(modelVersion.model_uuid)) : null
  return {model, modelVersion}
}

/** What a CycloneDX ML-BOM needs beyond {scan, evaluations, violations}: every file, and the model (version). */
export async function fetchBomExtras(client: ModelSecurityClient, scan: Scan): Promise<{files: ScanFile[]; model: Model | null; modelVersion: ModelVersion | null}> {
  const [files, models] = await Promise.all([listAllScanFiles(client, scan.uuid), fetchScanModel(client, scan)])
  return {files, ...models}
}
