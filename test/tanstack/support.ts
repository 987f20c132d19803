// Collections for the TanStack DB tests: real @tanstack/db collections over the tRPC test app's
// `todos.sync` subscription and `todos.mutate` mutation, cleaned up after each test.
import { afterEach } from 'vitest'
import { createCollection } from '@tanstack/db'
import type { ShapeProcedure, SyncClient, TrackedEvent } from '../../client/index.js'
import { trpcCollectionOptions, type MutationProcedure } from '../../client/tanstack/index.js'
import type { AppRouter } from '../trpc/app.js'
import type { TestApp } from '../trpc/support.js'

export type Todo = { id: string; title: string; completed: boolean; ownerId: string; createdAt: Date }
type Input = Parameters<SyncClient<AppRouter>['todos']['sync']['subscribe']>[0]

const open: { cleanup(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.cleanup()))
})

export interface CollectionOptions {
  input?: Input
  /** Instead of `client.todos.mutate` (e.g. to see the txids it returns). */
  mutate?: MutationProcedure
  relation?: [string, string]
  timeout?: number
  onError?: (error: unknown) => void
  /** Holds each subscription event back this long (ms), so mutation replies arrive before their changes. */
  delay?: number
}

export function todoCollection(client: SyncClient<AppRouter>, options: CollectionOptions = {}) {
  const collection = createCollection(trpcCollectionOptions({
    subscription: options.delay ? delayed(client.todos.sync, options.delay) : client.todos.sync,
    input: options.input ?? {},
    mutate: options.mutate ?? client.todos.mutate,
    getKey: (row) => row.id,
    relation: options.relation ?? ['public', 'todos'],
    timeout: options.timeout,
    onError: options.onError,
  }))
  open.push(collection)
  return collection
}

function delayed<TInput, Row>(procedure: ShapeProcedure<TInput, Row>, ms: number): ShapeProcedure<TInput, Row> {
  return {
    async *subscribe(input, opts): AsyncIterable<TrackedEvent<Row>> {
      for await (const event of procedure.subscribe(input, opts)) {
        await new Promise((resolve) => setTimeout(resolve, ms))
        yield event
      }
    },
  }
}

/** A mutation procedure that records the txid of each batch it sends. */
export function recordingMutate(client: SyncClient<AppRouter>): MutationProcedure & { txids: number[] } {
  const txids: number[] = []
  return {
    txids,
    async mutate(batch) {
      const result = await client.todos.mutate.mutate(batch)
      txids.push(result.txid)
      return result
    },
  }
}

/** A row without TanStack DB's virtual props ($synced, $origin, $key, $collectionId). */
export function plain<T extends object>(row: T): T {
  return Object.fromEntries(Object.entries(row).filter(([key]) => !key.startsWith('$'))) as T
}

export const rowsOf = <T extends { id: string }>(rows: Iterable<T>): T[] => [...rows].map(plain).sort((a, b) => a.id.localeCompare(b.id))

export async function findTodos(app: TestApp, where: Record<string, unknown>): Promise<Todo[]> {
  return rowsOf(await app.db.prisma.todo.findMany({ where }))
}
