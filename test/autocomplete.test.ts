/**
 * Shell completion (@oclif/plugin-autocomplete): `autocomplete script bash|zsh` print the rc-file line that sources
 * a setup file in DAYSTROM_CACHE_DIR; `autocomplete --refresh-cache` builds that cache, which must know the
 * model-security commands and their flags. The bash function is executed to complete real command lines.
 */
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {ROOT, run} from './helpers/api.js'

const acDir = () => join(process.env.DAYSTROM_CACHE_DIR!, 'autocomplete')
const MGMT_IDS = [
  'model-security:groups:list', 'model-security:groups:get', 'model-security:groups:create', 'model-security:groups:update',
  'model-security:groups:delete', 'model-security:rules:list', 'model-security:rules:get', 'model-security:rule-instances:list',
  'model-security:rule-instances:get', 'model-security:rule-instances:update',
]

async function refresh(): Promise<void> {
  const r = await run(['autocomplete', '--refresh-cache'])
  expect(r.exit, r.stderr).to.equal(0)
}

/** Run the generated bash completion function on a command line; returns the distinct candidates. */
function completeBash(words: string[]): string[] {
  const script = [
    `source ${JSON.stringify(join(acDir(), 'bash_setup'))}`,
    `COMP_WORDS=(${words.map(w => JSON.stringify(w)).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    `COMP_LINE=${JSON.stringify(words.join(' '))}`,
    '_daystrom_autocomplete',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n')
  return [...new Set(execFileSync('bash', ['-c', script], {encoding: 'utf8'}).split('\n').filter(Boolean))]
}

describe('autocomplete', () => {
  it('`autocomplete script bash` prints the line that sources the bash setup in DAYSTROM_CACHE_DIR', async () => {
    const r = await run(['autocomplete', 'script', 'bash'])
    expect(r.exit).to.equal(0)
    expect(r.stdout.trim()).to.equal(`DAYSTROM_AC_BASH_SETUP_PATH=${join(acDir(), 'bash_setup')} && test -f $DAYSTROM_AC_BASH_SETUP_PATH && source $DAYSTROM_AC_BASH_SETUP_PATH; # daystrom autocomplete setup`)
  })

  it('`autocomplete script zsh` prints the line that sources the zsh setup', async () => {
    const r = await run(['autocomplete', 'script', 'zsh'])
    expect(r.exit).to.equal(0)
    expect(r.stdout).to.include(`DAYSTROM_AC_ZSH_SETUP_PATH=${join(acDir(), 'zsh_setup')}`)
  })

  it('`autocomplete bash` builds the cache and prints setup instructions', async () => {
    const r = await run(['autocomplete', 'bash'])
    expect(r.exit).to.equal(0)
    expect(r.stdout).to.include('printf "$(daystrom autocomplete script bash)" >> ~/.bashrc')
    expect(existsSync(join(acDir(), 'functions', 'bash', 'daystrom.bash'))).to.equal(true)
  })

  it('the bash cache lists every management command with its flags', async () => {
    await refresh()
    const setup = readFileSync(join(acDir(), 'bash_setup'), 'utf8')
    const fn = join(acDir(), 'functions', 'bash', 'daystrom.bash')
    expect(setup).to.include(fn)
    const text = readFileSync(fn, 'utf8')
    const commands = new Map(text.split('\n').filter(l => /^[a-z-]+(:[a-z-]+)+ /.test(l) || /^[a-z-]+ --/.test(l)).map(l => [l.split(' ')[0], l.split(' ').slice(1)]))
    for (const id of MGMT_IDS) expect(commands.has(id), id).to.equal(true)
    expect(commands.get('model-security:groups:list')).to.include.members(['--source-type', '--search', '--enabled-rule', '--sort-field', '--sort-dir', '--limit', '--skip', '--all', '--json', '--output', '--columns'])
    expect(commands.get('model-security:rule-instances:update')).to.include.members(['--state', '--field', '--add-field', '--remove-field', '--config', '--dry-run'])
    expect(commands.get('model-security:groups:delete')).to.include('--yes')
  })

  it('the zsh cache knows the model-security topics, commands and option values', async () => {
    await refresh()
    const text = readFileSync(join(acDir(), 'functions', 'zsh', '_daystrom'), 'utf8')
    expect(readFileSync(join(acDir(), 'zsh_setup'), 'utf8')).to.include(join(acDir(), 'functions', 'zsh'))
    expect(text).to.match(/^#compdef daystrom/)
    expect(text).to.include('"model-security[Prisma AIRS AI Model Security: groups, rules, scans, labels, models]"')
    expect(text).to.include('"groups[Security groups: a source type bound to rule instances]"')
    expect(text).to.include('"rule-instances[Rules attached to a security group, with their state and field values]"')
    expect(text).to.include('"list[List security groups.]"')
    expect(text).to.include(':source-type options:(LOCAL HUGGING_FACE S3 GCS AZURE ARTIFACTORY GITLAB)')
    expect(text).to.include(':state options:(DISABLED ALLOWING BLOCKING)')
  })

  it('bash completes command words and flags of daystrom model-security (space separator)', async () => {
    await refresh()
    expect(completeBash(['daystrom', ''])).to.include.members(['auth', 'model-security', 'plugins', 'autocomplete'])
    expect(completeBash(['daystrom', 'model-security', ''])).to.include.members(['groups', 'rules', 'rule-instances'])
    expect(completeBash(['daystrom', 'model-security', 'gr'])).to.deep.equal(['groups'])
    expect(completeBash(['daystrom', 'model-security', 'groups', ''])).to.have.members(['create', 'delete', 'get', 'list', 'update'])
    expect(completeBash(['daystrom', 'model-security', 'groups', 'list', '--so'])).to.have.members(['--sort', '--source-type', '--sort-field', '--sort-dir'])
    expect(completeBash(['daystrom', 'model-security', 'rule-instances', 'update', '--a'])).to.deep.equal(['--add-field'])
  })

  it('after linking a plugin, a refreshed cache also completes its command', async () => {
    const linked = await run(['plugins', 'link', join(ROOT, 'test', 'fixtures', 'plugin'), '--no-install'])
    expect(linked.exit, linked.stderr).to.equal(0)
    await refresh()
    expect(readFileSync(join(acDir(), 'functions', 'bash', 'daystrom.bash'), 'utf8')).to.match(/^model-security:hello .*--name --group/m)
    expect(completeBash(['daystrom', 'model-security', 'he'])).to.deep.equal(['hello'])
  })
})
