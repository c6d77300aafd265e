import {Args} from '@oclif/core'

import type {Model} from '../../../lib/airs/types.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {modelColumns, modelDetail, requireUuid} from '../../../lib/command/scan-views.js'

export default class ModelsGet extends ModelSecurityCommand<typeof ModelsGet> {
  static summary = 'Show one model.'
  static examples = ['<%= config.bin %> <%= command.id %> 3d942388-4910-4605-8b35-8de1f6a10454']
  static args = {model: Args.string({description: 'Model UUID.', required: true})}

  async run(): Promise<Model> {
    const uuid = requireUuid(this.args.model, 'model', 'see `daystrom model-security models list`')
    const client = await this.client()
    return this.emitObject(await client.getModel(uuid), modelDetail, modelColumns)
  }
}
