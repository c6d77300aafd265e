/**
 * The scan comparison as a pure function (src/lib/scans/diff.ts) and its renderings: matching by content (never
 * by UUID), each category of change, the multiset pairing of equal violations, file digests, and the warnings.
 */
import {expect} from 'chai'
import {randomUUID} from 'node:crypto'

import type {Evaluation, Scan, ScanFile, Violation} from '../../src/lib/airs/types.js'
import {diffScans, newBlockingViolations, normalizePath, type ScanData, violationKey} from '../../src/lib/scans/diff.js'
import {diffRows, renderDiffMarkdown, renderDiffSections} from '../../src/lib/scans/render.js'
import {
  EVAL_ERROR, EVAL_FORMAT, EVAL_LICENSE, EVAL_LOADTIME, FILE_CONFIG, FILE_ONNX, FILE_ONNX_DIR, FILE_PICKLE, SCAN_ALLOWED, SCAN_BLOCKED,
  SCAN_ERROR, VIOLATION_LICENSE, VIOLATION_ONNX, VIOLATION_PICKLE,
} from '../fixtures/data.js'
import {GROUP_LOCAL} from '../fixtures/mgmt.js'

const scanOf = (base: object, extra: Partial<Scan> = {}): Scan => ({...(base as Scan), ...extra})

function data(scan: Scan, evaluations: object[], violations: object[], files: object[]): ScanData {
  return {scan, evaluations: evaluations as Evaluation[], violations: violations as Violation[], files: files as ScanFile[]}
}

/** The same findings as recorded by another scan: every UUID is new, nothing else changes. */
function rescan(d: ScanData): ScanData {
  const scanUuid = randomUUID()
  return {
    scan: {...d.scan, uuid: scanUuid, created_at: '2026-03-04T10:00:00.000000Z'},
    evaluations: d.evaluations.map(e => ({...e, uuid: randomUUID(), scan_uuid: scanUuid, rule_instance_uuid: randomUUID()})),
    violations: d.violations.map(v => ({...v, uuid: randomUUID(), rule_instance_uuid: randomUUID()})),
    files: d.files.map(f => ({...f, uuid: randomUUID(), scan_uuid: scanUuid, model_version_uuid: randomUUID()})),
  }
}

const BASE = data(scanOf(SCAN_BLOCKED), [EVAL_FORMAT, EVAL_LOADTIME, EVAL_LICENSE], [VIOLATION_PICKLE, VIOLATION_ONNX, VIOLATION_LICENSE],
  [FILE_CONFIG, FILE_ONNX_DIR, FILE_PICKLE, FILE_ONNX])

describe('scan comparison (diffScans)', () => {
  it('finds nothing between two scans of the same model, although every UUID differs', () => {
    const again = rescan(BASE)
    const d = diffScans(BASE, again)
    expect(d.summary.identical).to.equal(true)
    expect(d.outcome).to.deep.equal({before: 'BLOCKED', after: 'BLOCKED', changed: false})
    expect(d.violations.new).to.deep.equal([])
    expect(d.violations.resolved).to.deep.equal([])
    expect(d.violations.unchanged).to.have.length(3)
    for (const u of d.violations.unchanged) {
      expect(u.previous_uuid, 'paired with the violation of a').to.be.oneOf([VIOLATION_PICKLE.uuid, VIOLATION_ONNX.uuid, VIOLATION_LICENSE.uuid])
      expect(u.uuid, 'reported with its uuid in b').to.be.oneOf(again.violations.map(v => v.uuid))
    }
    expect(d.rules).to.deep.equal([])
    expect(d.files).to.deep.equal({added: [], removed: [], changed: [], unchanged: 3})
    expect(d.a.uuid).to.equal(SCAN_BLOCKED.uuid)
    expect(d.b.uuid).to.equal(again.scan.uuid)
    expect(d.warnings).to.deep.equal([])
  })

  it('reports an outcome change, new and resolved violations, changed rule results and file changes', () => {
    const before = data(scanOf(SCAN_ALLOWED), [{...EVAL_FORMAT, result: 'PASSED', violation_count: 0}, EVAL_LOADTIME], [],
      [FILE_CONFIG, {...FILE_PICKLE, result: 'SUCCESS'}, {...FILE_ONNX, path: 'old/model.onnx'}])
    const after = rescan(data(scanOf(SCAN_BLOCKED),
      [EVAL_FORMAT, {...EVAL_LOADTIME, result: 'FAILED', violation_count: 1}],
      [VIOLATION_PICKLE, {...VIOLATION_ONNX, rule_name: 'Load Time Code Execution Check', file: 'pytorch_model.bin', threat: 'PAIT-PYTCH-100'}],
      [FILE_CONFIG, {...FILE_PICKLE, blob_id: 'ffffffff0000'}, FILE_ONNX]))
    const d = diffScans(before, after)
    expect(d.outcome).to.deep.equal({before: 'ALLOWED', after: 'BLOCKED', changed: true})
    expect(d.violations.new.map(v => [v.rule_name, v.file, v.threat, v.rule_instance_state])).to.deep.equal([
      ['Load Time Code Execution Check', 'pytorch_model.bin', 'PAIT-PYTCH-100', 'BLOCKING'],
      ['Stored In Approved File Format', 'pytorch_model.bin', 'UNAPPROVED_FORMATS', 'BLOCKING'],
    ])
    expect(d.violations.resolved).to.deep.equal([])
    expect(d.rules.map(r => [r.rule_name, r.change, r.before?.result, r.after?.result])).to.deep.equal([
      ['Load Time Code Execution Check', 'result', 'PASSED', 'FAILED'],
      ['Stored In Approved File Format', 'result', 'PASSED', 'FAILED'],
    ])
    expect(d.files.added.map(f => [f.path, f.formats, f.sha256])).to.deep.equal([['onnx/decoder model.onnx', ['onnx'], 'aa11bb22cc33']])
    expect(d.files.removed.map(f => f.path)).to.deep.equal(['old/model.onnx'])
    expect(d.files.changed).to.deep.equal([{
      path: 'pytorch_model.bin',
      before: {path: 'pytorch_model.bin', sha256: 'd7c452f3aa01', formats: ['pickle', 'pytorch_v0_1_10'], result: 'SUCCESS'},
      after: {path: 'pytorch_model.bin', sha256: 'ffffffff0000', formats: ['pickle', 'pytorch_v0_1_10'], result: 'FAILED'},
    }])
    expect(d.files.unchanged).to.equal(1)
    expect(d.summary).to.deep.include({violations_new: 2, violations_new_blocking: 2, rules_changed: 2, files_added: 1, files_removed: 1, files_changed: 1, identical: false})
    expect(newBlockingViolations(d)).to.have.length(2)
  })

  it('reports resolved violations and counts only BLOCKING ones as new blocking', () => {
    const after = rescan(data(scanOf(SCAN_BLOCKED), [EVAL_FORMAT, EVAL_LOADTIME, EVAL_LICENSE],
      [VIOLATION_PICKLE, {...VIOLATION_LICENSE, description: 'license changed', file: 'LICENSE'}], [FILE_CONFIG]))
    const d = diffScans(BASE, after)
    expect(d.violations.resolved.map(v => [v.rule_name, v.file])).to.deep.equal([
      ['License Exists', null], ['Stored In Approved File Format', 'onnx/decoder model.onnx'],
    ])
    expect(d.violations.resolved.find(v => v.rule_name === 'License Exists')?.uuid, 'resolved carry their uuid in a').to.equal(VIOLATION_LICENSE.uuid)
    expect(d.violations.new.map(v => [v.rule_name, v.file, v.rule_instance_state])).to.deep.equal([['License Exists', 'LICENSE', 'ALLOWING']])
    expect(d.summary.violations_new_blocking).to.equal(0)
    expect(newBlockingViolations(d)).to.deep.equal([])
    expect(d.violations.unchanged.map(v => v.file)).to.deep.equal(['pytorch_model.bin'])
  })

  it('tells a new dangerous call in an already flagged file from the old one (module and operator are part of the key)', () => {
    const call = (module: string, operator: string) => ({...VIOLATION_PICKLE, rule_name: 'Load Time Code Execution Check', threat: 'PAIT-PKL-100', module, operator, uuid: randomUUID()})
    const d = diffScans(data(scanOf(SCAN_BLOCKED), [], [call('os', 'system')], []),
      data(scanOf(SCAN_BLOCKED, {uuid: randomUUID()}), [], [call('os', 'system'), call('subprocess', 'Popen')], []))
    expect(d.violations.unchanged.map(v => v.operator)).to.deep.equal(['system'])
    expect(d.violations.new.map(v => `${v.module}.${v.operator}`)).to.deep.equal(['subprocess.Popen'])
  })

  it('pairs equal violations one to one: two before and three after give two unchanged and one new', () => {
    const v = () => ({...VIOLATION_PICKLE, uuid: randomUUID()})
    const d = diffScans(data(scanOf(SCAN_BLOCKED), [], [v(), v()], []), data(scanOf(SCAN_BLOCKED, {uuid: randomUUID()}), [], [v(), v(), v()], []))
    expect([d.violations.unchanged.length, d.violations.new.length, d.violations.resolved.length]).to.deep.equal([2, 1, 0])
    const back = diffScans(data(scanOf(SCAN_BLOCKED), [], [v(), v(), v()], []), data(scanOf(SCAN_BLOCKED, {uuid: randomUUID()}), [], [v()], []))
    expect([back.violations.unchanged.length, back.violations.new.length, back.violations.resolved.length]).to.deep.equal([1, 0, 2])
  })

  it('matches paths with or without a leading slash and ignores directories', () => {
    expect(normalizePath('/onnx/model.onnx')).to.equal('onnx/model.onnx')
    expect(normalizePath('./onnx\\model.onnx')).to.equal('onnx/model.onnx')
    expect(violationKey({...VIOLATION_PICKLE, file: '/pytorch_model.bin'})).to.equal(violationKey(VIOLATION_PICKLE))
    const after = rescan(BASE)
    after.files = after.files.map(f => ({...f, path: `/${f.path}`})).filter(f => f.type !== 'DIRECTORY')
    after.violations = after.violations.map(v => ({...v, file: v.file ? `/${v.file}` : v.file}))
    const d = diffScans(BASE, after)
    expect(d.summary.identical).to.equal(true)
    expect(d.files.unchanged).to.equal(3)
  })

  it('compares content by sha256 when given, else blob_id, else formats', () => {
    const file = (extra: object) => ({...FILE_CONFIG, ...extra})
    const cmp = (x: object, y: object) => diffScans(data(scanOf(SCAN_ALLOWED), [], [], [file(x)]), data(scanOf(SCAN_ALLOWED, {uuid: randomUUID()}), [], [], [file(y)])).files
    expect(cmp({sha256: 'a'.repeat(64), blob_id: 'x'}, {sha256: 'a'.repeat(64), blob_id: 'y'}).unchanged, 'same sha256, other blob').to.equal(1)
    expect(cmp({sha256: 'a'.repeat(64)}, {sha256: 'b'.repeat(64)}).changed[0].after.sha256).to.equal('b'.repeat(64))
    expect(cmp({blob_id: 'x1'}, {blob_id: 'x2'}).changed).to.have.length(1)
    expect(cmp({blob_id: null, formats: ['json']}, {blob_id: null, formats: ['json']}).unchanged).to.equal(1)
    expect(cmp({blob_id: null, formats: ['json']}, {blob_id: null, formats: ['yaml']}).changed).to.have.length(1)
    expect(cmp({blob_id: 'x', formats: ['json', 'zip']}, {blob_id: 'x', formats: ['zip', 'json']}).unchanged, 'format order is not a change').to.equal(1)
  })

  it('reports rules evaluated on one side only and a change of state', () => {
    const before = data(scanOf(SCAN_BLOCKED), [EVAL_FORMAT, EVAL_LICENSE], [], [])
    const after = rescan(data(scanOf(SCAN_BLOCKED), [{...EVAL_FORMAT, rule_instance_state: 'ALLOWING'}, EVAL_ERROR], [], []))
    const d = diffScans(before, after)
    expect(d.rules.map(r => [r.rule_name, r.change])).to.deep.equal([
      ['License Exists', 'removed'], ['Organization Verified By Hugging Face', 'added'], ['Stored In Approved File Format', 'state'],
    ])
    const state = d.rules.find(r => r.change === 'state')!
    expect([state.before, state.after]).to.deep.equal([
      {result: 'FAILED', state: 'BLOCKING', violation_count: 2}, {result: 'FAILED', state: 'ALLOWING', violation_count: 2},
    ])
  })

  it('warns about a scan in ERROR, different security groups, and a scan compared with itself', () => {
    const other = scanOf(SCAN_ERROR, {uuid: randomUUID(), security_group_uuid: GROUP_LOCAL.uuid, security_group_name: GROUP_LOCAL.name})
    const d = diffScans(BASE, data(other, [], [], []))
    expect(d.warnings.join('\n')).to.match(/different security groups \("Default HUGGING_FACE" and "Default LOCAL"\)/)
      .and.match(/scan b .* ended in ERROR \(ACCESS_DENIED: The model repository is gated: access denied\)/)
    expect(d.violations.resolved).to.have.length(3)
    expect(diffScans(BASE, BASE).warnings).to.deep.equal([`both sides are the same scan (${SCAN_BLOCKED.uuid})`])
  })
})

describe('scan comparison renderings', () => {
  const after = rescan(data(scanOf(SCAN_ALLOWED), [{...EVAL_FORMAT, result: 'PASSED', violation_count: 0}, EVAL_LOADTIME, EVAL_LICENSE],
    [VIOLATION_LICENSE, {...VIOLATION_PICKLE, file: 'new|file.bin', rule_name: 'Load Time Code Execution Check', threat: 'PAIT-PKL-100'}],
    [FILE_CONFIG, {...FILE_PICKLE, blob_id: '0123456789abcdef'}]))
  const d = diffScans(BASE, after)

  it('sections: the outcome first, then each category with its count', () => {
    const text = renderDiffSections(d, {truncate: false})
    const lines = text.split('\n')
    expect(lines[0]).to.equal('Outcome: BLOCKED → ALLOWED')
    expect(lines[1]).to.match(new RegExp(`^a  ${SCAN_BLOCKED.uuid}  BLOCKED  `))
    expect(lines[2]).to.match(new RegExp(`^b  ${after.scan.uuid}  ALLOWED  `))
    expect(text).to.include('New violations (1, 1 BLOCKING)\n  RULE').and.include('Resolved violations (2)').and.include('Unchanged violations (1)')
    expect(text).to.include('Rule evaluations changed (1)').and.match(/Stored In Approved File Format\s+result\s+FAILED \(BLOCKING, 2 violations\)\s+PASSED \(BLOCKING, 0 violations\)/)
    expect(text).to.include('Files changed (2; 1 unchanged)').and.match(/removed\s+onnx\/decoder model\.onnx\s+onnx · aa11bb22cc33/)
      .and.match(/changed\s+pytorch_model\.bin\s+pickle, pytorch_v0_1_10 · d7c452f3aa01\s+pickle, pytorch_v0_1_10 · 0123456789ab/)
  })

  it('sections of identical scans say so and list no changes', () => {
    const text = renderDiffSections(diffScans(BASE, rescan(BASE)))
    expect(text).to.match(/^Outcome: BLOCKED → BLOCKED \(unchanged\)/).and.include('Summary: no differences;')
    expect(text).to.include('New violations (0)\n\nResolved violations (0)').and.include('Files changed (0; 3 unchanged)')
  })

  it('markdown for a pull-request comment: header table, summary, escaped cells, collapsed unchanged list', () => {
    const md = renderDiffMarkdown(d)
    expect(md.split('\n')[0]).to.equal('## Model scan comparison: ⛔ BLOCKED → ✅ ALLOWED')
    expect(md).to.include(`| Before | \`${SCAN_BLOCKED.uuid}\` | BLOCKED |`).and.include(`| After | \`${after.scan.uuid}\` | ALLOWED |`)
    expect(md).to.include('**1 new violation (1 BLOCKING), 2 resolved, 1 unchanged;')
    expect(md).to.include('### 🆕 New violations (1, 1 BLOCKING)').and.include('| Load Time Code Execution Check | BLOCKING | `new\\|file.bin` | PAIT-PKL-100 |')
    expect(md).to.include('### ✔️ Resolved violations (2)').and.include('### Rule evaluations changed (1)').and.include('### Files changed (2)')
    expect(md).to.include('<details><summary>Unchanged violations (1)</summary>')
  })

  it('rows: one per change, unchanged violations included, with the section and kind of change', () => {
    const rows = diffRows(d)
    expect(rows[0]).to.include({section: 'outcome', change: 'changed', before: 'BLOCKED', after: 'ALLOWED'})
    expect(rows.filter(r => r.section === 'violation').map(r => r.change).sort()).to.deep.equal(['new', 'resolved', 'resolved', 'unchanged'])
    expect(rows.find(r => r.section === 'file' && r.change === 'removed')).to.include({file: 'onnx/decoder model.onnx', after: null})
    expect(rows.filter(r => r.section === 'rule')).to.have.length(1)
  })
})
