/** The model and model version a scan was filed under, for reports that describe the model (CycloneDX). */
import type {ModelSecurityClient} from '../airs/client.js'
import {DaystromError} from '../airs/errors.js'
import type {Model, ModelVersion, Scan} from '../airs/types.js'

const NIL_UUID = '00000000-0000-0000-0000-000000000000'

/**
 * The model version a scan was filed under and its model (name, revision, licence, fingerprint), or nulls when
 * the scan has none yet (PENDING) or the service no longer has them (404). Other errors propagate.
 */
export async function fetchScanModel(client: Pick<ModelSecurityClient, 'getModelVersion' | 'getModel'>, scan: Scan): Promise<{model: Model | null; modelVersion: ModelVersion | null}> {
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
