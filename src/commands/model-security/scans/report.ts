import {Args, Flags} from '@oclif/core'
import {writeFile} from 'node:fs/promises'

import {DaystromError, EXIT} from '../../../lib/airs/errors.js'
import type {Evaluation, Violation} from '../../../lib/airs/types.js'
import {finishGate, gateExit, parseFailOn} from '../../../lib/command/gate.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {renderJson} from '../../../lib/command/output.js'
import {buildJunit, buildMarkdown, buildSarif, type ReportInput} from '../../../lib/command/reports.js'
import {requireUuid} from '../../../lib/command/scan-views.js'
import {daystromVersion} from '../../../lib/util/version.js'

export default class ScansReport extends ModelSecurityCommand<typeof ScansReport> {
  static summary = 'Report a scan for CI: SARIF 2.1.0 (code scanning), JUnit XML, or a markdown summary.'
  static description = `SARIF: one run; each violated rule is a reportingDescriptor (id = the rule name as a slug, with its remediation); each violation a result at its file (relative URI; prefix it with --artifact-root when the model is not at the repository root), level error for BLOCKING rules and warning for ALLOWING ones.
JUnit: one testcase per rule evaluation; FAILED -> <failure>, ERROR -> <error>.
Markdown: a summary fit for $GITHUB_STEP_SUMMARY.
--json prints the data the report is made from: {scan, evaluations, violations}.`
  static examples = [
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 -o sarif --file airs.sarif --artifact-root models/bert',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 -o junit > airs-junit.xml',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 -o markdown >> "$GITHUB_STEP_SUMMARY"',
  ]

  static args = {scan: Args.string({description: 'Scan UUID.', required: true})}
  static flags = {
    output: Flags.option({char: 'o', summary: 'Report format.', options: ['markdown', 'sarif', 'junit', 'json'], default: 'markdown', helpGroup: 'GLOBAL'})(),
    file: Flags.string({char: 'f', summary: 'Write the report to this file instead of stdout.'}),
    'artifact-root': Flags.string({summary: 'SARIF: path of the model directory relative to the repository root, prefixed to file URIs.'}),
    'fail-on': Flags.string({summary: 'After reporting, gate on the outcome: blocked, error (comma list) or never (exit 8/9/11 like scans wait).'}),
  }

  async run(): Promise<ReportInput> {
    const f = this.flags
    const uuid = requireUuid(this.args.scan, 'scan')
    const failOn = f['fail-on'] === undefined ? undefined : parseFailOn(f['fail-on'])
    if (f['artifact-root'] !== undefined && (/^[a-z][a-z0-9+.-]*:/i.test(f['artifact-root']) || f['artifact-root'].startsWith('/'))) {
      throw new DaystromError(`--artifact-root: "${f['artifact-root']}" must be a path relative to the repository root (GitHub code scanning needs relative URIs)`, {code: 'E_USAGE', exit: EXIT.USAGE})
    }
    const client = await this.client()
    const scan = await client.getScan(uuid)
    if (scan.eval_outcome === 'PENDING') this.warn(`scan ${uuid} is still PENDING: the report is partial (wait first: daystrom model-security scans wait ${uuid})`)
    const evaluations: Evaluation[] = []
    for await (const e of client.paginate(q => client.listScanEvaluations(uuid, {...q, sort_field: 'created_at', sort_order: 'asc'}), {limit: 100})) evaluations.push(e)
    const violations: Violation[] = []
    for await (const v of client.paginate(q => client.listScanViolations(uuid, q), {limit: 100})) violations.push(v)
    const input: ReportInput = {scan, evaluations, violations}

    const format = this.jsonEnabled() ? 'json' : f.output
    let text: string
    switch (format) {
      case 'sarif': text = renderJson(buildSarif(input, {toolVersion: daystromVersion(), artifactRoot: f['artifact-root']})); break
      case 'junit': text = buildJunit(input); break
      case 'json': text = renderJson(input); break
      default: text = buildMarkdown(input).trimEnd()
    }
    if (f.file) {
      await writeFile(f.file, text.endsWith('\n') ? text : text + '\n')
      this.note(`Wrote the ${format} report of scan ${uuid} (${scan.eval_outcome}, ${violations.length} violation${violations.length === 1 ? '' : 's'}) to ${f.file}`)
    } else if (!this.jsonEnabled()) {
      this.log(text)
    }
    return failOn ? finishGate(this, input, gateExit([scan], failOn, scan.eval_outcome === 'PENDING'), j => this.logJson(j)) : input
  }
}
