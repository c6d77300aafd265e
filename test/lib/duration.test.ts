/** Durations everywhere accept 90s, 10m, 1h, combinations, ms, or plain seconds. */
import {expect} from 'chai'

import {formatDuration, parseDuration, parseTimePoint} from '../../src/lib/util/duration.js'

describe('durations', () => {
  it('parseDuration', () => {
    const cases: Array<[string, number]> = [
      ['90s', 90_000], ['10m', 600_000], ['1h', 3_600_000], ['1h30m', 5_400_000], ['500ms', 500], ['30', 30_000],
      ['2.5', 2500], ['1.5s', 1500], [' 2M ', 120_000], ['1d', 86_400_000], ['0', 0],
    ]
    for (const [input, ms] of cases) expect(parseDuration(input), input).to.equal(ms)
  })

  it('rejects what is not a duration, naming the input and the accepted forms', () => {
    for (const bad of ['', 'soon', '10x', '5m trailing', 'm5', '-5s', '1h 30m', '1e3']) {
      expect(() => parseDuration(bad), bad).to.throw(`invalid duration "${bad}": use e.g. 90s, 10m, 1h or a number of seconds`)
    }
  })

  it('formatDuration', () => {
    expect(formatDuration(250)).to.equal('250ms')
    expect(formatDuration(1500)).to.equal('1.5s')
    expect(formatDuration(90_000)).to.equal('1m30s')
    expect(formatDuration(600_000)).to.equal('10m')
    expect(formatDuration(5_400_000)).to.equal('1h30m')
    expect(formatDuration(7_200_000)).to.equal('2h')
  })

  it('parseTimePoint: ISO times and durations ago', () => {
    const now = Date.parse('2026-05-02T12:00:00Z')
    expect(parseTimePoint('2026-05-01T12:00:00Z', now)).to.equal('2026-05-01T12:00:00.000Z')
    expect(parseTimePoint('2026-05-01', now)).to.equal('2026-05-01T00:00:00.000Z')
    expect(parseTimePoint('24h', now)).to.equal('2026-05-01T12:00:00.000Z')
    expect(parseTimePoint('90', now)).to.equal('2026-05-02T11:58:30.000Z')
    expect(() => parseTimePoint('2026-13-45', now)).to.throw('invalid time "2026-13-45"')
    expect(() => parseTimePoint('yesterday', now)).to.throw('invalid time "yesterday"')
  })
})
