import {Args} from '@oclif/core'

import type {ModelVersion} from '../../../lib/airs/types.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {requireUuid, versionColumns, versionDetail} from '../../../lib/command/scan-views.js'

export default class ModelsVersion extends ModelSecurityCommand<typeof ModelsVersion> {
  static summary = 'Show one model version.'
  static examples = ['<%= config.bin %> <%= command.id %> 09ca1da2-0839-4a2a-8f60-58cd5c52f3b4']
  static args = {version: Args.string({description: 'Model version UUID.', required: true})}

  async run(): Promise<ModelVersion> {
    const uuid = requireUuid(this.args.version, 'version', 'see `daystrom model-security models versions <model>`')
    const client = await this.client()
    return this.emitObject(await client.getModelVersion(uuid), versionDetail, versionColumns)
  }
}
