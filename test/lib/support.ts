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

type TtyStdin = PassThrough & {isTTY?: boolean; setRawMode?: (b: boolean) => void}

function ttyStdin(): TtyStdin {
  const stream = new PassThrough() as TtyStdin
  stream.isTTY = true
  stream.setRawMode = () => {}
  return stream
}

/** Run `fn` with process.stdin replaced by `stdin` and stderr reporting isTTY; both put back after. */
async function onTerminal<T>(stdin: TtyStdin, fn: () => Promise<T>): Promise<T> {
  const stderrTty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY')
  Object.defineProperty(process.stderr, 'isTTY', {configurable: true, value: true, writable: true})
  Object.defineProperty(process, 'stdin', {configurable: true, enumerable: stdinDescriptor.enumerable, get: () => stdin})
  try {
    return await fn()
  } finally {
    Object.defineProperty(process, 'stdin', stdinDescriptor)
    if (stderrTty) Object.defineProperty(process.stderr, 'isTTY', stderrTty)
    else delete (process.stderr as {isTTY?: boolean}).isTTY
  }
}

/**
 * Run `fn` as if on a terminal: stdin and stderr report isTTY, and `answer` is typed when the command asks.
 * Returns what `fn` returned.
 */
export async function withTty<T>(answer: string, fn: () => Promise<T>): Promise<T> {
  const stream = ttyStdin()
  const timer = setTimeout(() => stream.write(answer), 50)
  try {
    return await onTerminal(stream, fn)
  } finally {
    clearTimeout(timer)
  }
}

/** As if on a terminal, for several questions: each time the command starts reading the terminal (a question), the next answer is typed. */
export async function withAnswers<T>(answers: string[], fn: () => Promise<T>): Promise<T> {
  const stream = ttyStdin()
  const queue = [...answers]
  stream.on('resume', () => {
    const next = queue.shift()
    if (next !== undefined) setTimeout(() => stream.write(next), 20)
  })
  const keepAlive = setInterval(() => {}, 1000)
  try {
    return await onTerminal(stream, fn)
  } finally {
    clearInterval(keepAlive)
  }
}

/** Lines of a table/CSV output, without trailing blanks. */
export const lines = (text: string): string[] => text.replace(/\r/g, '').split('\n').filter(l => l.trim() !== '')

/** Quote arguments for @oclif/test's runCommand, which joins argv with spaces and splits it again. */
export const quoteArgs = (args: string[]): string[] => args.map(a => (a === '' || /\s/.test(a) ? `"${a}"` : a))
