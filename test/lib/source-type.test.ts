import {expect} from 'chai'

import {sourceTypeOfUri} from '../../src/lib/airs/source-type.js'
import {apiRequests, requests, run} from '../helpers/api.js'

describe('sourceTypeOfUri (shared by scans create and the sandbox)', () => {
  const cases: Array<[string, string | undefined]> = [
    ['s3://bucket/models/bert', 'S3'],
    ['https://bucket.s3.us-east-1.amazonaws.com/models/bert', 'S3'],
    ['gs://bucket/path', 'GCS'],
    ['https://acct.blob.core.windows.net/container/model', 'AZURE'],
    ['https://huggingface.co/microsoft/DialoGPT-medium', 'HUGGING_FACE'],
    ['https://hf.co/org/model', 'HUGGING_FACE'],
    ['https://acme.jfrog.io/artifactory/ml/model', 'ARTIFACTORY'],
    ['https://gitlab.example.com/group/project/-/ml/models/7', 'GITLAB'],
    ['/srv/models/bert', 'LOCAL'],
    ['./model', 'LOCAL'],
    ['file:///srv/models/bert', 'LOCAL'],
    ['https://models.example.com/bert', undefined],
  ]
  for (const [uri, expected] of cases) {
    it(`${uri} -> ${expected ?? 'undecided'}`, () => expect(sourceTypeOfUri(uri)).to.equal(expected))
  }
})

describe('groups create --rule is checked before credentials or requests', () => {
  it('a bad state exits 2 even with no credentials configured, and nothing is sent', async () => {
    const r = await run(['model-security', 'groups', 'create', '--name', 'g', '--source-type', 'S3', '--rule', '7f3e1c2a-5b4d-4e6f-8a9b-0c1d2e3f4a5b=ON'])
    expect(r.exit).to.equal(2)
    expect(r.error?.message).to.match(/--rule: invalid state "ON".*allowed DISABLED, ALLOWING, BLOCKING/)
    expect(apiRequests()).to.deep.equal([])
    expect(requests).to.have.length(0)
  })
})
