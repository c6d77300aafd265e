import {Args, Flags} from '@oclif/core'

import {EXIT} from '../../../lib/airs/errors.js'
import {finishGate} from '../../../lib/command/gate.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {renderJson, renderYaml} from '../../../lib/command/output.js'
import {newBlockingViolations, type ScanDiff} from '../../../lib/scans/diff.js'
import {compareScans, parseDiffRefs} from '../../../lib/scans/fetch.js'
import {diffRowColumns, diffRows, renderDiffMarkdown, renderDiffSections} from '../../../lib/scans/render.js'

export default class ScansDiff extends ModelSecurityCommand<typeof ScansDiff> {
  static summary = 'Compare two scans: outcome, new/resolved/unchanged violations, changed rule results, added/removed/changed files.'
  static description = `Scan a is "before", scan b "after". Violations are matched by content (rule, file, threat, module, operator), never by UUID, so two scans of the same model show them as unchanged. Rule evaluations are matched by rule name; files by path, their content by sha256 (or blob_id).

Address the scans by UUID, or with --model-version twice to take the latest scan of each model version. A scan still PENDING has recorded nothing yet: the command refuses it (exit 11) rather than report a misleading comparison; wait for it first (scans wait).

Output: sections on the terminal; -o markdown for a pull-request comment; --json/-o json|yaml for {a, b, outcome, violations: {new, resolved, unchanged}, rules, files, summary, warnings}; -o csv|ndjson (and the table flags) for one row per change.`
  static examples = [
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 7c6f1d0e-2b3a-4c5d-8e9f-0a1b2c3d4e5f',
    '<%= config.bin %> <%= command.id %> --model-version 61b3c623-9a25-43ae-97e2-d5d5f50d677c --model-version 09ca1da2-0839-4a2a-8f60-58cd5c52f3b4',
    '<%= config.bin %> <%= command.id %> $BASE_SCAN $HEAD_SCAN --fail-on-new -o markdown > scan-diff.md  # exit 8 on new BLOCKING violations',
    '<%= config.bin %> <%= command.id %> $BASE_SCAN $HEAD_SCAN --filter change=new -o csv',
  ]

  static columns = diffRowColumns

  static args = {
    scanA: Args.string({description: 'UUID of the first scan (before).'}),
    scanB: Args.string({description: 'UUID of the second scan (after).'}),
  }

  static flags = {
    'model-version': Flags.string({summary: 'Compare the latest scans of two model versions: give it twice (first = before).', multiple: true}),
    'fail-on-new': Flags.boolean({summary: 'Exit 8 when scan b has violations of BLOCKING rules that scan a did not (9 when scan b ended in ERROR).'}),
  }

  async run(): Promise<ScanDiff> {
    const f = this.flags
    const refs = parseDiffRefs([this.args.scanA, this.args.scanB].filter((s): s is string => s !== undefined), f['model-version'] ?? [])
    const client = await this.client()
    const diff = await compareScans(client, refs)
    for (const w of diff.warnings) this.warn(w)
    await this.emitDiff(diff)
    if (!f['fail-on-new']) return diff
    const blocking = newBlockingViolations(diff)
    let code: number = EXIT.OK
    if (diff.b.eval_outcome === 'ERROR') {
      code = EXIT.SCAN_ERROR
      this.note(`--fail-on-new: scan b ended in ERROR, so new violations cannot be ruled out (exit ${code})`)
    } else if (blocking.length > 0) {
      code = EXIT.BLOCKED
      this.note(`--fail-on-new: ${blocking.length} new violation${blocking.length === 1 ? '' : 's'} of BLOCKING rules (exit ${code})`)
    }
    return finishGate(this, diff, code, j => this.logJson(j))
  }

  private async emitDiff(diff: ScanDiff): Promise<void> {
    if (this.jsonEnabled()) return
    const opts = this.tableOptions()
    switch (this.format()) {
      case 'json': this.log(renderJson(diff)); break
      case 'yaml': this.log(await renderYaml(diff)); break
      case 'markdown': this.log(renderDiffMarkdown(diff).trimEnd()); break
      case 'table':
        // the table flags act on the flat list of changes; without them, the readable sections
        if (!opts.columns && !opts.sort && !opts.filter?.length) {
          this.log(renderDiffSections(diff, opts))
          break
        }
        await this.emitList(diffRows(diff), diffRowColumns)
        break
      default: await this.emitList(diffRows(diff), diffRowColumns)
    }
  }
}
