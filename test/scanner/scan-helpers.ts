/**
 * Scan helpers shared by the format, archive and pickle-engine tests: scan generated files in a temp tree,
 * check the scan_details against the service schema, and pick out issues. Temp trees are removed after the
 * run (test/scanner/pickle-support.ts adds the pickle tests' own lookups).
 */
import {expect} from 'chai'
import {rmSync} from 'node:fs'
import {validateBody} from '../../src/lib/airs/validate.js'
import type {FileScanData} from '../../src/lib/airs/types.js'
import {scanPath, type ScanReport} from '../../src/lib/scanner/index.js'
import {tempTree} from './fixtures.js'

export type Issue = NonNullable<FileScanData['issues_detected']>[number]

const roots: string[] = []

/** Remove the temp trees scanned so far (done after the run anyway; a test file may call it from its own `after` hook). */
export function cleanTrees(): void {
  for (const r of roots.splice(0)) rmSync(r, {recursive: true, force: true})
}
after(cleanTrees)

/**
 * Scans run in this thread unless a test asks otherwise: several tests shrink the engine's LIMITS, and a
 * module-level override reaches only this thread's copy of the engine, not a worker's (test/scanner/workers.test.ts
 * checks that workers give the same scan_details).
 */
export async function scanTree(files: Record<string, Buffer | string>, opts: Parameters<typeof scanPath>[1] = {}): Promise<ScanReport> {
  const root = tempTree(files)
  roots.push(root)
  const rep = await scanPath(root, {workers: 'never', ...opts})
  const problems = validateBody('ScanDetails', rep.scanDetails)
  expect(problems, JSON.stringify(problems)).to.deep.equal([])
  return rep
}

export async function scanOne(name: string, data: Buffer | string, opts: Parameters<typeof scanPath>[1] = {}): Promise<FileScanData> {
  const rep = await scanTree({[name]: data}, opts)
  const f = rep.scanDetails.files.find((x) => x.file_path === name)
  expect(f, `no record for ${name}`).to.not.equal(undefined)
  return f!
}

export const issues = (f: FileScanData): Issue[] => f.issues_detected ?? []

export function expectIssue(f: FileScanData, pred: (i: Issue) => boolean, what: string): Issue {
  const hit = issues(f).find(pred)
  expect(hit, `${what} expected in ${JSON.stringify(f, null, 1)}`).to.not.equal(undefined)
  return hit!
}

export function expectThreat(f: FileScanData, code: string, extra?: (i: Issue) => boolean): Issue {
  return expectIssue(f, (i) => i.threat === code && (!extra || extra(i)), code)
}

export function expectClean(f: FileScanData, why = ''): void {
  expect(issues(f), `${why}${JSON.stringify(f, null, 1)}`).to.deep.equal([])
}
