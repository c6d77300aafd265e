/**
 * Dependencies point one way (design §3): commands -> lib/command -> lib/{airs,config,scanner,sandbox,util}.
 * Nothing in src/lib imports a command, and the lower layers never import lib/command. Static imports,
 * `export ... from`, `import type` and dynamic `import()` all count (an ESLint import rule would miss the last).
 */
import {expect} from 'chai'
import {readdirSync, readFileSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'

import {ROOT} from '../helpers/api.js'

const SRC = join(ROOT, 'src')
const LOWER = ['airs', 'config', 'scanner', 'sandbox', 'util']

/** Relative module specifiers of a TypeScript source: `from '...'`, `import '...'`, `import('...')`. */
function specifiers(source: string): string[] {
  const out: string[] = []
  const re = /\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g
  for (const m of source.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3]
    if (spec.startsWith('.')) out.push(spec)
  }
  return out
}

/** Each upward import as `<file> -> <target>` (paths relative to src/). */
function layerViolations(files: Record<string, string>): string[] {
  const bad: string[] = []
  for (const [file, source] of Object.entries(files)) {
    const parts = file.split('/')
    if (parts[0] !== 'lib') continue
    for (const spec of specifiers(source)) {
      const target = relative(SRC, resolve(SRC, dirname(file), spec)).split('\\').join('/')
      const upward = target.startsWith('commands/') || (LOWER.includes(parts[1]) && target.startsWith('lib/command/'))
      if (upward) bad.push(`${file} -> ${target}`)
    }
  }
  return bad
}

function sources(dir: string, out: Record<string, string> = {}): Record<string, string> {
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, e.name)
    if (e.isDirectory()) sources(p, out)
    else if (e.name.endsWith('.ts')) out[relative(SRC, p).split('\\').join('/')] = readFileSync(p, 'utf8')
  }
  return out
}

describe('layering of src/', () => {
  it('finds every kind of relative import', () => {
    const src = [
      "import {a} from './a.js'", "import type {B} from '../b.js'", "export {c} from './c.js'", "export * from './d.js'",
      "import './e.js'", "const f = await import('../f.js')", "const g = await import( \"./g.js\" )", "import x from 'node:fs'",
    ].join('\n')
    expect(specifiers(src)).to.deep.equal(['./a.js', '../b.js', './c.js', './d.js', './e.js', '../f.js', './g.js'])
  })

  it('flags lib importing a command, and a lower layer importing lib/command', () => {
    expect(layerViolations({
      'lib/config/token-check.ts': "import {userAgent} from '../command/model-security.js'",
      'lib/scanner/x.ts': "const {run} = await import('../../commands/model-security/scans/create.js')",
      'lib/command/base.ts': "import type X from '../../commands/auth/login.js'\nimport {EXIT} from '../airs/errors.js'",
      'lib/command/ok.ts': "import {startSandbox} from '../sandbox/index.js'",
      'commands/auth/login.ts': "import {DaystromCommand} from '../../lib/command/base.js'",
    })).to.deep.equal([
      'lib/config/token-check.ts -> lib/command/model-security.js',
      'lib/scanner/x.ts -> commands/model-security/scans/create.js',
      'lib/command/base.ts -> commands/auth/login.js',
    ])
  })

  it('src/lib has no upward import', () => {
    const files = sources(SRC)
    expect(Object.keys(files)).to.include('lib/config/token-check.ts')
    expect(layerViolations(files)).to.deep.equal([])
  })
})
