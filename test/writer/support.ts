// Shared helpers for the writer tests: a database per file, batch builders, error capture.
import { afterAll, beforeAll, beforeEach, expect } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { WriterError } from '../../src/writer/index.js'

/** A database for this test file, emptied before each test. */
export function useDatabase(): { readonly db: TestDatabase } {
  const holder = {} as { db: TestDatabase }
  beforeAll(async () => { holder.db = await createTestDatabase() })
  afterAll(async () => { await holder.db?.drop() })
  beforeEach(async () => { await holder.db.sql('TRUNCATE todos, projects, issues, memberships, all_types, trpc_sync_batches CASCADE') })
  return holder
}

/** A fixed UUID per number, easy to read in failures. */
export const uid = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

type Row = Record<string, unknown>
type Relation = string | [string, string]
const todos: Relation = ['public', 'todos']

/** TanStack DB PendingMutations (the serializable part), for table `todos` unless told. */
export const tanstack = {
  insert: (modified: Row, relation: Relation = todos) => ({ type: 'insert' as const, modified, original: {}, changes: modified, syncMetadata: { relation } }),
  update: (original: Row, changes: Row, relation: Relation = todos) => ({ type: 'update' as const, original, modified: { ...original, ...changes }, changes, syncMetadata: { relation } }),
  delete: (original: Row, relation: Relation = todos) => ({ type: 'delete' as const, original, modified: original, changes: {}, syncMetadata: { relation } }),
}

export const todo = (n: number, title = `todo ${n}`, ownerId = 'u1') => ({ id: uid(n), title, ownerId })

export async function seedTodos(db: TestDatabase, ...rows: { id: string; title: string; ownerId?: string; completed?: boolean }[]) {
  for (const r of rows) {
    await db.sql('INSERT INTO todos (id, title, owner_id, is_completed) VALUES ($1, $2, $3, $4)', [r.id, r.title, r.ownerId ?? 'u1', r.completed ?? false])
  }
}

export async function todoTitles(db: TestDatabase): Promise<string[]> {
  return (await db.sql<{ title: string }>('SELECT title FROM todos ORDER BY title')).map((r) => r.title)
}

/** The WriterError a promise rejects with (fails the test if it resolves or rejects with something else). */
export async function writerError(promise: Promise<unknown>): Promise<WriterError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(WriterError)
  return error as WriterError
}
