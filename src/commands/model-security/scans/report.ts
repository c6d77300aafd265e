import {Args, Flags} from '@oclif/core'

import {usageError} from '../../../lib/airs/errors.js'
import {finishGate, gateExit, parseFailOn} from '../../../lib/command/gate.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {
  artifactRootFlag, collectReportData, parseArtifactRoot, REPORT_FORMAT_NAMES, REPORT_FORMATS, type ReportFormatName, reportNeeds,
  reportWriteError, writeErrorText, writeReport,
} from '../../../lib/command/report-formats.js'
import type {ReportData, ReportInput} from '../../../lib/command/reports.js'
import {requireUuid} from '../../../lib/command/scan-views.js'
import {daystromVersion} from '../../../lib/util/version.js'

export default class ScansReport extends ModelSecurityCommand<typeof ScansReport> {
  static summary = 'Report a scan for CI: SARIF 2.1.0 (code scanning), JUnit XML, a markdown summary, or a CycloneDX 1.6 ML-BOM.'
  static description = `SARIF: one run; each violated rule is a reportingDescriptor (id = the rule name as a slug, with its remediation); each violation a result at its file (relative URI; prefix it with --artifact-root when the model is not at the repository root), level error for BLOCKING rules and warning for ALLOWING ones.
JUnit: one testcase per rule evaluation; FAILED -> <failure>, ERROR -> <error>.
Markdown: a summary fit for $GITHUB_STEP_SUMMARY; --file appends it to an existing file.
CycloneDX: a 1.6 JSON ML-BOM: the model (machine-learning-model), every scanned file (SHA-256, formats), each violation a vulnerability (id = threat code) affecting its file; the same scan always gives the same bytes.
--json prints the data the report is made from: {scan, evaluations, violations}.
The gating commands write the same reports themselves: scans create --wait / scans wait --report FORMAT=PATH.`
  static examples = [
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 -o sarif --file airs.sarif --artifact-root models/bert',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 -o junit > airs-junit.xml',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 -o markdown --file "$GITHUB_STEP_SUMMARY"',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 -o cyclonedx --file model.cdx.json',
  ]

  static args = {scan: Args.string({description: 'Scan UUID.', required: true})}
  static flags = {
    output: Flags.option({char: 'o', summary: 'Report format.', options: REPORT_FORMAT_NAMES, default: 'markdown', helpGroup: 'GLOBAL'})(),
    file: Flags.string({char: 'f', summary: 'Write the report to this file instead of stdout (markdown appends to an existing file).'}),
    'artifact-root': artifactRootFlag,
    'fail-on': Flags.string({summary: 'After reporting, gate on the outcome: blocked, error (comma list) or never (exit 8/9/11 like scans wait).'}),
  }

  async run(): Promise<ReportInput> {
    const f = this.flags
    const uuid = requireUuid(this.args.scan, 'scan')
    const failOn = f['fail-on'] === undefined ? undefined : parseFailOn(f['fail-on'])
    const artifactRoot = parseArtifactRoot(f['artifact-root'])
    if (f.file !== undefined && f.file.trim() === '') throw usageError('--file: empty path')
    const format: ReportFormatName = this.jsonEnabled() ? 'json' : f.output as ReportFormatName
    const client = await this.client()
    const scan = await client.getScan(uuid)
    if (scan.eval_outcome === 'PENDING') this.warn(`scan ${uuid} is still PENDING: the report is partial (wait first: daystrom model-security scans wait ${uuid})`)
    const [data]: ReportData[] = await collectReportData(client, [scan], reportNeeds([format]))
    const text = REPORT_FORMATS[format].render([data], {toolVersion: daystromVersion(), artifactRoot})
    if (f.file) {
      try {
        const how = await writeReport(f.file, REPORT_FORMATS[format], text)
        this.note(`${how === 'appended' ? 'Appended' : 'Wrote'} the ${format} report of scan ${uuid} (${scan.eval_outcome}, ${data.violations.length} violation${data.violations.length === 1 ? '' : 's'}) to ${f.file}`)
      } catch (error) {
        throw reportWriteError([{target: `--file ${f.file}`, path: f.file, message: writeErrorText(error as NodeJS.ErrnoException)}])
      }
    } else if (!this.jsonEnabled()) {
      this.log(text.trimEnd())
    }
    const input: ReportInput = {scan: data.scan, evaluations: data.evaluations, violations: data.violations}
    return failOn ? finishGate(this, input, gateExit([scan], failOn, scan.eval_outcome === 'PENDING'), j => this.logJson(j)) : input
  }
}
