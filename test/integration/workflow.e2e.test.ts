/**
 * The seed workflow end to end through `bin/run.js --sandbox`: spawned processes, real exit codes, stdout
 * JSON parsed. Every step is a separate process, so the sandbox state must persist between them.
 */
import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {cli, e2eSandbox, parseJson} from '../helpers/cli.js'

interface Named { uuid: string; name: string }

describe('seed workflow through bin/run.js --sandbox', function () {
  this.timeout(180_000)
  const sbx = e2eSandbox('daystrom-e2e-')

  const ms = (...args: string[]) => cli(['model-security', ...args, '--sandbox'], sbx.env)

  it('lists groups, browses rules, updates a rule instance and creates a group from files, scans, labels', async () => {
    const groups = await ms('groups', 'list', '--json')
    expect(groups.code, groups.stderr).to.equal(0)
    const names = parseJson<Named[]>(groups).map(g => g.name)
    expect(names).to.include.members(['Default LOCAL', 'Default S3', 'Default HUGGING_FACE'])

    const rules = parseJson<Named[]>(await ms('rules', 'list', '--all', '--json'))
    expect(rules.map(r => r.name)).to.include('Stored In Approved File Format')
    const rule = await ms('rules', 'get', 'Stored In Approved File Format', '--json')
    expect(rule.code).to.equal(0)
    expect(parseJson<{editable_fields: Array<{attribute_name: string}>}>(rule).editable_fields.map(f => f.attribute_name)).to.include('approved_formats')

    const instances = parseJson<Array<Named & {state: string; rule: Named}>>(await ms('rule-instances', 'list', 'Default LOCAL', '--all', '--json'))
    const formatRule = instances.find(i => i.rule.name === 'Stored In Approved File Format')!
    writeFileSync(join(sbx.dir, 'update.json'), JSON.stringify({state: 'BLOCKING'}))
    const updated = await ms('rule-instances', 'update', 'Default LOCAL', formatRule.uuid, '--config', join(sbx.dir, 'update.json'), '--json')
    expect(updated.code, updated.stderr).to.equal(0)
    expect(parseJson<{state: string}>(updated).state).to.equal('BLOCKING')
    const again = parseJson<{state: string}>(await ms('rule-instances', 'get', 'Default LOCAL', formatRule.uuid, '--json'))
    expect(again.state).to.equal('BLOCKING')

    writeFileSync(join(sbx.dir, 'group.yaml'), 'name: e2e-local\nsource_type: LOCAL\ndescription: created from a file\n')
    const created = await ms('groups', 'create', '--config', join(sbx.dir, 'group.yaml'), '--json')
    expect(created.code, created.stderr).to.equal(0)
    expect(parseJson<Named & {source_type: string}>(created)).to.include({name: 'e2e-local', source_type: 'LOCAL'})

    const model = join(sbx.dir, 'model')
    mkdirSync(model)
    writeFileSync(join(model, 'config.json'), '{"model_type": "demo"}')
    writeFileSync(join(model, 'model.pkl'), Buffer.from("cos\nsystem\n(S'echo pwned'\ntR.", 'latin1'))
    const scanRun = await ms('scans', 'create', '--model-path', model, '--group', 'e2e-local', '--wait', '--interval', '1s', '--json')
    expect(scanRun.code, scanRun.stderr).to.equal(8)
    const scan = parseJson<{uuid: string; eval_outcome: string}>(scanRun)
    expect(scan.eval_outcome).to.equal('BLOCKED')

    const listed = parseJson<Array<{uuid: string}>>(await ms('scans', 'list', '--json'))
    expect(listed.map(s => s.uuid)).to.include(scan.uuid)
    const evals = parseJson<Array<{rule_name: string; result: string}>>(await ms('scans', 'evaluations', scan.uuid, '--all', '--json'))
    expect(evals.find(e => e.rule_name === 'Load Time Code Execution Check')?.result).to.equal('FAILED')
    const violations = parseJson<Array<{file?: string; threat?: string}>>(await ms('scans', 'violations', scan.uuid, '--all', '--json'))
    expect(violations.some(v => v.file === 'model.pkl' && /^PAIT-/.test(v.threat ?? ''))).to.equal(true)
    const files = parseJson<Array<{path: string}>>(await ms('scans', 'files', scan.uuid, '--json'))
    expect(files.map(f => f.path.replace(/^\//, ''))).to.include.members(['config.json', 'model.pkl'])

    const labelled = await ms('labels', 'add', scan.uuid, '--labels', '[{"key":"env","value":"prod"}]')
    expect(labelled.code, labelled.stderr).to.equal(0)
    const keys = parseJson<string[]>(await ms('labels', 'keys', '--json'))
    expect(keys).to.include('env')
  })

  it('exits 4 for an unknown group name and 2 for a bad flag value, with nothing on stdout', async () => {
    const missing = await ms('groups', 'get', 'no-such-group', '--json')
    expect(missing.code).to.equal(4)
    expect(missing.stdout).to.equal('')
    expect(JSON.parse(missing.stderr.trim().split('\n').pop()!).error.code).to.equal('E_NOT_FOUND')
    const bad = await ms('groups', 'list', '--source-type', 'FTP')
    expect(bad.code).to.equal(2)
    expect(bad.stderr).to.match(/FTP/)
  })
})
