import {Args} from '@oclif/core'

import type {Label} from '../../../lib/airs/types.js'
import {labelColumns, labelFlags, labelsFromFlags} from '../../../lib/command/labels.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {requireUuid} from '../../../lib/command/scan-views.js'

export default class LabelsAdd extends ModelSecurityCommand<typeof LabelsAdd> {
  static summary = 'Add labels to a scan (an existing key gets the new value).'
  static examples = [
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 -l env=prod -l team=ml',
    `<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 --labels '[{"key":"env","value":"prod"}]'`,
  ]

  static args = {scan: Args.string({description: 'Scan UUID.', required: true})}
  static flags = labelFlags

  async run(): Promise<{scan_uuid: string; labels: Label[]}> {
    const scan = requireUuid(this.args.scan, 'scan')
    const labels = labelsFromFlags(this.flags.label, this.flags.labels, {required: true})!
    const client = await this.client()
    const response = await client.addScanLabels(scan, labels)
    this.note(`Added ${labels.length} label${labels.length === 1 ? '' : 's'} to scan ${scan}.`)
    return this.emitObject({...response, scan_uuid: scan, labels: (response as {labels?: Label[]}).labels ?? labels},
      r => [{rows: [['Scan', r.scan_uuid], ['Labels', r.labels]]}], labelColumns as never)
  }
}
