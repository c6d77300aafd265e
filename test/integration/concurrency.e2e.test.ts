/**
 * Twenty CLI invocations writing to the same sandbox at once (each process runs its own in-process sandbox on
 * the same SQLite file): every write must be there afterwards.
 */
import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {cli, e2eSandbox, parseJson} from '../helpers/cli.js'

describe('20 concurrent CLI writers on one sandbox', function () {
  this.timeout(240_000)
  const sbx = e2eSandbox('daystrom-conc-')

  it('loses no group and no label', async () => {
    writeFileSync(join(sbx.dir, 'model.safetensors'), Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{}')]))
    const scanRun = await cli(['model-security', 'scans', 'create', '--model-uri', join(sbx.dir, 'model.safetensors'), '--group', 'Default LOCAL', '--sandbox', '--json'], sbx.env)
    expect(scanRun.code, scanRun.stderr).to.equal(0)
    const scan = parseJson<{uuid: string}>(scanRun).uuid

    const writers = Array.from({length: 20}, (_, i) => i % 2 === 0
      ? cli(['model-security', 'groups', 'create', '--name', `concurrent-${i}`, '--source-type', 'S3', '--sandbox', '--json'], sbx.env)
      : cli(['model-security', 'labels', 'add', scan, '-l', `k${i}=v${i}`, '--sandbox'], sbx.env))
    const results = await Promise.all(writers)
    for (const r of results) expect(r.code, r.stderr).to.equal(0)

    const groups = parseJson<Array<{name: string}>>(await cli(['model-security', 'groups', 'list', '--all', '--sandbox', '--json'], sbx.env))
    const made = groups.map(g => g.name).filter(n => n.startsWith('concurrent-')).sort()
    expect(made).to.deep.equal(Array.from({length: 10}, (_, j) => `concurrent-${j * 2}`).sort())
    const got = parseJson<{labels: Array<{key: string; value: string}>}>(await cli(['model-security', 'scans', 'get', scan, '--sandbox', '--json'], sbx.env))
    const keys = got.labels.map(l => `${l.key}=${l.value}`).sort()
    expect(keys).to.deep.equal(Array.from({length: 10}, (_, j) => `k${j * 2 + 1}=v${j * 2 + 1}`).sort())
  })
})
