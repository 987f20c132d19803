// Subset snapshots (`subset__*` query parameters or a POST body): the shape's rows matching an extra
// condition, ordered and limited, read in one REPEATABLE READ snapshot whose bounds come back as
// `metadata` so the client can drop stream changes the snapshot already contains.
import type { ShapeSource } from '../source/source.js'
import type { Shape } from '../sync/shape.js'
import { mustRefetch, invalidRequest, type HttpResult } from './response.js'
import type { ServeContext } from './serve.js'
import { encodeMessages } from './transform.js'

export async function serveSubset(source: ShapeSource, shape: Shape<unknown>, ctx: ServeContext): Promise<HttpResult> {
  const { params } = ctx
  if (!source.subset) return invalidRequest({ subset: { where: ['subset snapshots are not supported by this source'] } })
  const result = await source.subset(shape.definition, { ...params.subset, handle: params.handle, changesOnly: params.changesOnly })
  if (result.status === 'must-refetch') return mustRefetch(result.handle, undefined)
  const data = encodeMessages(result.messages, result.messages.map((m) => JSON.stringify(m)), shape.transform)
  return {
    status: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache',
      'electric-snapshot': 'true',
      'electric-handle': result.handle,
      'electric-schema': JSON.stringify(result.schema),
      // Where the client's stream continues: for `now` the log's position before the query ran; otherwise
      // the client's own offset (changes after it that the snapshot holds are dropped by the client).
      'electric-offset': params.offset === 'now' ? result.offset : params.offset,
    },
    body: `{"metadata":${JSON.stringify(result.metadata)},"data":[${data.join(',')}]}`,
  }
}
