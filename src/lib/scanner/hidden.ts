/**
 * Hidden content in the strings and bytes of model data (pickled values, safetensors `__metadata__`,
 * GGUF string metadata):
 *  - payloads encoded as hex or base64, possibly wrapping zlib/gzip, possibly nested (up to three
 *    layers), that decode to something shaped like a pickle. The caller scans the decoded bytes as a
 *    nested pickle and counts it only if it parses as one (see `decodeHidden`);
 *  - plain Python source that calls exec/eval/compile/__import__, os process functions or subprocess
 *    (see `findCode`).
 *
 * Real models carry long base64 blobs of weights, tokenizer data and chat templates, so nothing here
 * reports on character set alone: a candidate must decode to a pickle/zlib/gzip/encoded-text prefix
 * before it is decoded in full, and code must look like Python statements. Every check is linear in the
 * input (character-class loops and regular expressions with bounded quantifiers only), capped in length,
 * and charged to a per-file budget so no input can make it expensive.
 */
import {gunzipSync, inflateSync} from 'node:zlib'

/** Shortest string examined (a pickle calling anything, or code calling anything, is longer). */
export const HIDDEN_MIN = 16
/** Longest string or bytes value examined for encoded payloads or code. */
export const HIDDEN_MAX = 16 << 20
/** Largest decoded payload kept (decompression is capped here too). */
export const DECODED_MAX = 16 << 20
/** Per-file totals: decoded bytes, decode attempts that passed the prefix test, characters scanned for code. */
export const BUDGET_DECODED = 64 << 20
export const BUDGET_DECODES = 4096
export const BUDGET_CODE_CHARS = 256 << 20

export interface HiddenBudget {
  decoded: number
  decodes: number
  codeChars: number
  /** Set once a total is exhausted (the caller notes it; later candidates are not examined). */
  exhausted: string | null
}

export function newHiddenBudget(): HiddenBudget {
  return {decoded: 0, decodes: 0, codeChars: 0, exhausted: null}
}

export interface CodeHit {
  /** What was recognised, e.g. "os.system(" or "__import__(". */
  marker: string
  /** The line holding it, clipped. */
  excerpt: string
}

export interface EncodedHit {
  /** Layers from the outside in, e.g. "base64+zlib". */
  encoding: string
  data: Buffer
}

// ------------------------------------------------------------------ pickle-shaped prefixes

const IDENT_START = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f
const IDENT_PART = (b: number): boolean => IDENT_START(b) || (b >= 0x30 && b <= 0x39) || b === 0x2e

/** `c` or `i` + a dotted identifier line: the protocol-0 GLOBAL / INST that starts almost every text payload. */
function globalLineAt(b: Buffer, at: number): boolean {
  if (at + 3 > b.length || (b[at] !== 0x63 && b[at] !== 0x69) || !IDENT_START(b[at + 1])) return false
  const end = Math.min(b.length, at + 256)
  for (let i = at + 2; i < end; i++) {
    if (b[i] === 0x0a) return true
    if (!IDENT_PART(b[i])) return false
  }
  return false
}

/**
 * Could these bytes be the start of a pickle that does something? A PROTO header (protocol 2-5), or the
 * usual first opcodes of a protocol 0/1 payload (GLOBAL/INST, or MARK followed by one of them).
 * Deliberately narrow: decoded random data must not pass often, and a pass only leads to a parse.
 */
export function looksLikePickle(b: Buffer): boolean {
  if (b.length < 4) return false
  if (b[0] === 0x80 && b[1] >= 2 && b[1] <= 5) return true
  if (globalLineAt(b, 0)) return true
  if (b[0] === 0x28 && globalLineAt(b, 1)) return true
  return false
}

/** Argument layout of each opcode: 0 none, -1 one text line, -2 two lines, 1..8 fixed bytes, or a counted length. */
const ARG = new Int8Array(256).fill(-9)
const LEN_U8 = 11, LEN_U32 = 12, LEN_I32 = 13, LEN_U64 = 14
for (const ch of '(.0125NRabd}el]ost)uQ') ARG[ch.charCodeAt(0)] = 0
for (const op of [0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98]) ARG[op] = 0
for (const ch of 'FILSVPgp') ARG[ch.charCodeAt(0)] = -1
ARG[0x63] = -2; ARG[0x69] = -2 // GLOBAL, INST
for (const [op, n] of [[0x4a, 4], [0x4b, 1], [0x4d, 2], [0x68, 1], [0x6a, 4], [0x71, 1], [0x72, 4], [0x47, 8], [0x80, 1], [0x82, 1], [0x83, 2], [0x84, 4], [0x95, 8]]) ARG[op] = n
for (const op of [0x55, 0x8c, 0x43, 0x8a]) ARG[op] = LEN_U8 // SHORT_BINSTRING, SHORT_BINUNICODE, SHORT_BINBYTES, LONG1
for (const op of [0x58, 0x42]) ARG[op] = LEN_U32 // BINUNICODE, BINBYTES
for (const op of [0x54, 0x8b]) ARG[op] = LEN_I32 // BINSTRING, LONG4
for (const op of [0x8d, 0x8e, 0x96]) ARG[op] = LEN_U64 // BINUNICODE8, BINBYTES8, BYTEARRAY8

/**
 * Do these bytes parse as a sequence of valid pickle opcodes up to a STOP (pickletools' genops, no semantics)?
 * Linear and allocation-free: what "a decoded payload must parse as a pickle" means before it counts.
 */
export function pickleShape(b: Buffer): boolean {
  let p = 0
  while (p < b.length) {
    const op = b[p++]
    const a = ARG[op]
    if (op === 0x2e) return true
    if (a === 0) continue
    if (a === -9) return false
    if (a < 0) {
      for (let lines = -a; lines > 0; lines--) {
        const nl = b.indexOf(0x0a, p)
        if (nl < 0) return false
        p = nl + 1
      }
      continue
    }
    if (a <= 8) { p += a; continue }
    let n: number
    if (a === LEN_U8) { if (p + 1 > b.length) return false; n = b[p]; p += 1 } else if (a === LEN_U64) {
      if (p + 8 > b.length) return false
      n = b.readUInt32LE(p) + b.readUInt32LE(p + 4) * 0x100000000; p += 8
    } else {
      if (p + 4 > b.length) return false
      n = a === LEN_I32 ? b.readInt32LE(p) : b.readUInt32LE(p); p += 4
      if (n < 0) return false
    }
    p += n
  }
  return false
}

function looksZlib(b: Buffer): boolean {
  return b.length >= 3 && b[0] === 0x78 && (b[0] * 256 + b[1]) % 31 === 0 && (b[1] === 0x01 || b[1] === 0x5e || b[1] === 0x9c || b[1] === 0xda)
}

function looksGzip(b: Buffer): boolean {
  return b.length >= 10 && b[0] === 0x1f && b[1] === 0x8b && b[2] === 8
}

// ------------------------------------------------------------------ text encodings (linear character-class scans)

const HEX = new Int8Array(256).fill(-1)
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i
for (let i = 0; i < 6; i++) { HEX[0x41 + i] = 10 + i; HEX[0x61 + i] = 10 + i }
/** 0-63 for the standard and URL-safe alphabets, -2 for padding, -3 for line breaks, -1 otherwise. */
const B64 = new Int8Array(256).fill(-1)
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((ch, i) => { B64[ch.charCodeAt(0)] = i })
B64[0x2d] = 62; B64[0x5f] = 63; B64[0x3d] = -2; B64[0x0a] = -3; B64[0x0d] = -3

/** Bytes of `s` (a str from the data) as stored: latin-1 when every code point fits, else UTF-8. */
export function textBytes(s: string): Buffer {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8')
  return Buffer.from(s, 'latin1')
}

function isHexText(b: Buffer): boolean {
  if (b.length < HIDDEN_MIN || b.length % 2) return false
  for (let i = 0; i < b.length; i++) if (HEX[b[i]] < 0) return false
  return true
}

function hexDecode(b: Buffer, max: number): Buffer {
  const n = Math.min(b.length >> 1, max)
  const out = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) out[i] = (HEX[b[2 * i]] << 4) | HEX[b[2 * i + 1]]
  return out
}

/** Base64 text: alphabet (standard or URL-safe), line breaks allowed, padding only at the end. */
function isBase64Text(b: Buffer): boolean {
  if (b.length < HIDDEN_MIN) return false
  let chars = 0
  let pad = 0
  for (let i = 0; i < b.length; i++) {
    const v = B64[b[i]]
    if (v >= 0) { if (pad) return false; chars++ } else if (v === -2) pad++
    else if (v !== -3) return false
  }
  return chars >= HIDDEN_MIN && pad <= 2 && (chars + pad) % 4 !== 1
}

function base64Decode(b: Buffer, max: number): Buffer {
  const out = Buffer.allocUnsafe(Math.min(max, Math.floor(b.length * 3 / 4) + 3))
  let acc = 0
  let bits = 0
  let o = 0
  for (let i = 0; i < b.length && o < out.length; i++) {
    const v = B64[b[i]]
    if (v < 0) continue
    acc = ((acc << 6) | v) & 0xffffff
    bits += 6
    if (bits >= 8) { bits -= 8; out[o++] = (acc >> bits) & 0xff }
  }
  return out.subarray(0, o)
}

/** Decoded prefix of a hex or base64 candidate (a few bytes), for the cheap test before a full decode. */
function prefixOf(b: Buffer, kind: 'hex' | 'base64'): Buffer {
  return kind === 'hex' ? hexDecode(b.subarray(0, 64), 32) : base64Decode(b.subarray(0, 64), 40)
}

function printableAscii(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const x = b[i]
    if (x < 0x09 || (x > 0x0d && x < 0x20) || x > 0x7e) return false
  }
  return true
}

/** Worth a full decode: the prefix is pickle-shaped, compressed, or itself encoded text. */
function promising(prefix: Buffer, layer: number): boolean {
  if (looksLikePickle(prefix) || looksZlib(prefix) || looksGzip(prefix)) return true
  return layer < 2 && prefix.length >= 12 && printableAscii(prefix) && (isHexText(prefix.subarray(0, prefix.length & ~1)) || isBase64Text(prefix))
}

function charge(budget: HiddenBudget, n: number): boolean {
  if (budget.exhausted) return false
  budget.decodes++
  budget.decoded += n
  if (budget.decodes > BUDGET_DECODES) { budget.exhausted = `more than ${BUDGET_DECODES} encoded candidates`; return false }
  if (budget.decoded > BUDGET_DECODED) { budget.exhausted = `more than ${BUDGET_DECODED >> 20} MB decoded`; return false }
  return true
}

/** Whole-stream decompression, capped. A truncated or corrupt stream fails in the loader too (zlib.decompress). */
function inflate(b: Buffer, gzip: boolean): Buffer | null {
  try {
    return gzip ? gunzipSync(b, {maxOutputLength: DECODED_MAX}) : inflateSync(b, {maxOutputLength: DECODED_MAX})
  } catch {
    return null
  }
}

function layer(data: Buffer, chain: string[], budget: HiddenBudget): EncodedHit | null {
  if (chain.length && looksLikePickle(data)) return pickleShape(data) ? {encoding: chain.join('+'), data} : null
  if (chain.length >= 3) return null
  if (looksZlib(data) || looksGzip(data)) {
    if (!charge(budget, 0)) return null
    const out = inflate(data, data[0] === 0x1f)
    if (!out || !charge(budget, out.length)) return null
    return layer(out, [...chain, data[0] === 0x1f ? 'gzip' : 'zlib'], budget)
  }
  if (data.length < HIDDEN_MIN || data.length > HIDDEN_MAX) return null
  // text encodings: test a decoded prefix before validating and decoding the whole value
  const head = data.subarray(0, 64)
  const kinds: Array<'hex' | 'base64'> = []
  if (data.length % 2 === 0 && isHexText(head.subarray(0, head.length & ~1))) kinds.push('hex')
  if (isBase64Text(head)) kinds.push('base64')
  for (const kind of kinds) {
    if (!promising(prefixOf(data, kind), chain.length)) continue
    if (kind === 'hex' ? !isHexText(data) : !isBase64Text(data)) continue
    if (!charge(budget, data.length)) return null
    const decoded = kind === 'hex' ? hexDecode(data, DECODED_MAX) : base64Decode(data, DECODED_MAX)
    const hit = layer(decoded, [...chain, kind], budget)
    if (hit) return hit
  }
  return null
}

/**
 * Bytes (or a str's bytes) that decode, through hex / base64 / zlib / gzip layers, to a structurally complete
 * pickle (`pickleShape`). Returns the decoded bytes and the layers, or null. A raw (unencoded) pickle is not
 * a hit here: callers already scan bytes that start like a pickle. Cost: linear, capped, charged to `budget`.
 */
export function decodeHidden(input: Buffer, budget: HiddenBudget): EncodedHit | null {
  if (budget.exhausted || input.length < HIDDEN_MIN || input.length > HIDDEN_MAX) return null
  return layer(input, [], budget)
}

/** The first bytes of a decoded candidate: worth decoding in full? (mirrors `promising`, without allocation) */
function promisingHead(b0: number, b1: number, b2: number, b3: number): boolean {
  if (b0 === 0x80 && b1 >= 2 && b1 <= 5) return true // PROTO 2-5
  if (b0 === 0x78 && (b0 * 256 + b1) % 31 === 0 && (b1 === 0x01 || b1 === 0x5e || b1 === 0x9c || b1 === 0xda)) return true // zlib
  if (b0 === 0x1f && b1 === 0x8b) return true // gzip
  if ((b0 === 0x63 || b0 === 0x69) && IDENT_START(b1)) return true // protocol-0 GLOBAL/INST
  if (b0 === 0x28 && (b1 === 0x63 || b1 === 0x69) && IDENT_START(b2)) return true // MARK + GLOBAL/INST
  // another text encoding inside (base64 of base64/hex): four alphabet characters
  return B64[b0] >= 0 && B64[b1] >= 0 && B64[b2] >= 0 && B64[b3] >= 0
}

/**
 * Cheap pre-test on a str value, without allocation: could `findCode` or `decodeHidden` find anything?
 * Code needs a '(' and a trigger word; an encoded payload needs a hex/base64 head whose first decoded bytes
 * are pickle-, zlib-, gzip- or encoded-text-shaped, or a raw pickle carried as text.
 */
export function maybeHiddenText(s: string): boolean {
  if (s.length < HIDDEN_MIN) return false
  if (s.indexOf('(') >= 0 && TRIGGER_RE.test(s.length > HIDDEN_MAX ? s.slice(0, HIDDEN_MAX) : s)) return true
  const c0 = s.charCodeAt(0)
  if (c0 === 0x80 || c0 === 0x78 || c0 === 0x1f) return true // a pickle / zlib / gzip stream carried as latin-1 text
  if ((c0 === 0x63 || c0 === 0x28) && s.indexOf('\n') > 0 && s.indexOf('\n') < 256) return true // protocol-0 text pickle
  const c1 = s.charCodeAt(1), c2 = s.charCodeAt(2), c3 = s.charCodeAt(3), c4 = s.charCodeAt(4), c5 = s.charCodeAt(5)
  if ((c0 | c1 | c2 | c3 | c4 | c5) > 0x7f) return false
  const v0 = B64[c0], v1 = B64[c1], v2 = B64[c2], v3 = B64[c3], v4 = B64[c4], v5 = B64[c5]
  if ((v0 | v1 | v2 | v3 | v4 | v5) < 0) return false // not hex or base64 (hex digits are base64 characters)
  if (promisingHead((v0 << 2) | (v1 >> 4), ((v1 & 15) << 4) | (v2 >> 2), ((v2 & 3) << 6) | v3, (v4 << 2) | (v5 >> 4))) return true
  const c6 = s.charCodeAt(6), c7 = s.charCodeAt(7)
  if (c6 > 0x7f || c7 > 0x7f) return false
  const h0 = HEX[c0], h1 = HEX[c1], h2 = HEX[c2], h3 = HEX[c3], h4 = HEX[c4], h5 = HEX[c5], h6 = HEX[c6], h7 = HEX[c7]
  if ((h0 | h1 | h2 | h3 | h4 | h5 | h6 | h7) < 0) return false
  return promisingHead((h0 << 4) | h1, (h2 << 4) | h3, (h4 << 4) | h5, (h6 << 4) | h7)
}

// ------------------------------------------------------------------ Python code

/*
 * Dangerous calls. Quantifiers are bounded ({0,4}) and alternations are literal, so matching is linear.
 * The look-behind keeps method calls such as `model.eval` and longer names such as `evaluate` out.
 */
const CALL_RE = new RegExp([
  String.raw`(?<![\w.])(__import__|exec|eval|compile|execfile)[ \t]{0,4}\(`,
  String.raw`(?<!\w)(os|posix|nt)[ \t]{0,4}\.[ \t]{0,4}(system|popen|execl|execle|execlp|execlpe|execv|execve|execvp|execvpe|spawnl|spawnle|spawnlp|spawnv|spawnve|spawnvp|fork|forkpty|kill|unlink|remove|rmdir|removedirs)[ \t]{0,4}\(`,
  String.raw`(?<![\w.])subprocess[ \t]{0,4}\.[ \t]{0,4}(Popen|call|run|check_call|check_output|getoutput|getstatusoutput)[ \t]{0,4}\(`,
  String.raw`(?<![\w.])(pty[ \t]{0,4}\.[ \t]{0,4}spawn|socket[ \t]{0,4}\.[ \t]{0,4}socket|shutil[ \t]{0,4}\.[ \t]{0,4}rmtree|importlib[ \t]{0,4}\.[ \t]{0,4}import_module|builtins[ \t]{0,4}\.[ \t]{0,4}(exec|eval|__import__))[ \t]{0,4}\(`,
].join('|'), 'g')
/** Evidence that the text is Python statements rather than prose mentioning a call. */
const IMPORT_RE = /(?:^|[\n;])[ \t]{0,16}(?:import[ \t]{1,4}(?:os|subprocess|socket|pty|shutil|importlib|builtins|sys)\b|from[ \t]{1,4}(?:os|subprocess|socket|pty|shutil|importlib|builtins|sys)[ \t]{1,4}import\b)/
const TRIGGER_RE = /__import__|exec|eval|compile|system|popen|spawn|subprocess|socket|rmtree|import_module|fork|kill|unlink|remove|rmdir/

/** The character before `at` on the same line, skipping blanks ('' at line start). */
function prevChar(text: string, at: number): string {
  for (let i = at - 1, k = 0; i >= 0 && k < 64; i--, k++) {
    const ch = text[i]
    if (ch === '\n' || ch === '\r') return ''
    if (ch !== ' ' && ch !== '\t') return ch
  }
  return at > 64 ? '?' : ''
}

/** Does the call whose arguments start at `from` close (balanced parentheses) within 4096 characters? */
function closes(text: string, from: number): {ok: boolean; scanned: number} {
  let depth = 1
  const end = Math.min(text.length, from + 4096)
  for (let i = from; i < end; i++) {
    const ch = text.charCodeAt(i)
    if (ch === 0x28) depth++
    else if (ch === 0x29 && --depth === 0) return {ok: true, scanned: i - from}
  }
  return {ok: false, scanned: end - from}
}

function excerptAt(text: string, at: number): string {
  const s = Math.max(text.lastIndexOf('\n', at) + 1, at - 60)
  let e = text.indexOf('\n', at)
  if (e < 0 || e > at + 80) e = Math.min(text.length, at + 80)
  return text.slice(s, e).trim()
}

/**
 * Text that is plainly Python code invoking exec/eval/compile/__import__, an os process function,
 * subprocess, a raw socket, shutil.rmtree or importlib. Calls of exec/eval/compile must also sit where a
 * statement or expression starts (line start, after `;`, `=`, `(`, `,`, `:`, `[`, `{`, or a Jinja `{{`),
 * or the text must import os/subprocess/...; the os/subprocess/socket forms and `__import__(` need no
 * more evidence. Only the first `HIDDEN_MAX` characters are examined; cost is charged to `budget`.
 */
export function findCode(text: string, budget?: HiddenBudget): CodeHit | null {
  if (text.length < HIDDEN_MIN || text.indexOf('(') < 0) return null
  const scan = text.length > HIDDEN_MAX ? text.slice(0, HIDDEN_MAX) : text
  if (budget) {
    if (budget.exhausted) return null
    budget.codeChars += scan.length
    if (budget.codeChars > BUDGET_CODE_CHARS) { budget.exhausted = `more than ${BUDGET_CODE_CHARS >> 20} MB of text examined for code`; return null }
  }
  if (!TRIGGER_RE.test(scan)) return null
  let imports: boolean | undefined
  CALL_RE.lastIndex = 0
  for (let m = CALL_RE.exec(scan), k = 0; m && k < 1000 && !(budget && budget.codeChars > BUDGET_CODE_CHARS); m = CALL_RE.exec(scan), k++) {
    const word = m[1]
    // the call must have an argument: an empty call (prose naming the function) is not a payload
    let j = m.index + m[0].length
    while (j < scan.length && (scan[j] === ' ' || scan[j] === '\t')) j++
    if (j >= scan.length || scan[j] === ')') continue
    // ... and be complete: a fragment such as a code tokenizer's token (name, parenthesis, 'self') is not a call
    const closed = closes(scan, j)
    if (budget) budget.codeChars += closed.scanned
    if (!closed.ok) continue
    if (word === 'exec' || word === 'eval' || word === 'compile' || word === 'execfile') {
      const p = prevChar(scan, m.index)
      const statement = p === '' || ';=(,:[{+'.includes(p)
      imports ??= IMPORT_RE.test(scan)
      if (!statement && !imports) continue
    }
    return {marker: m[0].replace(/[ \t]+/g, ''), excerpt: excerptAt(scan, m.index)}
  }
  return null
}
