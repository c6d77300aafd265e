import {DaystromCommand} from '../../lib/command/base.js'
import type {Column} from '../../lib/command/output.js'
import {readCredentials, readSettings} from '../../lib/config/store.js'

interface ProfileRow { name: string; current: boolean; client_id?: string; tsg_id?: string; has_secret: boolean; data_endpoint?: string; mgmt_endpoint?: string; token_endpoint?: string }

export default class AuthProfiles extends DaystromCommand<typeof AuthProfiles> {
  static summary = 'List saved profiles.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static columns: Column<ProfileRow>[] = [
    {key: 'name'}, {key: 'current', get: r => (r.current ? '*' : '')}, {key: 'client_id', header: 'CLIENT ID'}, {key: 'tsg_id', header: 'TSG'},
    {key: 'has_secret', header: 'SECRET', get: r => (r.has_secret ? 'saved' : 'none')}, {key: 'data_endpoint', header: 'DATA ENDPOINT', extended: true},
    {key: 'mgmt_endpoint', header: 'MGMT ENDPOINT', extended: true}, {key: 'token_endpoint', header: 'TOKEN ENDPOINT', extended: true},
  ]

  async run(): Promise<ProfileRow[]> {
    const s = readSettings()
    const c = readCredentials()
    const names = [...new Set([...Object.keys(s.profiles ?? {}), ...Object.keys(c.profiles ?? {})])].sort()
    const rows = names.map(name => ({name, current: s.current_profile === name, ...s.profiles?.[name], has_secret: Boolean(c.profiles?.[name]?.client_secret)}))
    return this.emitList(rows)
  }
}
