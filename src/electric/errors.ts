// Errors of an external Electric, classified the way ShapeSource consumers need: a request Electric
// rejects (4xx) is final and carries `field`; an unreachable or failing Electric is transient.
// Messages never contain the request URL: it carries the secret.

/** Electric rejected the request (400, 401, 404, ...): retrying cannot help. */
export class ElectricError extends Error {
  override readonly name = 'ElectricError'
  constructor(readonly field: string, message: string, readonly status: number) {
    super(message)
  }
}

/** Electric could not be reached or answered 5xx / 429: retried with backoff by streams, 503 on endpoints. */
export class ElectricUnavailableError extends Error {
  override readonly name = 'ElectricUnavailableError'
  readonly transient = true
  constructor(message: string, readonly status?: number) {
    super(message)
  }
}

/** The error for a non-2xx, non-409 Electric response. */
export async function errorFromResponse(response: Response): Promise<Error> {
  const { status } = response
  const text = await response.text().catch(() => '')
  if (status === 429 || status >= 500) return new ElectricUnavailableError(`Electric answered ${status}`, status)
  if (status === 401 || status === 403) {
    return new ElectricError('secret', `Electric refused the request (${status}): check the secret and source id`, status)
  }
  if (status === 400) {
    const [field, message] = firstError(text)
    return new ElectricError(field, message, status)
  }
  return new ElectricError('url', `Electric answered ${status}: is the URL its shape endpoint?`, status)
}

/** The first `errors` entry of Electric's 400 body, `subset.where`-style for nested ones. */
function firstError(text: string): [string, string] {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return ['request', 'Electric rejected the request']
  }
  const { errors, message, error } = (body ?? {}) as { errors?: unknown; message?: unknown; error?: unknown }
  if (errors && typeof errors === 'object') {
    for (const [field, value] of Object.entries(errors)) {
      if (Array.isArray(value)) return [field, String(value[0])]
      if (value && typeof value === 'object') {
        for (const [sub, messages] of Object.entries(value)) return [`${field}.${sub}`, String(Array.isArray(messages) ? messages[0] : messages)]
      }
      return [field, String(value)]
    }
  }
  return ['request', String(message ?? error ?? 'Electric rejected the request')]
}
