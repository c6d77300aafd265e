/**
 * Policy as code end to end on the sandbox: export → sandbox reset → apply → export is byte-identical;
 * a second apply sends zero write requests (counted by the server); drift made outside the file makes
 * `policy diff --detailed-exitcode` exit 12 showing exactly that change; one file, several tenants by profile.
 */
import {expect} from 'chai'

import {saveProfile} from '../../src/lib/config/store.js'
import type {Plan} from '../../src/lib/policy/plan.js'
import {SANDBOX_CREDENTIALS} from '../../src/lib/sandbox/index.js'
import {run} from '../helpers/api.js'
import {quoteArgs, tempFile, withoutTty} from '../lib/support.js'
import {startTestSandbox, type TestSandbox} from '../sandbox/support.js'
import {LOADTIME, operatorsExceptionYaml, OPERATORS, ORG_BLOCKED, prodLocalYaml, SUSPICIOUS} from './fixtures.js'

const cli = async (...args: string[]) => withoutTty(async () => run(quoteArgs(args)))
const policy = async (...args: string[]) => cli('model-security', 'policy', ...args)

const DOC = `version: 1
groups:
${prodLocalYaml('safetensors, onnx')}      ${LOADTIME}:
        state: BLOCKING
${operatorsExceptionYaml('2099-01-31')}  - name: prod-hf
    source_type: HUGGING_FACE
    rules:
      ${ORG_BLOCKED}:
        state: BLOCKING
        fields:
          deny_orgs: [some-untrusted-org, another-org]
      License Exists:
        state: BLOCKING
  - name: Default LOCAL
    source_type: LOCAL
    rules:
      ${SUSPICIOUS}:
        state: BLOCKING
`

/** Point the CLI at a running sandbox server through the environment (as for a real tenant). */
function useServer(t: TestSandbox): void {
  process.env.PANW_MODEL_SEC_CLIENT_ID = SANDBOX_CREDENTIALS.clientId
  process.env.PANW_MODEL_SEC_CLIENT_SECRET = SANDBOX_CREDENTIALS.clientSecret
  process.env.PANW_MODEL_SEC_TSG_ID = SANDBOX_CREDENTIALS.tsgId
  process.env.PANW_MODEL_SEC_MGMT_ENDPOINT = t.sb.mgmtUrl
  process.env.PANW_MODEL_SEC_DATA_ENDPOINT = t.sb.dataUrl
  process.env.PANW_MODEL_SEC_TOKEN_ENDPOINT = t.sb.tokenUrl
}

/** Requests the server saw, as "METHOD /path" (token requests left out). */
function counter(): {log: (line: string) => void; lines: string[]; writes(): string[]; reads(): string[]; reset(): void} {
  const lines: string[] = []
  const api = () => lines.filter(l => /^(GET|POST|PUT|DELETE) \/aims\//.test(l)).map(l => l.split(' ').slice(0, 2).join(' ').replace(/\?.*$/, ''))
  return {
    lines,
    log: (line: string) => lines.push(line),
    writes: () => api().filter(l => !l.startsWith('GET ')),
    reads: () => api().filter(l => l.startsWith('GET ')),
    reset: () => { lines.length = 0 },
  }
}

describe('policy on the sandbox', () => {
  it('round trip: export → sandbox reset → apply → export is byte-identical (minimal, and --full --include-defaults)', async () => {
    const file = tempFile('policy.yaml', DOC)
    const first = await policy('apply', '-f', file, '--yes', '--sandbox')
    expect(first.exit, first.stderr).to.equal(0)

    for (const flags of [[], ['--full', '--include-defaults']]) {
      const a = await policy('export', '--sandbox', ...flags)
      expect(a.exit, a.stderr).to.equal(0)
      expect(a.stdout).to.include('  - name: prod-local\n')
      expect(a.stdout).to.include('  - name: Default LOCAL\n')
      const exported = tempFile('export.yaml', a.stdout)
      const reset = await cli('sandbox', 'reset', '--yes')
      expect(reset.exit, reset.stderr).to.equal(0)
      const empty = await policy('export', '--sandbox')
      expect(empty.stdout).not.to.include('prod-local')
      const restore = await policy('apply', '-f', exported, '--yes', '--sandbox')
      expect(restore.exit, restore.stderr).to.equal(0)
      const b = await policy('export', '--sandbox', ...flags)
      expect(b.stdout).to.equal(a.stdout)
    }
    // the exception's state is what the tenant holds; the default group's change survived the reset
    const minimal = (await policy('export', '--sandbox')).stdout
    expect(minimal).to.include(`      ${OPERATORS}:\n        state: ALLOWING\n`)
    expect(minimal).to.include(`  - name: Default LOCAL\n    source_type: LOCAL\n    description: Auto-created default security group for LOCAL models\n    rules:\n      ${SUSPICIOUS}:\n        state: BLOCKING\n`)
    expect(minimal).to.include('          deny_orgs: [another-org, some-untrusted-org]\n')
  })

  describe('against a sandbox server (requests counted by the server)', () => {
    let t: TestSandbox
    let seen: ReturnType<typeof counter>

    beforeEach(async () => {
      seen = counter()
      t = await startTestSandbox({log: seen.log})
      useServer(t)
    })

    afterEach(async () => {
      await t.close()
    })

    it('idempotence: a second apply sends zero write requests, and reads one page per list', async () => {
      const file = tempFile('policy.yaml', DOC)
      const first = await policy('apply', '-f', file, '--yes')
      expect(first.exit, first.stderr).to.equal(0)
      expect(seen.writes()).to.have.length(3)
      expect(seen.writes().filter(w => w === 'POST /aims/mgmt/v1/security-groups')).to.have.length(2)

      seen.reset()
      const second = await policy('apply', '-f', file, '--yes')
      expect(second.exit, second.stderr).to.equal(0)
      expect(second.stdout.trim()).to.equal(`No changes. The tenant matches ${file}.`)
      expect(seen.writes()).to.deep.equal([])
      // the rule catalog, the group list, and one instance list per group the file names
      expect(seen.reads().filter(r => r.endsWith('/v1/security-rules'))).to.have.length(1)
      expect(seen.reads().filter(r => r.endsWith('/v1/security-groups'))).to.have.length(1)
      expect(seen.reads().filter(r => r.endsWith('/rule-instances'))).to.have.length(3)
      expect(seen.reads()).to.have.length(5)
    })

    it('drift: a rule-instances update outside the file makes diff --detailed-exitcode exit 12 with exactly that change', async () => {
      const file = tempFile('policy.yaml', DOC)
      expect((await policy('apply', '-f', file, '--yes')).exit).to.equal(0)
      expect((await policy('diff', '-f', file, '--detailed-exitcode')).exit).to.equal(0)

      const drift = await cli('model-security', 'rule-instances', 'update', 'prod-hf', ORG_BLOCKED, '--state', 'ALLOWING', '--add-field', 'deny_orgs=third-org')
      expect(drift.exit, drift.stderr).to.equal(0)
      seen.reset()
      const r = await policy('diff', '-f', file, '--detailed-exitcode', '--json')
      expect(r.exit, r.stderr).to.equal(12)
      expect(seen.writes()).to.deep.equal([])
      const out = JSON.parse(r.stdout) as Plan
      expect(out.summary).to.deep.equal({create: 0, update: 1, delete: 0, total: 1})
      expect(out.changes).to.have.length(1)
      expect(out.changes[0]).to.deep.include({
        kind: 'update_rule', group: 'prod-hf', rule: ORG_BLOCKED, state: {before: 'ALLOWING', after: 'BLOCKING'},
        fields: {deny_orgs: {before: ['another-org', 'some-untrusted-org', 'third-org'], after: ['another-org', 'some-untrusted-org'], added: [], removed: ['third-org']}},
      })
      const human = await policy('diff', '-f', file, '--detailed-exitcode')
      expect(human.exit).to.equal(12)
      expect(human.stdout).to.include(`~ rule "${ORG_BLOCKED}"\n            state: ALLOWING → BLOCKING\n            deny_orgs: [another-org, some-untrusted-org, third-org] → [another-org, some-untrusted-org]  (-third-org)`)
      expect(human.stdout).to.include('Plan: 0 to create, 1 to change, 0 to delete.')

      // apply repairs it
      expect((await policy('apply', '-f', file, '--yes')).exit).to.equal(0)
      expect((await policy('diff', '-f', file, '--detailed-exitcode')).exit).to.equal(0)
    })

    it('multi-tenant: the same file applied with --profile staging and --profile prod gives the same export', async () => {
      const other = await startTestSandbox()
      try {
        for (const [name, sb] of [['staging', t], ['prod', other]] as const) {
          saveProfile(name, {client_id: SANDBOX_CREDENTIALS.clientId, tsg_id: SANDBOX_CREDENTIALS.tsgId, mgmt_endpoint: sb.sb.mgmtUrl,
            data_endpoint: sb.sb.dataUrl, token_endpoint: sb.sb.tokenUrl}, SANDBOX_CREDENTIALS.clientSecret, false)
        }
        for (const k of Object.keys(process.env)) if (k.startsWith('PANW_MODEL_SEC_')) delete process.env[k]
        const file = tempFile('policy.yaml', DOC)
        for (const profile of ['staging', 'prod']) {
          const r = await policy('apply', '-f', file, '--yes', '--profile', profile)
          expect(r.exit, r.stderr).to.equal(0)
        }
        const staging = await policy('export', '--profile', 'staging')
        const prod = await policy('export', '--profile', 'prod')
        const sandbox = (await policy('apply', '-f', file, '--yes', '--sandbox')).exit === 0 ? await policy('export', '--sandbox') : undefined
        expect(staging.stdout).to.include('prod-hf')
        expect(prod.stdout).to.equal(staging.stdout)
        expect(sandbox?.stdout).to.equal(staging.stdout)
        // same names, different tenants: the groups' UUIDs differ
        const uuid = async (profile: string) => (JSON.parse((await cli('model-security', 'groups', 'get', 'prod-hf', '--profile', profile, '--json')).stdout) as {uuid: string}).uuid
        expect(await uuid('staging')).not.to.equal(await uuid('prod'))
      } finally {
        await other.close()
      }
    })
  })
})
