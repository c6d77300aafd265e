import {Args, Flags} from '@oclif/core'

import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {resolveGroup} from '../../../lib/command/resolve.js'

export default class GroupsDelete extends ModelSecurityCommand<typeof GroupsDelete> {
  static summary = 'Delete a security group (confirms on a TTY; --yes otherwise).'
  static description = 'The service soft-deletes the group: it disappears from lists, stays readable by UUID with is_tombstone true.'
  static examples = ['<%= config.bin %> <%= command.id %> prod-s3-strict', '<%= config.bin %> <%= command.id %> c957bcfd-afaa-4a2d-b7b8-1c8827070ecf --yes']
  static args = {group: Args.string({description: 'Group UUID or exact name.', required: true})}
  static flags = {yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation.'})}

  async run(): Promise<{deleted: string; name: string}> {
    if (!this.flags.yes) this.assertCanPrompt(`delete security group "${this.args.group}"`)
    const client = await this.client()
    const group = await resolveGroup(client, this.args.group)
    if (!this.flags.yes && !(await this.confirm(`delete security group "${group.name}" (${group.uuid})?`))) {
      this.error('not deleted', {exit: 1, code: 'E_ABORTED'})
    }
    await client.deleteSecurityGroup(group.uuid)
    this.note(`Deleted security group "${group.name}" (${group.uuid}).`)
    if (!this.jsonEnabled() && this.format() !== 'table') this.log(JSON.stringify({deleted: group.uuid, name: group.name}, null, 2))
    return {deleted: group.uuid, name: group.name}
  }
}
