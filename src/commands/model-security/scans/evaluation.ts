import {Args} from '@oclif/core'

import type {Evaluation} from '../../../lib/airs/types.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {evaluationColumns, evaluationDetail, requireUuid} from '../../../lib/command/scan-views.js'

export default class ScansEvaluation extends ModelSecurityCommand<typeof ScansEvaluation> {
  static summary = 'Show one rule evaluation.'
  static examples = ['<%= config.bin %> <%= command.id %> 476adb4e-ee83-446c-b0e8-0810d04731bc']
  static args = {evaluation: Args.string({description: 'Evaluation UUID.', required: true})}

  async run(): Promise<Evaluation> {
    const uuid = requireUuid(this.args.evaluation, 'evaluation')
    const client = await this.client()
    return this.emitObject(await client.getEvaluation(uuid), evaluationDetail, evaluationColumns)
  }
}
