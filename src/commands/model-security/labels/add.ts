import {LabelsWriteCommand} from '../../../lib/command/labels-write.js'

export default class LabelsAdd extends LabelsWriteCommand<typeof LabelsAdd> {
  static summary = 'Add labels to a scan (an existing key gets the new value).'
  static examples = [
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 -l env=prod -l team=ml',
    `<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 --labels '[{"key":"env","value":"prod"}]'`,
  ]

  protected readonly mode = 'add'
}
