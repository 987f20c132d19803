// A tRPC link that makes a write batch's outcome certain: a mutation whose input carries a batch id
// (see writes.ts) and whose answer was lost with its socket is sent again (the server applies an id
// at most once) until the server answers. A lost answer that cannot be retried (no id, the client
// closed, attempts spent) fails with a message saying exactly that, never "Unknown error".
import { TRPCClientError, type TRPCLink } from '@trpc/client'
import type { AnyTRPCRouter } from '@trpc/server'
import { observable, type Unsubscribable } from '@trpc/server/observable'
import { BatchOutcomeUnknownError, batchIdOf, defaultRetryDelay, isOutcomeUnknown, type RetryOptions } from './writes.js'

export interface BatchRetryLinkOptions extends Omit<RetryOptions, 'signal'> {
  /** True once the client is closed: nothing is sent again then. */
  isClosed?: () => boolean
}

export function batchRetryLink<TRouter extends AnyTRPCRouter>(options: BatchRetryLinkOptions = {}): TRPCLink<TRouter> {
  const { maxAttempts = 30, retryDelayMs = defaultRetryDelay, isClosed = () => false } = options
  return () => ({ op, next }) => observable((observer) => {
    let attempt = 0
    let current: Unsubscribable | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    let stopped = false
    const send = () => {
      if (attempt > 0 && isClosed()) return observer.error(TRPCClientError.from(new BatchOutcomeUnknownError('the client was closed')))
      current = next(op).subscribe({
        next: (value) => observer.next(value),
        complete: () => observer.complete(),
        error: (error) => {
          if (op.type !== 'mutation' || !isOutcomeUnknown(error)) return observer.error(error)
          const why = batchIdOf(op.input) === undefined ? 'the batch has no id, so it is not sent again'
            : isClosed() ? 'the client was closed'
            : attempt + 1 >= maxAttempts ? `${maxAttempts} attempts`
            : undefined
          if (why) return observer.error(TRPCClientError.from(new BatchOutcomeUnknownError(why, { cause: error })))
          if (stopped) return
          timer = setTimeout(send, retryDelayMs(attempt++))
        },
      })
    }
    send()
    return () => {
      stopped = true
      clearTimeout(timer)
      current?.unsubscribe()
    }
  })
}
