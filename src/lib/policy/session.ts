/**
 * The steps the policy commands share: read and check a file locally (exit 7 before any request), check it
 * against the tenant (catalog and groups), plan, and render a plan in the selected output format.
 */
import {Flags} from '@oclif/core'

import type {ModelSecurityClient} from '../airs/client.js'
import {usageError} from '../airs/errors.js'
import type {Rule, SecurityGroup} from '../airs/types.js'
import {renderJson, renderYaml} from '../command/output.js'
import type {PolicyDocument} from './document.js'
import {type Diagnostic, formatDiagnostic, invalidDocument, loadPolicy, type PolicySource} from './load.js'
import {type Plan, plan} from './plan.js'
import {renderPlanMarkdown, renderPlanText} from './render.js'
import {fetchCatalog, fetchGroups, fetchInstances} from './state.js'
import {localDiagnostics, tenantDiagnostics} from './validate.js'

export const fileFlag = Flags.string({char: 'f', summary: 'The policy file (YAML or JSON; - for stdin).', required: true})

export const pruneFlag = Flags.boolean({
  summary: 'Also delete groups the file does not name (never one whose name starts with "Default ").',
})

/** Read a policy file and check it locally; exit 7 naming file:line:col and pointer before any request. */
export async function readPolicy(path: string): Promise<{source: PolicySource; doc: PolicyDocument}> {
  const source = await loadPolicy(path)
  const problems = localDiagnostics(source)
  if (problems.length > 0) throw invalidDocument(source.file, problems)
  return {source, doc: source.data as PolicyDocument}
}

export interface Checked {
  catalog: Rule[]
  groups: SecurityGroup[]
  /** Warnings (errors throw). */
  warnings: Diagnostic[]
}

/** Check the document against the tenant's rule catalog and groups; exit 7 on any error. */
export async function checkAgainstTenant(client: ModelSecurityClient, source: PolicySource, now: Date, strict = false): Promise<Checked> {
  const [catalog, groups] = await Promise.all([fetchCatalog(client), fetchGroups(client)])
  const diagnostics = tenantDiagnostics(source, {catalog, groups}, now, strict)
  if (diagnostics.some(d => d.severity === 'error')) throw invalidDocument(source.file, diagnostics)
  return {catalog, groups, warnings: diagnostics}
}

/** Check, then plan: reads the rule instances of the existing groups the document names (one list each). */
export async function preparePlan(client: ModelSecurityClient, source: PolicySource, doc: PolicyDocument, now: Date,
  opts: {prune?: boolean}): Promise<{plan: Plan; warnings: Diagnostic[]}> {
  const checked = await checkAgainstTenant(client, source, now)
  const named = new Set(doc.groups.map(g => g.name))
  const instances = await fetchInstances(client, checked.groups.filter(g => named.has(g.name)).map(g => g.uuid))
  return {plan: plan(doc, {groups: checked.groups, instances}, checked.catalog, now, {prune: opts.prune}), warnings: checked.warnings}
}

export const warningLine = (d: Diagnostic): string => `warning: ${formatDiagnostic(d)}`

export type PlanFormat = 'text' | 'markdown' | 'json' | 'yaml'

/** The plan's output format from --json / -o (checked before any request). */
export function planFormat(json: boolean, output: string | undefined): PlanFormat {
  if (json) return 'json'
  switch (output ?? 'table') {
    case 'table': return 'text'
    case 'markdown': return 'markdown'
    case 'json': return 'json'
    case 'yaml': return 'yaml'
    default: throw usageError(`-o ${output}: a plan prints as table (the default, a readable plan), markdown, json or yaml`)
  }
}

/** The JSON shape of a plan: `{changes, summary, exceptions, warnings}`. */
export const planJson = (p: Plan): Plan => ({changes: p.changes, summary: p.summary, exceptions: p.exceptions, warnings: p.warnings})

export async function renderPlan(p: Plan, format: PlanFormat, file: string): Promise<string> {
  switch (format) {
    case 'markdown': return renderPlanMarkdown(p, file)
    case 'json': return renderJson(planJson(p))
    case 'yaml': return renderYaml(planJson(p))
    default: return renderPlanText(p, file)
  }
}
