// Caching of a route's responses. A static shape serves everyone the same rows, so Electric's public
// caching stands. A per-request shape (`sync.handler((req) => ...)`) serves each user their own rows
// under one URL, so no shared cache (CDN, proxy) may keep them: its responses become `private`, and the
// first request (`offset=-1`, whose URL names no shape) is revalidated on every use (`no-cache`; the
// etag names the shape's handle, so a 304 only ever confirms the same shape's rows). An app whose
// shape depends only on request headers it names (`vary: ['authorization']`) keeps public caching and
// sends that `Vary`: it then answers for its cache honouring it.
import type { HttpResult } from './response.js'

export interface CachePolicy {
  /** The route's shape is decided per request. */
  perRequest: boolean
  /** Request headers the shape depends on, sent as `Vary` (the app's choice). */
  vary: readonly string[] | undefined
}

export function applyCachePolicy(result: HttpResult, policy: CachePolicy, requestedOffset: string | null): HttpResult {
  const headers = { ...result.headers }
  if (policy.vary?.length) {
    headers.vary = [...new Set([...(headers.vary ? headers.vary.split(/\s*,\s*/) : []), ...policy.vary])].join(', ')
  } else if (policy.perRequest) {
    const control = headers['cache-control']
    if (control?.startsWith('public')) {
      headers['cache-control'] = requestedOffset === '-1' ? 'private, no-cache' : privateOf(control)
      delete headers['surrogate-control'] // a CDN would obey it over cache-control
    }
  }
  return { ...result, headers }
}

/** The same lifetimes for the user's own cache only: `private`, and no shared-cache directive. */
const privateOf = (control: string): string =>
  ['private', ...control.split(/\s*,\s*/).slice(1).filter((d) => !/^(s-maxage|proxy-revalidate)\b/.test(d))].join(', ')
