/**
 * A scan's files: the listing is one directory level per request, so the whole tree is walked (every page of
 * every directory, a few directories at a time), and paths are normalised one way for every consumer
 * (`scans files --tree`, `scans diff`, the CycloneDX BOM, the MCP server).
 */
import type {ModelSecurityClient} from '../airs/client.js'
import type {ScanFile} from '../airs/types.js'

type FilesClient = Pick<ModelSecurityClient, 'paginate' | 'listScanFiles'>

export interface FileNode { file: ScanFile; children: FileNode[] }

export interface WalkOptions {
  /** Directory to start from (default: the root). */
  root?: string
  sortField?: string
  sortDir?: string
  /** Directory listings in flight at once (default 4). */
  concurrency?: number
  /** Deepest directory level walked (default 64). */
  maxDepth?: number
}

/** A path as `a/b/c`: forward slashes, no leading `/` or `./`, no empty or `.` segments. */
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
export const dirQueryPath = (f: ScanFile): string => `/${scanFilePath(f)}`

/** Walk a scan's file tree, one listing (all pages) per directory, a few directories at a time, in listing order. */
export async function walkScanFiles(client: FilesClient, scanUuid: string, opts: WalkOptions = {}): Promise<FileNode[]> {
  const maxDepth = opts.maxDepth ?? 64
  let slots = Math.max(1, opts.concurrency ?? 4)
  const queue: Array<() => void> = []
  const acquire = async () => {
    if (slots > 0) {
      slots--
      return
    }
    await new Promise<void>(resolve => queue.push(resolve))
  }
  const release = () => {
    const next = queue.shift()
    if (next) next()
    else slots++
  }
  const seen = new Set<string>()
  const walk = async (queryPath: string | undefined, depth: number): Promise<FileNode[]> => {
    const key = queryPath ?? '/'
    if (seen.has(key) || depth > maxDepth) return []
    seen.add(key)
    await acquire()
    const entries: ScanFile[] = []
    try {
      const pages = client.paginate(q => client.listScanFiles(scanUuid, {...q, query_path: queryPath, sort_field: opts.sortField, sort_dir: opts.sortDir}), {limit: 100})
      for await (const e of pages) entries.push(e)
    } finally {
      release()
    }
    return Promise.all(entries.map(async file => ({file, children: file.type === 'DIRECTORY' ? await walk(dirQueryPath(file), depth + 1) : []})))
  }
  return walk(opts.root, 0)
}

/** The entries of a file tree, depth first, in listing order (directories before their children). */
export function flattenFileTree(nodes: FileNode[]): ScanFile[] {
  const out: ScanFile[] = []
  const visit = (ns: FileNode[]) => {
    for (const n of ns) {
      out.push(n.file)
      visit(n.children)
    }
  }
  visit(nodes)
  return out
}

/** Every entry of a scan's files listing (directories included), the whole tree. */
export async function listAllScanFiles(client: FilesClient, scanUuid: string): Promise<ScanFile[]> {
  return flattenFileTree(await walkScanFiles(client, scanUuid))
}
