/**
 * The whole file tree of a scan. The service lists one directory level per request (`query_path`, paginated),
 * so the tree is walked: every DIRECTORY entry is listed in turn, each directory once, at most MAX_DEPTH deep.
 */
import type {ListFilesQuery, ModelSecurityClient} from '../airs/client.js'
import type {ScanFile} from '../airs/types.js'

const MAX_DEPTH = 64

export interface FileNode { file: ScanFile; children: FileNode[] }

/** The query_path that lists a directory entry's children (the service's paths may lack the leading slash). */
export const dirQueryPath = (f: ScanFile): string => (f.path.startsWith('/') ? f.path : `/${f.path}`)

export async function walkScanFiles(client: Pick<ModelSecurityClient, 'paginate' | 'listScanFiles'>, scanUuid: string,
  opts: {queryPath?: string; sort_field?: ListFilesQuery['sort_field']; sort_dir?: ListFilesQuery['sort_dir']} = {}): Promise<FileNode[]> {
  const seen = new Set<string>()
  const walk = async (queryPath: string | undefined, depth: number): Promise<FileNode[]> => {
    const key = queryPath ?? '/'
    if (seen.has(key) || depth > MAX_DEPTH) return []
    seen.add(key)
    const entries: ScanFile[] = []
    for await (const e of client.paginate(q => client.listScanFiles(scanUuid, {...q, query_path: queryPath, sort_field: opts.sort_field, sort_dir: opts.sort_dir}), {limit: 100})) entries.push(e)
    const nodes: FileNode[] = []
    for (const e of entries) nodes.push({file: e, children: e.type === 'DIRECTORY' ? await walk(dirQueryPath(e), depth + 1) : []})
    return nodes
  }
  return walk(opts.queryPath, 0)
}

/** Every entry of a tree, depth first (a directory before its children). */
export function flattenFiles(nodes: FileNode[]): ScanFile[] {
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

/** Every file and directory of a scan, flat. */
export async function listAllScanFiles(client: Pick<ModelSecurityClient, 'paginate' | 'listScanFiles'>, scanUuid: string): Promise<ScanFile[]> {
  return flattenFiles(await walkScanFiles(client, scanUuid))
}
