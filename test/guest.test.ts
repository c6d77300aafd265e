/**
 * daystrom as a guest: linked into another oclif CLI (test/fixtures/host, bin `hostcli`, core plugins help and
 * plugins only) the way a user would (`hostcli plugins link <repo> --no-install`), its model-security commands run
 * there with their JSON contract and exit codes, keep their fixed DAYSTROM_* locations, and the host keeps working.
 *
 * The fixture has no node_modules: @oclif/core and its two plugins resolve from this repository's node_modules.
 *
 * What oclif 4 does with daystrom's own `oclif.plugins` (help, plugins, autocomplete) inside the host, pinned here
 * on purpose (conventions §3, "Shipping as a standalone CLI and as a plugin"): they load as nested children of the
 * linked daystrom plugin, as `link` plugins. User/link plugins load before core plugins and the first plugin of a
 * name wins, so daystrom's copies of @oclif/plugin-help and @oclif/plugin-plugins take the place of the host's own
 * core ones (`plugins --core` no longer lists them, and oclif prints its "linked ESM module" warning for them), and
 * the host gains an `autocomplete` command it never asked for. We accept that: the host's commands, help and plugin
 * management keep working, and unlinking daystrom gives the host back exactly what it had.
 */
import {expect} from 'chai'
import {existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {jsonError, ROOT} from './helpers/api.js'
import {ensureBuilt, runProcess, unwrapped} from './helpers/cli.js'

const HOST = join(ROOT, 'test', 'fixtures', 'host')
/** The daystrom package linked into the host: this checkout. */
const GUEST = ROOT
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {version: string}).version
const DEFAULT_GROUPS = ['LOCAL', 'HUGGING_FACE', 'S3', 'GCS', 'AZURE', 'ARTIFACTORY', 'GITLAB']
const ESM_WARNING = (plugin: string) => new RegExp(`Warning: ${plugin.replace('/', '\\/')} is a linked ESM module`)

interface Result { code: number; stdout: string; stderr: string }

interface Sandbox {
  base: string
  env: Record<string, string>
  hostData: string
  hostConfig: string
  hostCache: string
  daystromData: string
}

/** Fresh host and daystrom directories, a throwaway HOME, and nothing else from this process's environment. */
function sandbox(): Sandbox {
  const base = mkdtempSync(join(tmpdir(), 'daystrom-guest-'))
  const s = {
    base, hostData: join(base, 'host-data'), hostConfig: join(base, 'host-config'), hostCache: join(base, 'host-cache'),
    daystromData: join(base, 'daystrom-data'),
  }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '', HOME: join(base, 'home'), NODE_ENV: 'production', NO_COLOR: '1',
    HOSTCLI_DATA_DIR: s.hostData, HOSTCLI_CONFIG_DIR: s.hostConfig, HOSTCLI_CACHE_DIR: s.hostCache,
    DAYSTROM_DATA_DIR: s.daystromData, DAYSTROM_CONFIG_DIR: join(base, 'daystrom-config'), DAYSTROM_CACHE_DIR: join(base, 'daystrom-cache'),
    DAYSTROM_RETRIES: '0',
  }
  return {...s, env}
}

/** `hostcli <args>` as a child process, from a directory outside the repository. */
function hostcli(s: Sandbox, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return runProcess(process.execPath, [join(HOST, 'bin', 'run.js'), ...args], {cwd: s.base, env: {...s.env, ...env}})
}

const show = (r: Result) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`

async function link(s: Sandbox): Promise<Result> {
  const r = await hostcli(s, ['plugins', 'link', GUEST, '--no-install'])
  expect(r.code, show(r)).to.equal(0)
  return r
}

const userPlugins = (s: Sandbox) =>
  (JSON.parse(readFileSync(join(s.hostData, 'package.json'), 'utf8')) as {oclif: {plugins: unknown[]}}).oclif.plugins

describe('daystrom linked into another oclif CLI (test/fixtures/host)', function () {
  this.timeout(180_000)

  before(() => ensureBuilt())

  it('the host fixture has no node_modules of its own and resolves @oclif/* from the repository', () => {
    expect(existsSync(join(HOST, 'node_modules'))).to.equal(false)
    const req = createRequire(join(HOST, 'package.json'))
    for (const dep of ['@oclif/core', '@oclif/plugin-help', '@oclif/plugin-plugins']) {
      expect(req.resolve(dep), dep).to.equal(createRequire(join(ROOT, 'package.json')).resolve(dep))
      expect(req.resolve(dep), dep).to.match(new RegExp(`^${ROOT}/node_modules/`))
    }
  })

  it('before linking: the host has its two core plugins and no daystrom commands', async () => {
    const s = sandbox()
    try {
      const [core, help, ms, ac] = await Promise.all([
        hostcli(s, ['plugins', '--core']), hostcli(s, ['--help']),
        hostcli(s, ['model-security', 'groups', 'list', '--sandbox', '--json']), hostcli(s, ['autocomplete']),
      ])
      expect(core.code, show(core)).to.equal(0)
      expect(core.stdout).to.match(/^@oclif\/plugin-help [\d.]+ \(core\)$/m).and.match(/^@oclif\/plugin-plugins [\d.]+ \(core\)$/m)
      expect(core.stdout).to.not.include('daystrom').and.not.include('autocomplete')
      expect(help.code, show(help)).to.equal(0)
      expect(help.stdout).to.match(/^ {2}hello\s+Say hello from the host CLI\.$/m)
      expect(help.stdout).to.not.include('model-security').and.not.include('autocomplete')
      expect(ms.code).to.equal(2)
      expect(ms.stderr).to.include('command model-security:groups:list not found')
      expect(ac.code).to.equal(2)
      expect(ac.stderr).to.include('command autocomplete not found')
    } finally {
      rmSync(s.base, {recursive: true, force: true})
    }
  })

  describe('after `hostcli plugins link <repo> --no-install`', () => {
    let s: Sandbox
    let linked: Result

    before(async () => {
      s = sandbox()
      linked = await link(s)
    })

    after(() => rmSync(s.base, {recursive: true, force: true}))

    it('is recorded as a link plugin in the host\'s data dir (HOSTCLI_DATA_DIR), not in daystrom\'s', () => {
      expect(linked.stderr).to.include(`Linking plugin ${GUEST}... done`)
      expect(userPlugins(s)).to.deep.equal([{name: 'daystrom', root: GUEST, type: 'link'}])
      expect(existsSync(join(s.daystromData, 'package.json'))).to.equal(false)
    })

    it('`hostcli model-security groups list --sandbox --json` prints the sandbox default groups, nothing on stderr', async () => {
      const r = await hostcli(s, ['model-security', 'groups', 'list', '--sandbox', '--json'])
      expect(r.code, show(r)).to.equal(0)
      expect(r.stderr).to.equal('')
      const groups = JSON.parse(r.stdout) as {uuid: string; name: string; source_type: string; state: string}[]
      expect(groups.map(g => [g.name, g.source_type, g.state])).to.deep.equal(DEFAULT_GROUPS.map(t => [`Default ${t}`, t, 'ACTIVE']))
      for (const g of groups) expect(g.uuid).to.match(/^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/)
      // daystrom keeps its fixed DAYSTROM_* locations inside the host: the sandbox lives in DAYSTROM_DATA_DIR,
      // and nothing of daystrom's lands in the host's data or config directories
      expect(readdirSync(join(s.daystromData, 'sandbox'))).to.have.length.above(0)
      expect(readdirSync(s.hostData)).to.deep.equal(['package.json'])
      expect(existsSync(s.hostConfig)).to.equal(false)
    })

    it('`hostcli model-security groups get no-such --sandbox --json` exits 4 with the JSON error on stderr only', async () => {
      const r = await hostcli(s, ['model-security', 'groups', 'get', 'no-such', '--sandbox', '--json'])
      expect(r.code, show(r)).to.equal(4)
      expect(r.stdout).to.equal('')
      expect(r.stderr.trim().split('\n')).to.have.length(1)
      const e = jsonError(r.stderr)
      expect(e).to.include({code: 'E_NOT_FOUND', exit: 4})
      expect(e.message).to.include('no-such')
    })

    it('keeps its usage (2) and missing-credentials (3) exit codes in the host, with nothing from the real HOME', async () => {
      const [usage, auth] = await Promise.all([
        hostcli(s, ['model-security', 'groups', 'list', '--bogus', '--json']),
        hostcli(s, ['model-security', 'groups', 'list', '--json']),
      ])
      expect(usage.code, show(usage)).to.equal(2)
      expect(jsonError(usage.stderr)).to.include({code: 'E_USAGE', exit: 2})
      expect(auth.code, show(auth)).to.equal(3)
      expect(auth.stdout).to.equal('')
      const missing = jsonError(auth.stderr) as ReturnType<typeof jsonError> & {suggestions?: string[]}
      expect(missing).to.include({code: 'E_AUTH_MISSING', exit: 3})
      // suggested commands name the host's binary, not ours
      expect(missing.suggestions).to.include('hostcli auth login')
      expect(missing.message).to.include('`hostcli auth login`')
      expect(missing.message).not.to.match(/\bdaystrom auth/)
    })

    it('a mistyped command exits 2 with "did you mean" naming the host\'s binary, for daystrom\'s commands and the host\'s', async () => {
      const [ours, theirs, json] = await Promise.all([
        hostcli(s, ['model-security', 'groups', 'lst']), hostcli(s, ['helo']),
        hostcli(s, ['model-security', 'groups', 'lst'], {HOSTCLI_CONTENT_TYPE: 'json'}),
      ])
      const text = (r: Result) => unwrapped(r.stderr)
      expect(ours.code, show(ours)).to.equal(2)
      expect(ours.stdout).to.equal('')
      expect(text(ours)).to.include('`model-security groups lst` is not a hostcli command. Did you mean `hostcli model-security groups list`?')
      expect(text(ours)).to.not.include('daystrom')
      expect(theirs.code, show(theirs)).to.equal(2)
      expect(text(theirs)).to.include('`helo` is not a hostcli command. Did you mean one of `hostcli hello`, `hostcli help`?')
      // JSON mode follows the host's <BIN>_CONTENT_TYPE, as oclif does for commands
      expect(json.code, show(json)).to.equal(2)
      expect(json.stdout).to.equal('')
      expect(jsonError(json.stderr)).to.include({code: 'E_COMMAND_NOT_FOUND', exit: 2})
      expect(jsonError(json.stderr).message).to.include('Did you mean `hostcli model-security groups list`?')
    })

    it('the host\'s own command still works', async () => {
      const r = await hostcli(s, ['hello', '--name', 'guest'])
      expect(r).to.deep.equal({code: 0, stdout: 'hello guest from hostcli\n', stderr: ''})
    })

    it('`hostcli --help` works and lists the model-security topic next to the host\'s command; command help uses the host\'s bin', async () => {
      const [help, cmd] = await Promise.all([hostcli(s, ['--help']), hostcli(s, ['model-security', 'groups', 'list', '--help'])])
      expect(help.code, show(help)).to.equal(0)
      expect(help.stderr).to.equal('')
      expect(help.stdout).to.include('$ hostcli [COMMAND]')
      expect(help.stdout).to.match(/^ {2}model-security\s+Prisma AIRS AI Model Security/m)
      expect(help.stdout).to.match(/^ {2}hello\s+Say hello from the host CLI\.$/m)
      expect(cmd.code, show(cmd)).to.equal(0)
      expect(cmd.stdout).to.include('$ hostcli model-security groups list').and.include('--sandbox')
    })

    it('`hostcli plugins` lists daystrom as a link plugin, with its nested help/plugins/autocomplete as children', async () => {
      const r = await hostcli(s, ['plugins'], {OCLIF_DISABLE_LINKED_ESM_WARNING: '1'})
      expect(r.code, show(r)).to.equal(0)
      expect(r.stderr).to.equal('')
      const lines = r.stdout.trimEnd().split('\n')
      expect(lines[0]).to.equal(`daystrom ${VERSION} (link) ${GUEST}`)
      // children load concurrently: their order varies from run to run; oclif shows their real paths
      const modules = realpathSync(join(GUEST, 'node_modules'))
      expect(lines.slice(1).map(l => l.replace(/^[├└]─ /, '').replace(/ [\d.]+ /, ' <v> ')).sort()).to.deep.equal(
        ['@oclif/plugin-autocomplete', '@oclif/plugin-help', '@oclif/plugin-plugins'].map(p => `${p} <v> (link) ${modules}/${p}`))
    })

    describe('daystrom\'s nested plugins in the host (accepted, not neutralised)', () => {
      it('take the place of the host\'s own core help/plugins: `plugins --core` lists no core plugin, and the host\'s `plugins` command warns about a linked ESM module', async () => {
        const [core, warned] = await Promise.all([hostcli(s, ['plugins', '--core']), hostcli(s, ['plugins'])])
        expect(core.code, show(core)).to.equal(0)
        expect(core.stdout).to.include(`daystrom ${VERSION} (link)`).and.not.include('(core)')
        // the warning is oclif's for a `link`-type ESM plugin without tsx: here @oclif/plugin-plugins, i.e. the copy
        // nested under daystrom now serves `hostcli plugins`; OCLIF_DISABLE_LINKED_ESM_WARNING=1 silences it
        expect(warned.code, show(warned)).to.equal(0)
        expect(warned.stderr).to.match(ESM_WARNING('@oclif/plugin-plugins'))
        expect(warned.stderr).to.not.match(ESM_WARNING('daystrom'))
      })

      it('the host gains `autocomplete`: it is in the help, runs for the host\'s bin and uses the host\'s cache dir', async () => {
        const [help, ac] = await Promise.all([
          hostcli(s, ['--help']),
          hostcli(s, ['autocomplete', 'bash'], {OCLIF_DISABLE_LINKED_ESM_WARNING: '1'}),
        ])
        expect(help.stdout).to.match(/^ {2}autocomplete\s+Display autocomplete installation instructions\.$/m)
        expect(ac.code, show(ac)).to.equal(0)
        expect(ac.stdout).to.include('hostcli autocomplete script bash').and.not.include('daystrom')
        expect(existsSync(join(s.hostCache, 'autocomplete', 'functions', 'bash', 'hostcli.bash'))).to.equal(true)
      })
    })
  })

  it('unlinking daystrom gives the host back its own core plugins and nothing of daystrom\'s', async () => {
    const s = sandbox()
    try {
      await link(s)
      // runs with daystrom's nested plugin-plugins, and daystrom's nested autocomplete's plugins:postuninstall hook
      const un = await hostcli(s, ['plugins', 'unlink', 'daystrom'], {OCLIF_DISABLE_LINKED_ESM_WARNING: '1'})
      expect(un.code, show(un)).to.equal(0)
      expect(un.stderr).to.include('Uninstalling daystrom... done')
      expect(userPlugins(s)).to.deep.equal([])
      const [core, help, hello, ms, ac] = await Promise.all([
        hostcli(s, ['plugins', '--core']), hostcli(s, ['--help']), hostcli(s, ['hello']),
        hostcli(s, ['model-security', 'groups', 'list', '--sandbox', '--json']), hostcli(s, ['autocomplete']),
      ])
      expect(core.code, show(core)).to.equal(0)
      expect(core.stdout.trimEnd().split('\n').map(l => l.replace(/ [\d.]+ /, ' <v> ')).sort())
        .to.deep.equal(['@oclif/plugin-help <v> (core)', '@oclif/plugin-plugins <v> (core)'])
      expect(core.stderr).to.equal('')
      expect(help.code, show(help)).to.equal(0)
      expect(help.stdout).to.not.include('model-security').and.not.include('autocomplete')
      expect(hello).to.deep.equal({code: 0, stdout: 'hello host from hostcli\n', stderr: ''})
      expect(ms.code).to.equal(2)
      expect(ms.stderr).to.include('command model-security:groups:list not found')
      expect(ac.code).to.equal(2)
      expect(ac.stderr).to.include('command autocomplete not found')
    } finally {
      rmSync(s.base, {recursive: true, force: true})
    }
  })
})
