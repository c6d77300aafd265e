/**
 * Spawning the real CLI (`node bin/run.js`) for end-to-end tests: real processes, real exit codes, stdout and
 * stderr kept apart. bin/run.js runs the compiled dist/ with the manifest; `ensureBuilt()` rebuilds once per
 * test run when any source file is newer than the build (a fresh `npm install` or `npm ci` has built already).
 */
import {execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ROOT} from './api.js'

let built = false

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

export function ensureBuilt(): void {
  if (built) return
  const manifest = join(ROOT, 'oclif.manifest.json')
  const stale = !existsSync(manifest) || !existsSync(join(ROOT, 'dist', 'index.js'))
    || newestMtime(join(ROOT, 'src')) > statSync(manifest).mtimeMs || statSync(join(ROOT, 'package.json')).mtimeMs > statSync(manifest).mtimeMs
  if (stale) execFileSync('npm', ['run', 'build'], {cwd: ROOT, stdio: 'ignore'})
  built = true
}

/** The sandbox of a describe's spawned `--sandbox` runs: a temp dir, and `env` pointing the DAYSTROM_*_DIR into it. */
export interface E2eSandbox { dir: string; env: Record<string, string> }

/**
 * Call in a describe: before its tests, build once (ensureBuilt) and make the temp dir (named from `prefix`);
 * after them, remove it. The fields of the returned object are set by that `before` hook (read them in hooks and tests).
 */
export function e2eSandbox(prefix: string): E2eSandbox {
  const s: E2eSandbox = {dir: '', env: {}}
  before(function () {
    this.timeout(300_000)
    ensureBuilt()
    s.dir = mkdtempSync(join(tmpdir(), prefix))
    s.env = {DAYSTROM_DATA_DIR: join(s.dir, 'data'), DAYSTROM_CONFIG_DIR: join(s.dir, 'config'), DAYSTROM_CACHE_DIR: join(s.dir, 'cache')}
  })
  after(() => {
    if (s.dir) rmSync(s.dir, {recursive: true, force: true})
  })
  return s
}

export interface CliResult { code: number; stdout: string; stderr: string }

export interface ProcessOptions {
  cwd: string
  env: Record<string, string | undefined>
  /** Written to stdin, which is then closed (closed empty when left out); `null`: no stdin at all ('ignore'). */
  input?: string | null
}

/** Run a program to its end, stdout and stderr kept apart; a non-zero exit resolves (only a failure to start rejects). */
export function runProcess(file: string, args: string[], opts: ProcessOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = opts.input === null
      ? spawn(file, args, {cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe']})
      : spawn(file, args, {cwd: opts.cwd, env: opts.env})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('close', code => resolve({code: code ?? -1, stdout, stderr}))
    child.stdin?.end(opts.input ?? undefined)
  })
}

export interface CliOptions {
  /** Run the TypeScript sources (`node --import tsx bin/dev.js`) instead of the build. */
  dev?: boolean
  /** Start from this process's environment instead of a clean one (PATH/HOME and the DAYSTROM_*_DIR only). */
  inheritEnv?: boolean
  input?: string
}

/** Run `daystrom <args>` as a child process (by default with a clean environment: no inherited credentials). */
export function cli(args: string[], env: Record<string, string | undefined> = {}, opts: CliOptions | string = {}): Promise<CliResult> {
  const o: CliOptions = typeof opts === 'string' ? {input: opts} : opts
  const base: Record<string, string | undefined> = o.inheritEnv
    ? {...process.env, NODE_ENV: undefined}
    : {PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', NO_COLOR: '1'}
  if (!o.inheritEnv) for (const k of ['DAYSTROM_CONFIG_DIR', 'DAYSTROM_CACHE_DIR', 'DAYSTROM_DATA_DIR']) base[k] = process.env[k]
  const entry = o.dev ? ['--import', 'tsx', join(ROOT, 'bin', 'dev.js')] : [join(ROOT, 'bin', 'run.js')]
  return runProcess(process.execPath, [...entry, ...args], {cwd: ROOT, env: {...base, ...env}, input: o.input})
}

/** oclif's pretty error as one line: its ' ›   ' margins and the wraps at the terminal width undone. */
export const unwrapped = (stderr: string): string => stderr.replace(/\s*\n ›\s+/g, ' ')

export function parseJson<T = unknown>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`)
  }
}
