// lower() and upper() of every code point, evaluator vs Postgres, under each LC_CTYPE the evaluator claims
// to reproduce (collation.ts: caseMappingOf): libc C.UTF-8 and en_US.UTF-8 (glibc's tables) and C (ASCII
// only). libc maps case one code point at a time, so agreeing on every code point is agreeing on every string.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkCaseTables } from '../../src/engine/collations.js'
import { compileWhere } from '../../src/where/index.js'
import { caseMappingOf, type Collation } from '../../src/where/collation.js'
import { lowerFor, upperFor } from '../../src/where/text.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  await db?.drop()
})

const COLLATIONS: { name: string; collation: Collation }[] = [
  { name: 'C.utf8', collation: { name: 'C.utf8', provider: 'libc', collate: 'C.utf8', ctype: 'C.utf8', deterministic: true } },
  { name: 'en_US.utf8', collation: { name: 'en_US.utf8', provider: 'libc', collate: 'en_US.utf8', ctype: 'en_US.utf8', deterministic: true } },
  { name: 'C', collation: { name: 'C', provider: 'libc', collate: 'C', ctype: 'C', deterministic: true } },
]

describe('case mapping of every code point', () => {
  for (const { name, collation } of COLLATIONS) {
    it(`equals Postgres's lower() and upper() under COLLATE "${name}"`, async (ctx) => {
      const exists = await db.sql(`SELECT 1 FROM pg_collation WHERE collname = $1`, [name])
      if (exists.length === 0) ctx.skip(`the server has no ${name} collation`)
      const mapping = caseMappingOf(collation)!
      expect(mapping).toBeDefined()
      // Only the code points Postgres changes come back; every other one must be left alone by us too.
      const rows = await db.sql<{ cp: number; l: string; u: string }>(
        `SELECT cp, lower(chr(cp) COLLATE "${name}") AS l, upper(chr(cp) COLLATE "${name}") AS u
           FROM generate_series(1, 1114111) AS cp
          WHERE (cp < 55296 OR cp > 57343)
            AND (lower(chr(cp) COLLATE "${name}") COLLATE "C" <> chr(cp) COLLATE "C"
              OR upper(chr(cp) COLLATE "${name}") COLLATE "C" <> chr(cp) COLLATE "C")`,
      )
      const postgres = new Map(rows.map((r) => [r.cp, [r.l, r.u]]))
      const lower = lowerFor(mapping)
      const upper = upperFor(mapping)
      const differences: string[] = []
      for (let cp = 1; cp <= 0x10ffff; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff) continue
        const ch = String.fromCodePoint(cp)
        const [l, u] = postgres.get(cp) ?? [ch, ch]
        if (lower(ch) !== l || upper(ch) !== u) differences.push(`U+${cp.toString(16)}: Postgres ${l}/${u}, evaluator ${lower(ch)}/${upper(ch)}`)
      }
      expect(differences.slice(0, 200)).toEqual([])
    }, 120_000)
  }
})

describe("checking the server's case tables", () => {
  it('keeps the glibc case mapping for a collation whose lower()/upper() match the evaluator on every character', async () => {
    const collation = COLLATIONS[0]!.collation
    expect(await checkCaseTables(db.pool, collation)).toBe(collation)
  })

  it('refuses case mapping under a collation whose server tables differ (here: "C", mislabelled as a C.UTF-8 ctype)', async () => {
    const mislabelled: Collation = { name: 'C', provider: 'libc', collate: 'C', ctype: 'C.UTF-8', deterministic: true }
    expect(caseMappingOf(mislabelled)).toBe('unicode')
    const checked = await checkCaseTables(db.pool, mislabelled)
    expect(checked.caseTablesDiffer).toBe(true)
    expect(caseMappingOf(checked)).toBeUndefined()
    const columns = new Map([['t', { type: 'text', dims: 0, collation: checked }]])
    expect(() => compileWhere(`lower(t) = $1`, columns, ['x'])).toThrow(/"t" has collation "C" .*the server's case tables differ/)
    expect(() => compileWhere(`t ILIKE $1`, columns, ['x'])).toThrow(/ILIKE under it cannot be evaluated/)
    expect(compileWhere(`t < $1`, columns, ['x']).evaluate({ t: 'a' })).toBe(true) // ordering does not depend on it
  })
})
