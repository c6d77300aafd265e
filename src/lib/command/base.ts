/**
 * Base commands. DaystromCommand owns the global flags, output rendering, the JSON contract (raw result on
 * stdout, errors as one JSON object on stderr) and the exit-code mapping, including the fix for oclif's
 * JSON-mode exit-code bug (conventions §6.2). ModelSecurityCommand adds credentials, the lazily built
 * AIRS client and the --sandbox switch.
 */
import {Command, Errors, Flags, type Interfaces} from '@oclif/core'

import {DaystromError, EXIT} from '../airs/errors.js'
import {
  type Column, type DetailSection, filterAndSort, OUTPUT_FORMATS, type OutputFormat, renderCsv, renderDetail,
  renderJson, renderMarkdown, renderNdjson, renderTable, renderYaml, selectColumns, type TableOptions,
  validateTableOptions,
} from './output.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof DaystromCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

const GLOBAL = 'GLOBAL'
const TABLE = 'TABLE'

export const globalFlags = {
  profile: Flags.string({summary: 'Credentials profile to use.', env: 'DAYSTROM_PROFILE', helpGroup: GLOBAL}),
  debug: Flags.boolean({summary: 'Log every HTTP request and response to stderr (secrets redacted).', env: 'DAYSTROM_DEBUG', helpGroup: GLOBAL}),
  output: Flags.option({char: 'o', summary: 'Output format.', options: [...OUTPUT_FORMATS] as string[], helpGroup: GLOBAL})(),
  columns: Flags.string({summary: 'Only show these columns (comma-separated keys or headers).', helpGroup: TABLE}),
  extended: Flags.boolean({char: 'x', summary: 'Show extra columns.', helpGroup: TABLE}),
  sort: Flags.string({summary: 'Sort rows by columns, e.g. name,-created_at (- = descending).', helpGroup: TABLE}),
  filter: Flags.string({summary: 'Keep rows whose column contains a value: column=value (repeatable).', multiple: true, helpGroup: TABLE}),
  header: Flags.boolean({summary: 'Print the header row (--no-header to omit it).', allowNo: true, default: true, helpGroup: TABLE}),
  truncate: Flags.boolean({summary: 'Shorten cells to the terminal width (--no-truncate to keep them whole).', allowNo: true, default: true, helpGroup: TABLE}),
}

export abstract class DaystromCommand<T extends typeof Command> extends Command {
  static enableJsonFlag = true
  static baseFlags = globalFlags

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>

  async init(): Promise<void> {
    await super.init()
    let parsed
    try {
      parsed = await this.parse({
        flags: this.ctor.flags,
        baseFlags: (this.ctor as unknown as typeof DaystromCommand).baseFlags,
        enableJsonFlag: this.ctor.enableJsonFlag,
        args: this.ctor.args,
        strict: this.ctor.strict,
      })
    } catch (error) {
      // every parse failure is a usage error (exit 2); oclif leaves some on exitCodes.default (1): an invalid
      // option value (FlagInvalidOptionError) or a flag given twice ("can only be specified once")
      if (error instanceof Errors.CLIError) error.oclif = {...error.oclif, exit: EXIT.USAGE}
      // and its "did not parse its arguments" warning would only add noise to the usage error
      ;(this as unknown as {parsed: boolean}).parsed = true
      throw error
    }
    const {args, flags} = parsed
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    const columns = (this.ctor as unknown as {columns?: Column<never>[]}).columns
    if (columns) validateTableOptions(columns, this.tableOptions())
  }

  /** The output format in force: --json wins, then -o, then the command's default (table). */
  protected format(): string {
    if (this.jsonEnabled()) return 'json'
    return (this.flags as {output?: string}).output ?? 'table'
  }

  protected tableOptions(): TableOptions {
    const f = this.flags as Record<string, unknown>
    return {
      columns: f.columns as string | undefined, sort: f.sort as string | undefined, filter: f.filter as string[] | undefined,
      header: f.header as boolean | undefined, truncate: f.truncate as boolean | undefined, extended: f.extended as boolean | undefined,
      width: process.stdout.isTTY ? process.stdout.columns : undefined,
    }
  }

  /** Print a list in the selected format (nothing in --json mode) and return the filtered, sorted items. */
  protected async emitList<R>(items: R[], columns: Column<R>[] = (this.ctor as unknown as {columns: Column<R>[]}).columns): Promise<R[]> {
    const opts = this.tableOptions()
    const rows = filterAndSort(items, columns, opts)
    const cols = selectColumns(columns, opts)
    if (this.jsonEnabled()) return rows
    const fmt = this.format() as OutputFormat
    switch (fmt) {
      case 'json': this.log(renderJson(rows)); break
      case 'ndjson': if (rows.length > 0) this.log(renderNdjson(rows)); break
      case 'yaml': this.log(await renderYaml(rows)); break
      case 'csv': this.log(renderCsv(rows, cols, opts)); break
      case 'markdown': this.log(renderMarkdown(rows, cols, opts)); break
      default:
        if (rows.length === 0) this.logToStderr('No items.')
        else this.log(renderTable(rows, cols, opts))
    }
    return rows
  }

  /** Print one object: a detail view for tables, the raw object otherwise. Returns it unchanged. */
  protected async emitObject<R>(obj: R, detail: (o: R) => DetailSection[], columns?: Column<R>[]): Promise<R> {
    if (this.jsonEnabled()) return obj
    const fmt = this.format() as OutputFormat
    const opts = this.tableOptions()
    switch (fmt) {
      case 'json': this.log(renderJson(obj)); break
      case 'ndjson': this.log(JSON.stringify(obj)); break
      case 'yaml': this.log(await renderYaml(obj)); break
      case 'csv': this.log(renderCsv([obj], selectColumns(columns ?? objectColumns(obj), opts), opts)); break
      case 'markdown': this.log(renderMarkdown([obj], selectColumns(columns ?? objectColumns(obj), opts), opts)); break
      default: this.log(renderDetail(detail(obj)))
    }
    return obj
  }

  /**
   * "Showing 20 of 57 ..." goes to stderr even in --json mode (conventions §7.2: warnings there are plain
   * stderr lines), so a script piping stdout to jq still learns that it got only one page.
   */
  protected pagingNote = (message: string): void => {
    process.stderr.write(`${message}\n`)
  }

  /** A note for humans on stderr (silent in --json mode). */
  protected note(message: string): void {
    if (!this.jsonEnabled()) this.logToStderr(message)
  }

  /** Never prompt without a TTY or in JSON mode: fail with exit 2 naming the flag that answers. */
  protected assertCanPrompt(action: string, flagName = '--yes'): void {
    if (this.jsonEnabled() || !process.stdin.isTTY || !process.stderr.isTTY) {
      throw new DaystromError(`refusing to ${action} without confirmation (no terminal to ask on): pass ${flagName}`, {code: 'E_CONFIRMATION_REQUIRED', exit: EXIT.USAGE})
    }
  }

  protected async confirm(question: string, flagName = '--yes'): Promise<boolean> {
    this.assertCanPrompt(question.replace(/\?$/, ''), flagName)
    const {createInterface} = await import('node:readline/promises')
    const rl = createInterface({input: process.stdin, output: process.stderr})
    try {
      const answer = await rl.question(`${question} [y/N] `)
      return /^y(es)?$/i.test(answer.trim())
    } finally {
      rl.close()
    }
  }

  /** Inside a host CLI (daystrom linked as a plugin), suggested commands name the host's binary. */
  private forThisBin(err: DaystromError): DaystromError {
    const bin = this.config?.bin
    if (!bin || bin === 'daystrom') return err
    const re = /\bdaystrom (?=auth |model-security |sandbox )/g
    const fixed = new DaystromError(err.message.replace(re, `${bin} `), {
      code: err.code, exit: err.exit, status: err.status, details: err.details, requestId: err.requestId, cause: err.cause,
      suggestions: err.suggestions?.map(s => s.replace(re, `${bin} `)),
    })
    return fixed
  }

  protected toSuccessJson(result: unknown): unknown {
    return result
  }

  /**
   * --json output: plain pretty-printed JSON written once. oclif's own logJson runs every document through its
   * colourising tokenizer even with no theme, which dominated `scans list --all --json` on large listings.
   */
  logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  protected async catch(err: Error & {code?: string; oclif?: {exit?: number}; exitCode?: number}): Promise<unknown> {
    if (err instanceof DaystromError) err = this.forThisBin(err)
    const exit = exitCodeOf(err)
    if (this.jsonEnabled()) {
      process.exitCode = exit
      if (err.code === 'EEXIT') return
      process.stderr.write(JSON.stringify({error: describeError(err, exit)}) + '\n')
      return
    }
    if (err.code === 'EEXIT' || err instanceof Errors.CLIError) throw err
    if (err instanceof DaystromError) {
      throw Object.assign(new Errors.CLIError(err.message, {exit, code: err.code, suggestions: err.suggestions}), {cause: undefined})
    }
    if (exit === EXIT.INTERNAL) {
      throw new Errors.CLIError(`internal error: ${err.message}\nThis is a bug in daystrom; please report it with the command you ran (add --debug for details).`, {exit, code: 'E_INTERNAL'})
    }
    throw err
  }
}

function objectColumns<R>(obj: R): Column<R>[] {
  return Object.keys(obj as object).map(k => ({key: k}))
}

export function exitCodeOf(err: Error & {code?: string; oclif?: {exit?: number}; exitCode?: number}): number {
  if (err instanceof DaystromError) return err.exit
  if (typeof err.oclif?.exit === 'number') return err.oclif.exit
  if (typeof err.exitCode === 'number') return err.exitCode
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError) return EXIT.INTERNAL
  return EXIT.GENERIC
}

export function describeError(err: Error & {code?: string}, exit: number): Record<string, unknown> {
  if (err instanceof DaystromError) return err.toJSON()
  const code = err instanceof Errors.CLIError
    ? (err.code ?? (exit === EXIT.USAGE ? 'E_USAGE' : 'E_CLI'))
    : exit === EXIT.INTERNAL ? 'E_INTERNAL' : (err.code ?? 'E_GENERIC')
  // eslint-disable-next-line no-control-regex -- an ANSI escape sequence starts with the ESC control character
  return {code, message: err.message.replace(/\u001B\[[0-9;]*m/g, ''), exit}
}
