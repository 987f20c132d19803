// What tRPC clients are told about errors. Invariant: no stack trace, file path or database text leaves
// the server unless the app asks for it (`exposeStackTraces`). tRPC puts `data.stack` in every error
// shape when its dev mode is on, and dev mode is on unless NODE_ENV is 'production'; an unexpected
// error (INTERNAL_SERVER_ERROR) carries the thrown error's own message (a Prisma or Postgres text, a
// RangeError). `withSafeErrors` wraps the router's config for the adapter that serves it (the app's
// own initTRPC and errorFormatter stay as they are, and run first): dev mode off, the stack dropped,
// an internal error's message replaced by one with its request id, and `data.requestId` in every
// error, the id the server's `onError` gets too (`requestIdOf`). Errors of the sources are mapped to
// codes by one classification (source/errors.ts), their messages being ours.
import { TRPCError, type AnyRouter } from '@trpc/server'
import { LimitError } from '../limits/index.js'
import { classifyError } from '../source/errors.js'
import { requestIdOf } from '../source/request-id.js'

export interface SafeErrorsOptions {
  /**
   * Keep tRPC's error shapes as the router's config makes them (its dev mode's `data.stack`, internal
   * errors' own messages). Default false: only for development on a machine of your own.
   */
  exposeStackTraces?: boolean
}

/** The router with an error config that leaks nothing (see above); pass it to any tRPC adapter. */
export function withSafeErrors<TRouter extends AnyRouter>(router: TRouter, options: SafeErrorsOptions = {}): TRouter {
  if (options.exposeStackTraces) return router
  const config = router._def._config
  const format = config.errorFormatter
  const safeConfig = {
    ...config,
    isDev: false,
    errorFormatter: (opts: Parameters<typeof format>[0]) => safeShape(format({ ...opts, shape: withoutStack(opts.shape) }), opts.error),
  }
  return { ...router, _def: { ...router._def, _config: safeConfig } }
}

/**
 * An error shape without internals: no `data.stack`, an internal error's message replaced, and
 * `data.requestId`. Also usable as (the end of) an app's own `errorFormatter`.
 */
export function safeShape<S>(shape: S, error: TRPCError): S {
  const requestId = requestIdOf(error)
  const s = shape as { message?: unknown; data?: unknown }
  const data = typeof s.data === 'object' && s.data !== null ? withoutStack(s.data) : {}
  const message = error.code === 'INTERNAL_SERVER_ERROR' ? `Internal server error (request ${requestId})` : s.message
  return { ...shape, message, data: { ...data, requestId } }
}

function withoutStack<T>(value: T): T {
  const v = value as { data?: Record<string, unknown>; stack?: unknown }
  if (typeof v !== 'object' || v === null) return value
  if ('stack' in v) {
    const { stack: _, ...rest } = v
    return rest as T
  }
  if (v.data && typeof v.data === 'object' && 'stack' in v.data) {
    const { stack: _, ...data } = v.data
    return { ...v, data } as T
  }
  return value
}

/**
 * A source's or shape's error as the TRPCError its class calls for: the request's own fault is
 * BAD_REQUEST (TOO_MANY_REQUESTS for a limit of the whole server) with its message, which is ours;
 * an unreachable database SERVICE_UNAVAILABLE; anything else passes on (tRPC makes it an
 * INTERNAL_SERVER_ERROR, whose text `withSafeErrors` keeps on the server).
 */
export function sourceError(error: unknown): unknown {
  if (error instanceof TRPCError) return error
  const kind = classifyError(error)
  if (kind === 'request') {
    const code = error instanceof LimitError && error.status === 429 ? 'TOO_MANY_REQUESTS' : 'BAD_REQUEST'
    const message = error instanceof Error ? error.message : 'invalid request'
    return new TRPCError({ code, message, cause: error })
  }
  if (kind === 'unavailable') {
    // One with a `clientCode` (a table locked by a long transaction) has a message written for clients.
    const written = typeof (error as { clientCode?: unknown }).clientCode === 'string' && error instanceof Error
    const message = written ? (error as Error).message : 'the database is unreachable; retry later'
    return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message, cause: error })
  }
  return error
}
