import {Args} from '@oclif/core'

import type {Label} from '../../../lib/airs/types.js'
import {labelColumns, labelFlags, labelsFromFlags} from '../../../lib/command/labels.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {requireUuid} from '../../../lib/command/scan-views.js'

export default class LabelsSet extends ModelSecurityCommand<typeof LabelsSet> {
  static summary = 'Replace all labels of a scan with these.'
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
    const response = await client.setScanLabels(scan, labels)
    this.note(`Scan ${scan} now has ${labels.length} label${labels.length === 1 ? '' : 's'}.`)
    return this.emitObject({...response, scan_uuid: scan, labels: (response as {labels?: Label[]}).labels ?? labels},
      r => [{rows: [['Scan', r.scan_uuid], ['Labels', r.labels]]}], labelColumns as never)
  }
}
