/**
 * `--config FILE|-`: a request body from a JSON or YAML file (or stdin), validated by the request's JSON
 * Schema before anything is sent. Unreadable, malformed or schema-invalid input exits 7 naming the file,
 * the JSON pointer and the reason.
 */
import {readFile} from 'node:fs/promises'

import {configError} from '../airs/errors.js'
import type {RequestSchemaName} from '../airs/schemas.js'
import {validateBody} from '../airs/validate.js'

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Parse JSON or YAML text; errors name the source and position. */
export async function parseDocument(text: string, source: string): Promise<unknown> {
  const trimmed = text.trim()
  if (trimmed === '') throw configError(`${source}: is empty`, {file: source})
  if (/^[{[]/.test(trimmed)) {
    try {
      return JSON.parse(trimmed)
    } catch (error) {
      throw configError(`${source}: is not valid JSON: ${(error as Error).message}`, {file: source})
    }
  }
  const {parseDocument: parseYaml} = await import('yaml')
  const doc = parseYaml(trimmed)
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    throw configError(`${source}: is not valid JSON or YAML: ${e.message.split('\n')[0]}`, {file: source})
  }
  return doc.toJS()
}

/** The text of a file, or of stdin for `-` (named `<stdin>` in messages); unreadable input exits 7. */
export async function readInputText(path: string): Promise<{text: string; source: string}> {
  const source = path === '-' ? '<stdin>' : path
  try {
    return {text: path === '-' ? await readStdin() : await readFile(path, 'utf8'), source}
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message
    throw configError(`${source}: cannot be read: ${why}`, {file: source})
  }
}

export async function readConfigInput(path: string): Promise<unknown> {
  const {text, source} = await readInputText(path)
  return parseDocument(text, source)
}

/** Validate a body against a request schema; exit 7 (file) or 2 (flags) with one line per problem. */
export function assertValid(name: RequestSchemaName, body: unknown, source: string, exitAsUsage = false): void {
  const problems = validateBody(name, body)
  if (problems.length === 0) return
  const lines = problems.map(p => `  ${p.pointer || '/'}: ${p.message}${p.value === undefined || typeof p.value === 'object' ? '' : ` (got ${JSON.stringify(p.value)})`}`)
  const err = configError(`${source}: invalid ${name} request:\n${lines.join('\n')}`, {file: source, problems: problems.map(p => ({pointer: p.pointer, message: p.message}))})
  if (exitAsUsage) {
    Object.assign(err, {exit: 2, code: 'E_USAGE', oclif: {exit: 2}})
  }
  throw err
}
