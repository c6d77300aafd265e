/**
 * Command not found (our command_not_found hook, src/hooks/command-not-found.ts): a mistyped command exits 2 with
 * "did you mean" and the full command to run, never prompts, and in --json mode writes one JSON error object to
 * stderr. Checked in-process (the hook as oclif loads it from package.json) and in real processes (bin/run.js).
 */
import {Config} from '@oclif/core'
import {expect} from 'chai'

import {commandTree, suggestCommands} from '../src/lib/command/suggest.js'
import {editDistance} from '../src/lib/util/edit-distance.js'
import {jsonError, ROOT, run} from './helpers/api.js'
import {cli, ensureBuilt, unwrapped} from './helpers/cli.js'

const CODE = 'E_COMMAND_NOT_FOUND'

describe('command not found', () => {
  describe('suggestions', () => {
    let config: Config

    before(async () => {
      config = await Config.load({root: ROOT})
    })

    it('edit distance counts an adjacent transposition as one edit and ignores case', () => {
      expect(editDistance('lst', 'list')).to.equal(1)
      expect(editDistance('gte', 'get')).to.equal(1)
      expect(editDistance('LIST', 'list')).to.equal(0)
      expect(editDistance('', 'abc')).to.equal(3)
      expect(editDistance('kitten', 'sitting')).to.equal(3)
    })

    it('fixes the first unknown word against the commands and subtopics at that point, and the words after it', () => {
      const cases: Record<string, string[]> = {
        'model-security:groups:lst': ['model-security:groups:list'],
        'model-security:grups:list': ['model-security:groups:list'],
        'model-security:grups': ['model-security:groups'],
        'model-security:scans:evaluaton': ['model-security:scans:evaluation'],
        'model-security:rules:gte': ['model-security:rules:get'],
        'model-security:labels:ad': ['model-security:labels:add'],
        'model-security:pypiauth': ['model-security:pypi-auth'],
        'Model-Security:Groups:List': ['model-security:groups:list'],
        'modelsecurity:groups:list': ['model-security:groups:list'],
        'auth:logn': ['auth:login'],
        'sandbox:srve': ['sandbox:serve'],
        // words after the corrected command are its arguments
        'model-security:scans:gett:0313419a-33ec-4264-b2ad-c0a3a09aaa39': ['model-security:scans:get'],
      }
      const tree = commandTree(config)
      for (const [typed, expected] of Object.entries(cases)) expect(suggestCommands(tree, typed), typed).to.deep.equal(expected)
    })

    it('knows common synonyms, and commands typed without their leading topic', () => {
      const tree = commandTree(config)
      expect(suggestCommands(tree, 'model-security:groups:ls')).to.deep.equal(['model-security:groups:list'])
      expect(suggestCommands(tree, 'model-security:groups:rm')).to.deep.equal(['model-security:groups:delete'])
      expect(suggestCommands(tree, 'model-security:rules:show')).to.deep.equal(['model-security:rules:get'])
      expect(suggestCommands(tree, 'groups:list')).to.deep.equal(['model-security:groups:list'])
      expect(suggestCommands(tree, 'groups:lst')).to.deep.equal(['model-security:groups:list'])
      expect(suggestCommands(tree, 'scans')).to.deep.equal(['model-security:scans'])
    })

    it('suggests nothing when nothing is close, or when too many commands fit equally well', () => {
      const tree = commandTree(config)
      expect(suggestCommands(tree, 'frobnicate')).to.deep.equal([])
      expect(suggestCommands(tree, 'model-security:groups:xyz')).to.deep.equal([])
      // `list` exists under every topic
      expect(suggestCommands(tree, 'list')).to.deep.equal([])
    })

    it('lists every equally close command, and never a hidden one', () => {
      const commands = [
        {id: 'zoo:list', hidden: false, aliases: []}, {id: 'zoo:lint', hidden: false, aliases: []},
        {id: 'zoo:lost', hidden: true, aliases: []}, {id: 'zoo:secret:get', hidden: true, aliases: []},
        {id: 'zoo:feed', hidden: false, aliases: ['zoo:eat']},
      ]
      const tree = commandTree({commands, topics: [{name: 'zoo'}]} as unknown as Parameters<typeof commandTree>[0])
      expect(suggestCommands(tree, 'zoo:lixt')).to.deep.equal(['zoo:lint', 'zoo:list'])
      expect(suggestCommands(tree, 'zoo:lst')).to.deep.equal(['zoo:list'])
      expect(suggestCommands(tree, 'zoo:secret:gt')).to.deep.equal([])
      expect(suggestCommands(tree, 'zoo:eta')).to.deep.equal(['zoo:eat'])
    })
  })

  describe('in-process', () => {
    it('exits 2 with "did you mean" naming the full command, and the topic help to list the others', async () => {
      const r = await run(['model-security', 'groups', 'lst'])
      expect(r.exit).to.equal(2)
      expect(r.stdout).to.equal('')
      expect(r.error?.message).to.equal('`model-security groups lst` is not a daystrom command. Did you mean `daystrom model-security groups list`?')
      expect(r.error).to.include({code: CODE})
      expect((r.error as unknown as {suggestions: string[]}).suggestions).to.deep.equal(['daystrom model-security groups list', 'daystrom model-security groups --help'])
    })

    it('with --json (before any `--`): stdout empty, one JSON error object on stderr, exit 2', async () => {
      const r = await run(['model-security', 'grups', 'list', '--json'])
      expect(r.exit).to.equal(2)
      expect(r.stdout).to.equal('')
      expect(r.stderr.trim().split('\n')).to.have.length(1)
      expect(jsonError(r.stderr)).to.deep.equal({
        code: CODE, exit: 2,
        message: '`model-security grups list` is not a daystrom command. Did you mean `daystrom model-security groups list`?',
        suggestions: ['daystrom model-security groups list', 'daystrom model-security --help'],
      })
      const passthrough = await run(['model-security', 'groups', 'lst', '--', '--json'])
      expect(passthrough.exit).to.equal(2)
      expect(passthrough.stderr).to.not.include('{"error"')
      expect(passthrough.error?.message).to.include('Did you mean `daystrom model-security groups list`?')
    })

    it('DAYSTROM_CONTENT_TYPE=json is JSON mode too', async () => {
      process.env.DAYSTROM_CONTENT_TYPE = 'json'
      const r = await run(['sandbox', 'srve'])
      expect(r.exit).to.equal(2)
      expect(jsonError(r.stderr)).to.include({code: CODE, exit: 2})
      expect(jsonError(r.stderr).message).to.include('Did you mean `daystrom sandbox serve`?')
    })

    it('never prompts, even with a terminal on stdin and stdout', async () => {
      const saved = [process.stdin.isTTY, process.stdout.isTTY]
      Object.defineProperty(process.stdin, 'isTTY', {value: true, configurable: true})
      Object.defineProperty(process.stdout, 'isTTY', {value: true, configurable: true})
      try {
        const r = await run(['model-security', 'groups', 'lst'])
        expect(r.exit).to.equal(2)
        expect(r.error?.message).to.include('Did you mean `daystrom model-security groups list`?')
      } finally {
        Object.defineProperty(process.stdin, 'isTTY', {value: saved[0], configurable: true})
        Object.defineProperty(process.stdout, 'isTTY', {value: saved[1], configurable: true})
      }
    })

    it('without a close command: no guess, the root help', async () => {
      const r = await run(['frobnicate'])
      expect(r.exit).to.equal(2)
      expect(r.error?.message).to.equal('`frobnicate` is not a daystrom command.')
      expect((r.error as unknown as {suggestions: string[]}).suggestions).to.deep.equal(['daystrom --help'])
    })
  })

  describe('in a real process (bin/run.js)', function () {
    this.timeout(120_000)

    before(() => ensureBuilt())

    it('exits 2 with the message and suggestions on stderr, nothing on stdout', async () => {
      const r = await cli(['model-security', 'groups', 'lst'])
      expect(r.code, r.stderr).to.equal(2)
      expect(r.stdout).to.equal('')
      const text = unwrapped(r.stderr)
      expect(text).to.include('Error: `model-security groups lst` is not a daystrom command. Did you mean `daystrom model-security groups list`?')
      expect(text).to.include(`Code: ${CODE}`)
      expect(text).to.match(/Try this: \* daystrom model-security groups list \* daystrom model-security groups --help/)
    })

    it('--json: exactly one JSON error object on stderr, exit 2', async () => {
      const r = await cli(['model-security', 'groups', 'lst', '--json'])
      expect(r.code, r.stderr).to.equal(2)
      expect(r.stdout).to.equal('')
      expect(r.stderr.trim().split('\n')).to.have.length(1)
      expect(jsonError(r.stderr)).to.include({code: CODE, exit: 2})
      expect((jsonError(r.stderr) as unknown as {suggestions: string[]}).suggestions[0]).to.equal('daystrom model-security groups list')
    })

    it('help for a mistyped command (`--help`, `help ...`) is the same usage error, while real help still exits 0', async () => {
      const [flag, command, topic, real] = await Promise.all([
        cli(['model-security', 'groups', 'lst', '--help']), cli(['help', 'model-security', 'groups', 'lst']),
        cli(['model-security', 'gruops', '--help']), cli(['model-security', 'groups', '--help']),
      ])
      for (const r of [flag, command]) {
        expect(r.code, r.stderr).to.equal(2)
        expect(r.stdout).to.equal('')
        expect(unwrapped(r.stderr)).to.include('`model-security groups lst` is not a daystrom command. Did you mean `daystrom model-security groups list`?')
      }
      expect(topic.code).to.equal(2)
      expect(unwrapped(topic.stderr)).to.include('Did you mean `daystrom model-security groups`?')
      expect(real.code, real.stderr).to.equal(0)
      expect(real.stdout).to.include('model-security groups list')
    })

    it('a mistyped root flag gets the flag suggested', async () => {
      const r = await cli(['--versoin'])
      expect(r.code).to.equal(2)
      expect(unwrapped(r.stderr)).to.include('`--versoin` is not a daystrom command or flag. Did you mean `daystrom --version`?')
    })
  })
})
