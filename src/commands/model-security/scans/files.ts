import {Args, Flags} from '@oclif/core'

import {SORT_DIRECTIONS, SORT_FILE_FIELDS} from '../../../lib/airs/enums.js'
import {usageError} from '../../../lib/airs/errors.js'
import type {ScanFile} from '../../../lib/airs/types.js'
import {pagingFlags} from '../../../lib/command/flags.js'
import {fetchList} from '../../../lib/command/list.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {formatCell} from '../../../lib/command/output.js'
import {type FileNode, flattenFiles, walkScanFiles} from '../../../lib/command/scan-files.js'
import {fileColumns, requireUuid} from '../../../lib/command/scan-views.js'

const baseName = (p: string) => p.replace(/\/+$/, '').split('/').pop() || p

export default class ScansFiles extends ModelSecurityCommand<typeof ScansFiles> {
  static summary = 'List the files of a scan, one directory level at a time, or the whole tree with --tree.'
  static examples = [
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 --path /onnx --sort-field type',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 --tree',
  ]

  static columns = fileColumns
  static args = {scan: Args.string({description: 'Scan UUID.', required: true})}
  static flags = {
    path: Flags.string({summary: 'Directory to list (default: the root, /).'}),
    'sort-field': Flags.option({summary: 'Sort by path or type.', options: [...SORT_FILE_FIELDS]})(),
    'sort-dir': Flags.option({summary: 'Sort direction.', options: [...SORT_DIRECTIONS]})(),
    tree: Flags.boolean({summary: 'Walk the directories recursively and print a tree with each file\'s result (--json: every entry, flat).', exclusive: ['skip', 'all', 'limit']}),
    ...pagingFlags(10),
  }

  async run(): Promise<ScanFile[]> {
    const f = this.flags
    const scan = requireUuid(this.args.scan, 'scan')
    if (f.path !== undefined && (f.path.trim() === '' || f.path.length > 1024)) throw usageError(`--path: must be 1-1024 characters, got ${f.path.length}`)
    const client = await this.client()
    if (!f.tree) {
      const items = await fetchList(client, q => client.listScanFiles(scan, {
        ...q, query_path: f.path, sort_field: f['sort-field'], sort_dir: f['sort-dir'],
      }), f, this.pagingNote)
      return this.emitList(items)
    }
    const roots = await walkScanFiles(client, scan, {queryPath: f.path, sort_field: f['sort-field'], sort_dir: f['sort-dir']})
    const flat = flattenFiles(roots)
    if (this.format() !== 'table') return this.emitList(flat)
    if (flat.length === 0) {
      this.note('No files.')
      return flat
    }
    this.log(renderTree(f.path ?? '/', roots))
    return flat
  }
}

function renderTree(rootLabel: string, roots: FileNode[]): string {
  const lines = [rootLabel]
  const describe = (x: ScanFile) => {
    const formats = formatCell(x.formats ?? [])
    return `${baseName(x.path)}${x.type === 'DIRECTORY' ? '/' : ''}  [${x.result}]${formats ? `  ${formats}` : ''}`
  }
  const draw = (ns: FileNode[], prefix: string) => {
    ns.forEach((n, i) => {
      const last = i === ns.length - 1
      lines.push(`${prefix}${last ? '└── ' : '├── '}${describe(n.file)}`)
      draw(n.children, prefix + (last ? '    ' : '│   '))
    })
  }
  draw(roots, '')
  return lines.join('\n')
}

