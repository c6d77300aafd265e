/**
 * `scans diff` end to end on the sandbox through bin/run.js: LOCAL scans of generated model directories made
 * with `scans create --model-path`, then compared by scan UUID and by model version, with real exit codes.
 */
import {expect} from 'chai'
import {rmSync} from 'node:fs'

import type {Scan} from '../../src/lib/airs/types.js'
import type {ScanDiff} from '../../src/lib/scans/diff.js'
import {cli, e2eSandbox, parseJson} from '../helpers/cli.js'
import {payload, tempTree, validSafetensors} from '../scanner/fixtures.js'

describe('scans diff through bin/run.js --sandbox', function () {
  this.timeout(180_000)
  const sbx = e2eSandbox('daystrom-diff-e2e-')
  let clean: Scan
  let bad: Scan
  let badAgain: Scan
  const dirs: string[] = []

  const ms = (...args: string[]) => cli(['model-security', ...args, '--sandbox'], sbx.env)
  async function scan(modelDir: string, expectedExit: number): Promise<Scan> {
    const r = await ms('scans', 'create', '--model-path', modelDir, '--group', 'Default LOCAL', '--wait', '--interval', '200ms', '--json')
    expect(r.code, r.stderr).to.equal(expectedExit)
    return parseJson<Scan>(r)
  }

  before(async function () {
    this.timeout(300_000)
    const v1 = tempTree({'config.json': '{"model_type": "bert", "layers": 2}', 'weights/model.safetensors': validSafetensors()})
    const v2 = tempTree({'config.json': '{"model_type": "bert", "layers": 4}', 'weights/model.safetensors': validSafetensors(), 'weights/extra.pkl': payload(2)})
    dirs.push(v1, v2)
    clean = await scan(v1, 0)
    bad = await scan(v2, 8)
    badAgain = await scan(v2, 8)
  })

  after(() => {
    for (const d of dirs) if (d) rmSync(d, {recursive: true, force: true})
  })

  it('reports the outcome change, the new violations, the changed rules and the file changes', async () => {
    expect([clean.eval_outcome, bad.eval_outcome, badAgain.eval_outcome]).to.deep.equal(['ALLOWED', 'BLOCKED', 'BLOCKED'])
    const r = await ms('scans', 'diff', clean.uuid, bad.uuid, '--json')
    expect(r.code, r.stderr).to.equal(0)
    const d = parseJson<ScanDiff>(r)
    expect(d.outcome).to.deep.equal({before: 'ALLOWED', after: 'BLOCKED', changed: true})
    expect(d.violations.new.map(v => [v.rule_name, v.file, v.threat, v.rule_instance_state])).to.deep.equal([
      ['Load Time Code Execution Check', 'weights/extra.pkl', 'PAIT-PKL-100', 'BLOCKING'],
      ['Stored In Approved File Format', 'weights/extra.pkl', 'UNAPPROVED_FORMATS', 'ALLOWING'],
    ])
    expect(d.violations.resolved).to.deep.equal([])
    expect(d.rules.map(x => [x.rule_name, x.before?.result, x.after?.result])).to.deep.equal([
      ['Load Time Code Execution Check', 'PASSED', 'FAILED'], ['Stored In Approved File Format', 'PASSED', 'FAILED'],
    ])
    expect(d.files.added.map(f => [f.path, f.formats])).to.deep.equal([['weights/extra.pkl', ['pickle']]])
    expect(d.files.changed.map(f => f.path)).to.deep.equal(['config.json'])
    expect(d.files.changed[0].before.sha256).to.match(/^[0-9a-f]{64}$/)
    expect(d.files.unchanged, 'weights/model.safetensors').to.equal(1)
  })

  it('two scans of the same model: every violation unchanged, nothing new, although all UUIDs differ', async () => {
    const d = parseJson<ScanDiff>(await ms('scans', 'diff', bad.uuid, badAgain.uuid, '--json'))
    expect(d.summary).to.include({identical: true, violations_new: 0, violations_resolved: 0, violations_unchanged: 2, files_unchanged: 3})
    expect(d.violations.unchanged.every(v => v.uuid !== v.previous_uuid)).to.equal(true)
  })

  it('--fail-on-new exits 8 for new BLOCKING violations (the markdown still printed) and 0 the other way round', async () => {
    const gate = await ms('scans', 'diff', clean.uuid, bad.uuid, '--fail-on-new', '-o', 'markdown')
    expect(gate.code, gate.stderr).to.equal(8)
    expect(gate.stdout).to.match(/^## Model scan comparison: ✅ ALLOWED → ⛔ BLOCKED/).and.include('`weights/extra.pkl`')
    expect(gate.stderr).to.include('--fail-on-new: 1 new violation of BLOCKING rules (exit 8)')
    const back = await ms('scans', 'diff', bad.uuid, clean.uuid, '--fail-on-new')
    expect(back.code, back.stderr).to.equal(0)
    expect(back.stdout).to.include('Outcome: BLOCKED → ALLOWED').and.include('Resolved violations (2)')
  })

  it('--model-version twice takes the latest scan of each version', async () => {
    expect(bad.model_version_uuid, 'the same content is the same model version').to.equal(badAgain.model_version_uuid)
    const r = await ms('scans', 'diff', '--model-version', clean.model_version_uuid!, '--model-version', bad.model_version_uuid!, '--json')
    expect(r.code, r.stderr).to.equal(0)
    const d = parseJson<ScanDiff>(r)
    expect([d.a.uuid, d.b.uuid]).to.deep.equal([clean.uuid, badAgain.uuid])
    expect(d.summary.violations_new_blocking).to.equal(1)
  })
})
