/**
 * mocha root hooks: no network but loopback, a fresh config/cache/data dir per test, env isolation,
 * and process.exitCode reset (oclif and our gate commands set it).
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import nock from 'nock'

import {resetRequests} from './api.js'

const ENV_PREFIXES = ['DAYSTROM_', 'PANW_', 'MODEL_SECURITY_']
const ENV_NAMES = ['TSG_ID', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy']

let savedEnv: NodeJS.ProcessEnv = {}
let dirs: string[] = []

function scrubEnv(): void {
  for (const k of Object.keys(process.env)) {
    if (ENV_PREFIXES.some(p => k.startsWith(p)) || ENV_NAMES.includes(k)) delete process.env[k]
  }
}

export const mochaHooks = {
  beforeAll(): void {
    nock.disableNetConnect()
    nock.enableNetConnect(host => host.startsWith('127.0.0.1') || host.startsWith('localhost'))
  },
  beforeEach(): void {
    resetRequests()
    savedEnv = {...process.env}
    scrubEnv()
    const base = mkdtempSync(join(tmpdir(), 'daystrom-test-'))
    dirs.push(base)
    process.env.DAYSTROM_CONFIG_DIR = join(base, 'config')
    process.env.DAYSTROM_CACHE_DIR = join(base, 'cache')
    process.env.DAYSTROM_DATA_DIR = join(base, 'data')
    process.env.DAYSTROM_RETRIES = '0'
    process.env.NO_COLOR = '1'
  },
  afterEach(): void {
    nock.cleanAll()
    process.exitCode = undefined
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k]
    for (const [k, v] of Object.entries(savedEnv)) process.env[k] = v
    for (const d of dirs) rmSync(d, {recursive: true, force: true})
    dirs = []
  },
}
