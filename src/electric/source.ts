// http mode: a ShapeSource over an external Electric's HTTP API. `fetch` is one GET /v1/shape per call
// (the request/response ShapeSource models, so streamShape, sync.stream and tRPC subscriptions read it
// exactly as they read the embedded engine, Postgres text values included); `proxy` forwards endpoint
// requests with the server-side shape and the credentials added.
import type { ShapeDefinition } from '../shape/definition.js'
import { upToDate, type Message } from '../source/messages.js'
import type { FetchRequest, FetchResult, ProxyRequest, ShapeSource } from '../source/source.js'
import { ElectricUnavailableError, errorFromResponse } from './errors.js'
import { setShapeParams } from './params.js'

export interface ElectricSourceOptions {
  /** Electric's URL: the service root (`http://localhost:3000`) or its shape endpoint (`…/v1/shape`). */
  url: string
  /** `ELECTRIC_SECRET` of a self-hosted Electric, or the source secret of Electric Cloud. */
  secret?: string
  /** Electric Cloud's `source_id`. */
  sourceId?: string
  /** Extra headers on every request to Electric (e.g. for a gateway in front of it). */
  headers?: Record<string, string>
  fetch?: typeof globalThis.fetch
}

type Schema = Record<string, Record<string, unknown>>

/** Schemas seen per handle: live responses carry none. Bounded; a forgotten one is re-read non-live. */
const maxSchemas = 1000

export class ElectricSource implements ShapeSource {
  private readonly endpoint: URL
  private readonly schemas = new Map<string, Schema>()
  private readonly fetchFn: typeof globalThis.fetch

  constructor(private readonly options: ElectricSourceOptions) {
    const url = new URL(options.url)
    if (!/\/v1\/shape\/?$/.test(url.pathname)) url.pathname = `${url.pathname.replace(/\/$/, '')}/v1/shape`
    this.endpoint = url
    this.fetchFn = options.fetch ?? globalThis.fetch
  }

  async fetch(definition: ShapeDefinition, request: FetchRequest): Promise<FetchResult> {
    const params = new URLSearchParams()
    params.set('offset', request.offset)
    if (request.handle !== undefined && request.offset !== '-1' && request.offset !== 'now') params.set('handle', request.handle)
    if (request.live) params.set('live', 'true')
    if (request.changesOnly) params.set('log', 'changes_only')
    // Electric decides how long it holds a live request; a shorter liveTimeout ends it here.
    const timeout = request.live && request.liveTimeout !== undefined ? AbortSignal.timeout(request.liveTimeout) : undefined
    const signals = [request.signal, timeout].filter((s): s is AbortSignal => s !== undefined)
    let response: Response
    try {
      response = await this.send(definition, params, { signal: signals.length ? AbortSignal.any(signals) : undefined })
    } catch (error) {
      if (timeout?.aborted && !request.signal?.aborted && request.handle !== undefined) {
        return noChanges(request.handle, request.offset, this.schemas.get(request.handle) ?? {})
      }
      throw error
    }
    if (response.status === 409) {
      await response.body?.cancel()
      return { status: 'must-refetch', handle: response.headers.get('electric-handle') ?? '' }
    }
    if (response.status !== 200 && response.status !== 204) throw await errorFromResponse(response)
    return this.parse(response)
  }

  /**
   * Forwards an endpoint request: the client's protocol parameters plus the shape and credentials.
   * Electric's errors (not 409, the protocol's must-refetch) are thrown, not passed on (errors.ts).
   */
  async proxy(definition: ShapeDefinition, request: ProxyRequest): Promise<Response> {
    const params = new URLSearchParams(request.params)
    const response = await this.send(definition, params, {
      method: request.method, headers: request.headers, body: request.body, signal: request.signal,
    })
    if (response.status >= 400 && response.status !== 409) throw await errorFromResponse(response)
    return response
  }

  async close(): Promise<void> {
    this.schemas.clear()
  }

  private async send(definition: ShapeDefinition, params: URLSearchParams, init: RequestInit): Promise<Response> {
    setShapeParams(params, definition)
    params.delete('secret')
    params.delete('api_secret')
    params.delete('source_id')
    if (this.options.secret !== undefined) params.set('secret', this.options.secret)
    if (this.options.sourceId !== undefined) params.set('source_id', this.options.sourceId)
    params.sort()
    const url = new URL(this.endpoint)
    url.search = params.toString()
    try {
      return await this.fetchFn(url, { ...init, headers: { ...this.options.headers, ...(init.headers as Record<string, string>) } })
    } catch (error) {
      if (init.signal?.aborted) throw error
      // Network errors can quote the URL, and the URL carries the secret: report without it.
      throw new ElectricUnavailableError(`cannot reach Electric at ${this.endpoint.origin}`)
    }
  }

  private async parse(response: Response): Promise<FetchResult> {
    const handle = response.headers.get('electric-handle')
    const offset = response.headers.get('electric-offset')
    if (!handle || !offset) {
      await response.body?.cancel()
      throw new ElectricUnavailableError('Electric answered without electric-handle / electric-offset headers')
    }
    const schemaHeader = response.headers.get('electric-schema')
    if (schemaHeader) this.remember(handle, JSON.parse(schemaHeader) as Schema)
    const text = response.status === 204 ? '' : await response.text()
    const messages: Message[] = text ? (JSON.parse(text) as Message[]) : []
    const last = messages.at(-1)
    let isUpToDate = response.headers.has('electric-up-to-date') || (last !== undefined && 'control' in last.headers && last.headers.control === 'up-to-date')
    if (response.status === 204) {
      messages.push(upToDate())
      isUpToDate = true
    }
    return {
      status: 'ok', handle, offset, messages, encoded: messages.map((m) => JSON.stringify(m)), upToDate: isUpToDate,
      schema: this.schemas.get(handle) ?? {},
    }
  }

  private remember(handle: string, schema: Schema): void {
    this.schemas.delete(handle)
    this.schemas.set(handle, schema)
    if (this.schemas.size > maxSchemas) this.schemas.delete(this.schemas.keys().next().value!)
  }
}

function noChanges(handle: string, offset: string, schema: Schema): FetchResult {
  const control = upToDate()
  return { status: 'ok', handle, offset, messages: [control], encoded: [JSON.stringify(control)], upToDate: true, schema }
}
