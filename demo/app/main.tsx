// The demo's browser entry: hydrates the server-rendered tRPC app from the snapshot the page embeds
// (the subscription resumes from it: no refetch), and keeps a count with Electric's own client from
// the HTTP shape endpoint.
import { Shape, ShapeStream } from '@electric-sql/client'
import { hydrateRoot } from 'react-dom/client'
import { createSyncClient, parseSnapshot } from '../../client/index.js'
import type { Todo } from '../../generated/prisma/client.js'
import type { AppRouter } from '../router.js'
import { TodoApp } from './todo-app.js'

const user = document.getElementById('user')!.textContent ?? 'demo'
const initial = parseSnapshot<Todo>(document.getElementById('todos-snapshot')!.textContent!)
const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:'
// Reconnects within 5 s of the network coming back; a write whose answer is lost is sent again (same
// id, applied once) for as long as the page is open.
const trpc = createSyncClient<AppRouter>({
  url: `${protocol}//${location.host}/trpc`,
  connectionParams: { user },
  retryDelayMs: (attempt) => Math.min(250 * 2 ** attempt, 5_000),
  batchRetry: { maxAttempts: Infinity },
})
/** For tests and curious readers: txids confirmed so far, the server's refusals, and errors React recovered from (hydration mismatches). */
const demo = { confirmed: [] as number[], rejected: [] as string[], recoverableErrors: [] as string[] }
Object.assign(window, { demo })

hydrateRoot(
  document.getElementById('app')!,
  <TodoApp trpc={trpc} user={user} initial={initial} connection={trpc.$connection}
    onConfirmed={(txid) => demo.confirmed.push(txid)} onRejected={(reason) => demo.rejected.push(reason)} />,
  { onRecoverableError: (error) => demo.recoverableErrors.push(String(error)) },
)

// Electric's own client against the app's Electric-protocol endpoint.
const electric = new Shape(new ShapeStream({ url: `${location.origin}/shapes/todos` }))
electric.subscribe(({ rows }) => {
  document.getElementById('electric-count')!.textContent = String(rows.length)
})
