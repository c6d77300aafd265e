/**
 * Collecting what a scan report needs beyond the scan itself: every file of the scan (walked by
 * src/lib/scans/files.ts), and the model and model version the scan was filed under.
 */
import type {ModelSecurityClient} from '../airs/client.js'
import {DaystromError} from '../airs/errors.js'
import type {Model, ModelVersion, Scan, ScanFile} from '../airs/types.js'
import {listAllScanFiles} from '../scans/files.js'

const NIL_UUID = '00000000-0000-0000-0000-000000000000'

/**
 * The model version a scan was filed under and its model (name, revision, licence, fingerprint), or nulls when
 * the scan has none yet (PENDING) or the service no longer has them (404). Other errors propagate.
 */
export async function fetchScanModel(client: ModelSecurityClient, scan: Scan): Promise<{model: Model | null; modelVersion: ModelVersion | null}> {
  const versionUuid = scan.model_version_uuid
  if (!versionUuid || versionUuid === NIL_UUID || scan.eval_outcome === 'PENDING') return {model: null, modelVersion: null}
  const orNull = async <T>(p: Promise<T>): Promise<T | null> => {
    try {
      return await p
    } catch (error) {
      if (error instanceof DaystromError && error.code === 'E_NOT_FOUND') return null
      throw error
    }
  }
  const modelVersion = await orNull(client.getModelVersion(versionUuid))
  const model = modelVersion?.model_uuid ? await orNull(client.getModel(modelVersion.model_uuid)) : null
  return {model, modelVersion}
}

/** What a CycloneDX ML-BOM needs beyond {scan, evaluations, violations}: every file, and the model (version). */
export async function fetchBomExtras(client: ModelSecurityClient, scan: Scan): Promise<{files: ScanFile[]; model: Model | null; modelVersion: ModelVersion | null}> {
  const [files, models] = await Promise.all([listAllScanFiles(client, scan.uuid), fetchScanModel(client, scan)])
  return {files, ...models}
}
