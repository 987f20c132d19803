// The demo's tRPC app as a React component, rendered on the server from a prefetched snapshot and
// hydrated in the browser, where useLiveShape continues from that snapshot. Writes are optimistic:
// shown at once, pending until their txid arrives in the stream. Each write is a batch with an id,
// sent again with it when its answer is lost (offline, reconnecting): the page shows the connection's
// state and each batch's (pending, confirmed by txid, or rejected with the server's reason).
import { useEffect, useMemo, useState, type FormEvent } from 'react'
import { flushSync } from 'react-dom'
import type { TRPCClient } from '@trpc/client'
import { BatchRejectedError, sendBatch, type Connection, type ConnectionState, type ShapeSnapshot } from '../../client/index.js'
import { useLiveShape } from '../../client/react/index.js'
import type { Todo } from '../../generated/prisma/client.js'
import type { AppRouter } from '../router.js'

type Write = { type: 'insert' | 'update' | 'delete'; row: Todo }
/** A batch as the page shows it. */
type Batch = { id: string; label: string } & (
  | { status: 'pending' } | { status: 'confirmed'; txid: number } | { status: 'rejected' | 'unknown'; reason: string })

export interface TodoAppProps {
  /** The browser's client; on the server any client does (useLiveShape does not subscribe there). */
  trpc: TRPCClient<AppRouter>
  user: string
  initial: ShapeSnapshot<Todo>
  /** The browser client's connection (absent on the server). */
  connection?: Connection
  /** Told each txid once its write is confirmed on screen. */
  onConfirmed?: (txid: number) => void
  /** Told the server's reason when it refuses a write. */
  onRejected?: (reason: string) => void
}

export function TodoApp({ trpc, user, initial, connection, onConfirmed, onRejected }: TodoAppProps) {
  const todos = useLiveShape(trpc.todos.sync, {}, { initial })
  /** Local writes not yet confirmed by their txid, by todo id. */
  const [pending, setPending] = useState<ReadonlyMap<string, Write>>(new Map())
  const [message, setMessage] = useState<string>()
  const [batches, setBatches] = useState<readonly Batch[]>([])
  const online = useConnection(connection)
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
    const id = crypto.randomUUID()
    const track = (batch: Batch) => setBatches((current) => [batch, ...current.filter((b) => b.id !== id)].slice(0, 5))
    const label = `${op.type} “${op.row.title}”`
    track({ id, label, status: 'pending' })
    // Synchronous, so that whoever hears of the txid sees the confirmed list.
    const settle = (text: string, batch: Batch) => flushSync(() => {
      setPending((current) => current.get(op.row.id) === op ? withoutKey(current, op.row.id) : current)
      setMessage(text)
      track(batch)
    })
    try {
      // The batch's id is its mutationId: sent again with it until the server answers, applied once.
      const { txid } = await sendBatch(trpc.todos.mutate, [{ ...toMutation(op), mutationId: id }], { maxAttempts: Infinity })
      setMessage(`waiting for txid ${txid}…`)
      await todos.awaitTxId(txid, { timeout: 30_000 })
      settle(`confirmed txid ${txid}`, { id, label, status: 'confirmed', txid })
      onConfirmed?.(txid)
    } catch (error) {
      const reason = error instanceof BatchRejectedError ? error.reason : (error as Error).message
      const rejected = error instanceof BatchRejectedError
      settle(rejected ? `rejected: ${reason}` : `not confirmed: ${reason}`, { id, label, status: rejected ? 'rejected' : 'unknown', reason })
      if (error instanceof BatchRejectedError) onRejected?.(reason)
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

  // Offline, the rows are what the page last had: say so rather than "live".
  const status = todos.error ? `error: ${(todos.error as Error).message}`
    : hydrated && (online === 'offline' || online === 'reconnecting') ? online
    : message ?? (hydrated && todos.isReady ? 'live' : 'connecting…')
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
      <p><small id="status">{status}</small> <small>· connection: <b id="connection">{hydrated ? online : 'connecting'}</b></small></p>
      <ul id="writes">
        {batches.map((b) => (
          <li key={b.id} className={`batch ${b.status}`} data-batch={b.id}>
            <small>{b.label}: {b.status === 'pending' ? 'pending' : b.status === 'confirmed' ? `confirmed (txid ${b.txid})` : `${b.status === 'rejected' ? 'rejected' : 'not confirmed'}: ${b.reason}`}</small>
          </li>
        ))}
      </ul>
    </>
  )
}

/** The connection's state, followed as it changes; 'connecting' where there is none (the server render). */
function useConnection(connection: Connection | undefined): ConnectionState {
  const [state, setState] = useState<ConnectionState>(connection?.state ?? 'connecting')
  useEffect(() => {
    if (!connection) return
    setState(connection.state)
    return connection.subscribe(setState)
  }, [connection])
  return state
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
