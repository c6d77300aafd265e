/** The renderers and table flags (filter -> sort -> columns -> render) on plain rows. */
import {expect} from 'chai'

import {DaystromError} from '../../src/lib/airs/errors.js'
import {
  type Column, filterAndSort, formatCell, renderCsv, renderDetail, renderJson, renderMarkdown, renderNdjson, renderTable, renderYaml,
  selectColumns, validateTableOptions,
} from '../../src/lib/command/output.js'

interface Row { name: string; n: number; when: string; tags?: string[]; labels?: Array<{key: string; value: string}>; nested?: {deep: string} }

const rows: Row[] = [
  {name: 'beta', n: 10, when: '2026-04-02T09:12:44.118203Z', tags: ['a', 'b'], nested: {deep: 'x'}},
  {name: 'alpha', n: 9, when: '2025-10-30T14:14:17Z', labels: [{key: 'env', value: 'prod'}]},
  {name: 'Gamma', n: 100, when: '2026-01-01T00:00:00+02:00'},
]
const columns: Column<Row>[] = [
  {key: 'name'}, {key: 'n', header: 'COUNT'}, {key: 'when'}, {key: 'tags', extended: true}, {key: 'nested.deep', header: 'DEEP', extended: true},
  {key: 'labels', extended: true},
]

describe('output', () => {
  it('formatCell: timestamps without microseconds, arrays joined, labels as k=v, objects as JSON', () => {
    expect(formatCell('2026-04-02T09:12:44.118203Z')).to.equal('2026-04-02 09:12:44Z')
    expect(formatCell('2026-01-01T00:00:00+02:00')).to.equal('2026-01-01 00:00:00+02:00')
    expect(formatCell('2026-04-02T09:12:44.118203Z', false)).to.equal('2026-04-02T09:12:44.118203Z')
    expect(formatCell(['a', 'b'])).to.equal('a, b')
    expect(formatCell([{key: 'env', value: 'prod'}, {key: 'team', value: 'ml'}])).to.equal('env=prod, team=ml')
    expect(formatCell({a: 1})).to.equal('{"a":1}')
    expect(formatCell(null)).to.equal('')
    expect(formatCell(false)).to.equal('false')
  })

  it('renderTable aligns columns, hides the header with header=false, and fits a width by truncating the widest column', () => {
    const cols = selectColumns(columns, {})
    expect(cols.map(c => c.key)).to.deep.equal(['name', 'n', 'when'])
    const t = renderTable(rows, cols, {}).split('\n')
    expect(t).to.deep.equal([
      'NAME   COUNT  WHEN',
      'beta   10     2026-04-02 09:12:44Z',
      'alpha  9      2025-10-30 14:14:17Z',
      'Gamma  100    2026-01-01 00:00:00+02:00',
    ])
    expect(renderTable(rows, cols, {header: false}).split('\n')[0]).to.equal('beta   10   2026-04-02 09:12:44Z')
    const narrow = renderTable(rows, cols, {width: 30}).split('\n')
    for (const line of narrow) expect(line.length).to.be.at.most(30)
    expect(narrow[3]).to.match(/…$/)
    const whole = renderTable(rows, cols, {width: 30, truncate: false}).split('\n')
    expect(whole[3]).to.equal('Gamma  100    2026-01-01 00:00:00+02:00')
  })

  it('renderTable flattens newlines inside cells', () => {
    expect(renderTable([{name: 'a\nb', n: 1, when: ''}], [{key: 'name'}], {header: false})).to.equal('a b')
  })

  it('filterAndSort: case-insensitive substring filters (all must match), natural multi-key sort with - for descending', () => {
    expect(filterAndSort(rows, columns, {filter: ['name=A']}).map(r => r.name)).to.deep.equal(['beta', 'alpha', 'Gamma'])
    expect(filterAndSort(rows, columns, {filter: ['name=a', 'count=1']}).map(r => r.name)).to.deep.equal(['beta', 'Gamma'])
    expect(filterAndSort(rows, columns, {sort: 'n'}).map(r => r.n)).to.deep.equal([9, 10, 100])
    expect(filterAndSort(rows, columns, {sort: '-count'}).map(r => r.n)).to.deep.equal([100, 10, 9])
    expect(filterAndSort(rows, columns, {sort: 'name'}).map(r => r.name)).to.deep.equal(['alpha', 'beta', 'Gamma'])
    expect(filterAndSort(rows, columns, {filter: ['deep=x']}).map(r => r.name)).to.deep.equal(['beta'])
    expect(filterAndSort(rows, columns, {filter: ['labels=env=prod']}).map(r => r.name)).to.deep.equal(['alpha'])
  })

  it('selectColumns by key or header (case-insensitive), -x shows extended columns', () => {
    expect(selectColumns(columns, {columns: 'COUNT, name'}).map(c => c.key)).to.deep.equal(['n', 'name'])
    expect(selectColumns(columns, {extended: true}).map(c => c.key)).to.deep.equal(['name', 'n', 'when', 'tags', 'nested.deep', 'labels'])
  })

  it('unknown columns in --columns/--sort/--filter are usage errors (exit 2) listing the available columns', () => {
    for (const opts of [{columns: 'name,size'}, {sort: 'size'}, {filter: ['size=1']}]) {
      let err: unknown
      try {
        validateTableOptions(columns, opts)
      } catch (error) {
        err = error
      }
      expect(err).to.be.instanceOf(DaystromError)
      expect(err).to.include({exit: 2, code: 'E_USAGE'})
      expect((err as Error).message).to.match(/unknown column "size". Available columns: name, n, when, tags, nested.deep, labels/)
    }
  })

  it('renderCsv quotes commas, quotes and newlines (RFC 4180), keeps raw values, header by key', () => {
    const csv = renderCsv([{name: 'a,b', n: 1, when: 'say "hi"\nbye'}], [{key: 'name'}, {key: 'n'}, {key: 'when'}], {})
    expect(csv).to.equal('name,n,when\r\n"a,b",1,"say ""hi""\nbye"')
    expect(renderCsv(rows.slice(0, 1), [{key: 'when'}], {header: false})).to.equal('2026-04-02T09:12:44.118203Z')
  })

  it('renderMarkdown escapes pipes and newlines', () => {
    expect(renderMarkdown([{name: 'a|b', n: 1, when: 'x\ny'}], [{key: 'name'}, {key: 'when'}], {}).split('\n')).to.deep.equal([
      '| NAME | WHEN |', '| --- | --- |', '| a\\|b | x<br>y |'])
  })

  it('json, ndjson and yaml', async () => {
    expect(renderJson({a: [1]})).to.equal('{\n  "a": [\n    1\n  ]\n}')
    expect(renderNdjson([{a: 1}, {b: 2}])).to.equal('{"a":1}\n{"b":2}')
    expect(await renderYaml([{name: 'x', tags: ['a']}])).to.equal('- name: x\n  tags:\n    - a')
  })

  it('renderDetail aligns keys, titles sections, skips undefined rows', () => {
    const out = renderDetail([
      {rows: [['Name', 'x'], ['Longer key', ['a', 'b']], ['Skipped', undefined]]},
      {title: 'Section', rows: [['k', 1]], text: '  1. step'},
    ])
    expect(out).to.equal('Name:       x\nLonger key: a, b\n\nSection\n  k: 1\n  1. step')
  })
})
