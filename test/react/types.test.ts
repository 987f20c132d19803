// Types flow from the router through prefetch and useLiveShape: the snapshot's rows are the procedure's
// rows, and `initial` must match the procedure's rows.
import { describe, expectTypeOf, it } from 'vitest'
import type { ShapeSnapshot, SyncClient } from '../../client/index.js'
import { useLiveShape, type UseLiveShapeResult } from '../../client/react/index.js'
import { prefetch, type ShapeSnapshot as ServerSnapshot } from '../../src/index.js'
import type { AppRouter, appRouter } from '../trpc/app.js'

type Todo = { id: string; title: string; completed: boolean; ownerId: string; createdAt: Date }
type Caller = ReturnType<ReturnType<typeof appRouter>['createCaller']>

describe('SSR types', () => {
  it('infers rows from the procedure, on the server and in the hook', () => {
    const typesOnly = (caller: Caller, trpc: SyncClient<AppRouter>, titles: ShapeSnapshot<{ id: string; title: string }>) => {
      expectTypeOf(prefetch(caller.todos.sync({}))).toEqualTypeOf<Promise<ServerSnapshot<Todo>>>()
      expectTypeOf(prefetch(caller.todos.titles(undefined))).toEqualTypeOf<Promise<ServerSnapshot<{ id: string; title: string }>>>()
      expectTypeOf(useLiveShape(trpc.todos.sync, {})).toEqualTypeOf<UseLiveShapeResult<Todo>>()
      expectTypeOf(useLiveShape(trpc.todos.titles, undefined, { initial: titles }).rows).toEqualTypeOf<{ id: string; title: string }[]>()
      // @ts-expect-error a snapshot of other rows
      useLiveShape(trpc.todos.sync, {}, { initial: titles })
    }
    void typesOnly
  })
})
