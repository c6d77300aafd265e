import {Args} from '@oclif/core'

import type {ScanFile} from '../../../lib/airs/types.js'
import {pagingFlags} from '../../../lib/command/flags.js'
import {fetchList} from '../../../lib/command/list.js'
import {ModelSecurityCommand} from '../../../lib/command/model-security.js'
import {fileColumns, requireUuid} from '../../../lib/command/scan-views.js'

export default class ModelsFiles extends ModelSecurityCommand<typeof ModelsFiles> {
  static summary = 'List the files of a model version with their latest scan result.'
  static examples = ['<%= config.bin %> <%= command.id %> 09ca1da2-0839-4a2a-8f60-58cd5c52f3b4 --all']
  static columns = fileColumns
  static args = {version: Args.string({description: 'Model version UUID.', required: true})}
  static flags = {...pagingFlags(10)}

  async run(): Promise<ScanFile[]> {
    const version = requireUuid(this.args.version, 'version', 'see `daystrom model-security models versions <model>`')
    const client = await this.client()
    const items = await fetchList(client, q => client.listModelVersionFiles(version, q), this.flags, this.pagingNote)
    return this.emitList(items)
  }
}
