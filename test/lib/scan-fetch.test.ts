/**
 * The file tree walk behind `scans diff` and `scans files --tree`: every directory listed (all pages), sibling
 * directories listed concurrently but never more than the limit at once, results in listing order.
 */
import {expect} from 'chai'

import {ModelSecurityClient} from '../../src/lib/airs/client.js'
import type {Page, ScanFile} from '../../src/lib/airs/types.js'
import {flattenFileTree, walkScanFiles} from '../../src/lib/scans/files.js'

const entry = (path: string, type: 'FILE' | 'DIRECTORY'): ScanFile => ({path, type, result: 'SUCCESS'} as ScanFile)

/** A fake client over an in-memory tree: directory -> entries; pages of `pageSize`; tracks concurrency. */
function fakeClient(tree: Record<string, ScanFile[]>, pageSize = 2) {
  const calls: Array<{query_path?: string; skip?: number}> = []
  let inFlight = 0
  let maxInFlight = 0
  // a real client (its paginate) whose files operation answers from memory: no request is ever sent
  const client = new ModelSecurityClient({
    clientId: 'x', clientSecret: 'unused', tsgId: '1', dataEndpoint: 'http://127.0.0.1:9', mgmtEndpoint: 'http://127.0.0.1:9',
    tokenEndpoint: 'http://127.0.0.1:9', retries: 0, timeoutMs: 1000, userAgent: 'test',
  })
  client.listScanFiles = async (_scan: string, query?: {query_path?: string; skip?: number; limit?: number}): Promise<Page<ScanFile>> => {
      const q = query ?? {}
      calls.push({query_path: q.query_path, skip: q.skip})
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await new Promise(r => setTimeout(r, 5))
      inFlight--
      const all = tree[q.query_path ?? '/'] ?? []
      const skip = q.skip ?? 0
      return {items: all.slice(skip, skip + Math.min(pageSize, q.limit ?? pageSize)), pagination: {total_items: all.length}, raw: {}}
  }
  return {client, calls, max: () => maxInFlight}
}

describe('walkScanFiles', () => {
  it('lists every directory (every page), keeps listing order, and limits concurrency', async () => {
    const dirs = Array.from({length: 9}, (_, i) => `d${i}`)
    const tree: Record<string, ScanFile[]> = {
      '/': [entry('a.json', 'FILE'), ...dirs.map(d => entry(d, 'DIRECTORY')), entry('z.bin', 'FILE')],
      ...Object.fromEntries(dirs.map(d => [`/${d}`, [entry(`${d}/one`, 'FILE'), entry(`${d}/sub`, 'DIRECTORY'), entry(`${d}/two`, 'FILE')]])),
      ...Object.fromEntries(dirs.map(d => [`/${d}/sub`, [entry(`${d}/sub/deep`, 'FILE')]])),
    }
    const fake = fakeClient(tree)
    const flat = flattenFileTree(await walkScanFiles(fake.client, 'scan', {concurrency: 3}))
    const expected = ['a.json', ...dirs.flatMap(d => [d, `${d}/one`, `${d}/sub`, `${d}/sub/deep`, `${d}/two`]), 'z.bin']
    expect(flat.map(f => f.path)).to.deep.equal(expected)
    expect(fake.max()).to.be.at.most(3).and.at.least(2)
    expect(fake.calls.filter(c => c.query_path === undefined).map(c => c.skip), 'the root, page by page').to.deep.equal([0, 2, 4, 6, 8, 10])
  })

  it('stops at the depth limit and never lists a directory twice', async () => {
    const tree: Record<string, ScanFile[]> = {'/': [entry('a', 'DIRECTORY'), entry('/a', 'DIRECTORY')], '/a': [entry('a/b', 'DIRECTORY')], '/a/b': [entry('a/b/c', 'FILE')]}
    const fake = fakeClient(tree, 10)
    const flat = flattenFileTree(await walkScanFiles(fake.client, 'scan', {maxDepth: 1}))
    expect(flat.map(f => f.path)).to.deep.equal(['a', 'a/b', '/a'])
    expect(fake.calls.map(c => c.query_path)).to.deep.equal([undefined, '/a'])
  })
})
