import {Flags} from '@oclif/core'
import {stat} from 'node:fs/promises'
import {isAbsolute} from 'node:path'

import type {ModelSecurityClient} from '../../../lib/airs/client.js'
import {SCAN_ORIGINS, UUID_RE} from '../../../lib/airs/enums.js'
import {usageError} from '../../../lib/airs/errors.js'
import {sourceTypeOfUri} from '../../../lib/airs/source-type.js'
import type {Scan, ScanCreate, ScanDetails} from '../../../lib/airs/types.js'
import {assertValid} from '../../../lib/command/config-input.js'
import {failedBlockingRules, makeReporter, parseWaitFlags, waitFlags, waitForScans} from '../../../lib/command/gate.js'
import {scanLocally} from '../../../lib/command/local-scan.js'
import {daystromVersion, ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {renderTable} from '../../../lib/command/output.js'
import {parseReportFlags, REPORT_FORMAT_NAMES, reportFlags} from '../../../lib/command/report-formats.js'
import {resolveGroup} from '../../../lib/command/resolve.js'
import {assertSourceMatches, PLACEHOLDER_UUID, scanRequestFrom} from '../../../lib/command/scan-request.js'
import {findingColumns, findingRows, scanColumns, scanDetail} from '../../../lib/command/scan-views.js'
import {deliverVerdict} from '../../../lib/command/verdict.js'

const BODY_FLAGS = ['model-uri', 'model-path', 'group', 'scan-origin', 'model-name', 'model-author', 'model-version', 'allow-pattern', 'ignore-pattern', 'label', 'labels']

export default class ScansCreate extends ModelSecurityCommand<typeof ScansCreate> {
  static summary = 'Start a scan of a model (remote URI or a local directory), optionally waiting for the verdict.'
  static description = `The security group's source type must match the model: s3:// -> S3, gs:// -> GCS, https://<account>.blob.core.windows.net -> AZURE, https://huggingface.co/ -> HUGGING_FACE, https://<instance>.jfrog.io -> ARTIFACTORY, .../-/ml/models/... -> GITLAB, a local path -> LOCAL.

With --model-path the model is scanned on this machine and the per-file results are sent with the scan (scan_details). With --wait the exit code is the gate: 0 ALLOWED, 8 BLOCKED, 9 ERROR, 11 still PENDING at --timeout (see --fail-on).

With --wait, --report FORMAT=PATH writes CI reports after the verdict (${REPORT_FORMAT_NAMES.join(', ')}; - is stdout; markdown appends, e.g. to $GITHUB_STEP_SUMMARY); the exit code stays the gate's, and a report that cannot be written exits 7 after the others are written.`
  static examples = [
    '<%= config.bin %> <%= command.id %> --model-uri https://huggingface.co/microsoft/DialoGPT-medium --group "Default HUGGING_FACE" --wait',
    '<%= config.bin %> <%= command.id %> --model-path ./model --group "Default LOCAL" -l env=ci -l repo=model-gate --wait --timeout 15m',
    '<%= config.bin %> <%= command.id %> --model-path ./model --dry-run',
    '<%= config.bin %> <%= command.id %> --config scan.json --wait --fail-on error',
    '<%= config.bin %> <%= command.id %> --model-path ./model --group "Default LOCAL" --wait --report sarif=model.sarif --report junit=model.xml --report markdown="$GITHUB_STEP_SUMMARY"',
  ]

  static flags = {
    'model-uri': Flags.string({summary: 'Model location: s3://, gs://, https://huggingface.co/..., Azure blob, JFrog, GitLab or a local path.', exclusive: ['model-path', 'config']}),
    'model-path': Flags.string({summary: 'Scan this local file or directory here and send the findings (LOCAL groups).', exclusive: ['model-uri', 'config']}),
    group: Flags.string({char: 'g', summary: 'Security group (name or UUID); its source type must match the model.'}),
    'scan-origin': Flags.option({summary: 'Scan origin recorded with the scan. [default: MODEL_SECURITY_SDK]', options: [...SCAN_ORIGINS]})(),
    'model-name': Flags.string({summary: 'Model name recorded with the scan.'}),
    'model-author': Flags.string({summary: 'Model author recorded with the scan.'}),
    'model-version': Flags.string({summary: 'Model version (e.g. a branch or tag like main).'}),
    'allow-pattern': Flags.string({summary: 'Only scan files matching this glob (repeatable).', multiple: true}),
    'ignore-pattern': Flags.string({summary: 'Skip files matching this glob (repeatable).', multiple: true}),
    concurrency: Flags.integer({summary: 'With --model-path: files scanned in parallel (1-64; default: the scanner\'s).', min: 1, max: 64}),
    label: Flags.string({char: 'l', summary: 'Label key=value (repeatable; letters, digits, _ and -).', multiple: true}),
    labels: Flags.string({summary: 'Labels as JSON: \'[{"key":"env","value":"prod"}]\'.'}),
    config: Flags.string({summary: 'Request body from a JSON or YAML file ("-" for stdin), validated before sending.', exclusive: BODY_FLAGS}),
    'dry-run': Flags.boolean({summary: 'Print the request that would be sent and stop (with --model-path: scan locally, show the findings).'}),
    wait: Flags.boolean({char: 'w', summary: 'Wait for the verdict; the exit code is the gate.'}),
    ...waitFlags,
    ...reportFlags,
  }

  async run(): Promise<Scan | ScanCreate | Record<string, unknown>> {
    const f = this.flags
    const dryRun = f['dry-run']
    const wait = f.wait ? parseWaitFlags(f) : undefined
    if (f.wait && dryRun) throw usageError('--wait and --dry-run cannot be combined')
    const {reports, artifactRoot} = parseReportFlags(f, this.jsonEnabled())
    if (reports.length > 0 && !f.wait) throw usageError(`--report "${reports[0].spec}": reports are written after the verdict; add --wait`)
    if (f.concurrency !== undefined && f['model-path'] === undefined) throw usageError(`--concurrency ${f.concurrency}: it only applies to --model-path (files scanned on this machine)`)
    if (!f.config && !f['model-uri'] && !f['model-path']) {
      throw usageError('nothing to scan: pass --model-uri URI, --model-path DIR or --config FILE', undefined, [
        'daystrom model-security scans create --model-uri https://huggingface.co/org/model --group "Default HUGGING_FACE"'])
    }

    // 1. The request body, checked locally.
    const {body, groupRef, source} = await scanRequestFrom(f)
    if (!groupRef && !dryRun) {
      throw usageError('--group is required: the security group whose rules judge the scan (name or UUID)', undefined, [
        `daystrom model-security groups list --source-type ${sourceTypeOfUri(body.model_uri) ?? 'LOCAL'}`])
    }
    const modelPath = f['model-path']
    if (modelPath !== undefined && !(await stat(modelPath).catch(() => undefined))) throw usageError(`--model-path: "${modelPath}" does not exist`)
    const expected = sourceTypeOfUri(body.model_uri)
    if (modelPath === undefined && expected === 'LOCAL' && !isAbsolute(body.model_uri) && !/^file:/i.test(body.model_uri)) {
      this.note(`note: "${body.model_uri}" is read as a local path; use --model-path to scan it on this machine`)
    }

    // 2. The group: resolved by name, and its source type checked against the model (not in a dry run).
    let client: ModelSecurityClient | undefined
    if (groupRef && !dryRun) {
      client = await this.client()
      const group = await resolveGroup(client, groupRef)
      body.security_group_uuid = group.uuid
      assertSourceMatches(group, expected, {
        group: `${f.config ? `${source}: security_group_uuid` : '--group'} "${groupRef}"`,
        model: modelPath === undefined ? `the model URI ${body.model_uri}` : `--model-path ${modelPath}`,
        suggestion: `daystrom model-security groups list --source-type ${expected}`,
      })
    } else if (groupRef && !UUID_RE.test(groupRef)) {
      client = await this.client()
      body.security_group_uuid = (await resolveGroup(client, groupRef)).uuid
    }

    // 3. A local model is scanned here.
    let findings: ScanDetails | undefined
    if (modelPath !== undefined) {
      findings = await scanLocally(modelPath, {
        allowPatterns: f['allow-pattern'], ignorePatterns: f['ignore-pattern'], concurrency: f.concurrency, json: this.jsonEnabled(),
        note: l => this.note(l), warn: l => this.warn(l),
      })
      body.scan_details = findings
      assertValid('ScanCreate', {...body, security_group_uuid: body.security_group_uuid || PLACEHOLDER_UUID}, 'scan_details', true)
    }

    if (dryRun) {
      const out: Record<string, unknown> = {...body}
      if (!out.security_group_uuid) delete out.security_group_uuid
      if (findings && this.format() === 'table') {
        const rows = findingRows(findings.files)
        const issues = rows.reduce((n, r) => n + r.issues, 0)
        this.note(`Dry run: would POST /v1/scans for ${body.model_uri} (${findings.total_files_scanned} files scanned, ${findings.total_files_skipped} skipped, ${issues} issue${issues === 1 ? '' : 's'}; formats: ${findings.model_formats.join(', ') || 'none'}).`)
        if (rows.length > 0) this.log(renderTable(rows, findingColumns, this.tableOptions()))
        else this.note('No files found.')
        return out
      }
      if (this.format() === 'table') this.note('Dry run: would POST /v1/scans with:')
      return this.emitObject(out, () => [{rows: Object.entries(out).map(([k, v]) => [k, typeof v === 'object' && v !== null && !Array.isArray(v) ? JSON.stringify(v) : v] as [string, unknown])}])
    }

    // 4. Send, then wait and gate.
    client ??= await this.client()
    const scan = await client.createScan(body)
    if (!wait) {
      this.note(`Scan ${scan.uuid} created (${scan.eval_outcome}). Wait for it: daystrom model-security scans wait ${scan.uuid}`)
      return this.emitObject(scan, s => scanDetail(s), scanColumns)
    }
    const reporter = await makeReporter(this.jsonEnabled(), this.pagingNote)
    const {scans, timedOut} = await waitForScans(client, [scan.uuid], wait, reporter, {initial: new Map([[scan.uuid, scan]]), note: this.pagingNote})
    const final = scans[0]
    return deliverVerdict({
      client, scans, timedOut, failOn: wait.failOn, result: final, reports, artifactRoot, toolVersion: daystromVersion(),
      details: findings ? {scanUuid: scan.uuid, details: findings} : undefined,
      emit: async () => {
        const failed = this.format() === 'table' ? await failedBlockingRules(client, final).catch(() => []) : []
        return this.emitObject(final, s => scanDetail(s, failed), scanColumns)
      },
      cmd: this, log: t => this.log(t), logJson: j => this.logJson(j), note: l => this.note(l),
    })
  }
}
