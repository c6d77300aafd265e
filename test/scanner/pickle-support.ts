/**
 * Scan helpers shared by the pickle-engine tests: scan a generated tree with `scanPath`, check the result
 * against the service's ScanDetails schema, and pick files and issues out of it.
 */
import {expect} from 'chai'
import {rmSync} from 'node:fs'
import {validateBody} from '../../src/lib/airs/validate.js'
import type {FileScanData, ModelScanIssue} from '../../src/lib/airs/types.js'
import {scanPath, type ScanReport} from '../../src/lib/scanner/index.js'
import {tempTree} from './fixtures.js'

const roots: string[] = []

/** Remove the temp trees of this test file (call from an `after` hook). */
export function cleanTrees(): void {
  for (const r of roots.splice(0)) rmSync(r, {recursive: true, force: true})
}

export async function scanTree(files: Record<string, Buffer | string>): Promise<ScanReport> {
  const root = tempTree(files)
  roots.push(root)
  const rep = await scanPath(root)
  const problems = validateBody('ScanDetails', rep.scanDetails)
  expect(problems, JSON.stringify(problems)).to.deep.equal([])
  return rep
}

export async function scanOne(name: string, data: Buffer | string): Promise<FileScanData> {
  const rep = await scanTree({[name]: data})
  const f = rep.scanDetails.files.find((x) => x.file_path === name)
  expect(f, `no record for ${name}`).to.not.equal(undefined)
  return f!
}

export const issues = (f: FileScanData): ModelScanIssue[] => f.issues_detected ?? []

export function expectIssue(f: FileScanData, code: string | null, pred: (i: ModelScanIssue) => boolean = () => true, why = ''): ModelScanIssue {
  const hit = issues(f).find((i) => i.threat === code && pred(i))
  expect(hit, `${why}${code} expected in ${JSON.stringify(f.issues_detected, null, 1)} (status ${f.modelscan_status}: ${f.error_message ?? ''})`).to.not.equal(undefined)
  return hit!
}

export function expectClean(f: FileScanData, why = ''): void {
  expect(issues(f), `${why}${JSON.stringify(f.issues_detected, null, 1)}`).to.deep.equal([])
}

/** The os.system finding every "payload first" case must keep. */
export const isSystem = (i: ModelScanIssue): boolean => i.module === 'os' && i.operator === 'system'
