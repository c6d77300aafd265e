/**
 * Renderers of a plan: text that reads like a Terraform plan (`+` create, `~` update, `-` delete, `before →
 * after`), markdown for a pull-request comment (the same plan in a ```diff block, `~` shown as `!` so the
 * highlighter colours it, and a table of exceptions), one-line titles for progress, and the apply report.
 */
import type {Change, ExceptionView, Plan, UpdateRule, Why} from './plan.js'

const q = (s: string): string => JSON.stringify(s)
const list = (values: string[]): string => `[${values.join(', ')}]`

/** "ALLOWING until 2027-01-31 by exception: reason (owner)", or why the base state applies again. */
export function stateWithWhy(state: string, why: Why): string {
  const e = why.exception
  if (why.source === 'exception' && e) return `${state} until ${e.expires} by exception: ${e.reason} (${e.owner})`
  if (e && !e.active) {
    return `${state} (the exception expired ${e.expires}; ${why.source === 'default' ? 'the rule\'s default state' : 'the state in the file'} applies again)`
  }
  return state
}

interface Line { mark: '+' | '~' | '-' | ' '; depth: number; text: string }

function ruleLines(c: UpdateRule): Line[] {
  const out: Line[] = [{mark: '~', depth: 1, text: `rule ${q(c.rule)}`}]
  if (c.state) out.push({mark: ' ', depth: 2, text: `state: ${c.state.before} → ${stateWithWhy(c.state.after, c.why)}`})
  for (const [key, f] of Object.entries(c.fields ?? {})) {
    const delta = [...f.added.map(v => `+${v}`), ...f.removed.map(v => `-${v}`)].join(' ')
    out.push({mark: ' ', depth: 2, text: `${key}: ${list(f.before)} → ${list(f.after)}${delta ? `  (${delta})` : ''}`})
  }
  return out
}

/** Blocks of lines, one per group, in plan order. */
function blocks(p: Plan): Array<{mark: '+' | '~' | '-'; lines: Line[]}> {
  const out: Array<{mark: '+' | '~' | '-'; lines: Line[]}> = []
  const updates = new Map<string, Line[]>()
  for (const c of p.changes) {
    if (c.kind === 'create_group') {
      const lines: Line[] = [{mark: '+', depth: 0, text: `group ${q(c.group)} (${c.source_type}) will be created`}]
      if (c.description) lines.push({mark: ' ', depth: 1, text: `description: ${q(c.description)}`})
      for (const r of c.rules) {
        lines.push({mark: '+', depth: 1, text: `rule ${q(r.rule)}: ${stateWithWhy(r.state, r.why)}`})
        for (const [k, v] of Object.entries(r.fields ?? {})) lines.push({mark: ' ', depth: 2, text: `${k}: ${list(v)}`})
      }
      out.push({mark: '+', lines})
    } else if (c.kind === 'delete_group') {
      out.push({mark: '-', lines: [{mark: '-', depth: 0, text: `group ${q(c.group)} (${c.source_type}, ${c.group_uuid}) will be deleted`}]})
    } else {
      let lines = updates.get(c.group_uuid)
      if (!lines) {
        lines = [{mark: '~', depth: 0, text: `group ${q(c.group)} (${c.group_uuid}) will be updated in place`}]
        updates.set(c.group_uuid, lines)
        out.push({mark: '~', lines})
      }
      if (c.kind === 'update_group') lines.push({mark: '~', depth: 1, text: `description: ${q(c.description.before)} → ${q(c.description.after)}`})
      else lines.push(...ruleLines(c))
    }
  }
  return out
}

export function summaryLine(p: Plan): string {
  if (p.summary.total === 0) return 'No changes.'
  const s = p.summary
  return `Plan: ${s.create} to create, ${s.update} to change, ${s.delete} to delete.`
}

function exceptionLine(e: ExceptionView): string {
  return e.active
    ? `${e.group} / ${e.rule}: ${e.state} until ${e.expires} by exception: ${e.reason} (${e.owner})`
    : `${e.group} / ${e.rule}: EXPIRED ${e.expires} (was ${e.state}: ${e.reason}; ${e.owner})`
}

/** The plan as text: Terraform-like, with the exceptions and a summary line. */
export function renderPlanText(p: Plan, file: string): string {
  const out: string[] = []
  if (p.summary.total === 0) {
    out.push(`No changes. The tenant matches ${file}.`)
  } else {
    out.push(`daystrom will make these changes so that the tenant matches ${file}:`, '')
    for (const b of blocks(p)) {
      for (const l of b.lines) out.push(`${'    '.repeat(l.depth)}  ${l.mark} ${l.text}`.replace(/ +$/, ''))
      out.push('')
    }
    out.push(summaryLine(p))
  }
  if (p.exceptions.length > 0) {
    out.push('', 'Exceptions:')
    for (const e of p.exceptions) out.push(`  ${exceptionLine(e)}`)
  }
  return out.join('\n')
}

const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll(/\r?\n/g, ' ')

/** The plan as markdown for a pull-request comment. */
export function renderPlanMarkdown(p: Plan, file: string): string {
  const out: string[] = [`### daystrom policy plan for \`${file}\``, '']
  if (p.summary.total === 0) {
    out.push(`**No changes.** The tenant matches \`${file}\`.`)
  } else {
    out.push(`**${summaryLine(p)}**`, '', '```diff')
    const bs = blocks(p)
    const m = (x: string): string => (x === '~' ? '!' : x)
    bs.forEach((b, i) => {
      for (const l of b.lines) {
        out.push(l.depth === 0 ? `${m(b.mark)} ${l.text}` : `${m(b.mark)} ${'    '.repeat(l.depth)}${m(l.mark)} ${l.text}`)
      }
      if (i < bs.length - 1) out.push('')
    })
    out.push('```')
  }
  if (p.warnings.length > 0) {
    out.push('', ...p.warnings.map(w => `> **Warning:** ${w}`))
  }
  if (p.exceptions.length > 0) {
    out.push('', '#### Exceptions', '', '| Group | Rule | State | Expires | Owner | Reason | Status |', '| --- | --- | --- | --- | --- | --- | --- |')
    for (const e of p.exceptions) {
      out.push(`| ${cell(e.group)} | ${cell(e.rule)} | ${e.state} | ${cell(e.expires)} | ${cell(e.owner)} | ${cell(e.reason)} | ${e.active ? 'in force' : '**expired**'} |`)
    }
  }
  return out.join('\n')
}

/** One line naming a change, for progress and the apply report. */
export function changeTitle(c: Change): string {
  switch (c.kind) {
    case 'create_group': return `create group ${q(c.group)} (${c.source_type}${c.rules.length > 0 ? `, ${c.rules.length} rule${c.rules.length === 1 ? '' : 's'}` : ''})`
    case 'update_group': return `update the description of group ${q(c.group)}`
    case 'update_rule': {
      const what = [c.state ? `state ${c.state.before} → ${c.state.after}` : '', ...Object.keys(c.fields ?? {})].filter(Boolean).join(', ')
      return `update rule ${q(c.rule)} in group ${q(c.group)} (${what})`
    }
    case 'delete_group': return `delete group ${q(c.group)} (${c.group_uuid})`
  }
}
