/**
 * The CI wrappers, run the way their hosts run them, without the hosts:
 * - the GitHub Action: action.yml is parsed; its gate step's `env:` is evaluated against the inputs (the action's
 *   defaults overridden by a workflow's `with:`), exactly as the runner maps inputs to INPUT_*; then the step's
 *   one script runs with GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_WORKSPACE pointed at temp files/dirs;
 * - the GitLab template: parsed; its `script:` lines run in one `sh -e` session with the template's variables
 *   (plus the job's overrides), `daystrom` on PATH being this checkout (the `before_script` install from the
 *   registry is the one thing not run).
 * Both against the sandbox (a temp DAYSTROM_DATA_DIR), for a clean model and a malicious one generated here.
 */
import {expect} from 'chai'
import {XMLParser} from 'fast-xml-parser'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse as parseYaml} from 'yaml'

import {ROOT} from '../helpers/api.js'
import {ensureBuilt, runProcess} from '../helpers/cli.js'
import {expectValidSarif} from '../helpers/sarif.js'

/** A pickle whose loading calls posix.system('echo pwned'): PROTO 2, GLOBAL, MARK, BINUNICODE, TUPLE, REDUCE, STOP. */
function maliciousPickle(): Buffer {
  const arg = Buffer.from('echo pwned')
  const len = Buffer.alloc(4)
  len.writeUInt32LE(arg.length)
  return Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from('cposix\nsystem\n(X', 'latin1'), len, arg, Buffer.from('tR.', 'latin1')])
}

/** A temp workspace holding models/clean (a JSON config) and models/evil (that config plus the pickle). */
function workspace(): {dir: string; base: string} {
  const base = mkdtempSync(join(tmpdir(), 'daystrom-ci-'))
  const dir = join(base, 'workspace')
  mkdirSync(join(dir, 'models', 'clean'), {recursive: true})
  mkdirSync(join(dir, 'models', 'evil'), {recursive: true})
  writeFileSync(join(dir, 'models', 'clean', 'config.json'), '{"architectures": ["BertModel"], "hidden_size": 8}')
  writeFileSync(join(dir, 'models', 'evil', 'config.json'), '{"hidden_size": 8}')
  writeFileSync(join(dir, 'models', 'evil', 'model.pkl'), maliciousPickle())
  return {dir, base}
}

/** Environment of a spawned step: no inherited credentials or DAYSTROM_* (the sandbox data in a temp dir). */
function cleanEnv(base: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? base, NO_COLOR: '1',
    DAYSTROM_DATA_DIR: join(base, 'data'), DAYSTROM_CONFIG_DIR: join(base, 'config'), DAYSTROM_CACHE_DIR: join(base, 'cache'),
  }
}

/** GITHUB_OUTPUT's format: `name=value` lines and `name<<DELIM` ... `DELIM` blocks. */
function parseGithubOutput(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    const block = /^([^=<]+)<<(.+)$/.exec(line)
    if (block) {
      const end = lines.indexOf(block[2], i + 1)
      out[block[1]] = lines.slice(i + 1, end).join('\n')
      i = end
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
    }
  }
  return out
}

const parser = new XMLParser({ignoreAttributes: false, attributeNamePrefix: '@', isArray: name => ['testcase', 'testsuite', 'property'].includes(name)})

// ---------------------------------------------------------------- GitHub

interface ActionStep { id?: string; name?: string; shell?: string; run?: string; env?: Record<string, string>; 'working-directory'?: string }
interface Action {
  inputs: Record<string, {description: string; required?: boolean; default?: string}>
  outputs: Record<string, {description: string; value: string}>
  runs: {using: string; steps: ActionStep[]}
}

const action = parseYaml(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as Action
const gateStep = action.runs.steps.find(s => s.id === 'gate')!
const inputEnvName = (input: string) => `INPUT_${input.replaceAll('-', '_').toUpperCase()}`

/** What the runner puts in the gate step's environment for a workflow's `with:`. */
function stepEnv(withInputs: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, expr] of Object.entries(gateStep.env ?? {})) {
    env[name] = expr.replaceAll(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_m, input: string) => withInputs[input] ?? action.inputs[input]?.default ?? '')
  }
  return env
}

async function runAction(withInputs: Record<string, string>) {
  const {dir, base} = workspace()
  const files = {output: join(base, 'github_output'), summary: join(base, 'step_summary')}
  writeFileSync(files.output, '')
  writeFileSync(files.summary, '')
  // `run: node "$GITHUB_ACTION_PATH/ci/github/gate.mjs"` with the action checked out at ROOT
  const script = gateStep.run!.replace('"$GITHUB_ACTION_PATH/', `"${ROOT}/`).match(/^node "([^"]+)"$/)![1]
  const r = await runProcess(process.execPath, [script], {cwd: dir, input: null, env: {
    ...cleanEnv(base), ...stepEnv(withInputs),
    GITHUB_OUTPUT: files.output, GITHUB_STEP_SUMMARY: files.summary, GITHUB_WORKSPACE: dir,
  }})
  return {...r, dir, outputs: parseGithubOutput(readFileSync(files.output, 'utf8')), summary: readFileSync(files.summary, 'utf8')}
}

describe('CI: the GitHub Action (action.yml + ci/github/gate.mjs)', function () {
  this.timeout(120_000)
  before(() => ensureBuilt())

  it('is a composite action that installs from its own checkout and maps every input to INPUT_* for one script', () => {
    expect(action.runs.using).to.equal('composite')
    const install = action.runs.steps[0]
    expect(install['working-directory']).to.equal('${{ github.action_path }}')
    expect(install.run).to.match(/npm ci\b/)
    expect(install.run).to.not.match(/npm (install|i) |npx /)
    expect(gateStep.run).to.equal('node "$GITHUB_ACTION_PATH/ci/github/gate.mjs"')
    for (const name of ['model-path', 'model-uri', 'group', 'fail-on', 'timeout', 'sandbox', 'sarif-file', 'junit-file', 'labels']) {
      expect(action.inputs, name).to.have.property(name)
    }
    // every input, and nothing else, exactly as ${{ inputs.<name> }}
    expect(Object.keys(gateStep.env!).sort()).to.deep.equal(Object.keys(action.inputs).map(inputEnvName).sort())
    for (const name of Object.keys(action.inputs)) expect(gateStep.env![inputEnvName(name)]).to.equal(`\${{ inputs.${name} }}`)
    // the script reads no other INPUT_* than those
    const source = readFileSync(join(ROOT, 'ci', 'github', 'gate.mjs'), 'utf8')
    const read = [...source.matchAll(/(?:input|bool)\('([\w-]+)'\)/g)].map(m => m[1])
    expect([...new Set(read)].sort()).to.deep.equal(Object.keys(action.inputs).sort())
    const envRead = [...source.matchAll(/process\.env\.([A-Z_]+)/g)].map(m => m[1])
    expect([...new Set(envRead)].sort()).to.deep.equal(['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY', 'GITHUB_WORKSPACE'])
    for (const [name, o] of Object.entries(action.outputs)) expect(o.value, name).to.equal(`\${{ steps.gate.outputs.${name} }}`)
    for (const name of ['scan-uuid', 'outcome', 'sarif-file']) expect(action.outputs).to.have.property(name)
  })

  it('a clean model: exit 0, outcome ALLOWED, every output set, the reports and the job summary written', async () => {
    const r = await runAction({'model-path': 'models/clean', sandbox: 'true', labels: 'env=ci, repo=daystrom\nrun=42'})
    expect(r.code, r.stderr).to.equal(0)
    expect(Object.keys(r.outputs).sort()).to.deep.equal(Object.keys(action.outputs).sort())
    expect(r.outputs.outcome).to.equal('ALLOWED')
    expect(r.outputs['scan-uuid']).to.match(/^[0-9a-f-]{36}$/)
    expect(r.outputs['sarif-file']).to.equal('model-security.sarif')
    expect(r.outputs['exit-code']).to.equal('0')
    const sarif = JSON.parse(readFileSync(join(r.dir, 'model-security.sarif'), 'utf8'))
    expectValidSarif(sarif)
    expect(sarif.runs[0].results).to.deep.equal([])
    expect(parser.parse(readFileSync(join(r.dir, 'model-security.junit.xml'), 'utf8')).testsuites['@failures']).to.equal('0')
    expect(r.summary).to.match(/^## ✅ Model scan ALLOWED\n/)
    expect(r.summary).to.contain('`env=ci` `repo=daystrom` `run=42`')
    expect(r.stdout).to.match(/Outcome:\s+ALLOWED/) // the gate's own view in the log
  })

  it('a malicious model: exit 8, outcome BLOCKED, SARIF valid with its finding at the file\'s repository path, summary written', async () => {
    const r = await runAction({'model-path': 'models/evil', sandbox: 'true', 'sarif-file': 'reports/model.sarif'})
    expect(r.code, r.stderr).to.equal(8)
    expect(r.outputs.outcome).to.equal('BLOCKED')
    expect(r.outputs['sarif-file']).to.equal('reports/model.sarif')
    expect(r.outputs['exit-code']).to.equal('8')
    const sarif = JSON.parse(readFileSync(join(r.dir, 'reports', 'model.sarif'), 'utf8'))
    expectValidSarif(sarif)
    const results = sarif.runs[0].results as Array<{ruleId: string; level: string; locations: Array<{physicalLocation: {artifactLocation: {uri: string}}}>}>
    const loadTime = results.find(x => x.ruleId === 'load-time-code-execution-check')!
    expect(loadTime.level).to.equal('error')
    expect(loadTime.locations[0].physicalLocation.artifactLocation.uri).to.equal('models/evil/model.pkl')
    expect(sarif.runs[0].properties['airs-scan-uuid']).to.equal(r.outputs['scan-uuid'])
    const junit = parser.parse(readFileSync(join(r.dir, 'model-security.junit.xml'), 'utf8'))
    expect(junit.testsuites.testsuite[0].testcase.find((c: Record<string, unknown>) => c['@name'] === 'Load Time Code Execution Check').failure).to.not.equal(undefined)
    expect(r.summary).to.match(/^## ⛔ Model scan BLOCKED\n/)
    expect(r.summary).to.contain('Load Time Code Execution Check')
  })

  it('fail-on error lets BLOCKED pass (exit 0) and still reports BLOCKED', async () => {
    const r = await runAction({'model-path': 'models/evil', sandbox: 'true', 'fail-on': 'error'})
    expect(r.code, r.stderr).to.equal(0)
    expect(r.outputs.outcome).to.equal('BLOCKED')
  })

  it('bad inputs: exit 2 with an annotation, every output still set (empty), the summary says why', async () => {
    const none = await runAction({sandbox: 'true'})
    expect(none.code).to.equal(2)
    expect(none.stdout).to.match(/^::error title=daystrom model scan::set one of the inputs model-path/m)
    expect(Object.keys(none.outputs).sort()).to.deep.equal(Object.keys(action.outputs).sort())
    expect(none.outputs.outcome).to.equal('')
    expect(none.summary).to.match(/^## ❌ Model scan did not run/)
    const badTimeout = await runAction({'model-path': 'models/clean', sandbox: 'true', timeout: 'soon'})
    expect(badTimeout.code).to.equal(2)
    expect(badTimeout.outputs['exit-code']).to.equal('2')
    expect(badTimeout.outputs['scan-uuid']).to.equal('')
    expect(badTimeout.summary).to.contain('--timeout: invalid duration "soon"')
    const notBool = await runAction({'model-path': 'models/clean', sandbox: 'maybe'})
    expect(notBool.code).to.equal(2)
    expect(notBool.stdout).to.contain('input sandbox: "maybe" is not a boolean')
  })
})

// ---------------------------------------------------------------- GitLab

interface GitlabJob {
  image: string; variables: Record<string, string>; before_script: string[]; script: string[]
  artifacts: {when: string; paths: string[]; reports: {junit: string}}
}

const template = parseYaml(readFileSync(join(ROOT, 'ci', 'gitlab', 'model-security.gitlab-ci.yml'), 'utf8')) as Record<string, GitlabJob>
const job = template['.airs-model-scan']

/** GitLab's expansion of $VAR / ${VAR} in artifact paths. */
const expand = (s: string, vars: Record<string, string>) => s.replaceAll(/\$\{?(\w+)\}?/g, (_m, k: string) => vars[k] ?? '')

async function runGitlab(overrides: Record<string, string>) {
  const {dir, base} = workspace()
  const bin = join(base, 'bin')
  mkdirSync(bin)
  // `npm install --global daystrom` (before_script) would put this on PATH
  writeFileSync(join(bin, 'daystrom'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', 'run.js')}" "$@"\n`)
  chmodSync(join(bin, 'daystrom'), 0o755)
  const vars = {...job.variables, ...overrides}
  const env = {...cleanEnv(base), ...vars, PATH: `${bin}:${process.env.PATH}`, CI: 'true', CI_PROJECT_DIR: dir}
  const r = await runProcess('sh', ['-e', '-c', job.script.join('\n')], {cwd: dir, env, input: null})
  return {...r, dir, vars}
}

describe('CI: the GitLab template (ci/gitlab/model-security.gitlab-ci.yml)', function () {
  this.timeout(120_000)
  before(() => ensureBuilt())

  it('is a hidden job to extend, with a variable per input, JUnit as the test report and every report kept always', () => {
    expect(job, 'the .airs-model-scan job').to.not.equal(undefined)
    for (const v of ['MODEL_PATH', 'MODEL_URI', 'GROUP', 'FAIL_ON', 'TIMEOUT', 'SANDBOX', 'LABELS', 'SARIF_FILE', 'JUNIT_FILE', 'SUMMARY_FILE']) {
      expect(job.variables, v).to.have.property(`AIRS_SCAN_${v}`)
    }
    expect(job.artifacts.when).to.equal('always')
    expect(job.artifacts.reports.junit).to.equal('$AIRS_SCAN_JUNIT_FILE')
    expect(job.artifacts.paths).to.include.members(['$AIRS_SCAN_SARIF_FILE', '$AIRS_SCAN_SUMMARY_FILE', '$AIRS_SCAN_JUNIT_FILE'])
    expect(job.before_script.join('\n')).to.contain('npm install --global')
  })

  it('a clean model: exit 0 and every artifact path exists', async () => {
    const r = await runGitlab({AIRS_SCAN_MODEL_PATH: 'models/clean', AIRS_SCAN_SANDBOX: 'true', AIRS_SCAN_LABELS: 'env=ci,pipeline=7'})
    expect(r.code, r.stderr).to.equal(0)
    for (const p of job.artifacts.paths) expect(existsSync(join(r.dir, expand(p, r.vars))), p).to.equal(true)
    const junit = parser.parse(readFileSync(join(r.dir, expand(job.artifacts.reports.junit, r.vars)), 'utf8'))
    expect(junit.testsuites['@failures']).to.equal('0')
    expect(JSON.parse(readFileSync(join(r.dir, 'model-security.json'), 'utf8')).scan.labels).to.deep.equal([{key: 'env', value: 'ci'}, {key: 'pipeline', value: '7'}])
  })

  it('a malicious model: exit 8 (the job fails), the reports written for the artifacts', async () => {
    const r = await runGitlab({AIRS_SCAN_MODEL_PATH: 'models/evil', AIRS_SCAN_SANDBOX: 'true'})
    expect(r.code, r.stderr).to.equal(8)
    const sarif = JSON.parse(readFileSync(join(r.dir, 'model-security.sarif'), 'utf8'))
    expectValidSarif(sarif)
    expect(sarif.runs[0].results.map((x: {locations: Array<{physicalLocation: {artifactLocation: {uri: string}}}>}) =>
      x.locations[0].physicalLocation.artifactLocation.uri)).to.include('models/evil/model.pkl')
    expect(readFileSync(join(r.dir, 'model-security.md'), 'utf8')).to.match(/^## ⛔ Model scan BLOCKED/)
    const junit = parser.parse(readFileSync(join(r.dir, 'model-security.junit.xml'), 'utf8'))
    expect(Number(junit.testsuites['@failures'])).to.be.greaterThan(0)
  })

  it('no model, or both: exit 2 with a message naming the variables', async () => {
    const none = await runGitlab({AIRS_SCAN_SANDBOX: 'true'})
    expect(none.code).to.equal(2)
    expect(none.stderr).to.contain('set AIRS_SCAN_MODEL_PATH')
    const both = await runGitlab({AIRS_SCAN_MODEL_PATH: 'models/clean', AIRS_SCAN_MODEL_URI: 'https://huggingface.co/a/b', AIRS_SCAN_SANDBOX: 'true'})
    expect(both.code).to.equal(2)
    expect(both.stderr).to.contain('set only one of AIRS_SCAN_MODEL_PATH and AIRS_SCAN_MODEL_URI')
  })
})
