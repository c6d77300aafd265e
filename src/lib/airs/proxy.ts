/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case) through hpagent: got does not read them itself.
 * NO_PROXY: comma-separated hosts, `.suffix` or `suffix` domain matches, optional `:port`, `*` for all.
 */
import {HttpProxyAgent, HttpsProxyAgent} from 'hpagent'

const env = (name: string): string | undefined => process.env[name] || process.env[name.toLowerCase()] || undefined

export function bypassProxy(url: URL, noProxy = env('NO_PROXY')): boolean {
  if (!noProxy) return false
  const host = url.hostname.toLowerCase()
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  return noProxy.split(/[,\s]+/).filter(Boolean).some(entry => {
    if (entry === '*') return true
    const [h, p] = entry.toLowerCase().split(':')
    if (p && p !== port) return false
    const bare = h.replace(/^\*?\./, '')
    return host === bare || host.endsWith('.' + bare)
  })
}

const cache = new Map<string, {http?: HttpProxyAgent; https?: HttpsProxyAgent}>()

export function proxyAgentFor(target: string): {http?: HttpProxyAgent; https?: HttpsProxyAgent} | undefined {
  const url = new URL(target)
  if (bypassProxy(url)) return undefined
  const proxy = url.protocol === 'https:' ? env('HTTPS_PROXY') ?? env('HTTP_PROXY') : env('HTTP_PROXY')
  if (!proxy) return undefined
  let agents = cache.get(proxy)
  if (!agents) {
    const opts = {proxy, keepAlive: true}
    agents = {http: new HttpProxyAgent(opts), https: new HttpsProxyAgent(opts)}
    cache.set(proxy, agents)
  }
  return agents
}
