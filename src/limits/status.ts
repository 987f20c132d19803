// Which limit errors are the whole server's (status 429: retry later) rather than the request's own (400).
import { isClientError } from '../source/source.js'

/** A LimitError of a limit of the whole server (shapes, queued snapshots): HTTP 429, tRPC TOO_MANY_REQUESTS. */
export const isServerLimit = (error: unknown): error is Error & { field: string; status: 429 } =>
  isClientError(error) && (error as { status?: unknown }).status === 429
