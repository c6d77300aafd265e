/**
 * Scanning a local model before `scans create` sends it, with progress on stderr (the same rules as the wait
 * reporter in gate.ts): a listr2 task on a TTY, one plain line per change otherwise (at most two a second, and
 * the last one always), nothing in --json. The scanner is imported lazily.
 */
import {resolve} from 'node:path'

import type {ScanDetails} from '../airs/types.js'

type ScannerModule = typeof import('../scanner/index.js')
type ScanProgress = import('../scanner/index.js').ScanProgress
type ScanReport = import('../scanner/index.js').ScanReport

export interface LocalScanOptions {
  allowPatterns?: string[]
  ignorePatterns?: string[]
  /** Files scanned in parallel; undefined = the scanner's default. */
  concurrency?: number
  /** --json: no progress at all. */
  json: boolean
  /** A line for humans on stderr. */
  note(line: string): void
  warn(line: string): void
  /** The scanner (tests); default: src/lib/scanner, imported on first use. */
  scanner?: Pick<ScannerModule, 'scanPath'>
}

const mib = (n: number) => `${(n / 1_048_576).toFixed(n < 10_485_760 ? 1 : 0)} MiB`

export const progressText = (p: ScanProgress): string =>
  `${p.filesDone}/${p.filesTotal} files, ${mib(p.bytesDone)}/${mib(p.bytesTotal)}${p.currentFile ? `, ${p.currentFile}` : ''}`

/** Plain progress lines: one per change, at most one per `everyMs` except the final one. */
export function plainScanProgress(label: string, note: (line: string) => void, now: () => number = Date.now, everyMs = 500): (p: ScanProgress) => void {
  let lastLine = ''
  let lastAt = Number.NEGATIVE_INFINITY
  return p => {
    const t = now()
    const done = p.filesDone === p.filesTotal
    const line = `Scanning ${label}: ${progressText(p)}`
    if (line === lastLine || (!done && t - lastAt < everyMs)) return
    lastLine = line
    lastAt = t
    note(line)
  }
}

/** Scan `path` here and return the scan_details to send, after reporting the scanner's notes. */
export async function scanLocally(path: string, o: LocalScanOptions): Promise<ScanDetails> {
  const scanner = o.scanner ?? await import('../scanner/index.js')
  const target = resolve(path)
  const scan = (onProgress?: (p: ScanProgress) => void) => scanner.scanPath(target, {
    allowPatterns: o.allowPatterns, ignorePatterns: o.ignorePatterns, concurrency: o.concurrency, onProgress,
  })
  let result: ScanReport
  if (!o.json && process.stderr.isTTY && !process.env.CI) {
    const {Listr, ListrLogger, ProcessOutput} = await import('listr2')
    const logger = new ListrLogger({useIcons: true, processOutput: new ProcessOutput(process.stderr, process.stderr)})
    const box: {r?: ScanReport} = {}
    await new Listr([{
      title: `Scanning ${path}`,
      task: async (_ctx: unknown, task: {title: string}) => {
        box.r = await scan(p => { task.title = `Scanning ${path}: ${progressText(p)}` })
        task.title = `Scanned ${path}: ${box.r.scanDetails.total_files_scanned} files, ${box.r.scanDetails.total_files_skipped} skipped`
      },
    }], {rendererOptions: {logger}, fallbackRendererOptions: {logger}}).run()
    result = box.r!
  } else {
    result = await scan(o.json ? undefined : plainScanProgress(path, l => { o.note(l) }))
  }
  for (const n of result.notes) o.note(`note: ${n}`)
  if (result.truncated) o.warn(`only the first ${result.scanDetails.files.length} files are reported (the service accepts at most 1000 per scan)`)
  return result.scanDetails
}
