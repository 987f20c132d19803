// Request ids tie what a client is told about an error to what the server logged about it: the client
// gets the id and our own message, the server's log gets the id and the original error.
import { randomBytes } from 'node:crypto'

const ids = new WeakMap<object, string>()

/** The error's request id, made on first use: every place that reports one error reports one id. */
export function requestIdOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return newRequestId()
  let id = ids.get(error)
  if (!id) ids.set(error, (id = newRequestId()))
  return id
}

export const newRequestId = (): string => randomBytes(8).toString('hex')
