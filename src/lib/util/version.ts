/** daystrom's own version (from its package.json, read once) and the User-Agent every HTTP client sends. */
import {createRequire} from 'node:module'

let packageVersion: string | undefined

export function daystromVersion(): string {
  packageVersion ??= (createRequire(import.meta.url)('../../../package.json') as {version: string}).version
  return packageVersion
}

export const userAgent = (): string => `daystrom/${daystromVersion()} (${process.platform}-${process.arch}; node-${process.version})`
