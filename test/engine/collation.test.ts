// Shapes on databases whose default collation is not C: a where clause whose result depends on the
// locale's sort order is refused when the shape is created (by the engine, and as a 400 naming the
// column and its collation over HTTP); clauses the evaluator computes exactly converge with Postgres.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EmbeddedEngine } from '../../src/engine/index.js'
import { createSync, type Sync } from '../../src/sync/sync.js'
import { LiveReader, shapeOf, startEngine } from '../support/engine.js'
import { createLocaleDatabase, localeUnavailable, type LocaleDatabase, type LocaleKind } from '../support/locale-db.js'
import { mount, type Mounted } from '../http/support.js'

const TITLES = ['Résumé', 'résumé', 'resume', 'RESUME', 'apple', 'Zebra', 'éclair', 'Éclair', 'straße', 'STRASSE', 'mango']

const cases: { kind: LocaleKind; collation: RegExp; insensitive: boolean }[] = [
  { kind: 'icu', collation: /"title" has the database's default collation \(ICU locale en-US\)/, insensitive: false },
  { kind: 'en_US', collation: /"title" has the database's default collation \(libc, LC_COLLATE en_US\.UTF-8\)/, insensitive: true },
]

for (const { kind, collation, insensitive } of cases) {
  describe(`shapes on a ${kind} database`, () => {
    let unavailable: string | undefined
    let db: LocaleDatabase
    let engine: EmbeddedEngine
    let sync: Sync
    let app: Mounted

    beforeAll(async () => {
      unavailable = await localeUnavailable(kind)
      if (unavailable) return
      db = await createLocaleDatabase(kind)
      await db.sql(`CREATE TABLE items (id int PRIMARY KEY, title text NOT NULL)`)
      await db.sql(`INSERT INTO items SELECT i, t FROM unnest($1::text[]) WITH ORDINALITY AS u(t, i)`, [TITLES.slice(0, 6)])
      engine = await startEngine(db.url, { liveTimeoutMs: 200 })
      sync = createSync({ databaseUrl: db.url, engine: { slotName: `coll_${randomBytes(5).toString('hex')}`, temporarySlot: true } })
      app = await mount(sync.handler(sync.shape({ table: 'items', where: `"title" < 'm'` })))
    })
    afterAll(async () => {
      await app?.close()
      await sync?.close()
      await engine?.close()
      await db?.drop()
    })

    it('refuses a shape that orders text by the locale, naming the column, its collation and the fix', async (ctx) => {
      if (unavailable) ctx.skip(unavailable)
      const refused = engine.fetch(shapeOf('items', { where: `"title" < $1`, params: ['m'] }), { offset: '-1' })
      await expect(refused).rejects.toThrow(collation)
      await expect(engine.fetch(shapeOf('items', { where: `"title" BETWEEN 'a' AND 'm'` }), { offset: '-1' })).rejects.toThrow(/COLLATE "C"/)
    })

    it('answers the refused shape over HTTP with a 400 whose body names the column and its collation', async (ctx) => {
      if (unavailable) ctx.skip(unavailable)
      const response = await fetch(`${app.url}/?offset=-1`)
      expect(response.status).toBe(400)
      const body = await response.json() as { message: string; errors: { where: string[] } }
      expect(body.message).toBe('Invalid request')
      expect(body.errors.where[0]).toMatch(collation)
      expect(body.errors.where[0]).toMatch(/COLLATE "C"/)
    })

    it('keeps shapes it evaluates exactly equal to the query: equality, COLLATE "C" ordering, and ILIKE where the locale allows', async (ctx) => {
      if (unavailable) ctx.skip(unavailable)
      const wheres = [`"title" = 'résumé'`, `"title" IN ('Éclair', 'mango', 'straße')`, `"title" COLLATE "C" < 'm'`, `"title" LIKE 'r%'`]
      if (insensitive) wheres.push(`"title" ILIKE 'R%'`, `lower("title") = 'straße'`, `upper("title") = 'STRASSE'`)
      else await expect(engine.fetch(shapeOf('items', { where: `"title" ILIKE 'r%'` }), { offset: '-1' })).rejects.toThrow(/ILIKE under it cannot be evaluated/)
      const readers = wheres.map((where) => new LiveReader(engine, shapeOf('items', { where, replica: 'full' })))
      ctx.onTestFinished(() => Promise.all(readers.map((r) => r.stop())).then(() => {}))
      await Promise.all(readers.map((r) => r.nextUpToDate()))
      await db.sql(`INSERT INTO items SELECT i + 6, t FROM unnest($1::text[]) WITH ORDINALITY AS u(t, i)`, [TITLES.slice(6)])
      await db.sql(`UPDATE items SET title = 'RÉSUMÉ' WHERE id = 1`)
      await db.sql(`UPDATE items SET title = 'résumé' WHERE id = 4`)
      await db.sql(`DELETE FROM items WHERE id = 5`)
      const lsn = await engine.flush()
      await Promise.all(readers.map((r) => r.reached(lsn)))
      for (const [i, where] of wheres.entries()) {
        const expected = (await db.sql(`SELECT id::text FROM items WHERE ${where} ORDER BY items.id`)).map((r) => r.id)
        const got = [...readers[i]!.state.rows.values()].map((r) => r.id as string).sort((a, b) => Number(a) - Number(b))
        expect(got, where).toEqual(expected)
        expect(expected.length, `${where} selects some rows`).toBeGreaterThan(0)
      }
    })
  })
}
