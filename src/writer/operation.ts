// Operations: what a format turns a client batch into (OperationInput), and what hooks see once the
// operation is matched to an allowed model and its keys and values are converted (Operation).
import { z } from 'zod'

export type OperationType = 'insert' | 'update' | 'delete'
export const operationTypes: readonly OperationType[] = ['insert', 'update', 'delete']

/**
 * A table as a client names it: `'todos'`, `'public.todos'`, `'"public"."todos"'`, a Prisma model name
 * (`'Todo'`), or a relation `['public', 'todos']` as Electric and TanStack DB send it.
 */
export type TableName = string | readonly [string, string]

export const tableName = z.union([z.string().min(1), z.tuple([z.string().min(1), z.string().min(1)])])

/** What a batch id may be: short printable text (TanStack DB's mutation ids are UUIDs). */
export const batchId = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'a batch id is printable ASCII without spaces')

type Values = Record<string, unknown>

/** One client write in a format-neutral form. Keys may be Prisma field names or column names. */
export interface OperationInput {
  type: OperationType
  table?: TableName | undefined
  /** Insert: the new row. Update and delete: the row as the client knew it (at least its primary key). */
  data: Values
  /** Update: the fields to change. Ignored for inserts and deletes. */
  changes?: Values | undefined
}

const values = z.record(z.string(), z.unknown())

/** Checks what a custom parser returns before anything trusts it. */
export const operationInput = z.object({
  type: z.enum(['insert', 'update', 'delete']),
  table: tableName.optional(),
  data: values,
  changes: values.optional(),
})

/**
 * An operation as hooks see it: matched to a model, keys are Prisma field names, values are what Prisma
 * accepts and returns (Date, bigint, Decimal, Uint8Array, enum value names).
 */
export interface Operation<Row = Values> {
  /** Position in the batch, from 0. */
  readonly index: number
  readonly type: OperationType
  /** The table as the client named it. */
  readonly table: TableName | undefined
  /** Prisma model name. */
  readonly model: string
  /** Insert: the new row. Update and delete: the row as the client knew it, including its primary key. */
  readonly data: Partial<Row>
  /** Update: the changed fields (what is written). `{}` for inserts and deletes. */
  readonly changes: Partial<Row>
}

/** Splits a table name into namespace and name; quoted identifiers may contain dots. */
export function splitTableName(table: TableName): { namespace: string | undefined; name: string } | undefined {
  if (typeof table !== 'string') return { namespace: table[0], name: table[1] }
  const parts: string[] = []
  const identifier = /"((?:[^"]|"")+)"|([^".]+)/y
  let at = 0
  while (at < table.length) {
    identifier.lastIndex = at
    const m = identifier.exec(table)
    if (!m) return undefined
    parts.push(m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2]!)
    at = identifier.lastIndex
    if (at < table.length) {
      if (table[at] !== '.') return undefined
      at++
      if (at === table.length) return undefined
    }
  }
  if (parts.length === 1) return { namespace: undefined, name: parts[0]! }
  if (parts.length === 2) return { namespace: parts[0], name: parts[1]! }
  return undefined
}

export function formatTableName(table: TableName | undefined): string {
  if (table === undefined) return '(no table)'
  return typeof table === 'string' ? table : table.join('.')
}
