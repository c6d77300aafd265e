/** `labels add` and `labels set`: the same command, merging (POST) or replacing (PUT) the scan's labels. */
import {Args, type Command} from '@oclif/core'

import type {Label} from '../airs/types.js'
import {labelColumns, labelFlags, labelsFromFlags} from './labels.js'
import {ModelSecurityCommand} from './model-security.js'
import {requireUuid} from './scan-views.js'

export abstract class LabelsWriteCommand<T extends typeof Command> extends ModelSecurityCommand<T> {
  static args = {scan: Args.string({description: 'Scan UUID.', required: true})}
  static flags = labelFlags

  protected abstract readonly mode: 'add' | 'set'

  async run(): Promise<{scan_uuid: string; labels: Label[]}> {
    const args = this.args as {scan: string}
    const flags = this.flags as {label?: string[]; labels?: string}
    const scan = requireUuid(args.scan, 'scan')
    const labels = labelsFromFlags(flags.label, flags.labels, {required: true})!
    const client = await this.client()
    const response = this.mode === 'add' ? await client.addScanLabels(scan, labels) : await client.setScanLabels(scan, labels)
    const n = `${labels.length} label${labels.length === 1 ? '' : 's'}`
    this.note(this.mode === 'add' ? `Added ${n} to scan ${scan}.` : `Scan ${scan} now has ${n}.`)
    return this.emitObject({...response, scan_uuid: scan, labels: (response as {labels?: Label[]}).labels ?? labels},
      r => [{rows: [['Scan', r.scan_uuid], ['Labels', r.labels]]}], labelColumns)
  }
}
