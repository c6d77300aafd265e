/** Writing output files: whole or not at all (a temp file in the same directory, renamed over the target). */
import {rename, rm, writeFile} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

import {DaystromError, EXIT} from '../airs/errors.js'

/** Write `text` to `path`, replacing an existing file atomically; a failure names the file and the reason. */
export async function writeTextFile(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  try {
    await writeFile(tmp, text, 'utf8')
    await rename(tmp, path)
  } catch (error) {
    await rm(tmp, {force: true})
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (error as Error).message
    throw new DaystromError(`${path}: cannot be written: ${why}`, {code: 'E_WRITE', exit: EXIT.GENERIC})
  }
}
