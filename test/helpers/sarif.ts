/**
 * SARIF validation for the report tests: the official SARIF 2.1.0 (rtm.5) JSON Schema as shipped in
 * @microsoft/jest-sarif (a draft-04 document: its $schema/id are dropped and one of its patterns needs non-unicode
 * regexps to compile under ajv 8), and our own stricter subset (test/fixtures/sarif-2.1.0.schema.json: no unknown
 * properties where we emit them, relative URIs).
 */
import {Ajv} from 'ajv'
import addFormatsModule from 'ajv-formats'
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'

import {ROOT} from './api.js'

const require = createRequire(import.meta.url)
const {$schema: _draft, id: _id, ...official} = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json') as Record<string, unknown>
const subset = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'sarif-2.1.0.schema.json'), 'utf8'))
const ajv = new Ajv({allErrors: true, strict: false, unicodeRegExp: false})
;((addFormatsModule as unknown as {default?: (a: Ajv) => void}).default ?? (addFormatsModule as unknown as (a: Ajv) => void))(ajv)
export const validateOfficial = ajv.compile(official)
export const validateSubset = ajv.compile(subset)

export function expectValidSarif(doc: unknown): void {
  expect(validateOfficial(doc), `official SARIF 2.1.0 schema: ${JSON.stringify(validateOfficial.errors, null, 2)}`).to.equal(true)
  expect(validateSubset(doc), `strict subset: ${JSON.stringify(validateSubset.errors, null, 2)}`).to.equal(true)
}
