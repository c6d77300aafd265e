import {Flags} from '@oclif/core'

import {usageError} from '../../../lib/airs/errors.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {resolveGroup} from '../../../lib/command/resolve.js'
import type {PolicyDocument} from '../../../lib/policy/document.js'
import {exportDocument, serializeDocument} from '../../../lib/policy/export.js'
import {writeTextFile} from '../../../lib/policy/files.js'
import {fetchGroups, fetchInstances} from '../../../lib/policy/state.js'

export default class PolicyExport extends ModelSecurityCommand<typeof PolicyExport> {
  static summary = 'Write the current state of security groups as a policy document.'
  static description = `Every group by default, or the ones named with --group. Deterministic: groups and rules sorted by name, field
lists sorted, a fixed key order and no timestamps, so two exports of the same state are byte-identical and a git
diff shows only real changes. Minimal: a rule appears only when its state or a field list differs from the rule's
defaults; --full lists every rule instance with every editable field.

Default groups ("Default LOCAL", "Default S3", ...) are created by the service in every tenant. One that nobody
changed (every rule at its defaults, the service's own description) carries no information and is left out;
--include-defaults exports it anyway. A default group you changed is always exported, so an export is a complete
backup: policy apply of it on an empty tenant restores the groups. Exceptions live only in policy files (the
tenant has no such thing): an export shows the states in force.

YAML (the default) starts with a yaml-language-server comment pointing at --schema-ref, so editors complete the
file once the schema is saved there (policy schema -f policy.schema.json); JSON carries "$schema". -f FILE
writes the file (replacing it, as shell redirection would; .json means JSON) and nothing on stdout.`

  static examples = [
    '<%= config.bin %> <%= command.id %> -f policy.yaml',
    '<%= config.bin %> <%= command.id %> --group prod-hf --group prod-local --profile prod',
    '<%= config.bin %> <%= command.id %> --full --include-defaults -f backup.yaml',
    '<%= config.bin %> <%= command.id %> -o json --sandbox',
  ]

  static flags = {
    group: Flags.string({char: 'g', summary: 'Export this group (name or UUID; repeatable). Default: every group.', multiple: true}),
    full: Flags.boolean({summary: 'List every rule instance and every editable field, not only what differs from the defaults.'}),
    'include-defaults': Flags.boolean({summary: 'Also export "Default <SOURCE>" groups nobody changed.'}),
    file: Flags.string({char: 'f', summary: 'Write the document to this file (replaced if it exists; .json = JSON) instead of stdout.'}),
    'schema-ref': Flags.string({summary: 'Schema reference written into the document ("" for none).', default: 'policy.schema.json'}),
  }

  async run(): Promise<PolicyDocument> {
    const f = this.flags
    const output = (f as {output?: string}).output
    if (output !== undefined && !['yaml', 'json', 'table'].includes(output)) {
      throw usageError(`-o ${output}: a policy document is written as yaml (the default) or json`)
    }
    const format = output === 'json' || (output === undefined && f.file?.toLowerCase().endsWith('.json')) ? 'json' : 'yaml'
    const client = await this.client()
    const chosen = f.group?.length
      ? [...new Map((await Promise.all(f.group.map(ref => resolveGroup(client, ref)))).map(g => [g.uuid, g])).values()]
      : await fetchGroups(client)
    const instances = await fetchInstances(client, chosen.map(g => g.uuid))
    const {document, notes} = exportDocument(chosen.map(group => ({group, instances: instances[group.uuid] ?? []})), {
      full: f.full, includeDefaults: f['include-defaults'], explicit: Boolean(f.group?.length), schemaRef: f['schema-ref'],
    })
    for (const n of notes) this.note(n)
    const text = await serializeDocument(document, format)
    if (f.file) {
      await writeTextFile(f.file, text)
      this.note(`Wrote ${document.groups.length} group${document.groups.length === 1 ? '' : 's'} to ${f.file}.`)
    } else if (!this.jsonEnabled()) {
      this.log(text.trimEnd())
    }
    return document
  }
}
