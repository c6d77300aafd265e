import {Flags} from '@oclif/core'

import {DaystromCommand} from '../../../lib/command/base.js'
import {POLICY_SCHEMA} from '../../../lib/policy/document.js'
import {writeTextFile} from '../../../lib/policy/files.js'

export default class PolicySchema extends DaystromCommand<typeof PolicySchema> {
  static summary = 'Print the JSON Schema of policy documents, for editors and CI.'
  static description = `The schema policy validate checks first. Save it next to your policy file and editors complete and check the
file as you type: exported YAML files start with "# yaml-language-server: $schema=policy.schema.json" (VS Code's YAML
extension and other yaml-language-server clients read that line); JSON files carry "$schema".`

  static examples = [
    '<%= config.bin %> <%= command.id %> -f policy.schema.json',
    '<%= config.bin %> <%= command.id %> > policy.schema.json',
  ]

  static flags = {
    file: Flags.string({char: 'f', summary: 'Write the schema to this file (replaced if it exists) instead of stdout.'}),
  }

  async run(): Promise<typeof POLICY_SCHEMA> {
    const text = JSON.stringify(POLICY_SCHEMA, null, 2) + '\n'
    if (this.flags.file) {
      await writeTextFile(this.flags.file, text)
      this.note(`Wrote the policy document schema to ${this.flags.file}.`)
    } else if (!this.jsonEnabled()) {
      this.log(text.trimEnd())
    }
    return POLICY_SCHEMA
  }
}
