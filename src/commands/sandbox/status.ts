import {DaystromCommand} from '../../lib/command/base.js'
import type {Column} from '../../lib/command/output.js'

interface CountRow { item: string; count: number }

export default class SandboxStatus extends DaystromCommand<typeof SandboxStatus> {
  static summary = 'Show where the sandbox keeps its state and how much it holds.'
  static description = 'Reads the sandbox database without changing it (DAYSTROM_DATA_DIR overrides the data dir).'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static columns: Column<CountRow>[] = [{key: 'item'}, {key: 'count'}]

  async run(): Promise<{exists: boolean; db_path: string; data_dir: string; counts: Record<string, number>}> {
    const dataDir = process.env.DAYSTROM_DATA_DIR ?? this.config.dataDir
    const {sandboxStatus} = await import('../../lib/sandbox/index.js')
    const st = sandboxStatus(dataDir)
    const result = {exists: st.exists, db_path: st.dbPath, data_dir: dataDir, counts: st.counts}
    if (!this.jsonEnabled()) {
      this.log(`Database: ${st.dbPath}${st.exists ? '' : ' (not created yet: the first --sandbox command or `sandbox serve` creates and seeds it)'}`)
      if (st.exists) await this.emitList(Object.entries(st.counts).map(([item, count]) => ({item, count})))
    }
    return result
  }
}
