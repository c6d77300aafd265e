/**
 * serveStdio: while the server runs, stdout carries only protocol messages (stray process.stdout.write and
 * console.log output is moved to stderr); the end of stdin shuts the server down and everything is restored.
 */
import {expect} from 'chai'
import {PassThrough} from 'node:stream'

import {createMcpServer} from '../../src/lib/mcp/server.js'
import {serveStdio} from '../../src/lib/mcp/stdio.js'

describe('serveStdio', () => {
  it('keeps stdout for the protocol, moves stray output to stderr, and stops when stdin ends', async () => {
    const stdinDescriptor = Object.getOwnPropertyDescriptor(process, 'stdin')!
    const input = new PassThrough() as PassThrough & {isTTY?: boolean}
    input.isTTY = false
    const out: string[] = []
    const err: string[] = []
    const stdoutWrite = Object.getOwnPropertyDescriptor(process.stdout, 'write')
    const stderrWrite = Object.getOwnPropertyDescriptor(process.stderr, 'write')
    const capture = (sink: string[]) => ((chunk: string | Uint8Array) => {
      sink.push(String(chunk))
      return true
    }) as typeof process.stdout.write
    const myStdoutWrite = capture(out)
    Object.defineProperty(process, 'stdin', {configurable: true, enumerable: stdinDescriptor.enumerable, get: () => input})
    process.stdout.write = myStdoutWrite
    process.stderr.write = capture(err)
    let restoredStdout: unknown
    try {
      const {server} = createMcpServer({version: 't', client: () => Promise.reject(new Error('not needed'))})
      const serving = serveStdio(server)
      await new Promise(r => setTimeout(r, 20))
      input.write(JSON.stringify({jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: '2025-06-18', capabilities: {}, clientInfo: {name: 't', version: '1'}}}) + '\n')
      for (let i = 0; i < 100 && !out.join('').includes('"id":1'); i++) await new Promise(r => setTimeout(r, 10))
      console.log('stray console.log line')
      process.stdout.write('stray stdout write\n')
      input.end()
      await serving
      // eslint-disable-next-line @typescript-eslint/unbound-method -- only its identity is compared, it is never called
      restoredStdout = process.stdout.write
      console.log('after the server')
    } finally {
      Object.defineProperty(process, 'stdin', stdinDescriptor)
      if (stdoutWrite) Object.defineProperty(process.stdout, 'write', stdoutWrite)
      else delete (process.stdout as {write?: unknown}).write
      if (stderrWrite) Object.defineProperty(process.stderr, 'write', stderrWrite)
      else delete (process.stderr as {write?: unknown}).write
    }
    const stdoutLines = out.join('').split('\n').filter(Boolean)
    const answer = JSON.parse(stdoutLines[0]) as {id: number; result: {serverInfo: {name: string}}}
    expect([answer.id, answer.result.serverInfo.name], 'the protocol answer').to.deep.equal([1, 'daystrom'])
    expect(stdoutLines.slice(1), 'nothing else on stdout while serving').to.deep.equal(['after the server'])
    expect(err.join('')).to.include('stray console.log line').and.include('stray stdout write')
    expect(restoredStdout, 'stdout.write restored').to.equal(myStdoutWrite)
  })
})
