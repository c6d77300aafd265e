/**
 * The pickle-engine tests' side of the scan helpers (test/scanner/scan-helpers.ts, which scans a generated
 * tree with `scanPath` and checks the result against the service's ScanDetails schema): these scans run as
 * the CLI runs them by default (workers: 'auto'), and findings are looked up by threat code.
 */
import {expect} from 'chai'
import type {FileScanData, ModelScanIssue} from '../../src/lib/airs/types.js'
import type {ScanReport} from '../../src/lib/scanner/index.js'
import {issues, scanOne as scanOneWith, scanTree as scanTreeWith} from './scan-helpers.js'

export {cleanTrees, expectClean, issues} from './scan-helpers.js'

const AS_THE_CLI = {workers: 'auto'} as const

export const scanTree = (files: Record<string, Buffer | string>): Promise<ScanReport> => scanTreeWith(files, AS_THE_CLI)

export const scanOne = (name: string, data: Buffer | string): Promise<FileScanData> => scanOneWith(name, data, AS_THE_CLI)

export function expectIssue(f: FileScanData, code: string | null, pred: (i: ModelScanIssue) => boolean = () => true, why = ''): ModelScanIssue {
  const hit = issues(f).find((i) => i.threat === code && pred(i))
  expect(hit, `${why}${code} expected in ${JSON.stringify(f.issues_detected, null, 1)} (status ${f.modelscan_status}: ${f.error_message ?? ''})`).to.not.equal(undefined)
  return hit!
}

/** The os.system finding every "payload first" case must keep. */
export const isSystem = (i: ModelScanIssue): boolean => i.module === 'os' && i.operator === 'system'
