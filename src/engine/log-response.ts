// A FetchResult of log entries, made lazily: the messages and their JSON texts are built when a
// transport asks for them (HTTP sends the JSON, tRPC and sync.stream read the messages), so a snapshot
// chunk kept as text is parsed only for readers that need objects, and only for that read.
import { upToDate, type Message } from '../source/messages.js'
import type { FetchResult } from '../source/source.js'
import type { ReadResult, ShapeLog } from './shape-log.js'

/** `read`'s entries (none: undefined), ending with up-to-date at `upToDateLsn` when it is given. */
export function logResponse(log: ShapeLog, read: ReadResult | undefined, offset: string, upToDateLsn: bigint | undefined): FetchResult {
  const control = upToDateLsn === undefined ? undefined : upToDate(upToDateLsn)
  let messages: Message[] | undefined
  let encoded: string[] | undefined
  return {
    status: 'ok', handle: log.handle, offset, upToDate: control !== undefined, schema: log.schema,
    get messages() {
      if (!messages) {
        messages = read?.messages() ?? []
        if (control) messages.push(control)
      }
      return messages
    },
    *eachMessage() {
      if (messages) yield* messages
      else {
        if (read) yield* read.each()
        if (control) yield control
      }
    },
    get encoded() {
      if (!encoded) {
        encoded = read?.encoded() ?? []
        if (control) encoded.push(JSON.stringify(control))
      }
      return encoded
    },
    ...(read?.arrayPieces && {
      arrayPieces: () => read.arrayPieces!(control ? [JSON.stringify(control)] : []),
    }),
  }
}
