import {rmSync} from 'node:fs'
import {join} from 'node:path'

import {DaystromCommand} from '../../lib/command/base.js'
import {cacheDir} from '../../lib/config/paths.js'
import {removeProfile, selectedProfile} from '../../lib/config/store.js'

export default class AuthLogout extends DaystromCommand<typeof AuthLogout> {
  static summary = 'Remove a profile\'s saved settings and secret, and forget cached access tokens.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --profile staging']

  async run(): Promise<{profile: string; removed: boolean}> {
    const profile = selectedProfile(this.flags.profile).name
    const removed = removeProfile(profile)
    rmSync(join(cacheDir(), 'tokens'), {recursive: true, force: true})
    this.note(removed ? `Removed profile "${profile}" and cached tokens.` : `No saved profile "${profile}"; cached tokens cleared.`)
    return {profile, removed}
  }
}
