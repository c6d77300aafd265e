/**
 * "Did you mean": the commands or topics closest to a mistyped command, for the command_not_found hook
 * (src/hooks/command-not-found.ts) and for help asked about such a command (./help.ts).
 *
 * Works on the command tree the way the user typed it: known words are kept, and the first unknown word is
 * compared with the commands and subtopics at that point (edit distance up to 2 with transpositions, a prefix,
 * or a common synonym such as `ls` for `list`); a subtopic is then followed into for the next unknown word.
 * When nothing at the root fits, the typed words are tried below every topic, for a command typed without its
 * leading topic (`groups list` for `model-security groups list`). Hidden commands and topics are never suggested.
 */
import {Errors, type Interfaces, toConfiguredId} from '@oclif/core'

import {DaystromError, EXIT} from '../airs/errors.js'
import {editDistance} from '../util/edit-distance.js'

const MAX_DISTANCE = 2
const MAX_SUGGESTIONS = 3
const SYNONYMS: Record<string, string[]> = {
  ls: ['list'], show: ['get'], describe: ['get'], view: ['get'], rm: ['delete'], remove: ['delete'], del: ['delete'],
  new: ['create'], edit: ['update'], set: ['update'],
}
const ROOT_FLAGS = ['--help', '--version']

/** The visible command tree: every command id (and alias) and every topic, colon-separated as oclif keeps them. */
export interface CommandTree {
  commands: Set<string>
  topics: Set<string>
}

export function commandTree(config: Pick<Interfaces.Config, 'commands' | 'topics'>): CommandTree {
  const commands = new Set<string>()
  const topics = new Set<string>()
  for (const c of config.commands) {
    if (c.hidden) continue
    for (const id of [c.id, ...c.aliases]) {
      commands.add(id)
      const words = id.split(':')
      for (let i = 1; i < words.length; i++) topics.add(words.slice(0, i).join(':'))
    }
  }
  for (const t of config.topics) {
    if (t.hidden) topics.delete(t.name)
    else if ([...commands].some(c => c.startsWith(`${t.name}:`))) topics.add(t.name)
  }
  return {commands, topics}
}

function children(tree: CommandTree, prefix: string[]): string[] {
  const depth = prefix.length
  const head = prefix.join(':')
  const out = new Set<string>()
  for (const id of [...tree.commands, ...tree.topics]) {
    const words = id.split(':')
    if (words.length > depth && (depth === 0 || id.startsWith(`${head}:`))) out.add(words[depth])
  }
  return [...out]
}

/** How close a typed word is to a candidate word: a distance, or undefined when it is no match at all. */
function closeness(typed: string, candidate: string): number | undefined {
  const t = typed.toLowerCase()
  if (SYNONYMS[t]?.includes(candidate)) return 1
  const d = editDistance(t, candidate)
  if (d <= MAX_DISTANCE) return d
  if (t.length >= 2 && candidate.startsWith(t)) return MAX_DISTANCE
  return undefined
}

interface Scored { id: string; distance: number }

/** Fix the words of `typed` from position `at` on, below `prefix`. */
function fix(tree: CommandTree, typed: string[], prefix: string[], at: number): Scored[] {
  for (let i = at; i < typed.length; i++) {
    const next = [...prefix, typed[i]].join(':')
    if (tree.commands.has(next)) return [{id: next, distance: 0}]
    if (!tree.topics.has(next)) {
      const out: Scored[] = []
      for (const word of children(tree, prefix)) {
        const distance = closeness(typed[i], word)
        if (distance === undefined) continue
        const id = [...prefix, word].join(':')
        if (tree.commands.has(id)) out.push({id, distance})
        else {
          // a subtopic: fix the words after it too; if they lead nowhere, the subtopic itself (its help lists them)
          const deeper = i + 1 < typed.length ? fix(tree, typed, [...prefix, word], i + 1) : []
          out.push(...(deeper.length > 0 ? deeper.map(s => ({id: s.id, distance: s.distance + distance})) : [{id, distance}]))
        }
      }
      return out
    }
    prefix = [...prefix, typed[i]]
  }
  // every word was a known topic (below another topic: `scans` for `model-security scans`)
  return prefix.length > at ? [{id: prefix.join(':'), distance: 0}] : []
}

/** The typed words fixed below every topic, for a command typed without its leading topic(s) (`groups list`). */
function belowTopics(tree: CommandTree, typed: string[]): Scored[] {
  return [...tree.topics].flatMap(t => fix(tree, typed, t.split(':'), 0).map(s => ({id: s.id, distance: s.distance + 1})))
}

/** The best suggestions (command ids, colon-separated) for a command id that does not exist. */
export function suggestCommands(tree: CommandTree, id: string): string[] {
  const typed = id.split(':').filter(Boolean)
  if (typed.length === 0) return []
  let scored = fix(tree, typed, [], 0)
  if (scored.length === 0) scored = belowTopics(tree, typed)
  if (scored.length === 0) return []
  const best = Math.min(...scored.map(s => s.distance))
  const ids = [...new Set(scored.filter(s => s.distance === best).map(s => s.id))].sort()
  return ids.length <= MAX_SUGGESTIONS ? ids : []
}

/** The longest known topic the typed id starts with (whose help lists what exists there), or undefined. */
function knownTopic(tree: CommandTree, id: string): string | undefined {
  const words = id.split(':')
  for (let n = words.length - 1; n > 0; n--) {
    const t = words.slice(0, n).join(':')
    if (tree.topics.has(t)) return t
  }
  return undefined
}

/**
 * The usage error (exit 2) for a command that does not exist: names what was typed and the binary (the host's,
 * when daystrom runs inside another oclif CLI), suggests the closest commands in full, ready to run, and the help
 * that lists what exists.
 */
export function commandNotFound(config: Interfaces.Config, id: string): DaystromError {
  const typed = toConfiguredId(id, config)
  const cmd = (commandId: string) => `${config.bin} ${toConfiguredId(commandId, config)}`
  const flag = id.startsWith('-')
  const tree = commandTree(config)
  const suggested = flag
    ? ROOT_FLAGS.filter(f => editDistance(id, f) <= MAX_DISTANCE).map(f => `${config.bin} ${f}`)
    : suggestCommands(tree, id).map(s => cmd(s))
  const topic = flag ? undefined : knownTopic(tree, id)
  const help = topic ? `${cmd(topic)} --help` : `${config.bin} --help`
  const didYouMean = suggested.length === 0 ? ''
    : suggested.length === 1 ? ` Did you mean \`${suggested[0]}\`?`
      : ` Did you mean one of ${suggested.map(s => `\`${s}\``).join(', ')}?`
  const what = flag ? 'command or flag' : 'command'
  return new DaystromError(`\`${typed}\` is not a ${config.bin} ${what}.${didYouMean}`, {
    code: 'E_COMMAND_NOT_FOUND', exit: EXIT.USAGE, suggestions: [...suggested, help],
  })
}

/** The same error as oclif prints it in human mode: message, code and the suggestions under "Try this:". */
export function printable(err: DaystromError): Errors.CLIError {
  return new Errors.CLIError(err.message, {exit: err.exit, code: err.code, suggestions: err.suggestions})
}
