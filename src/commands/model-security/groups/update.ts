import {Args, Flags} from '@oclif/core'

import type {GroupUpdate, SecurityGroup} from '../../../lib/airs/types.js'
import {assertValid} from '../../../lib/command/config-input.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {renderJson} from '../../../lib/command/output.js'
import {resolveGroupUuid} from '../../../lib/command/resolve.js'
import {groupDetail} from '../../../lib/command/views.js'

export default class GroupsUpdate extends ModelSecurityCommand<typeof GroupsUpdate> {
  static summary = 'Rename a security group or change its description (its source type cannot change).'
  static examples = [
    '<%= config.bin %> <%= command.id %> prod-s3-strict --name prod-s3 --description "Production S3 models"',
    '<%= config.bin %> <%= command.id %> prod-s3 --clear-description',
  ]

  static args = {group: Args.string({description: 'Group UUID or exact name.', required: true})}
  static flags = {
    name: Flags.string({summary: 'New name (1-255 characters).'}),
    description: Flags.string({summary: 'New description (up to 1000 characters).', exclusive: ['clear-description']}),
    'clear-description': Flags.boolean({summary: 'Set the description to empty.', exclusive: ['description']}),
    'dry-run': Flags.boolean({summary: 'Print the request that would be sent, and send nothing.'}),
  }

  async run(): Promise<SecurityGroup | {method: string; path: string; body: GroupUpdate}> {
    const f = this.flags
    const body: GroupUpdate = {}
    if (f.name !== undefined) body.name = f.name
    if (f.description !== undefined) body.description = f.description
    if (f['clear-description']) body.description = ''
    if (Object.keys(body).length === 0) {
      this.error('nothing to update: give --name, --description or --clear-description', {exit: 2, code: 'E_USAGE'})
    }
    assertValid('GroupUpdate', body, 'flags', true)
    const client = await this.client()
    const uuid = await resolveGroupUuid(client, this.args.group)
    if (f['dry-run']) {
      const request = {method: 'PUT', path: `/v1/security-groups/${uuid}`, body}
      if (!this.jsonEnabled()) this.log(renderJson(request))
      return request
    }
    return this.emitObject(await client.updateSecurityGroup(uuid, body), groupDetail)
  }
}
