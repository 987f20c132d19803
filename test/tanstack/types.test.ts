// Row and key types flow from the router into the collection options, with no annotations.
import { describe, expectTypeOf, it } from 'vitest'
import { createCollection } from '@tanstack/db'
import type { SyncClient } from '../../client/index.js'
import { trpcCollectionOptions, type TrpcCollectionOptions } from '../../client/tanstack/index.js'
import type { AppRouter as DemoRouter } from '../../demo/router.js'
import type { AppRouter } from '../trpc/app.js'
import type { Todo } from './support.js'

describe('trpcCollectionOptions types', () => {
  it('infers rows from the subscription and keys from getKey', () => {
    const typesOnly = (trpc: SyncClient<AppRouter>, demo: SyncClient<DemoRouter>) => {
      const options = trpcCollectionOptions({ subscription: trpc.todos.sync, input: {}, mutate: trpc.todos.mutate, getKey: (row) => row.id })
      expectTypeOf(options).toEqualTypeOf<TrpcCollectionOptions<Todo, string>>()
      const titles = trpcCollectionOptions({ subscription: trpc.todos.titles, input: undefined, getKey: (row) => row.title })
      expectTypeOf(titles).toEqualTypeOf<TrpcCollectionOptions<{ id: string; title: string }, string>>()
      const todos = createCollection(trpcCollectionOptions({ subscription: demo.todos.sync, input: undefined, mutate: demo.todos.mutate, getKey: (row) => row.id }))
      expectTypeOf(todos.utils.awaitTxId).parameters.toEqualTypeOf<[txid: number, timeout?: number]>()
      expectTypeOf(todos.toArray[0]!.title).toEqualTypeOf<string>()
      // @ts-expect-error the input is the procedure's
      trpcCollectionOptions({ subscription: trpc.todos.sync, input: { where: { ownerId: 'x' } }, getKey: (row) => row.id })
    }
    void typesOnly
  })
})
