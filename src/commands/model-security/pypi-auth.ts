import {Flags} from '@oclif/core'

import {MASK, registerSecret} from '../../lib/airs/redact.js'
import type {PyPIAuth} from '../../lib/airs/types.js'
import {ModelSecurityCommand} from '../../lib/command/model-security.js'
import {renderJson, renderYaml} from '../../lib/command/output.js'
import {formatDuration} from '../../lib/util/duration.js'

const WARN_WITHIN_MS = 5 * 60_000

/** The credential inside the URL (`https://user:secret@host/...` -> secret; `https://secret@host` -> secret). */
function urlSecret(url: string): string | undefined {
  try {
    const u = new URL(url)
    return decodeURIComponent(u.password || u.username) || undefined
  } catch {
    return undefined
  }
}

/** The URL with its credential masked. */
export function maskPypiUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = MASK
    else if (u.username) u.username = MASK
    else return url
    return u.toString().replace(encodeURIComponent(MASK), MASK)
  } catch {
    return url.replace(/\/\/[^/@\s]+@/, `//${MASK}@`)
  }
}

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`

export default class PypiAuth extends ModelSecurityCommand<typeof PypiAuth> {
  static summary = 'Get the short-lived PyPI index URL that serves the model-security client.'
  static description = `The token inside the URL is masked unless --show-secret is given, in every format including --json and --debug.
-o url prints only the URL; -o pip-conf a pip.conf snippet; -o env shell exports for pip and uv. A warning goes to stderr when the URL expires within 5 minutes.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    'pip install --index-url "$(<%= config.bin %> <%= command.id %> -o url --show-secret)" model-security-client',
    'eval "$(<%= config.bin %> <%= command.id %> -o env --show-secret)"',
    '<%= config.bin %> <%= command.id %> -o pip-conf --show-secret >> ~/.config/pip/pip.conf',
  ]

  static flags = {
    output: Flags.option({char: 'o', summary: 'Output format.', options: ['table', 'json', 'yaml', 'url', 'pip-conf', 'env'], helpGroup: 'GLOBAL'})(),
    'show-secret': Flags.boolean({summary: 'Print the URL with its token (it grants access to the index until it expires).'}),
  }

  async run(): Promise<PyPIAuth> {
    const show = this.flags['show-secret']
    const client = await this.client()
    const raw = await client.getPyPIAuth()
    const secret = urlSecret(raw.url)
    if (!show) registerSecret(secret)
    const url = show ? raw.url : maskPypiUrl(raw.url)
    const result: PyPIAuth = {...raw, url}

    const expires = Date.parse(raw.expires_at)
    const left = expires - Date.now()
    if (Number.isFinite(left) && left < WARN_WITHIN_MS) {
      process.stderr.write(`Warning: the PyPI URL ${left <= 0 ? 'has expired' : `expires in ${formatDuration(Math.max(0, Math.round(left / 1000) * 1000))}`} (${raw.expires_at}); run this command again just before use.\n`)
    }
    const hint = () => { if (!show) this.note(`(token masked; add --show-secret to print it)`) }
    if (this.jsonEnabled()) return result
    switch (this.flags.output ?? 'table') {
      case 'url':
        this.log(url)
        hint()
        break
      case 'pip-conf':
        this.log(`# daystrom model-security pypi-auth: expires ${raw.expires_at}\n[global]\nextra-index-url = ${url}`)
        hint()
        break
      case 'env':
        this.log(`# expires ${raw.expires_at}\nexport PIP_EXTRA_INDEX_URL=${shellQuote(url)}\nexport UV_EXTRA_INDEX_URL=${shellQuote(url)}`)
        hint()
        break
      case 'json': this.log(renderJson(result)); break
      case 'yaml': this.log(await renderYaml(result)); break
      default: {
        const rows: Array<[string, string]> = [['URL', url], ['Expires', raw.expires_at],
          ['Expires in', Number.isFinite(left) ? (left > 0 ? formatDuration(Math.round(left / 1000) * 1000) : 'expired') : 'unknown']]
        const width = Math.max(...rows.map(r => r[0].length))
        this.log(rows.map(([k, v]) => `${(k + ':').padEnd(width + 1)} ${v}`).join('\n'))
        hint()
      }
    }
    return result
  }
}
