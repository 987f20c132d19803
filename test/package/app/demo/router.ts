// The TanStack DB snippet imports the demo's router type; the snippets' router stands in for it.
export type { AppRouter } from '../router.js'
