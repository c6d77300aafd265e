// Scan worker bootstrap used only when daystrom runs from its TypeScript sources (mocha with
// `--import tsx`, bin/dev.js): on Node 20, tsx installs its loader in the main thread only, so the
// worker registers it before loading worker.ts. The build (dist/) starts worker.js directly and never
// loads this file. It imports nothing but tsx and our own worker entry.
import {register} from 'tsx/esm/api'

register()
await import('./worker.ts')
