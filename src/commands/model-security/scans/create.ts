import {Flags} from '@oclif/core'
import {stat} from 'node:fs/promises'
import {isAbsolute, resolve} from 'node:path'

import type {ModelSecurityClient} from '../../../lib/airs/client.js'
import {SCAN_ORIGINS, UUID_RE} from '../../../lib/airs/enums.js'
import {DaystromError, EXIT, usageError} from '../../../lib/airs/errors.js'
import type {Scan, ScanCreate, ScanDetails} from '../../../lib/airs/types.js'
import {assertValid, readConfigInput} from '../../../lib/command/config-input.js'
import {failedBlockingRules, finishGate, gateExit, makeReporter, parseWaitFlags, waitFlags, waitForScans} from '../../../lib/command/gate.js'
import {labelsFromFlags} from '../../../lib/command/labels.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {renderTable} from '../../../lib/command/output.js'
import {resolveGroup} from '../../../lib/command/resolve.js'
import {sourceTypeOfUri} from '../../../lib/airs/source-type.js'
import {findingColumns, findingRows, scanColumns, scanDetail} from '../../../lib/command/scan-views.js'

type ScannerModule = typeof import('../../../lib/scanner/index.js')
type ScanProgress = import('../../../lib/scanner/index.js').ScanProgress

const mib = (n: number) => `${(n / 1_048_576).toFixed(n < 10_485_760 ? 1 : 0)} MiB`
const progressText = (p: ScanProgress) =>
  `${p.filesDone}/${p.filesTotal} files, ${mib(p.bytesDone)}/${mib(p.bytesTotal)}${p.currentFile ? `, ${p.currentFile}` : ''}`

const BODY_FLAGS = ['model-uri', 'model-path', 'group', 'scan-origin', 'model-name', 'model-author', 'model-version', 'allow-pattern', 'ignore-pattern', 'label', 'labels']

export default class ScansCreate extends ModelSecurityCommand<typeof ScansCreate> {
  static summary = 'Start a scan of a model (remote URI or a local directory), optionally waiting for the verdict.'
  static description = `The security group's source type must match the model: s3:// -> S3, gs:// -> GCS, https://<account>.blob.core.windows.net -> AZURE, https://huggingface.co/ -> HUGGING_FACE, https://<instance>.jfrog.io -> ARTIFACTORY, .../-/ml/models/... -> GITLAB, a local path -> LOCAL.

With --model-path the model is scanned on this machine and the per-file results are sent with the scan (scan_details). With --wait the exit code is the gate: 0 ALLOWED, 8 BLOCKED, 9 ERROR, 11 still PENDING at --timeout (see --fail-on).`
  static examples = [
    '<%= config.bin %> <%= command.id %> --model-uri https://huggingface.co/microsoft/DialoGPT-medium --group "Default HUGGING_FACE" --wait',
    '<%= config.bin %> <%= command.id %> --model-path ./model --group "Default LOCAL" -l env=ci -l repo=model-gate --wait --timeout 15m',
    '<%= config.bin %> <%= command.id %> --model-path ./model --dry-run',
    '<%= config.bin %> <%= command.id %> --config scan.json --wait --fail-on error',
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
    label: Flags.string({char: 'l', summary: 'Label key=value (repeatable; letters, digits, _ and -).', multiple: true}),
    labels: Flags.string({summary: 'Labels as JSON: \'[{"key":"env","value":"prod"}]\'.'}),
    config: Flags.string({summary: 'Request body from a JSON or YAML file ("-" for stdin), validated before sending.', exclusive: BODY_FLAGS}),
    'dry-run': Flags.boolean({summary: 'Print the request that would be sent and stop (with --model-path: scan locally, show the findings).'}),
    wait: Flags.boolean({char: 'w', summary: 'Wait for the verdict; the exit code is the gate.'}),
    ...waitFlags,
  }

  async run(): Promise<Scan | ScanCreate | Record<string, unknown>> {
    const f = this.flags
    const dryRun = f['dry-run']
    const wait = f.wait ? parseWaitFlags(f) : undefined
    if (f.wait && dryRun) throw usageError('--wait and --dry-run cannot be combined')
    if (!f.config && !f['model-uri'] && !f['model-path']) {
      throw usageError('nothing to scan: pass --model-uri URI, --model-path DIR or --config FILE', undefined, [
        'daystrom model-security scans create --model-uri https://huggingface.co/org/model --group "Default HUGGING_FACE"'])
    }

    // 1. The request body, checked locally.
    let body: ScanCreate
    let groupRef: string | undefined
    let source = 'flags'
    if (f.config) {
      source = f.config === '-' ? '<stdin>' : f.config
      const doc = await readConfigInput(f.config)
      assertValid('ScanCreate', doc, source)
      body = doc as ScanCreate
      groupRef = body.security_group_uuid
    } else {
      for (const [flag, list] of [['--allow-pattern', f['allow-pattern']], ['--ignore-pattern', f['ignore-pattern']]] as const) {
        const long = (list ?? []).find(p => p.length > 256 || p.length === 0)
        if (long !== undefined) throw usageError(`${flag}: patterns must be 1-256 characters, got ${long.length}`)
      }
      if (f['model-uri'] !== undefined && f['model-uri'].trim() === '') throw usageError('--model-uri: empty')
      const labels = labelsFromFlags(f.label, f.labels)
      groupRef = f.group
      body = {
        model_uri: f['model-uri'] ?? resolve(f['model-path']!),
        security_group_uuid: '',
        scan_origin: f['scan-origin'] ?? 'MODEL_SECURITY_SDK',
        ...(f['model-name'] === undefined ? {} : {model_name: f['model-name']}),
        ...(f['model-author'] === undefined ? {} : {model_author: f['model-author']}),
        ...(f['model-version'] === undefined ? {} : {model_version: f['model-version']}),
        ...(f['allow-pattern'] ? {allow_patterns: f['allow-pattern']} : {}),
        ...(f['ignore-pattern'] ? {ignore_patterns: f['ignore-pattern']} : {}),
        ...(labels ? {labels} : {}),
      }
      if (groupRef !== undefined && UUID_RE.test(groupRef)) body.security_group_uuid = groupRef
      if (groupRef !== undefined && groupRef.trim() === '') throw usageError('--group: empty')
    }
    if (!groupRef && !dryRun) {
      throw usageError('--group is required: the security group whose rules judge the scan (name or UUID)', undefined, [
        `daystrom model-security groups list --source-type ${sourceTypeOfUri(body.model_uri) ?? 'LOCAL'}`])
    }
    const modelPath = f['model-path']
    if (modelPath !== undefined) {
      const st = await stat(modelPath).catch(() => undefined)
      if (!st) throw usageError(`--model-path: "${modelPath}" does not exist`)
    }
    const expected = sourceTypeOfUri(body.model_uri)
    if (modelPath === undefined && expected === 'LOCAL' && !isAbsolute(body.model_uri) && !/^file:/i.test(body.model_uri)) {
      this.note(`note: "${body.model_uri}" is read as a local path; use --model-path to scan it on this machine`)
    }
    // Validate what we can before any request (the group UUID is filled in later when given by name).
    if (!f.config) assertValid('ScanCreate', {...body, security_group_uuid: body.security_group_uuid || '00000000-0000-4000-8000-000000000000'}, 'flags', true)

    // 2. The group: resolved by name, and its source type checked against the model (not in a dry run).
    let client: ModelSecurityClient | undefined
    if (groupRef && !dryRun) {
      client = await this.client()
      const group = await resolveGroup(client, groupRef)
      body.security_group_uuid = group.uuid
      if (expected && group.source_type !== expected) {
        throw new DaystromError(`${f.config ? `${source}: security_group_uuid` : '--group'} "${groupRef}" is a ${group.source_type} group, but ${modelPath === undefined ? `the model URI ${body.model_uri}` : `--model-path ${modelPath}`} is a ${expected} model; use a ${expected} group`, {
          code: 'E_SOURCE_TYPE_MISMATCH', exit: EXIT.USAGE, details: {group: group.uuid, group_source_type: group.source_type, model_source_type: expected},
          suggestions: [`daystrom model-security groups list --source-type ${expected}`],
        })
      }
    } else if (groupRef && !UUID_RE.test(groupRef)) {
      client = await this.client()
      body.security_group_uuid = (await resolveGroup(client, groupRef)).uuid
    }

    // 3. A local model is scanned here.
    let findings: ScanDetails | undefined
    if (modelPath !== undefined) {
      findings = await this.scanLocally(modelPath, f['allow-pattern'], f['ignore-pattern'])
      body.scan_details = findings
      assertValid('ScanCreate', {...body, security_group_uuid: body.security_group_uuid || '00000000-0000-4000-8000-000000000000'}, 'scan_details', true)
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
    const failed = this.format() === 'table' ? await failedBlockingRules(client, final).catch(() => []) : []
    await this.emitObject(final, s => scanDetail(s, failed), scanColumns)
    return finishGate(this, final, gateExit(scans, wait.failOn, timedOut), j => this.logJson(j))
  }


  private async scanLocally(path: string, allow?: string[], ignore?: string[]): Promise<ScanDetails> {
    const scanner: ScannerModule = await import('../../../lib/scanner/index.js')
    const target = resolve(path)
    const json = this.jsonEnabled()
    let result: Awaited<ReturnType<ScannerModule['scanPath']>>
    if (!json && process.stderr.isTTY && !process.env.CI) {
      const {Listr, ListrLogger, ProcessOutput} = await import('listr2')
      const logger = new ListrLogger({useIcons: true, processOutput: new ProcessOutput(process.stderr, process.stderr)})
      const box: {r?: typeof result} = {}
      await new Listr([{
        title: `Scanning ${path}`,
        task: async (_ctx: unknown, task: {title: string}) => {
          box.r = await scanner.scanPath(target, {allowPatterns: allow, ignorePatterns: ignore, onProgress: p => { task.title = `Scanning ${path}: ${progressText(p)}` }})
          task.title = `Scanned ${path}: ${box.r.scanDetails.total_files_scanned} files, ${box.r.scanDetails.total_files_skipped} skipped`
        },
      }], {rendererOptions: {logger}, fallbackRendererOptions: {logger}}).run()
      result = box.r!
    } else {
      let lastLine = ''
      let lastAt = 0
      result = await scanner.scanPath(target, {allowPatterns: allow, ignorePatterns: ignore, onProgress: json ? undefined : p => {
        const now = Date.now()
        const done = p.filesDone === p.filesTotal
        const line = `Scanning ${path}: ${progressText(p)}`
        if (line === lastLine || (!done && now - lastAt < 500)) return
        lastLine = line
        lastAt = now
        this.note(line)
      }})
    }
    for (const n of result.notes) this.note(`note: ${n}`)
    if (result.truncated) this.warn(`only the first ${result.scanDetails.files.length} files are reported (the service accepts at most 1000 per scan)`)
    return result.scanDetails
  }
}
