/**
 * The package as users get it (`npm run test:package`, also run by .ci/run; not part of `npm test`: it installs
 * from the npm registry and builds better-sqlite3 from source, which takes minutes).
 *
 * 1. `npm pack` the build: the tarball holds bin/run.js, dist/, the oclif manifest, package.json and the README,
 *    nothing of the repository's tests, benches, scripts or TypeScript sources, and every entry point it names.
 * 2. `npm install -g --prefix <empty dir> ./daystrom-<v>.tgz` (a real install: dependencies resolved from the
 *    registry, the npm cache preferred; better-sqlite3's install script builds it), then the installed `daystrom`
 *    runs the seed workflow on the sandbox from a directory outside the repository, with a clean environment and
 *    throwaway DAYSTROM_DATA_DIR/CONFIG_DIR/CACHE_DIR and HOME.
 * 3. The same tarball installs into the test host oclif CLI (test/fixtures/host) with `hostcli plugins install
 *    file:<tgz>` (plugin-plugins 5 takes a `file:` URL; a bare path would be read as a GitHub slug), and daystrom's
 *    commands run there. That install runs better-sqlite3's install script again; it is handed the binary built in
 *    step 2 as a local prebuild (prebuild-install's `npm_config_<pkg>_local_prebuilds`), so the native module is
 *    compiled once per run.
 */
import {expect} from 'chai'
import {execFile, spawn} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join, posix} from 'node:path'
import {promisify} from 'node:util'

import {ROOT} from '../helpers/api.js'
import {ensureBuilt, unwrapped} from '../helpers/cli.js'
import {payload, validSafetensors} from '../scanner/fixtures.js'

const PJSON = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string; version: string; bin: Record<string, string>; main: string; types: string; exports: Record<string, string>
  oclif: {commands: string; hooks?: Record<string, string>; helpClass?: string}
}
const VERSION = PJSON.version
const HOST = join(ROOT, 'test', 'fixtures', 'host')
const DEFAULT_GROUPS = ['LOCAL', 'HUGGING_FACE', 'S3', 'GCS', 'AZURE', 'ARTIFACTORY', 'GITLAB'].map(t => `Default ${t}`)

interface Result { code: number; stdout: string; stderr: string; ms: number }

/** Run a program; never throws on a non-zero exit. */
function exec(file: string, args: string[], opts: {cwd: string; env: NodeJS.ProcessEnv; input?: string}): Promise<Result> {
  const t0 = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {cwd: opts.cwd, env: opts.env})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('close', code => resolve({code: code ?? -1, stdout, stderr, ms: Date.now() - t0}))
    child.stdin.end(opts.input)
  })
}

const show = (r: Result) => `exit ${r.code}\nstdout:\n${r.stdout.slice(-4000)}\nstderr:\n${r.stderr.slice(-4000)}`
const log = (line: string) => process.stderr.write(`    [package] ${line}\n`)

/** npm's own settings (cache, user config with e.g. nodedir), so installs under a throwaway HOME still find them. */
async function npmConfig(key: string): Promise<string> {
  const {stdout} = await promisify(execFile)('npm', ['config', 'get', key], {cwd: ROOT})
  return stdout.trim()
}

/** PATH without any node_modules/.bin (npm run prepends the repository's): the installed CLI must stand alone. */
const cleanPath = () => (process.env.PATH ?? '').split(delimiter).filter(p => !p.includes('node_modules')).join(delimiter)

/** Every file below `dir`, as paths relative to it. */
function walk(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel), {withFileTypes: true})
    .flatMap(e => e.isDirectory() ? walk(dir, join(rel, e.name)) : [join(rel, e.name).split('\\').join('/')])
}

/** The file name prebuild-install looks for (its default template: {name}-v{version}-{runtime}-v{abi}-{platform}{libc}-{arch}.tar.gz). */
function prebuildName(pkgDir: string): string {
  const {name, version} = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {name: string; version: string}
  const glibc = (process.report.getReport() as {header?: {glibcVersionRuntime?: string}}).header?.glibcVersionRuntime
  const libc = process.platform === 'linux' && !glibc ? 'musl' : ''
  return `${name}-v${version}-node-v${process.versions.modules}-${process.platform}${libc}-${process.arch}.tar.gz`
}

describe('the npm package as users get it', function () {
  this.timeout(60 * 60_000)

  let base: string
  let tgz: string
  /** The tarball's files, as extracted from it (paths relative to its package/ folder). */
  let files: string[]
  let unpacked: string

  before(async function () {
    this.timeout(5 * 60_000)
    ensureBuilt()
    base = realpathSync(mkdtempSync(join(tmpdir(), 'daystrom-package-')))
    // dist/ and the manifest are fresh (ensureBuilt): pack them as they are instead of building once more
    const packed = await exec('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', base], {cwd: ROOT, env: process.env})
    expect(packed.code, show(packed)).to.equal(0)
    const [info] = JSON.parse(packed.stdout) as Array<{filename: string; entryCount: number; size: number; unpackedSize: number}>
    tgz = join(base, info.filename)
    log(`packed ${info.filename}: ${info.entryCount} files, ${(info.size / 1024).toFixed(0)} KiB (${(info.unpackedSize / 1024).toFixed(0)} KiB unpacked) in ${packed.ms} ms`)
    mkdirSync(join(base, 'unpacked'))
    const untar = await exec('tar', ['-xzf', tgz, '-C', join(base, 'unpacked')], {cwd: base, env: process.env})
    expect(untar.code, show(untar)).to.equal(0)
    unpacked = join(base, 'unpacked', 'package')
    files = walk(unpacked).sort()
    expect(files).to.have.length(info.entryCount)
  })

  after(() => {
    if (base) rmSync(base, {recursive: true, force: true})
  })

  describe('the tarball', () => {
    it('is named after the package and version', () => {
      expect(tgz).to.match(new RegExp(`/${PJSON.name}-${VERSION.replaceAll('.', '\\.')}\\.tgz$`))
      expect(existsSync(tgz)).to.equal(true)
    })

    it('holds only bin/run.js, dist/, the manifest, package.json and the README (and a LICENSE if there is one)', () => {
      const top = new Set(files.map(f => f.split('/')[0]))
      expect([...top].filter(t => !['bin', 'dist', 'oclif.manifest.json', 'package.json', 'README.md'].includes(t) && !/^LICEN[CS]E/i.test(t))).to.deep.equal([])
      expect(files.filter(f => f.startsWith('bin/'))).to.deep.equal(['bin/run.js'])
      for (const must of ['package.json', 'README.md', 'oclif.manifest.json', 'dist/index.js', 'dist/index.d.ts']) expect(files, must).to.include(must)
    })

    it('holds no tests, fixtures, benches, scripts, TypeScript sources, build or CI files', () => {
      expect(files.filter(f => /(^|\/)(test|tests|fixtures|bench|scripts|src|\.ci|node_modules)\//.test(f))).to.deep.equal([])
      expect(files.filter(f => f.endsWith('.ts') && !f.endsWith('.d.ts'))).to.deep.equal([])
      expect(files.filter(f => /\.tsbuildinfo$/.test(f) || /(^|\/)(tsconfig[^/]*\.json|\.mocharc\.json|eslint\.config\.js|package-lock\.json)$/.test(f))).to.deep.equal([])
    })

    it('has no source map pointing at a file it does not ship (a map, or a source without its inlined content)', () => {
      const missing: string[] = []
      for (const js of files.filter(f => f.endsWith('.js'))) {
        const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(unpacked, js), 'utf8'))?.[1]
        if (!url || url.startsWith('data:')) continue
        const map = posix.join(posix.dirname(js), url)
        if (!files.includes(map)) {
          missing.push(`${js} -> ${map}`)
          continue
        }
        const {sources = [], sourcesContent = [], sourceRoot = ''} = JSON.parse(readFileSync(join(unpacked, map), 'utf8')) as {sources?: string[]; sourcesContent?: Array<string | null>; sourceRoot?: string}
        sources.forEach((s, i) => {
          const source = posix.normalize(posix.join(posix.dirname(map), sourceRoot, s))
          if (sourcesContent[i] == null && !files.includes(source)) missing.push(`${map} -> ${source}`)
        })
      }
      expect(missing).to.deep.equal([])
    })

    it('holds everything package.json points at: bin, main, types, exports, oclif commands, hooks and help class', () => {
      const rel = (p: string) => p.replace(/^\.\//, '')
      for (const p of [...Object.values(PJSON.bin), PJSON.main, PJSON.types, ...Object.values(PJSON.exports)]) expect(files, p).to.include(rel(p))
      expect(files.some(f => f.startsWith(`${rel(PJSON.oclif.commands)}/`))).to.equal(true)
      const modules = [...Object.values(PJSON.oclif.hooks ?? {}), PJSON.oclif.helpClass ?? '']
      expect(modules).to.include('./dist/hooks/command-not-found').and.include('./dist/lib/command/help')
      for (const target of modules) expect(files, target).to.include(`${rel(target)}.js`)
    })

    it('ships a manifest of this version that lists every compiled command', () => {
      const manifest = JSON.parse(readFileSync(join(unpacked, 'oclif.manifest.json'), 'utf8')) as {version: string; commands: Record<string, unknown>}
      expect(manifest.version).to.equal(VERSION)
      const commandDir = `${PJSON.oclif.commands.replace(/^\.\//, '')}/`
      const compiled = files.filter(f => f.startsWith(commandDir) && f.endsWith('.js')).map(f => f.slice(commandDir.length, -3).split('/').join(':'))
      expect(compiled).to.include('model-security:groups:list')
      expect(Object.keys(manifest.commands).sort()).to.deep.equal(compiled.sort())
    })
  })

  describe('installed with `npm install -g --prefix <dir> <tarball>`', () => {
    let prefix: string
    let work: string
    let env: NodeJS.ProcessEnv
    let daystrom: (...args: string[]) => Promise<Result>

    before(async function () {
      this.timeout(40 * 60_000)
      prefix = join(base, 'prefix')
      const installed = await exec('npm', ['install', '-g', '--prefix', prefix, tgz, '--prefer-offline', '--no-audit', '--no-fund'],
        {cwd: base, env: process.env})
      expect(installed.code, show(installed)).to.equal(0)
      log(`npm install -g --prefix <dir> <tarball>: ${(installed.ms / 1000).toFixed(1)} s`)
      work = join(base, 'work')
      mkdirSync(work)
      env = {
        PATH: cleanPath(), HOME: join(base, 'home'), NO_COLOR: '1',
        DAYSTROM_DATA_DIR: join(base, 'data'), DAYSTROM_CONFIG_DIR: join(base, 'config'), DAYSTROM_CACHE_DIR: join(base, 'cache'),
      }
      daystrom = (...args: string[]) => exec(join(prefix, 'bin', 'daystrom'), args, {cwd: work, env})
    })

    it('puts a `daystrom` executable on the prefix\'s bin, linked to the installed package, not to this checkout', () => {
      const bin = join(prefix, 'bin', 'daystrom')
      expect(lstatSync(bin).isSymbolicLink()).to.equal(true)
      const target = realpathSync(bin)
      expect(target).to.equal(join(prefix, 'lib', 'node_modules', PJSON.name, 'bin', 'run.js'))
      expect(target.startsWith(ROOT)).to.equal(false)
      // the native module was built by its install script
      const sqlite = join(prefix, 'lib', 'node_modules', PJSON.name, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')
      expect(existsSync(sqlite), sqlite).to.equal(true)
    })

    it('--version and --help', async () => {
      const [version, help] = await Promise.all([daystrom('--version'), daystrom('--help')])
      expect(version.code, show(version)).to.equal(0)
      expect(version.stdout.trim()).to.equal(`daystrom/${VERSION} ${process.platform}-${process.arch} node-${process.version}`)
      expect(version.stderr).to.equal('')
      expect(help.code, show(help)).to.equal(0)
      expect(help.stdout).to.include('$ daystrom [COMMAND]')
      for (const topic of ['auth', 'model-security', 'sandbox', 'plugins', 'autocomplete']) expect(help.stdout).to.match(new RegExp(`^ {2}${topic}\\s`, 'm'))
      expect(help.stderr).to.equal('')
    })

    it('runs the seed workflow on the sandbox: groups, rules, a group create, LOCAL scans that pass (0) and block (8), labels', async () => {
      const ms = (...args: string[]) => daystrom('model-security', ...args, '--sandbox')
      const json = <T>(r: Result): T => {
        expect(r.code, show(r)).to.be.oneOf([0, 8])
        return JSON.parse(r.stdout) as T
      }

      const groups = await ms('groups', 'list', '--json')
      expect(groups.code, show(groups)).to.equal(0)
      expect(json<Array<{name: string}>>(groups).map(g => g.name)).to.deep.equal(DEFAULT_GROUPS)
      const rules = await ms('rules', 'list', '--all', '--json')
      expect(json<Array<{name: string}>>(rules).map(r => r.name)).to.include.members(['Stored In Approved File Format', 'Load Time Code Execution Check'])
      const created = await ms('groups', 'create', '--name', 'pkg-local', '--source-type', 'LOCAL', '--description', 'from the installed package', '--json')
      expect(created.code, show(created)).to.equal(0)
      expect(json<{name: string; source_type: string}>(created)).to.include({name: 'pkg-local', source_type: 'LOCAL'})

      const models = join(base, 'models')
      mkdirSync(join(models, 'clean'), {recursive: true})
      mkdirSync(join(models, 'malicious'))
      writeFileSync(join(models, 'clean', 'config.json'), '{"model_type": "demo"}')
      writeFileSync(join(models, 'clean', 'model.safetensors'), validSafetensors())
      writeFileSync(join(models, 'malicious', 'config.json'), '{"model_type": "demo"}')
      writeFileSync(join(models, 'malicious', 'model.pkl'), payload(2))
      const scan = (dir: string) => ms('scans', 'create', '--model-path', join(models, dir), '--group', 'pkg-local', '--wait', '--interval', '1s', '--json')

      const clean = await scan('clean')
      expect(clean.code, show(clean)).to.equal(0)
      expect(json<{eval_outcome: string}>(clean).eval_outcome).to.equal('ALLOWED')
      const blocked = await scan('malicious')
      expect(blocked.code, show(blocked)).to.equal(8)
      const verdict = json<{uuid: string; eval_outcome: string}>(blocked)
      expect(verdict.eval_outcome).to.equal('BLOCKED')
      const violations = await ms('scans', 'violations', verdict.uuid, '--all', '--json')
      expect(json<Array<{file?: string; threat?: string}>>(violations).some(v => v.file === 'model.pkl' && /^PAIT-/.test(v.threat ?? ''))).to.equal(true)

      const labelled = await ms('labels', 'add', verdict.uuid, '-l', 'env=prod', '-l', 'team=ml')
      expect(labelled.code, show(labelled)).to.equal(0)
      const keys = await ms('labels', 'keys', '--json')
      expect(json<string[]>(keys)).to.include.members(['env', 'team'])
      // the sandbox lives in DAYSTROM_DATA_DIR, nothing landed in the throwaway HOME
      expect(readdirSync(join(base, 'data'))).to.include('sandbox')
      expect(existsSync(join(base, 'home'))).to.equal(false)
    })

    it('a mistyped command exits 2 with "did you mean"', async () => {
      const r = await daystrom('model-security', 'groups', 'lst')
      expect(r.code, show(r)).to.equal(2)
      expect(r.stdout).to.equal('')
      expect(unwrapped(r.stderr)).to.include('`model-security groups lst` is not a daystrom command. Did you mean `daystrom model-security groups list`?')
    })

    describe('and as a plugin of another oclif CLI: `hostcli plugins install file:<tarball>`', () => {
      let hostEnv: NodeJS.ProcessEnv
      let hostcli: (...args: string[]) => Promise<Result>
      let installed: Result

      before(async function () {
        this.timeout(20 * 60_000)
        const pkgDir = join(prefix, 'lib', 'node_modules', PJSON.name, 'node_modules', 'better-sqlite3')
        const prebuilds = join(base, 'prebuilds')
        mkdirSync(prebuilds)
        const tar = await exec('tar', ['-czf', join(prebuilds, prebuildName(pkgDir)), 'build/Release/better_sqlite3.node'], {cwd: pkgDir, env: process.env})
        expect(tar.code, show(tar)).to.equal(0)
        const [cache, userconfig] = await Promise.all([npmConfig('cache'), npmConfig('userconfig')])
        hostEnv = {
          ...env, HOSTCLI_DATA_DIR: join(base, 'host-data'), HOSTCLI_CONFIG_DIR: join(base, 'host-config'), HOSTCLI_CACHE_DIR: join(base, 'host-cache'),
          // for the npm that plugin-plugins runs: the same cache and settings as the install above, offline first
          npm_config_cache: cache, npm_config_userconfig: userconfig, npm_config_prefer_offline: 'true',
          npm_config_better_sqlite3_local_prebuilds: prebuilds,
        }
        hostcli = (...args: string[]) => exec(process.execPath, [join(HOST, 'bin', 'run.js'), ...args], {cwd: work, env: hostEnv})
        installed = await hostcli('plugins', 'install', `file:${tgz}`)
        log(`hostcli plugins install file:<tgz>: ${(installed.ms / 1000).toFixed(1)} s`)
      })

      it('installs as a user plugin recorded in the host\'s data dir, with its dependencies there', () => {
        expect(installed.code, show(installed)).to.equal(0)
        expect(installed.stderr).to.include(`Installing plugin file:${tgz}... installed v${VERSION}`)
        const pjson = JSON.parse(readFileSync(join(base, 'host-data', 'package.json'), 'utf8')) as {oclif: {plugins: unknown[]}; dependencies: Record<string, string>}
        expect(pjson.oclif.plugins).to.deep.equal([{name: PJSON.name, type: 'user', url: `file:${tgz}`}])
        expect(pjson.dependencies[PJSON.name]).to.match(/^file:/)
        const root = join(base, 'host-data', 'node_modules', PJSON.name)
        expect(existsSync(join(root, 'oclif.manifest.json'))).to.equal(true)
        expect(existsSync(join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))
          || existsSync(join(base, 'host-data', 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).to.equal(true)
      })

      it('`hostcli plugins` lists it with its version', async () => {
        const r = await hostcli('plugins')
        expect(r.code, show(r)).to.equal(0)
        expect(r.stdout).to.match(new RegExp(`^${PJSON.name} ${VERSION.replaceAll('.', '\\.')}$`, 'm'))
      })

      it('runs daystrom\'s commands in the host: the sandbox default groups as JSON, nothing on stderr', async () => {
        const r = await hostcli('model-security', 'groups', 'list', '--sandbox', '--json')
        expect(r.code, show(r)).to.equal(0)
        expect(r.stderr).to.equal('')
        expect((JSON.parse(r.stdout) as Array<{name: string}>).map(g => g.name)).to.include.members(DEFAULT_GROUPS)
      })

      it('keeps its exit codes and the host\'s binary name: a missing scan exits 4, a mistyped command 2', async () => {
        const [missing, typo] = await Promise.all([
          hostcli('model-security', 'scans', 'get', '00000000-0000-4000-8000-000000000000', '--sandbox', '--json'),
          hostcli('model-security', 'groups', 'lst'),
        ])
        expect(missing.code, show(missing)).to.equal(4)
        expect(missing.stdout).to.equal('')
        expect(missing.stderr).to.include('"code":"E_NOT_FOUND"')
        expect(typo.code, show(typo)).to.equal(2)
        expect(unwrapped(typo.stderr)).to.include('`model-security groups lst` is not a hostcli command. Did you mean `hostcli model-security groups list`?')
      })

      it('leaves the host\'s own command working', async () => {
        const r = await hostcli('hello', '--name', 'package')
        expect({code: r.code, stdout: r.stdout}).to.deep.equal({code: 0, stdout: 'hello package from hostcli\n'})
      })
    })
  })
})
