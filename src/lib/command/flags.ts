/** Flags shared by many commands: paging, durations, times, key=value pairs. */
import {Flags} from '@oclif/core'

import {usageError} from '../airs/errors.js'
import {parseDuration, parseTimePoint} from '../util/duration.js'

export function pagingFlags(defaultLimit: number, max = 100) {
  return {
    limit: Flags.integer({summary: `Items per page (1-${max}; the service's default is ${defaultLimit}).`, min: 1, max, helpGroup: 'PAGING'}),
    skip: Flags.integer({summary: 'Items to skip before the first one shown.', min: 0, helpGroup: 'PAGING'}),
    all: Flags.boolean({summary: 'Walk every page and show all items.', helpGroup: 'PAGING'}),
  }
}

/** Flag options whose value is parsed (or rejected, exit 2 naming the flag) by `fn`. */
function parsing<T>(fn: (input: string) => T) {
  return {
    async parse(input: string, _ctx: unknown, opts: {name: string}): Promise<T> {
      try {
        return fn(input)
      } catch (error) {
        throw new Error(`--${opts.name}: ${(error as Error).message}`)
      }
    },
  }
}

/** A duration flag (`90s`, `10m`, `1h` or seconds) parsed to milliseconds. */
export const durationFlag = Flags.custom<number>(parsing(parseDuration))

/** An ISO time or a duration ago (`24h`), parsed to an ISO string. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-arguments -- pins the option type P, else inferred from parse()
export const timeFlag = Flags.custom<string>(parsing(parseTimePoint))

/** A string flag with the length limits of the query parameter it feeds (checked before any request). */
export function boundedString(min: number, max: number) {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-arguments -- pins the option type P, else inferred from parse()
  return Flags.custom<string>(parsing((input: string) => {
    if (input.length < min || input.length > max) {
      throw new Error(min > 0 ? `must be ${min}-${max} characters, got ${input.length}` : `at most ${max} characters, got ${input.length}`)
    }
    return input
  }))
}

/** Split `key=value` (the value may contain '='). */
export function splitPair(input: string, flag: string): [string, string] {
  const eq = input.indexOf('=')
  if (eq <= 0) throw usageError(`${flag}: expected key=value, got "${input}"`)
  return [input.slice(0, eq).trim(), input.slice(eq + 1).trim()]
}
