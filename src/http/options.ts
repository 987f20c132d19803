// Settings of the Electric-protocol endpoints, with Electric's defaults.

export interface ServeOptions {
  /** How long a live long-poll is held without changes, ms (Electric: 20 s). Also sets the cursor interval. */
  liveTimeoutMs: number
  /** How long an SSE live response stays open, ms (Electric: 60 s). */
  sseTimeoutMs: number
  /** SSE keep-alive comment interval, ms (Electric: 21 s). */
  keepAliveMs: number
  /** `max-age` / `stale-while-revalidate` of non-live responses, s (Electric: 60 / 300). */
  maxAge: number
  staleAge: number
}

export const defaultServeOptions: ServeOptions = {
  liveTimeoutMs: 20_000,
  sseTimeoutMs: 60_000,
  keepAliveMs: 21_000,
  maxAge: 60,
  staleAge: 300,
}

export interface CorsOptions {
  /** Allowed origins; default: echo the request's `Origin` (or `*`), as Electric does. */
  origin?: string | readonly string[] | ((origin: string) => boolean)
  /** Request headers a preflight may allow besides `if-none-match` and `traceparent` (e.g. `authorization`). */
  allowHeaders?: readonly string[]
  /** Send `access-control-allow-credentials: true` (needs an explicit origin). */
  credentials?: boolean
}

export interface ShapeHandlerOptions extends Partial<ServeOptions> {
  /** CORS headers on every response and OPTIONS preflights (default true: Electric's behaviour); false leaves CORS to the app. */
  cors?: boolean | CorsOptions
  /**
   * Request headers the route's shape depends on (e.g. `['authorization']`), sent as `Vary`. A per-request
   * shape's responses are `private` unless this is set; with it they keep Electric's public caching,
   * keyed by these headers in caches that honour `Vary`.
   */
  vary?: string | readonly string[]
  /**
   * Errors to log: server-side ones (5xx), and client errors whose original (a Postgres error) the client
   * is not shown. Clients see a generic body or our own message, with `requestId`, which is passed here too.
   */
  onError?: (error: unknown, info: { requestId: string }) => void
}
