/**
 * The base of the policy commands that talk to the service. An invalid document is reported like a
 * compiler's errors: one unwrapped `file:line:col pointer: message` line per problem on stderr, then a short
 * error (exit 7); --json keeps the whole list in the error object's details.
 */
import type {Command} from '@oclif/core'

import {DaystromError} from '../airs/errors.js'
import {ModelSecurityCommand} from '../command/model-security.js'
import {type Diagnostic, formatDiagnostic} from './load.js'

export abstract class PolicyCommand<T extends typeof Command> extends ModelSecurityCommand<T> {
  protected catch(err: Error & {code?: string; oclif?: {exit?: number}; exitCode?: number}): Promise<unknown> {
    if (err instanceof DaystromError && err.code === 'E_POLICY_INVALID' && !this.jsonEnabled()) {
      const {file, problems} = err.details as {file: string; problems: Diagnostic[]}
      for (const d of problems) process.stderr.write(`${d.severity === 'warning' ? 'warning: ' : ''}${formatDiagnostic(d)}\n`)
      const errors = problems.filter(d => d.severity === 'error').length
      return super.catch(new DaystromError(`${file}: invalid policy document (${errors} error${errors === 1 ? '' : 's'} above)`, {
        code: err.code, exit: err.exit, details: err.details, suggestions: err.suggestions,
      }))
    }
    return super.catch(err)
  }
}
