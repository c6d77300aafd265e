/**
 * The apply executor on its own, with a fake client: one write per change in plan order, the first failure
 * stops the run (with the plain-line runner and with listr2), statuses and the report.
 */
import {expect} from 'chai'

import type {ModelSecurityClient} from '../../src/lib/airs/client.js'
import {DaystromError, EXIT} from '../../src/lib/airs/errors.js'
import {applyPlan, listrRunner, plainRunner, renderApplyReport, type StepRunner} from '../../src/lib/policy/apply.js'
import {plan} from '../../src/lib/policy/plan.js'
import {CATALOG, group, instancesOf, LOADTIME, SUSPICIOUS} from './fixtures.js'

function fakeClient(failAt?: number): {client: ModelSecurityClient; calls: string[]} {
  const calls: string[] = []
  const call = (name: string) => async (...args: unknown[]): Promise<unknown> => {
    calls.push(`${name} ${JSON.stringify(args[0])}`)
    await new Promise(r => setTimeout(r, 1))
    if (calls.length === failAt) throw new DaystromError('update rule instance x: the service is unavailable (HTTP 503) after retries', {code: 'E_SERVER', exit: EXIT.NETWORK, status: 503})
    return {}
  }
  const client = {
    createSecurityGroup: call('create'), updateSecurityGroup: call('updateGroup'), updateRuleInstance: call('updateRule'), deleteSecurityGroup: call('delete'),
  } as unknown as ModelSecurityClient
  return {client, calls}
}

/** Run with stderr captured (listr2 and the plain runner write there). */
async function quietly<T>(fn: (write: (l: string) => void) => Promise<T>): Promise<{value: T; lines: string[]; stderr: string}> {
  const lines: string[] = []
  let stderr = ''
  const descriptor = Object.getOwnPropertyDescriptor(process.stderr, 'write')
  const capture = (chunk: string | Uint8Array): boolean => {
    stderr += String(chunk)
    return true
  }
  Object.defineProperty(process.stderr, 'write', {configurable: true, writable: true, value: capture})
  try {
    return {value: await fn(l => lines.push(l)), lines, stderr}
  } finally {
    if (descriptor) Object.defineProperty(process.stderr, 'write', descriptor)
    else delete (process.stderr as {write?: unknown}).write
  }
}

describe('policy apply executor', () => {
  const existing = group('existing', 'LOCAL')
  const stray = group('stray', 'S3')
  const fivePlan = plan({version: 1, groups: [
    {name: 'new', source_type: 'S3'},
    {name: 'existing', source_type: 'LOCAL', description: 'changed', rules: {[LOADTIME]: {state: 'DISABLED'}, [SUSPICIOUS]: {state: 'BLOCKING'}}},
  ]}, {groups: [existing, stray], instances: {[existing.uuid]: instancesOf(existing)}}, CATALOG, new Date(), {prune: true})

  it('sends one write per change, in plan order', async () => {
    const {client, calls} = fakeClient()
    const {value} = await quietly(async write => applyPlan(client, fivePlan, plainRunner(write)))
    expect(value.failure).to.equal(undefined)
    expect(calls.map(c => c.split(' ')[0])).to.deep.equal(['create', 'updateGroup', 'updateRule', 'updateRule', 'delete'])
    expect(value.result.summary).to.deep.include({applied: 5, failed: 0, not_attempted: 0})
  })

  for (const [name, makeRunner] of [['plain lines', (write: (l: string) => void) => Promise.resolve(plainRunner(write))], ['listr2', () => listrRunner()]] as Array<[string, (w: (l: string) => void) => Promise<StepRunner>]>) {
    it(`${name}: the first failure stops the run; each change is applied, failed or not attempted`, async () => {
      const {client, calls} = fakeClient(3)
      const {value, lines, stderr} = await quietly(async write => applyPlan(client, fivePlan, await makeRunner(write)))
      expect(calls).to.have.length(3)
      expect(value.failure).to.be.instanceOf(DaystromError)
      expect(value.result.changes.map(c => c.status)).to.deep.equal(['applied', 'applied', 'failed', 'not_attempted', 'not_attempted'])
      expect(value.result.changes[2].error).to.deep.equal({code: 'E_SERVER', message: 'update rule instance x: the service is unavailable (HTTP 503) after retries', exit: 6, status: 503})
      const progress = name === 'listr2' ? stderr : lines.join('\n')
      expect(progress).to.include(`update rule "${LOADTIME}" in group "existing"`)
      const report = renderApplyReport(value.result)
      expect(report.split('\n')[0]).to.equal('Apply stopped: 2 of 5 changes applied, 1 failed, 2 not attempted.')
      expect(report).to.include('  not attempted  delete group "stray"')
    })
  }
})
