/**
 * daystrom's public API for plugin authors: the base commands, the AIRS client and its types.
 *
 *   import {ModelSecurityCommand} from 'daystrom'
 *   export default class Export extends ModelSecurityCommand<typeof Export> { ... }
 */
export {run} from '@oclif/core'
export {DaystromCommand, describeError, exitCodeOf, globalFlags} from './lib/command/base.js'
export {connectionFlags, ModelSecurityCommand} from './lib/command/model-security.js'
export type {Column, DetailSection, OutputFormat, TableOptions} from './lib/command/output.js'
export {ModelSecurityClient} from './lib/airs/client.js'
export type {ClientOptions, PageFetcher, PageQuery} from './lib/airs/client.js'
export {DaystromError, EXIT} from './lib/airs/errors.js'
export * from './lib/airs/enums.js'
export type * from './lib/airs/types.js'
