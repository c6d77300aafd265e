import {Args, Flags} from '@oclif/core'

import {SORT_DIRECTIONS} from '../../../lib/airs/enums.js'
import type {ModelVersion} from '../../../lib/airs/types.js'
import {pagingFlags} from '../../../lib/command/flags.js'
import {fetchList} from '../../../lib/command/list.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {requireUuid, versionColumns} from '../../../lib/command/scan-views.js'

export default class ModelsVersions extends ModelSecurityCommand<typeof ModelsVersions> {
  static summary = 'List the versions of a model.'
  static examples = ['<%= config.bin %> <%= command.id %> 3d942388-4910-4605-8b35-8de1f6a10454 --sort-order asc --all']
  static columns = versionColumns
  static args = {model: Args.string({description: 'Model UUID.', required: true})}
  static flags = {
    'sort-order': Flags.option({summary: 'Order by creation time.', options: [...SORT_DIRECTIONS]})(),
    ...pagingFlags(10),
  }

  async run(): Promise<ModelVersion[]> {
    const model = requireUuid(this.args.model, 'model', 'see `daystrom model-security models list`')
    const client = await this.client()
    const items = await fetchList(client, q => client.listModelVersions(model, {...q, sort_order: this.flags['sort-order']}), this.flags, this.pagingNote)
    return this.emitList(items)
  }
}
