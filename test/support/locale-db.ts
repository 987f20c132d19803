// Databases with a locale of their own (ICU en-US, libc en_US.UTF-8, LC_CTYPE C, the cluster's), for
// tests of collation-dependent behaviour. Created from template0, so they hold no migrated schema.
import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import pg from 'pg'
import { withDatabase } from './global-setup.js'
import { dropDatabase } from './db.js'

export type LocaleKind = 'icu' | 'en_US' | 'c-ctype' | 'cluster'

export interface LocaleDatabase {
  name: string
  url: string
  pool: pg.Pool
  sql<R extends pg.QueryResultRow = any>(text: string, params?: unknown[]): Promise<R[]>
  drop(): Promise<void>
}

const LOCALES: Record<LocaleKind, string> = {
  icu: `LOCALE_PROVIDER icu ICU_LOCALE 'en-US'`,
  en_US: `LOCALE_PROVIDER libc LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8'`,
  'c-ctype': `LOCALE_PROVIDER libc LC_COLLATE 'C' LC_CTYPE 'C'`,
  cluster: '',
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('pgUrl') })
  await client.connect()
  try {
    return await run(client)
  } finally {
    await client.end()
  }
}

/** Why the server cannot make a database of this kind, or undefined when it can. */
export async function localeUnavailable(kind: LocaleKind): Promise<string | undefined> {
  return admin(async (client) => {
    if (kind === 'en_US') {
      const r = await client.query(`SELECT 1 FROM pg_collation WHERE collname = 'en_US.utf8'`)
      if (r.rowCount === 0) return 'the server has no en_US.utf8 locale (generate it with `localedef -i en_US -f UTF-8 en_US.UTF-8`)'
    }
    if (kind === 'icu' && !(await icuAvailable(client))) return 'the server is built without ICU'
    return undefined
  })
}

export async function icuAvailable(client?: pg.Client): Promise<boolean> {
  const check = async (c: pg.Client) => ((await c.query(`SELECT 1 FROM pg_collation WHERE collprovider = 'i' LIMIT 1`)).rowCount ?? 0) > 0
  return client ? check(client) : admin(check)
}

export async function createLocaleDatabase(kind: LocaleKind): Promise<LocaleDatabase> {
  const name = `t_${kind.replace('-', '_').toLowerCase()}_${randomBytes(5).toString('hex')}`
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' ${LOCALES[kind]}`))
  const url = withDatabase(inject('pgUrl'), name)
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  pool.on('error', () => {})
  return {
    name,
    url,
    pool,
    async sql(text, params) {
      return (await pool.query(text, params as unknown[])).rows
    },
    async drop() {
      await pool.end()
      await dropDatabase(name)
    },
  }
}
