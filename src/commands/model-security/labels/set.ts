import {LabelsWriteCommand} from '../../../lib/command/labels-write.js'

export default class LabelsSet extends LabelsWriteCommand<typeof LabelsSet> {
  static summary = 'Replace all labels of a scan with these.'
  static examples = [
    '<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 -l env=prod -l team=ml',
    `<%= config.bin %> <%= command.id %> 0313419a-33ec-4264-b2ad-c0a3a09aaa39 --labels '[{"key":"env","value":"prod"}]'`,
  ]

  protected readonly mode = 'set'
}
