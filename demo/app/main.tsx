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
const trpc = createSyncClient<AppRouter>({ url: `${protocol}//${location.host}/trpc`, connectionParams: { user } })
/** For tests and curious readers: txids confirmed so far, and errors React recovered from (hydration mismatches). */
const demo = { confirmed: [] as number[], recoverableErrors: [] as string[] }
Object.assign(window, { demo })

hydrateRoot(
  document.getElementById('app')!,
  <TodoApp trpc={trpc} user={user} initial={initial} onConfirmed={(txid) => demo.confirmed.push(txid)} />,
  { onRecoverableError: (error) => demo.recoverableErrors.push(String(error)) },
)

// Electric's own client against the app's Electric-protocol endpoint.
const electric = new Shape(new ShapeStream({ url: `${location.origin}/shapes/todos` }))
electric.subscribe(({ rows }) => {
  document.getElementById('electric-count')!.textContent = String(rows.length)
})
