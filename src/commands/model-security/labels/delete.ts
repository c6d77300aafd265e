import {Args, Flags} from '@oclif/core'

import {LABELS_MAX} from '../../../lib/airs/enums.js'
import {usageError} from '../../../lib/airs/errors.js'
import {validateLabelKey} from '../../../lib/command/labels.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {requireUuid} from '../../../lib/command/scan-views.js'

export default class LabelsDelete extends ModelSecurityCommand<typeof LabelsDelete> {
  static summary = 'Remove labels from a scan by key (no confirmation).'
  static examples = [
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 --key env --key team',
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 --key env,team',
  ]

  static args = {scan: Args.string({description: 'Scan UUID.', required: true})}
  static flags = {
    key: Flags.string({char: 'k', summary: 'Label key to remove (repeatable, or comma-separated; at most 50).', multiple: true, required: true, aliases: ['keys']}),
  }

  async run(): Promise<{scan_uuid: string; deleted_keys: string[]}> {
    const scan = requireUuid(this.args.scan, 'scan')
    const keys = [...new Set(this.flags.key.flatMap(k => k.split(',')).map(k => k.trim()))]
    if (keys.length > LABELS_MAX) throw usageError(`--key: ${keys.length} keys given; at most ${LABELS_MAX} per call`)
    for (const k of keys) validateLabelKey(k, '--key')
    const client = await this.client()
    await client.deleteScanLabels(scan, keys)
    this.note(`Removed label${keys.length === 1 ? '' : 's'} ${keys.join(', ')} from scan ${scan}.`)
    const result = {scan_uuid: scan, deleted_keys: keys}
    return this.emitObject(result, r => [{rows: [['Scan', r.scan_uuid], ['Deleted keys', r.deleted_keys]]}])
  }
}
