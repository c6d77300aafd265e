/**
 * oclif's help with one change: help for a command that does not exist (`daystrom model-security groups lst --help`,
 * `daystrom help groups lst`) is the same usage error as running it, exit 2 with "did you mean", instead of
 * oclif's bare "Command ... not found." with exit 1. Registered as `oclif.helpClass` in package.json.
 */
import {Help} from '@oclif/core'

import {commandNotFound, printable} from './suggest.js'

export default class DaystromHelp extends Help {
  async showHelp(argv: string[]): Promise<void> {
    try {
      await super.showHelp(argv)
    } catch (error) {
      const missing = /^Command (\S+) not found\.$/.exec((error as Error).message)
      if (!missing) throw error
      throw printable(commandNotFound(this.config, missing[1]))
    }
  }
}
