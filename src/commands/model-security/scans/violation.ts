import {Args} from '@oclif/core'

import type {Violation} from '../../../lib/airs/types.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {requireUuid, violationColumns, violationDetail} from '../../../lib/command/scan-views.js'

export default class ScansViolation extends ModelSecurityCommand<typeof ScansViolation> {
  static summary = 'Show one violation: description, file, module, operator, threat and remediation.'
  static examples = ['<%= config.bin %> <%= command.id %> d495625f-571a-43c8-bc6e-e25ba8f6d978']
  static args = {violation: Args.string({description: 'Violation UUID.', required: true})}

  async run(): Promise<Violation> {
    const uuid = requireUuid(this.args.violation, 'violation')
    const client = await this.client()
    return this.emitObject(await client.getViolation(uuid), violationDetail, violationColumns)
  }
}
