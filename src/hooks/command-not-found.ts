/**
 * command_not_found: a mistyped command exits 2 (usage) with "did you mean" and the full command to run, never a
 * prompt. In --json mode (the flag before any `--`, or <BIN>_CONTENT_TYPE=json) the error is one JSON object on
 * stderr, as for every other command. The hook must throw: one that returns counts as success (exit 0).
 * Inside a host oclif CLI it runs for the host's commands too, with the host's binary name.
 */
import type {Hook} from '@oclif/core'

import {commandNotFound, printable} from '../lib/command/suggest.js'

function jsonMode(argv: string[], contentType: string | undefined): boolean {
  if (contentType?.toLowerCase() === 'json') return true
  const json = argv.indexOf('--json')
  const end = argv.indexOf('--')
  return json !== -1 && (end === -1 || json < end)
}

const hook: Hook.CommandNotFound = function (opts) {
  const err = commandNotFound(opts.config, opts.id)
  if (jsonMode(opts.argv ?? [], opts.config.scopedEnvVar('CONTENT_TYPE'))) {
    process.stderr.write(`${JSON.stringify({error: err.toJSON()})}\n`)
    this.exit(err.exit)
  }
  throw printable(err)
}

export default hook
