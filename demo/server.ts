// `npm run demo`: a multi-user todo app on every public API of trpc-sync. Embedded Postgres unless
// DATABASE_URL is set; migrations and seed data are applied at start.
//   PORT (default 3000) · tRPC over WebSocket at /trpc (todos.sync, todos.mutate) · GET /shapes/todos
//   (Electric protocol) · / (live server-rendered page) · GET /health
import { createServer, type IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/prisma/client.js'
import { createSync, createSyncWSServer, parseCookies, prefetch, type Sync } from '../src/index.js'
import { startPostgres } from '../src/testing/postgres.js'
import { applyMigrations } from '../src/testing/migrate.js'
import { createRouter, type DemoContext } from './router.js'
import { renderPage, renderTodo } from './page.js'
import { seed } from './seed.js'

const demoUser = 'demo'
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

export interface DemoServer {
  url: string
  databaseUrl: string
  sync: Sync
  close(): Promise<void>
}

export async function startDemo(options: { port?: number; databaseUrl?: string; log?: (line: string) => void } = {}): Promise<DemoServer> {
  const log = options.log ?? ((line: string) => console.log(line))
  const postgres = await startPostgres({ databaseUrl: options.databaseUrl ?? process.env.DATABASE_URL })
  const databaseUrl = postgres.url
  await applyMigrations(databaseUrl, here('../prisma/migrations'))
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) })
  await seed(prisma)
  const sync = createSync({ prisma, databaseUrl, engine: { temporarySlot: postgres.kind === 'embedded' } })
  const router = createRouter(sync, prisma)

  const app = await build({
    entryPoints: [here('./app/main.tsx')], bundle: true, write: false, format: 'esm', platform: 'browser',
    target: 'es2022', minify: true, logLevel: 'silent', jsx: 'automatic', define: { 'process.env.NODE_ENV': '"production"' },
  })
  const appJs = app.outputFiles[0]!.text

  const allTodos = sync.shape(prisma.todo)
  const view = sync.view(allTodos, { render: renderTodo, order: (a, b) => a.createdAt.getTime() - b.createdAt.getTime() })
  const shapeEndpoint = sync.handler(allTodos)
  const userOf = (req: IncomingMessage) => parseCookies(req.headers.cookie).user || demoUser

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (views.handleRequest(req, res)) return
    if (url.pathname === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
    } else if (url.pathname === '/shapes/todos') {
      shapeEndpoint(req, res)
    } else if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end()
    } else if (url.pathname === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(appJs)
    } else if (url.pathname === '/' && req.method === 'GET') {
      const asUser = url.searchParams.get('user')
      const user = asUser ?? userOf(req)
      // The user's todos.sync rows, read through the procedure (its auth and input) as the WebSocket will.
      prefetch(router.createCaller({ user }).todos.sync({}))
        .then((snapshot) => renderPage({ user, snapshot, view, runtimeScript: views.script })).then(
        (page) => res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          ...(asUser ? { 'set-cookie': `user=${encodeURIComponent(asUser)}; Path=/; SameSite=Lax` } : {}),
        }).end(page),
        (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`could not render: ${error.message}`),
      )
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
    }
  })
  const upgraded = new Set<Duplex>()
  server.on('upgrade', (_req, socket: Duplex) => {
    upgraded.add(socket)
    socket.once('close', () => upgraded.delete(socket))
  })
  const views = sync.attachViews(server)
  const trpc = createSyncWSServer({
    router,
    server,
    createContext: ({ connectionParams, cookies }): DemoContext => ({
      user: connectionParams?.user || cookies.user || demoUser,
    }),
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 3000, resolve))
  const address = server.address()
  const url = `http://localhost:${typeof address === 'object' && address ? address.port : options.port}`
  log(`trpc-sync demo ready: ${url}  (Postgres ${postgres.majorVersion}, ${postgres.kind === 'embedded' ? 'embedded' : 'DATABASE_URL'})`)
  log(`change rows from outside the app and watch every page follow: psql '${databaseUrl}' -c "UPDATE todos SET title = title || '!'"`)

  let closing: Promise<void> | undefined
  return {
    url,
    databaseUrl,
    sync,
    close: () => (closing ??= (async () => {
      await trpc.close({ graceMs: 0 })
      await sync.close()
      server.closeAllConnections()
      for (const socket of upgraded) socket.destroy() // WebSockets still open keep server.close() waiting
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await prisma.$disconnect()
      await postgres.stop()
    })()),
  }
}

/** How long a signalled demo waits for a clean close before it exits anyway. */
const shutdownMs = 10_000

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const demo = await startDemo({ port: Number(process.env.PORT ?? 3000) })
  let stopping = false
  const stop = (signal: string) => {
    // A second signal, or a close that hangs (Postgres gone mid-shutdown), still ends the process.
    if (stopping) process.exit(1)
    stopping = true
    console.log(`${signal}: stopping…`)
    setTimeout(() => {
      console.error(`stopping took more than ${shutdownMs / 1000} s (is Postgres still reachable?); exiting`)
      process.exit(1)
    }, shutdownMs).unref()
    demo.close().then(() => process.exit(0), (error: unknown) => { console.error(error); process.exit(1) })
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}
