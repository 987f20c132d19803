// Names the README's snippets use without defining them: what the reader's app already has. Each snippet
// file imports the ones it uses and does not declare itself (test/package/snippets.ts).
import * as http from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ReactNode } from 'react'
import type { TRPCClient } from '@trpc/client'
import type { TanstackBatch } from 'trpc-sync'
import type { ShapeSnapshot } from 'trpc-sync/client'
import type { Todo } from './generated/prisma/client.js'
import { prisma, sync, type AppRouter } from './router.js'

export { appRouter, prisma, sync, t, todoSchema, type AppRouter } from './router.js'
export type { Todo } from './generated/prisma/client.js'
export { http }
export { createSync } from 'trpc-sync'

export declare const databaseUrl: string
export declare const secret: string
export declare const sourceId: string
export declare const someId: string
export const open = sync.shape(prisma.todo, { where: { completed: false } })
export const shape = open
export declare const txid: number
export declare const batch: TanstackBatch
export declare function render(rows: Todo[]): void
export declare function authenticate(req: IncomingMessage): Promise<{ id: string }>
/** The todos.tsx component of the React section, for the snippets that render it. */
export declare function Todos(props: { trpc: TRPCClient<AppRouter>; initial?: ShapeSnapshot<Todo> | undefined }): ReactNode

// An Express-like app: `http.createServer(app)`, `app.get(path, ...handlers)`, `req.user` set by `auth`.
export interface AppRequest extends IncomingMessage { user: { id: string } }
export interface AppResponse extends ServerResponse { send(body: string): void }
export type Handler = (req: AppRequest, res: AppResponse, next: (error?: unknown) => void) => unknown
export interface App {
  (req: IncomingMessage, res: ServerResponse): void
  get(path: string, ...handlers: Handler[]): void
  all(path: string, ...handlers: Handler[]): void
}
export declare const app: App
export declare const auth: Handler
