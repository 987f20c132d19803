// The demo's browser app: a tRPC live shape with optimistic writes that are confirmed when their
// txid arrives in the stream, and a count kept by Electric's own client from the HTTP shape endpoint.
import { Shape, ShapeStream } from '@electric-sql/client'
import { createSyncClient, liveShape } from '../../client/index.js'
import type { AppRouter } from '../router.js'

interface TodoRow { id: string; title: string; completed: boolean; ownerId: string; createdAt: Date }
type Pending = { type: 'insert' | 'update'; row: TodoRow } | { type: 'delete'; row: TodoRow }

const user = document.getElementById('user')!.textContent ?? 'demo'
const list = document.getElementById('todos')!
const status = document.getElementById('status')!
const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:'
const trpc = createSyncClient<AppRouter>({ url: `${protocol}//${location.host}/trpc`, connectionParams: { user } })
const todos = liveShape(trpc.todos.sync, {})
/** Local writes not yet confirmed by their txid, by todo id. */
const pending = new Map<string, Pending>()
/** For tests and curious readers: txids confirmed so far. */
const confirmed: number[] = []
Object.assign(window, { demo: { todos, pending, confirmed } })

function visibleRows(): (TodoRow & { pending: boolean })[] {
  const rows = new Map<string, TodoRow & { pending: boolean }>()
  for (const row of todos.rows.values()) rows.set(row.id, { ...(row as TodoRow), pending: false })
  for (const [id, op] of pending) {
    if (op.type === 'delete') rows.delete(id)
    else rows.set(id, { ...op.row, pending: true })
  }
  return [...rows.values()].sort((a, b) => +new Date(a.createdAt) - +new Date(b.createdAt) || a.id.localeCompare(b.id))
}

function render(): void {
  list.replaceChildren(...visibleRows().map((todo) => {
    const li = document.createElement('li')
    li.dataset.id = todo.id
    li.className = `todo${todo.completed ? ' done' : ''}${todo.pending ? ' pending' : ''}`
    const toggle = Object.assign(document.createElement('input'), { type: 'checkbox', checked: todo.completed })
    toggle.addEventListener('change', () => write({ type: 'update', row: { ...todo, completed: toggle.checked } }))
    const title = Object.assign(document.createElement('span'), { className: 'title', textContent: ` ${todo.title} ` })
    const owner = Object.assign(document.createElement('small'), { textContent: todo.ownerId })
    const remove = Object.assign(document.createElement('button'), { textContent: '×', title: 'delete', className: 'delete' })
    remove.addEventListener('click', () => write({ type: 'delete', row: todo }))
    li.append(toggle, title, owner, ' ', remove)
    return li
  }))
  list.dataset.status = 'ready'
}

/** Applies a write optimistically, sends it, and keeps it pending until its txid is in the stream. */
async function write(op: Pending): Promise<void> {
  pending.set(op.row.id, op)
  render()
  const relation = { syncMetadata: { relation: 'todos' } }
  const mutation = op.type === 'insert'
    ? { type: 'insert' as const, modified: { id: op.row.id, title: op.row.title, completed: op.row.completed }, ...relation }
    : op.type === 'update'
      ? { type: 'update' as const, original: { id: op.row.id }, changes: { completed: op.row.completed, title: op.row.title }, ...relation }
      : { type: 'delete' as const, original: { id: op.row.id }, ...relation }
  try {
    const { txid } = await trpc.todos.mutate.mutate([mutation])
    status.textContent = `waiting for txid ${txid}…`
    await todos.awaitTxId(txid)
    confirmed.push(txid)
    status.textContent = `confirmed txid ${txid}`
  } catch (error) {
    status.textContent = `rejected: ${(error as Error).message}`
  } finally {
    if (pending.get(op.row.id) === op) pending.delete(op.row.id)
    render()
  }
}

document.getElementById('add')!.addEventListener('submit', (event) => {
  event.preventDefault()
  const input = (event.target as HTMLFormElement).elements.namedItem('title') as HTMLInputElement
  const title = input.value.trim()
  if (!title) return
  input.value = ''
  void write({ type: 'insert', row: { id: crypto.randomUUID(), title, completed: false, ownerId: user, createdAt: new Date() } })
})

todos.subscribe(() => render())
todos.ready.then(() => {
  status.textContent = 'live'
  render()
}, (error: Error) => {
  status.textContent = `error: ${error.message}`
})

// Electric's own client against the app's Electric-protocol endpoint.
const electric = new Shape(new ShapeStream({ url: `${location.origin}/shapes/todos` }))
electric.subscribe(({ rows }) => {
  document.getElementById('electric-count')!.textContent = String(rows.length)
})
