// The one interface behind every reader (HTTP handler, tRPC subscriptions, sync.stream, live views):
// a request for part of a shape's log, answered the way Electric answers a GET /v1/shape.
// The embedded engine and an external Electric (http mode) both implement it.
import type { ShapeDefinition } from '../shape/definition.js'
import type { ChangeMessage, Message } from './messages.js'
import { classifyError } from './errors.js'

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
  /**
   * A live request woken by a commit takes its turn (turn-budget.ts) in this group before reading, so
   * thousands of readers woken by one transaction cannot hold the event loop together.
   */
  turnGroup?: object
}

export type FetchResult =
  | {
      status: 'ok'
      handle: string
      /** The offset to ask for next (`electric-offset`). */
      offset: string
      messages: Message[]
      /**
       * The same messages one at a time, when the source can make them as they are taken (a snapshot
       * chunk kept as text): a reader that consumes them one by one never waits for one large parse.
       */
      eachMessage?: () => Iterable<Message>
      /** JSON text of each message, encoded once and shared by every reader. */
      encoded: string[]
      /**
       * The messages as one JSON array text, in pieces, when the source keeps them that way (a snapshot
       * chunk): what an HTTP body sends, without splitting the text into messages and joining it again.
       */
      arrayPieces?: () => Iterable<string>
      upToDate: boolean
      /** `electric-schema` of the selected columns. */
      schema: Record<string, Record<string, unknown>>
    }
  | { status: 'must-refetch'; handle: string }

/** A subset snapshot (Electric's `subset__*` parameters): rows of the shape matching an extra condition. */
export interface SubsetRequest {
  /** The client's handle: a different current log means must-refetch. */
  handle?: string
  changesOnly?: boolean
  /** SQL condition ANDed to the shape's, with its own `$1..$n` placeholders. */
  where?: string
  /** Placeholder values of `where` and `orderBy`, Postgres text: `params[0]` is `$1`. */
  params?: string[]
  orderBy?: string
  limit?: number
  offset?: number
}

/** `pg_current_snapshot()` of the subset query, with the WAL position it ran at (decimal). */
export interface SubsetMetadata {
  xmin: string
  xmax: string
  xip_list: string[]
  snapshot_mark: number
  database_lsn: string
}

export type SubsetResult =
  | {
      status: 'ok'
      handle: string
      /** The shape log's latest offset when the query started (never after the snapshot). */
      offset: string
      metadata: SubsetMetadata
      /** Inserts with `headers.snapshot_mark`. */
      messages: ChangeMessage[]
      schema: Record<string, Record<string, unknown>>
    }
  | { status: 'must-refetch'; handle: string }

/** What a client sends when a source is itself an Electric HTTP API (http mode): forwarded, not re-served. */
export interface ProxyRequest {
  method: 'GET' | 'HEAD' | 'POST'
  /** Only the client-controlled parameters (offset, handle, live, cursor, log, subset__*, ...). */
  params: URLSearchParams
  headers: Record<string, string>
  body?: string
  signal?: AbortSignal
}

export interface ShapeSource {
  fetch(definition: ShapeDefinition, request: FetchRequest): Promise<FetchResult>
  /** Subset snapshots; sources without it answer subset requests with 400. */
  subset?(definition: ShapeDefinition, request: SubsetRequest): Promise<SubsetResult>
  /**
   * Forwards a client's request for `definition` to the Electric API behind the source, adding the
   * server-side shape and credentials. HTTP handlers proxy through it when present. Resolves with the
   * protocol's answers only (2xx, 304, 409); Electric's errors are thrown as the source's own errors,
   * whose messages are safe for clients (its bodies can quote the database).
   */
  proxy?(definition: ShapeDefinition, request: ProxyRequest): Promise<Response>
  close(): Promise<void>
}

/**
 * An error caused by the request itself (bad shape, offset or handle) carries `field`, as Electric's
 * 400 bodies do: retrying cannot help (classified by classifyError, errors.ts).
 */
export const isClientError = (error: unknown): error is Error & { field: string } =>
  error instanceof Error && typeof (error as { field?: unknown }).field === 'string' && classifyError(error) === 'request'
