import {Flags} from '@oclif/core'

import {DaystromCommand} from '../../lib/command/base.js'

export default class SandboxReset extends DaystromCommand<typeof SandboxReset> {
  static summary = 'Delete the sandbox database; the next use seeds a fresh one.'
  static description = `Removes <data dir>/sandbox/sandbox.db and its WAL/SHM files: every group, scan, label and model you made in
the sandbox is lost. Asks for confirmation on a terminal; without one, --yes is required. Stop any running
\`sandbox serve\` first (it would keep serving the deleted database until it exits).`
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --yes']
  static flags = {
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation.'}),
  }

  async run(): Promise<{reset: boolean; existed: boolean; db_path: string}> {
    const dataDir = process.env.DAYSTROM_DATA_DIR ?? this.config.dataDir
    const {resetSandbox, sandboxStatus} = await import('../../lib/sandbox/index.js')
    const st = sandboxStatus(dataDir)
    if (!st.exists) {
      this.note(`Nothing to reset: ${st.dbPath} does not exist.`)
      return {reset: false, existed: false, db_path: st.dbPath}
    }
    if (!this.flags.yes) {
      const total = Object.values(st.counts).reduce((a, b) => a + b, 0)
      const yes = await this.confirm(`Delete the sandbox database ${st.dbPath} (${st.counts.scans ?? 0} scans, ${st.counts.security_groups ?? 0} groups, ${total} rows)?`, '--yes')
      if (!yes) {
        this.note('Aborted; nothing was deleted.')
        return {reset: false, existed: true, db_path: st.dbPath}
      }
    }
    resetSandbox(dataDir)
    this.note(`Deleted ${st.dbPath}. The next --sandbox command seeds a fresh sandbox.`)
    return {reset: true, existed: true, db_path: st.dbPath}
  }
}
