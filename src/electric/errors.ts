// Errors of an external Electric, classified the way ShapeSource consumers need: a request Electric
// rejects (4xx) is final and carries `field`; an unreachable or failing Electric is transient.
// Messages are ours: never the request URL (it carries the secret), never Electric's body, which can
// quote the database (a where Postgres rejects). The body is kept as the error's `cause`, for the
// server's log (onError gets it under the request id the client is sent).

/** Electric rejected the request (400, 401, 404, ...): retrying cannot help. */
export class ElectricError extends Error {
  override readonly name = 'ElectricError'
  constructor(readonly field: string, message: string, readonly status: number, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** Electric could not be reached or answered 5xx / 429: retried with backoff by streams, 503 on endpoints. */
export class ElectricUnavailableError extends Error {
  override readonly name = 'ElectricUnavailableError'
  readonly transient = true
  constructor(message: string, readonly status?: number, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** Electric's own answer, for the server's log only. */
export class ElectricResponse extends Error {
  override readonly name = 'ElectricResponse'
  constructor(readonly status: number, readonly body: string) {
    super(`Electric answered ${status}: ${body.length > maxLogged ? `${body.slice(0, maxLogged)}…` : body}`)
  }
}

const maxLogged = 4096

/** The error for a non-2xx, non-409 Electric response. */
export async function errorFromResponse(response: Response): Promise<Error> {
  const { status } = response
  const cause = new ElectricResponse(status, await response.text().catch(() => ''))
  if (status === 429 || status >= 500) return new ElectricUnavailableError(`Electric answered ${status}`, status, { cause })
  if (status === 401 || status === 403) {
    return new ElectricError('secret', `Electric refused the request (${status}): check the secret and source id`, status, { cause })
  }
  if (status === 404) return new ElectricError('url', `Electric answered ${status}: is the URL its shape endpoint?`, status, { cause })
  const field = status === 400 ? fieldOf(cause.body) : 'request'
  return new ElectricError(field, field === 'request' ? `Electric rejected the request (${status})` : `Electric rejected the request's ${field}`, status, { cause })
}

/** Parameters Electric names in its 400s that are safe to name back: the protocol's and the shape's. */
const knownFields = /^(table|where|columns|params|replica|offset|handle|live|live_sse|cursor|log|subset(\.(where|limit|offset|order_by|params|where_expr|order_by_expr))?)$/

/** The first `errors` key of Electric's 400 body (`subset.where` for nested ones), if it names a known parameter. */
function fieldOf(text: string): string {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return 'request'
  }
  const { errors } = (body ?? {}) as { errors?: unknown }
  if (!errors || typeof errors !== 'object') return 'request'
  const [field, value] = Object.entries(errors)[0] ?? []
  if (field === undefined) return 'request'
  const sub = value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value)[0] : undefined
  const named = sub === undefined ? field : `${field}.${sub}`
  return knownFields.test(named) ? named : knownFields.test(field) ? field : 'request'
}
