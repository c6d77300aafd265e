/**
 * ModelSecurityClient: one typed method per operation of the AIRS Model Security API (11 management,
 * 18 data plane), an async iterator for skip/limit pagination, and one refresh-and-replay on 401/403.
 * Results are the service's objects unchanged (snake_case, unknown fields kept).
 */
import type {Method} from 'got'

import {TokenProvider} from './auth.js'
import {DaystromError, usageError} from './errors.js'
import {HttpTransport, type HttpOptions, toSearchParams} from './http.js'
import {UUID_RE} from './enums.js'
import type {
  Evaluation, GroupCreate, GroupUpdate, Label, Model, ModelVersion, Page, Pagination, PyPIAuth, Rule, RuleInstance,
  RuleInstanceUpdate, Scan, ScanCreate, ScanFile, SecurityGroup, Violation,
} from './types.js'

/** Service-account credentials and the three endpoints a client talks to. */
export interface Credentials {
  clientId: string
  clientSecret: string
  tsgId: string
  dataEndpoint: string
  mgmtEndpoint: string
  tokenEndpoint: string
}

export interface ClientOptions extends HttpOptions, Credentials {
  /** Where the access token is cached (omit to keep it in memory only). */
  cacheDir?: string
}

export interface PageQuery { skip?: number; limit?: number }
type Query = Record<string, unknown>

export interface ListGroupsQuery extends PageQuery {
  sort_field?: string; sort_dir?: string; source_types?: string[]; search_query?: string; enabled_rules?: string[]
}
export interface ListRuleInstancesQuery extends PageQuery { security_rule_uuid?: string; state?: string }
export interface ListRulesQuery extends PageQuery { source_type?: string; search_query?: string }
export interface ListScansQuery extends PageQuery {
  sort_order?: string; search_query?: string; security_group_uuid?: string; model_version_uuid?: string
  source_types?: string[]; eval_outcomes?: string[]; start_time?: string; end_time?: string; labels_query?: string
}
export interface ListEvaluationsQuery extends PageQuery { sort_field?: string; sort_order?: string; result?: string; rule_instance_uuid?: string }
export interface ListFilesQuery extends PageQuery { sort_field?: string; sort_dir?: string; query_path?: string }
export interface ListLabelQuery extends PageQuery { search?: string }
export interface ListModelsQuery extends PageQuery {
  search_query?: string; sort_field?: string; sort_order?: string; latest_version_outcomes?: string[]
  latest_version_formats?: string[]; latest_version_source_types?: string[]; latest_version_scan_time_before?: string
  start_time?: string; end_time?: string
}
export interface ListModelVersionsQuery extends PageQuery { sort_order?: string }

/** A list operation: fetch one page. */
export type PageFetcher<T> = (query: PageQuery) => Promise<Page<T>>

function assertUuid(value: string, what: string): string {
  if (!UUID_RE.test(value)) {
    throw usageError(`invalid ${what} "${value}": expected a UUID like 5453a4ba-9f15-416f-b9b4-68b8af586622`)
  }
  return value
}

const enc = encodeURIComponent

export class ModelSecurityClient {
  readonly http: HttpTransport
  readonly tokens: TokenProvider
  readonly options: ClientOptions

  constructor(options: ClientOptions) {
    this.options = options
    this.http = new HttpTransport(options)
    this.tokens = new TokenProvider(options, this.http, options.cacheDir)
  }

  /** One API call with the bearer token; a 401/403 refreshes the token and replays once. */
  async call<T>(method: Method, plane: 'mgmt' | 'data', path: string, context: string, init: {query?: Query; json?: unknown} = {}): Promise<T> {
    const base = plane === 'mgmt' ? this.options.mgmtEndpoint : this.options.dataEndpoint
    const url = base.replace(/\/+$/, '') + path
    const send = async () => this.http.request<T>({
      method, url, context, json: init.json, searchParams: toSearchParams(init.query),
      headers: {authorization: `Bearer ${await this.tokens.token()}`},
    })
    try {
      return (await send()).body
    } catch (error) {
      if (error instanceof DaystromError && (error.status === 401 || error.status === 403) && error.code !== 'E_TOKEN_REJECTED') {
        this.tokens.invalidate()
        return (await send()).body
      }
      throw error
    }
  }

  private async page<T>(plane: 'mgmt' | 'data', path: string, key: string, context: string, query: Query): Promise<Page<T>> {
    const raw = await this.call<Record<string, unknown>>('GET', plane, path, context, {query})
    const items = Array.isArray(raw?.[key]) ? raw[key] as T[] : []
    return {items, pagination: (raw?.pagination ?? {}) as Pagination, raw}
  }

  /** Walk every page of a list operation, from `skip`, `limit` items a request. */
  async *paginate<T>(fetch: PageFetcher<T>, {skip = 0, limit = 100}: PageQuery = {}): AsyncGenerator<T, void, undefined> {
    let offset = skip
    for (;;) {
      const page = await fetch({skip: offset, limit})
      for (const item of page.items) yield item
      offset += page.items.length
      const total = page.pagination.total_items
      if (page.items.length === 0) return
      if (typeof total === 'number' ? offset >= total : page.items.length < limit) return
    }
  }

  // ---- management plane: security groups ----
  listSecurityGroups = async (q: ListGroupsQuery = {}) => this.page<SecurityGroup>('mgmt', '/v1/security-groups', 'security_groups', 'list security groups', {...q})
  createSecurityGroup = async (body: GroupCreate) => this.call<SecurityGroup>('POST', 'mgmt', '/v1/security-groups', 'create security group', {json: body})
  getSecurityGroup = async (uuid: string) => this.call<SecurityGroup>('GET', 'mgmt', `/v1/security-groups/${assertUuid(uuid, 'security group UUID')}`, `get security group ${uuid}`)
  updateSecurityGroup = async (uuid: string, body: GroupUpdate) => this.call<SecurityGroup>('PUT', 'mgmt', `/v1/security-groups/${assertUuid(uuid, 'security group UUID')}`, `update security group ${uuid}`, {json: body})
  deleteSecurityGroup = async (uuid: string): Promise<void> => {
    await this.call<unknown>('DELETE', 'mgmt', `/v1/security-groups/${assertUuid(uuid, 'security group UUID')}`, `delete security group ${uuid}`)
  }

  // ---- management plane: rule instances ----
  listRuleInstances = async (groupUuid: string, q: ListRuleInstancesQuery = {}) => this.page<RuleInstance>('mgmt',
    `/v1/security-groups/${assertUuid(groupUuid, 'security group UUID')}/rule-instances`, 'rule_instances', 'list rule instances', {...q})
  getRuleInstance = async (groupUuid: string, instanceUuid: string) => this.call<RuleInstance>('GET', 'mgmt',
    `/v1/security-groups/${assertUuid(groupUuid, 'security group UUID')}/rule-instances/${assertUuid(instanceUuid, 'rule instance UUID')}`, `get rule instance ${instanceUuid}`)
  updateRuleInstance = async (groupUuid: string, instanceUuid: string, body: RuleInstanceUpdate) => this.call<RuleInstance>('PUT', 'mgmt',
    `/v1/security-groups/${assertUuid(groupUuid, 'security group UUID')}/rule-instances/${assertUuid(instanceUuid, 'rule instance UUID')}`, `update rule instance ${instanceUuid}`, {json: body})

  // ---- management plane: security rules, PyPI ----
  listSecurityRules = async (q: ListRulesQuery = {}) => this.page<Rule>('mgmt', '/v1/security-rules', 'rules', 'list security rules', {...q})
  getSecurityRule = async (uuid: string) => this.call<Rule>('GET', 'mgmt', `/v1/security-rules/${assertUuid(uuid, 'security rule UUID')}`, `get security rule ${uuid}`)
  getPyPIAuth = async () => this.call<PyPIAuth>('GET', 'mgmt', '/v1/pypi/authenticate', 'get PyPI authentication')

  // ---- data plane: scans ----
  createScan = async (body: ScanCreate) => this.call<Scan>('POST', 'data', '/v1/scans', 'create scan', {json: body})
  listScans = async (q: ListScansQuery = {}) => this.page<Scan>('data', '/v1/scans', 'scans', 'list scans', {...q})
  getScan = async (uuid: string) => this.call<Scan>('GET', 'data', `/v1/scans/${assertUuid(uuid, 'scan UUID')}`, `get scan ${uuid}`)
  listScanEvaluations = async (scanUuid: string, q: ListEvaluationsQuery = {}) => this.page<Evaluation>('data',
    `/v1/scans/${assertUuid(scanUuid, 'scan UUID')}/evaluations`, 'evaluations', 'list evaluations', {...q})
  getEvaluation = async (uuid: string) => this.call<Evaluation>('GET', 'data', `/v1/evaluations/${assertUuid(uuid, 'evaluation UUID')}`, `get evaluation ${uuid}`)
  listScanViolations = async (scanUuid: string, q: PageQuery = {}) => this.page<Violation>('data',
    `/v1/scans/${assertUuid(scanUuid, 'scan UUID')}/rule-violations`, 'violations', 'list violations', {...q})
  getViolation = async (uuid: string) => this.call<Violation>('GET', 'data', `/v1/violations/${assertUuid(uuid, 'violation UUID')}`, `get violation ${uuid}`)
  listScanFiles = async (scanUuid: string, q: ListFilesQuery = {}) => this.page<ScanFile>('data',
    `/v1/scans/${assertUuid(scanUuid, 'scan UUID')}/files`, 'files', 'list files', {...q})

  // ---- data plane: labels ----
  addScanLabels = async (scanUuid: string, labels: Label[]) => this.call<Record<string, unknown>>('POST', 'data',
    `/v1/scans/${assertUuid(scanUuid, 'scan UUID')}/labels`, 'add labels', {json: {labels}})
  setScanLabels = async (scanUuid: string, labels: Label[]) => this.call<Record<string, unknown>>('PUT', 'data',
    `/v1/scans/${assertUuid(scanUuid, 'scan UUID')}/labels`, 'set labels', {json: {labels}})
  deleteScanLabels = async (scanUuid: string, keys: string[]): Promise<void> => {
    await this.call<unknown>('DELETE', 'data', `/v1/scans/${assertUuid(scanUuid, 'scan UUID')}/labels`, 'delete labels', {query: {keys}})
  }
  listLabelKeys = async (q: ListLabelQuery = {}) => this.page<string>('data', '/v1/scans/label-keys', 'keys', 'list label keys', {...q})
  listLabelValues = async (key: string, q: ListLabelQuery = {}) => this.page<string>('data', `/v1/scans/label-keys/${enc(key)}/values`, 'values', `list values of label ${key}`, {...q})

  // ---- data plane: models ----
  listModels = async (q: ListModelsQuery = {}) => this.page<Model>('data', '/v1/models', 'models', 'list models', {...q})
  getModel = async (uuid: string) => this.call<Model>('GET', 'data', `/v1/models/${assertUuid(uuid, 'model UUID')}`, `get model ${uuid}`)
  listModelVersions = async (modelUuid: string, q: ListModelVersionsQuery = {}) => this.page<ModelVersion>('data',
    `/v1/models/${assertUuid(modelUuid, 'model UUID')}/model-versions`, 'model_versions', 'list model versions', {...q})
  getModelVersion = async (uuid: string) => this.call<ModelVersion>('GET', 'data', `/v1/model-versions/${assertUuid(uuid, 'model version UUID')}`, `get model version ${uuid}`)
  listModelVersionFiles = async (versionUuid: string, q: PageQuery = {}) => this.page<ScanFile>('data',
    `/v1/model-versions/${assertUuid(versionUuid, 'model version UUID')}/files`, 'files', 'list model version files', {...q})
}
