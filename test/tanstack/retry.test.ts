// A write whose answer is lost (the socket closes after the server committed, before its reply arrives)
// is sent again with the same batch id and confirmed with the first txid, applied once: through the
// tRPC client, a TanStack DB collection and liveShape. The server's refusals are reported with its
// code and reason; a lost answer that cannot be retried says so, never "Unknown error".
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { BatchOutcomeUnknownError, BatchRejectedError, createSyncClient, liveShape, sendBatch, type SyncClient } from '../../client/index.js'
import type { AppRouter } from '../trpc/app.js'
import { startApp, until, type TestApp } from '../trpc/support.js'
import { todoCollection } from './support.js'

let app: TestApp
beforeAll(async () => {
  app = await startApp()
})
afterAll(async () => {
  await app?.close()
})

/** Replies to drop: each one closes the socket instead of being delivered (the server already committed). */
let dropReplies = 0
let dropped = 0
class DroppingWebSocket extends WebSocket {
  override addEventListener(type: string, listener: (event: any) => void, options?: any): void {
    if (type !== 'message') return void super.addEventListener(type as 'open', listener, options)
    super.addEventListener('message', (event) => {
      if (dropReplies > 0 && String(event.data).includes('"txid"')) {
        dropReplies--
        dropped++
        this.terminate()
        return
      }
      listener(event)
    }, options)
  }
}

const clients: SyncClient<AppRouter>[] = []
function client(userId: string): SyncClient<AppRouter> {
  const c = createSyncClient<AppRouter>({
    url: `ws://127.0.0.1:${app.port}/trpc`,
    WebSocket: DroppingWebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: { userId },
    retryDelayMs: () => 50,
  })
  clients.push(c)
  return c
}
afterAll(async () => { await Promise.all(clients.map((c) => c.$close())) })

const insert = (title: string, ownerId: string, mutationId: string | null = randomUUID()) => ({
  type: 'insert' as const, ...(mutationId ? { mutationId } : {}), modified: { id: randomUUID(), title, completed: false, ownerId }, syncMetadata: { relation: 'todos' },
})
const written = (title: string) => app.db.sql<{ xmin: string }>('SELECT xmin::text AS xmin FROM todos WHERE title = $1', [title])

describe('a lost reply', () => {
  it('the tRPC client sends the batch again and resolves with the first txid; applied once', async () => {
    const trpc = client('u1')
    dropReplies = 1
    dropped = 0
    const { txid } = await trpc.todos.mutate.mutate([insert('sent twice', 'u1')])
    expect(dropped).toBe(1)
    const rows = await written('sent twice')
    expect(rows).toHaveLength(1)
    expect(Number(rows[0]!.xmin)).toBe(txid)
  })

  it('without a batch id it is not sent again, and says so (never "Unknown error")', async () => {
    const trpc = client('u2')
    dropReplies = 1
    const error = await trpc.todos.mutate.mutate([insert('no id', 'u2', null)]).catch((e: Error) => e)
    expect((error as Error).message).toMatch(/answer to the write was lost \(the batch has no id, so it is not sent again\): it may or may not have been applied/)
    expect(await written('no id')).toHaveLength(1)
    // sendBatch gives the batch an id, so the same write through it is confirmed
    dropReplies = 1
    const { txid } = await sendBatch(trpc.todos.mutate, [insert('given an id', 'u2', null)])
    expect(Number((await written('given an id'))[0]!.xmin)).toBe(txid)
  })

  it('a TanStack DB collection keeps the write pending, then confirms it: the row appears once, synced', async () => {
    const trpc = client('u3')
    const todos = todoCollection(trpc)
    await todos.preload()
    dropReplies = 1
    dropped = 0
    const id = randomUUID()
    const tx = todos.insert({ id, title: 'collection write', completed: false, ownerId: 'u3', createdAt: new Date() })
    await tx.isPersisted.promise
    expect(dropped).toBe(1)
    expect(tx.state).toBe('completed')
    expect(todos.get(id)?.$synced).toBe(true)
    expect([...todos.values()].filter((t) => t.title === 'collection write')).toHaveLength(1)
    expect(await written('collection write')).toHaveLength(1)
  })

  it('liveShape.write confirms once the first txid is in rows', async () => {
    const trpc = client('u4')
    const todos = liveShape(trpc.todos.sync, {})
    await todos.ready
    dropReplies = 1
    const { txid } = await todos.write(trpc.todos.mutate, [insert('live write', 'u4')])
    expect(Number((await written('live write'))[0]!.xmin)).toBe(txid)
    expect(todos.toArray().map((t) => t.title)).toEqual(['live write'])
    todos.close()
  })
})

describe('the outcome reported', () => {
  it("a refusal is BatchRejectedError with the server's code and reason; the batch is not sent again", async () => {
    const trpc = client('u5')
    let sends = 0
    const error = await sendBatch({ mutate: (b: Parameters<typeof trpc.todos.mutate.mutate>[0]) => { sends++; return trpc.todos.mutate.mutate(b) } }, [insert('for someone else', 'u6')])
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BatchRejectedError)
    expect(error).toMatchObject({ code: 'FORBIDDEN', reason: 'check failed for operation 0: todos are created for yourself' })
    expect(sends).toBe(1)
  })

  it('a client closed with a reply outstanding reports the outcome as unknown', async () => {
    const trpc = client('u7')
    await until(() => trpc.$connection.state === 'live', 'the connection to be live')
    dropReplies = 1
    const pending = sendBatch(trpc.todos.mutate, [insert('closed meanwhile', 'u7')]).catch((e: unknown) => e)
    await until(() => dropped > 0 && dropReplies === 0, 'the reply to be dropped')
    await trpc.$close()
    const error = await pending
    expect(error).toBeInstanceOf(BatchOutcomeUnknownError)
    expect(trpc.$connection.state).toBe('offline')
    expect(await written('closed meanwhile')).toHaveLength(1)
  })
})
