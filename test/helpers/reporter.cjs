// mocha's dot reporter plus one closing line CI can read: "mocha: N passed, N failed, N skipped".
const Mocha = require('mocha')

class DotWithSummary extends Mocha.reporters.Dot {
  constructor(runner, options) {
    super(runner, options)
    runner.once('end', () => {
      const s = this.stats
      process.stdout.write(`mocha: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`)
    })
  }
}

module.exports = DotWithSummary
