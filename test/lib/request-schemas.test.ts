import {Ajv} from 'ajv'
import {expect} from 'chai'

import {requestSchemas} from '../../src/lib/airs/schemas.js'
import {validateBody} from '../../src/lib/airs/validate.js'

// The validator skips checking its schemas against the JSON Schema meta-schema at start-up (it costs every
// `scans create`); this is where they are checked instead.
describe('request schemas', () => {
  it('are valid JSON Schemas (checked here once, not on every start)', () => {
    const ajv = new Ajv({allErrors: true, strict: false})
    for (const [name, schema] of Object.entries(requestSchemas)) {
      expect(ajv.validateSchema(schema), `${name}: ${JSON.stringify(ajv.errors)}`).to.equal(true)
    }
    const bad = {...requestSchemas.ScanCreate, properties: {model_uri: {type: 'uri-string'}}}
    expect(ajv.validateSchema(bad)).to.equal(false)
  })

  it('still validate bodies with the meta-schema check off', () => {
    expect(validateBody('ScanCreate', {model_uri: '/m', security_group_uuid: '00000000-0000-4000-8000-000000000000'})).to.deep.equal([])
    const problems = validateBody('ScanCreate', {model_uri: '/m', security_group_uuid: 'nope', extra: 1})
    expect(problems.map(p => p.pointer).sort()).to.deep.equal(['/extra', '/security_group_uuid'])
  })
})
