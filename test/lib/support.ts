/**
 * Small helpers shared by the management-plane, auth and lib tests: temp files inside the per-test temp dir
 * (removed by the root hooks), a fake stdin (piped text or a TTY), and quick JSON parsing of outputs.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {PassThrough, Readable} from 'node:stream'

/** A file in this test's temp dir (next to DAYSTROM_CONFIG_DIR), removed after the test. */
export function tempFile(name: string, content: string): string {
  const base = dirname(process.env.DAYSTROM_CONFIG_DIR!)
  const file = join(base, 'files', name)
  mkdirSync(dirname(file), {recursive: true})
  writeFileSync(file, content)
  return file
}

const stdinDescriptor = Object.getOwnPropertyDescriptor(process, 'stdin')!

/** Run `fn` with process.stdin replaced by a stream holding `text` (not a TTY, like a pipe). */
export async function withStdin<T>(text: string, fn: () => Promise<T>): Promise<T> {
  const stream = Readable.from([Buffer.from(text)]) as Readable & {isTTY?: boolean}
  stream.isTTY = false
  Object.defineProperty(process, 'stdin', {configurable: true, enumerable: stdinDescriptor.enumerable, get: () => stream})
  try {
    return await fn()
  } finally {
    Object.defineProperty(process, 'stdin', stdinDescriptor)
  }
}

/** Run `fn` with an empty, non-TTY stdin (as under CI) whatever the test runner's terminal is. */
export async function withoutTty<T>(fn: () => Promise<T>): Promise<T> {
  const stream = new PassThrough() as PassThrough & {isTTY?: boolean}
  stream.isTTY = false
  stream.end()
  Object.defineProperty(process, 'stdin', {configurable: true, enumerable: stdinDescriptor.enumerable, get: () => stream})
  try {
    return await fn()
  } finally {
    Object.defineProperty(process, 'stdin', stdinDescriptor)
  }
}

/**
 * Run `fn` as if on a terminal: stdin and stderr report isTTY, and `answer` is typed when the command asks.
 * Returns what `fn` returned.
 */
export async function withTty<T>(answer: string, fn: () => Promise<T>): Promise<T> {
  const stream = new PassThrough() as PassThrough & {isTTY?: boolean; setRawMode?: (b: boolean) => void}
  stream.isTTY = true
  stream.setRawMode = () => {}
  const stderrTty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY')
  Object.defineProperty(process.stderr, 'isTTY', {configurable: true, value: true, writable: true})
  Object.defineProperty(process, 'stdin', {configurable: true, enumerable: stdinDescriptor.enumerable, get: () => stream})
  const timer = setTimeout(() => stream.write(answer), 50)
  try {
    return await fn()
  } finally {
    clearTimeout(timer)
    Object.defineProperty(process, 'stdin', stdinDescriptor)
    if (stderrTty) Object.defineProperty(process.stderr, 'isTTY', stderrTty)
    else delete (process.stderr as {isTTY?: boolean}).isTTY
  }
}

/** Lines of a table/CSV output, without trailing blanks. */
export const lines = (text: string): string[] => text.replace(/\r/g, '').split('\n').filter(l => l.trim() !== '')

/** Quote arguments for @oclif/test's runCommand, which joins argv with spaces and splits it again. */
export const quoteArgs = (args: string[]): string[] => args.map(a => (a === '' || /\s/.test(a) ? `"${a}"` : a))
