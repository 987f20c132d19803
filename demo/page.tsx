// The HTML of `/`: the tRPC app rendered with React from a prefetched snapshot (embedded for hydration),
// the live server-rendered list (kept live by the runtime script, no app code), and a count read by
// Electric's own client from the HTTP shape endpoint.
import { renderToString } from 'react-dom/server'
import { createTRPCClient } from '@trpc/client'
import { html, serializeSnapshot, type LiveView, type ShapeSnapshot } from '../src/index.js'
import type { Todo } from '../generated/prisma/client.js'
import { TodoApp } from './app/todo-app.js'
import type { AppRouter } from './router.js'

/** The server render never subscribes: a client without links stands in for the browser's. */
const serverClient = createTRPCClient<AppRouter>({ links: [] })

export function renderTodo(todo: Pick<Todo, 'id' | 'title' | 'completed' | 'ownerId'>) {
  return html`<li class="todo${todo.completed ? ' done' : ''}"><span class="title">${todo.title}</span> <small>${todo.ownerId}</small></li>`
}

export interface PageOptions {
  user: string
  /** The user's `todos.sync` rows, prefetched: rendered here, resumed from in the browser. */
  snapshot: ShapeSnapshot<Todo>
  view: LiveView<Todo>
  runtimeScript: string
}

export async function renderPage({ user, snapshot, view, runtimeScript }: PageOptions): Promise<string> {
  const list = await view.html()
  const app = renderToString(<TodoApp trpc={serverClient} user={user} initial={snapshot} />)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>trpc-sync demo</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 64rem; padding: 0 1rem; color: #222 }
  main { display: grid; grid-template-columns: 1fr 1fr; gap: 2rem }
  section { border: 1px solid #ddd; border-radius: 8px; padding: 1rem }
  h1 { font-size: 1.4rem } h2 { font-size: 1.05rem; margin-top: 0 }
  ul { padding-left: 1.2rem } li.done .title { text-decoration: line-through; color: #888 }
  li.pending { opacity: .5 } li.read-only .title { color: #666 } li.batch.rejected, li.batch.unknown { color: #b00 } small { color: #888 }
  form { display: flex; gap: .5rem; margin-bottom: 1rem } input[type=text] { flex: 1 }
</style>
</head>
<body>
<h1>trpc-sync demo <small>signed in as <b id="user">${escape(user)}</b></small></h1>
<main>
  <section id="app">${app}</section>
  <section id="server-rendered">
    <h2>Server-rendered live list</h2>
    ${list.html}
    <p><small>Electric client on <code>/shapes/todos</code>: <b id="electric-count">…</b> todos</small></p>
  </section>
</main>
<script type="application/json" id="todos-snapshot">${serializeSnapshot(snapshot)}</script>
${runtimeScript}
<script type="module" src="/app.js"></script>
</body>
</html>`
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
