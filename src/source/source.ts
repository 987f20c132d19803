// The one interface behind every reader (HTTP handler, tRPC subscriptions, sync.stream, live views):
// a request for part of a shape's log, answered the way Electric answers a GET /v1/shape.
// The embedded engine and an external Electric (http mode) both implement it.
import type { ShapeDefinition } from '../shape/definition.js'
import type { Message } from './messages.js'

export interface FetchRequest {
  /** `-1`, `now` or `<tx>_<op>`. */
  offset: string
  handle?: string
  live?: boolean
  /** Only the log after the snapshot (`log=changes_only`). */
  changesOnly?: boolean
  /** How long a live request waits for new data, in ms. */
  liveTimeout?: number
  signal?: AbortSignal
}

export type FetchResult =
  | {
      status: 'ok'
      handle: string
      /** The offset to ask for next (`electric-offset`). */
      offset: string
      messages: Message[]
      /** JSON text of each message, encoded once and shared by every reader. */
      encoded: string[]
      upToDate: boolean
      /** `electric-schema` of the selected columns. */
      schema: Record<string, Record<string, unknown>>
    }
  | { status: 'must-refetch'; handle: string }

export interface ShapeSource {
  fetch(definition: ShapeDefinition, request: FetchRequest): Promise<FetchResult>
  close(): Promise<void>
}

/**
 * An error caused by the request itself (bad shape, offset or handle) carries `field`, as Electric's
 * 400 bodies do: retrying cannot help. Anything else is transient.
 */
export const isClientError = (error: unknown): error is Error & { field: string } =>
  error instanceof Error && typeof (error as { field?: unknown }).field === 'string'
