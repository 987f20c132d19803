// Types flow from the router to the client with no codegen: rows typed by the Prisma model (narrowed
// by select), inputs by the allowed where subset; the client's event type is the server's.
import { describe, expectTypeOf, it } from 'vitest'
import type { Prisma } from '../../generated/prisma/client.js'
import WebSocket from 'ws'
import { createSyncClient, liveShape, type LiveShape, type SyncClient, type SyncEvent } from '../../client/index.js'
import type { AppRouter } from '../trpc/app.js'

type Todo = { id: string; title: string; completed: boolean; ownerId: string; createdAt: Date }

describe('client types', () => {
  it('infers rows and inputs from the router', () => {
    const typesOnly = (trpc: SyncClient<AppRouter>) => {
      expectTypeOf(liveShape(trpc.todos.sync, {})).toEqualTypeOf<LiveShape<Todo>>()
      expectTypeOf(liveShape(trpc.todos.titles, undefined)).toEqualTypeOf<LiveShape<{ id: string; title: string }>>()
      expectTypeOf(liveShape(trpc.allTypes.sync, undefined).toArray()[0]!.dec).toEqualTypeOf<Prisma.Decimal | null>()
      type Input = Parameters<typeof trpc.todos.sync.subscribe>[0]
      expectTypeOf<{ where: { completed: false; title: { startsWith: 'a'; mode: 'insensitive' } } }>().toExtend<Input>()
      expectTypeOf<{ where: { OR: [{ completed: true }, { NOT: { title: 'x' } }] } }>().toExtend<Input>()
      expectTypeOf<{ where: { ownerId: 'bob' } }>().not.toExtend<Input>()
      expectTypeOf<{ where: { title: { search: 'x' } } }>().not.toExtend<Input>()
    }
    void typesOnly
  })

  it('takes the ws package\'s WebSocket class as it is (Node 20)', () => {
    const make = () => createSyncClient<AppRouter>({ url: 'ws://localhost:1/trpc', WebSocket })
    expectTypeOf(make).returns.toEqualTypeOf<SyncClient<AppRouter>>()
  })
})
