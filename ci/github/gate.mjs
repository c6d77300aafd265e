#!/usr/bin/env node
// The one step of the daystrom GitHub Action (action.yml): scan a model, gate on the verdict, write the reports.
//
// Reads only the action's inputs (INPUT_*, mapped explicitly by action.yml), GITHUB_OUTPUT, GITHUB_STEP_SUMMARY
// and GITHUB_WORKSPACE; the credentials (PANW_MODEL_SEC_* and the other families daystrom reads) pass through
// to daystrom untouched. Runs `daystrom model-security scans create ... --wait --report ...` from this
// checkout, then appends the outputs (scan-uuid, outcome, sarif-file, junit-file, exit-code) to
// $GITHUB_OUTPUT, and exits with daystrom's exit code: 0 ALLOWED, 8 BLOCKED, 9 ERROR, 11 timed out, 2-7 the
// scan did not run (see the README's exit codes). Outputs and the job summary are written in every case.
import {spawn} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, isAbsolute, join, relative, resolve, sep} from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const input = name => (process.env[`INPUT_${name.replaceAll('-', '_').toUpperCase()}`] ?? '').trim()
const workspace = process.env.GITHUB_WORKSPACE || process.cwd()
const OUTPUTS = ['scan-uuid', 'outcome', 'sarif-file', 'junit-file', 'exit-code']

/** `name=value` lines, or a `name<<DELIM` block when the value spans lines (GitHub's documented format). */
function setOutput(name, value) {
  const file = process.env.GITHUB_OUTPUT
  const text = String(value ?? '')
  if (!file) {
    console.log(`output ${name}=${text}`)
    return
  }
  if (text.includes('\n') || text.includes('\r')) {
    const delim = `ghadelimiter_${randomUUID()}`
    appendFileSync(file, `${name}<<${delim}\n${text}\n${delim}\n`)
  } else {
    appendFileSync(file, `${name}=${text}\n`)
  }
}

function summary(markdown) {
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, markdown.endsWith('\n') ? markdown : `${markdown}\n`)
}

/** A workflow error annotation (shown on the run page) and the matching exit. */
function fail(message, exit = 2) {
  console.log(`::error title=daystrom model scan::${message.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')}`)
  summary(`## ❌ Model scan did not run\n\n${message}\n`)
  for (const name of OUTPUTS) setOutput(name, name === 'exit-code' ? exit : '')
  process.exit(exit)
}

function bool(name) {
  const v = input(name).toLowerCase()
  if (v === '' || v === 'false' || v === '0' || v === 'no') return false
  if (v === 'true' || v === '1' || v === 'yes') return true
  return fail(`input ${name}: "${input(name)}" is not a boolean (true or false)`)
}

// ---- inputs
const modelPath = input('model-path')
const modelUri = input('model-uri')
if (!modelPath && !modelUri) fail('set one of the inputs model-path (a file or directory in the workspace) or model-uri (a remote model)')
if (modelPath && modelUri) fail('set only one of the inputs model-path and model-uri')
const group = input('group') || (modelPath ? 'Default LOCAL' : '')
if (!group) fail('input group is required with model-uri: the security group (name or UUID) whose source type matches the model, e.g. "Default HUGGING_FACE"')
const sandbox = bool('sandbox')
const inWorkspace = p => resolve(workspace, p)
const sarifFile = input('sarif-file') || 'model-security.sarif'
const junitFile = input('junit-file') || 'model-security.junit.xml'
const labels = input('labels').split(/[\s,]+/).filter(Boolean)

const args = [join(ROOT, 'bin', 'run.js'), 'model-security', 'scans', 'create', '--group', group, '--wait']
if (modelPath) {
  const abs = inWorkspace(modelPath)
  args.push('--model-path', abs)
  // SARIF locations relative to the repository root: prefix the model's directory when it is inside the workspace
  const dir = existsSync(abs) && statSync(abs).isFile() ? dirname(abs) : abs
  const rel = relative(resolve(workspace), dir)
  if (rel && !rel.startsWith('..') && !isAbsolute(rel)) args.push('--artifact-root', rel.split(sep).join('/'))
} else {
  args.push('--model-uri', modelUri)
}
if (input('timeout')) args.push('--timeout', input('timeout'))
if (input('fail-on')) args.push('--fail-on', input('fail-on'))
if (sandbox) args.push('--sandbox')
for (const l of labels) args.push('--label', l)
const tmp = mkdtempSync(join(tmpdir(), 'daystrom-action-'))
const dataFile = join(tmp, 'report.json')
args.push('--report', `sarif=${inWorkspace(sarifFile)}`, '--report', `junit=${inWorkspace(junitFile)}`, '--report', `json=${dataFile}`)
if (process.env.GITHUB_STEP_SUMMARY) args.push('--report', `markdown=${process.env.GITHUB_STEP_SUMMARY}`)

// ---- run the gate (output streamed to the log as it comes; stderr also kept for the summary)
const env = {...process.env, CI: 'true'}
for (const k of Object.keys(env)) if (k.startsWith('INPUT_')) delete env[k]
const child = spawn(process.execPath, args, {cwd: workspace, env, stdio: ['ignore', 'inherit', 'pipe']})
let stderr = ''
child.stderr.on('data', chunk => {
  process.stderr.write(chunk)
  stderr = (stderr + chunk).slice(-20_000)
})
const exit = await new Promise(done => {
  child.on('error', error => {
    stderr += error.message
    done(1)
  })
  child.on('close', code => done(code ?? 1))
})

// ---- outputs, in every case
let scan
try {
  scan = JSON.parse(readFileSync(dataFile, 'utf8')).scan
} catch {
  scan = undefined
}
rmSync(tmp, {recursive: true, force: true})
setOutput('scan-uuid', scan?.uuid ?? '')
setOutput('outcome', scan?.eval_outcome ?? '')
setOutput('sarif-file', existsSync(inWorkspace(sarifFile)) ? sarifFile : '')
setOutput('junit-file', existsSync(inWorkspace(junitFile)) ? junitFile : '')
setOutput('exit-code', exit)
if (!scan) {
  // the scan did not reach a verdict (bad input, credentials, network): say why in the summary
  // eslint-disable-next-line no-control-regex -- ANSI colour codes
  const reason = stderr.replaceAll(/\u001B\[[0-9;]*m/g, '').replaceAll(/^\s*›\s?/gm, '').trim().split('\n').slice(-12).join('\n')
  summary(`## ❌ Model scan did not finish (exit ${exit})\n\n\`\`\`\n${reason || 'no output'}\n\`\`\`\n`)
}
process.exit(exit)
