// The demo's tRPC app as a React component, rendered on the server from a prefetched snapshot and
// hydrated in the browser, where useLiveShape continues from that snapshot. Writes are optimistic:
// shown at once, pending until their txid arrives in the stream.
import { useEffect, useMemo, useState, type FormEvent } from 'react'
import { flushSync } from 'react-dom'
import type { TRPCClient } from '@trpc/client'
import type { ShapeSnapshot } from '../../client/index.js'
import { useLiveShape } from '../../client/react/index.js'
import type { Todo } from '../../generated/prisma/client.js'
import type { AppRouter } from '../router.js'

type Write = { type: 'insert' | 'update' | 'delete'; row: Todo }

export interface TodoAppProps {
  /** The browser's client; on the server any client does (useLiveShape does not subscribe there). */
  trpc: TRPCClient<AppRouter>
  user: string
  initial: ShapeSnapshot<Todo>
  /** Told each txid once its write is confirmed on screen. */
  onConfirmed?: (txid: number) => void
}

export function TodoApp({ trpc, user, initial, onConfirmed }: TodoAppProps) {
  const todos = useLiveShape(trpc.todos.sync, {}, { initial })
  /** Local writes not yet confirmed by their txid, by todo id. */
  const [pending, setPending] = useState<ReadonlyMap<string, Write>>(new Map())
  const [message, setMessage] = useState<string>()
  const hydrated = useHydrated()

  const visible = useMemo(() => {
    const rows = new Map(todos.rows.map((row) => [row.id, { ...row, pending: false }]))
    for (const [id, write] of pending) {
      if (write.type === 'delete') rows.delete(id)
      else rows.set(id, { ...write.row, pending: true })
    }
    return [...rows.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
  }, [todos.rows, pending])

  async function write(op: Write): Promise<void> {
    setPending((current) => new Map(current).set(op.row.id, op))
    // Synchronous, so that whoever hears of the txid sees the confirmed list.
    const settle = (text: string) => flushSync(() => {
      setPending((current) => current.get(op.row.id) === op ? withoutKey(current, op.row.id) : current)
      setMessage(text)
    })
    try {
      const { txid } = await trpc.todos.mutate.mutate([toMutation(op)])
      setMessage(`waiting for txid ${txid}…`)
      await todos.awaitTxId(txid)
      settle(`confirmed txid ${txid}`)
      onConfirmed?.(txid)
    } catch (error) {
      settle(`rejected: ${(error as Error).message}`)
    }
  }

  function add(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault()
    const input = event.currentTarget.elements.namedItem('title') as HTMLInputElement
    const title = input.value.trim()
    if (!title) return
    input.value = ''
    void write({ type: 'insert', row: { id: crypto.randomUUID(), title, completed: false, ownerId: user, createdAt: new Date() } })
  }

  const status = todos.error ? `error: ${(todos.error as Error).message}` : message ?? (hydrated && todos.isReady ? 'live' : 'connecting…')
  return (
    <>
      <h2>tRPC app (React: server-rendered, then live; writes confirmed by txid)</h2>
      <form id="add" onSubmit={add}>
        <input type="text" name="title" placeholder="What needs doing?" autoComplete="off" />
        <button>Add</button>
      </form>
      <ul id="todos">
        {visible.map((todo) => {
          // The server refuses writes to other users' todos; the page says so instead of trying.
          const readOnly = todo.ownerId !== user
          return (
            <li key={todo.id} data-id={todo.id} className={`todo${todo.completed ? ' done' : ''}${todo.pending ? ' pending' : ''}${readOnly ? ' read-only' : ''}`}>
              <input type="checkbox" checked={todo.completed} disabled={readOnly} title={readOnly ? `${todo.ownerId}'s todo: read-only` : undefined}
                onChange={(e) => void write({ type: 'update', row: { ...todo, completed: e.target.checked } })} />
              {' '}<span className="title">{todo.title}</span>{' '}<small>{todo.ownerId}{readOnly ? ' · read-only' : ''}</small>{' '}
              {readOnly ? null : <button className="delete" title="delete" onClick={() => void write({ type: 'delete', row: todo })}>×</button>}
            </li>
          )
        })}
      </ul>
      <p><small id="status">{status}</small></p>
    </>
  )
}

/** False on the server and during hydration (so both render the same), true once mounted. */
function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false)
  useEffect(() => setHydrated(true), [])
  return hydrated
}

const withoutKey = <V,>(map: ReadonlyMap<string, V>, key: string) => {
  const copy = new Map(map)
  copy.delete(key)
  return copy
}

/** A write as the TanStack DB-format batch `todos.mutate` takes (the server fills in owner and time). */
function toMutation({ type, row }: Write) {
  const syncMetadata = { relation: 'todos' }
  if (type === 'insert') return { type, modified: { id: row.id, title: row.title, completed: row.completed }, syncMetadata }
  if (type === 'update') return { type, original: { id: row.id }, changes: { completed: row.completed, title: row.title }, syncMetadata }
  return { type, original: { id: row.id }, syncMetadata }
}
