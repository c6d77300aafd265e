/**
 * Small glob matcher for allow/ignore patterns (POSIX relative paths):
 * `**` any number of path segments (including none), `*` any run of characters except `/`,
 * `?` one character except `/`, `[abc]`/`[a-z]`/`[!x]` classes, `\` escapes.
 * A pattern without `/` also matches the basename at any depth (`*.pkl` matches `a/b/c.pkl`);
 * a pattern ending in `/` matches a directory and everything below it; a leading `/` or `./` anchors.
 */
const cache = new Map<string, RegExp>()

function toRegex(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        i++
        if (glob[i + 1] === '/') { i++; re += '(?:[^/]*/)*' } else re += '.*'
      } else re += '[^/]*'
    } else if (ch === '?') re += '[^/]'
    else if (ch === '[') {
      const close = glob.indexOf(']', i + 2)
      if (close === -1) { re += '\\['; continue }
      let body = glob.slice(i + 1, close)
      if (body.startsWith('!') || body.startsWith('^')) body = '^' + body.slice(1).replace(/\\/g, '\\\\')
      else body = body.replace(/\\/g, '\\\\')
      re += `[${body}]`
      i = close
    } else if (ch === '\\' && i + 1 < glob.length) { re += glob[++i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') } else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

export function compileGlob(pattern: string): (path: string) => boolean {
  let p = pattern.trim().replace(/\\(?=[^*?[\]\\])/g, '/')
  let anchored = false
  if (p.startsWith('./')) { p = p.slice(2); anchored = true } else if (p.startsWith('/')) { p = p.slice(1); anchored = true }
  let dirOnly = false
  if (p.endsWith('/')) { p = p.slice(0, -1); dirOnly = true }
  const key = `${anchored}|${dirOnly}|${p}`
  let re = cache.get(key)
  if (!re) { re = toRegex(p); cache.set(key, re) }
  const basenameMode = !anchored && !p.includes('/')
  const rx = re
  return (path: string): boolean => {
    const parts = path.split('/')
    // try the path itself and every ancestor directory (a directory match covers its contents)
    for (let n = parts.length; n >= 1; n--) {
      const isDir = n < parts.length
      if (dirOnly && !isDir) continue
      const prefix = parts.slice(0, n).join('/')
      if (rx.test(prefix)) return true
      if (basenameMode && rx.test(parts[n - 1])) return true
    }
    return false
  }
}

export function matchesAny(patterns: Array<(p: string) => boolean>, path: string): boolean {
  for (const m of patterns) if (m(path)) return true
  return false
}
