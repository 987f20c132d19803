// JSON values → Prisma values for every scalar type (AllTypes), enums, lists, and composite primary keys.
import { describe, expect, it } from 'vitest'
import { Writer } from '../../src/writer/index.js'
import { tanstack, uid, useDatabase, writerError } from './support.js'

const ctx = useDatabase()
const all: [string, string] = ['public', 'all_types']

async function readAll(id: string) {
  const rows = await ctx.db.sql(`
    SELECT str, bool, int_value, big::text, float, dec::text, to_char(date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS date,
           json, encode(bytes, 'hex') AS bytes, status::text, strs, ints
      FROM all_types WHERE id = $1`, [id])
  return rows[0]
}

describe('values', () => {
  it('converts every scalar type from its JSON form', async () => {
    const { db } = ctx
    const { changes } = await new Writer().allow(db.prisma.allTypes).apply([tanstack.insert({
      id: uid(1), str: 'text', bool: true, int: -7, big: '9007199254740993', float: 1.5, dec: '12345.678901',
      date: '2024-02-03T04:05:06.789Z', json: { a: [1, { b: null }] }, bytes: '\\x0102ff', status: 'in progress',
      strs: ['a', 'b'], ints: [1, 2, 3],
    }, all)], db.prisma)
    expect(await readAll(uid(1))).toEqual({
      str: 'text', bool: true, int_value: -7, big: '9007199254740993', float: 1.5, dec: '12345.678901',
      date: '2024-02-03T04:05:06.789', json: { a: [1, { b: null }] }, bytes: '0102ff', status: 'in progress',
      strs: ['a', 'b'], ints: [1, 2, 3],
    })
    // what Prisma returns, for hooks and `changes`
    expect(changes[0]!.row).toMatchObject({ big: 9007199254740993n, status: 'in_progress', bytes: new Uint8Array([1, 2, 255]) })
  })

  it('accepts the alternative forms: column names, enum names, numbers for BigInt and Decimal, epoch ms, base64, byte arrays, Postgres text', async () => {
    const { db } = ctx
    const writer = new Writer().allow(db.prisma.allTypes)
    await writer.apply([
      tanstack.insert({ id: uid(1), int_value: '42', big: 5, dec: 0.25, date: 0, bytes: 'AQL/', status: 'in_progress', bool: 'f', float: 'NaN' }, all),
      tanstack.insert({ id: uid(2), big: '-9223372036854775808', dec: '-1e-6', date: '2024-02-03 04:05:06+02', bytes: [1, 2, 255], bool: 't', float: '-Infinity', json: 'just a string' }, all),
      tanstack.insert({ id: uid(3), bytes: '_-8', json: [1, 'two'], strs: [], ints: [] }, all),
    ], db.prisma)
    expect(await readAll(uid(1))).toMatchObject({ int_value: 42, big: '5', dec: '0.250000', date: '1970-01-01T00:00:00.000', bytes: '0102ff', status: 'in progress', bool: false, float: NaN })
    expect(await readAll(uid(2))).toMatchObject({ big: '-9223372036854775808', dec: '-0.000001', date: '2024-02-03T02:05:06.000', bytes: '0102ff', bool: true, float: -Infinity, json: 'just a string' })
    expect(await readAll(uid(3))).toMatchObject({ bytes: 'ffef', json: [1, 'two'], strs: [], ints: [] })
  })

  it('null clears nullable fields; a nullable Json null is SQL NULL', async () => {
    const { db } = ctx
    const writer = new Writer().allow(db.prisma.allTypes)
    await writer.apply([tanstack.insert({ id: uid(1), str: 's', json: { a: 1 }, bytes: '\\x00', status: 'open', dec: '1' }, all)], db.prisma)
    await writer.apply([tanstack.update({ id: uid(1) }, { str: null, json: null, bytes: null, status: null, dec: null, date: null }, all)], db.prisma)
    const [row] = await db.sql('SELECT str, json IS NULL AS json_is_sql_null, bytes, status, dec, date FROM all_types')
    expect(row).toEqual({ str: null, json_is_sql_null: true, bytes: null, status: null, dec: null, date: null })
  })

  it('updates write typed changes', async () => {
    const { db } = ctx
    const writer = new Writer().allow(db.prisma.allTypes)
    await writer.apply([tanstack.insert({ id: uid(1) }, all), tanstack.update({ id: uid(1) }, { big: '12', strs: ['x'], status: 'done', json: { n: 1 } }, all)], db.prisma)
    expect(await readAll(uid(1))).toMatchObject({ big: '12', strs: ['x'], status: 'done', json: { n: 1 } })
  })

  it.each([
    ['str', 5, 'str: expected a string'],
    ['str', 'nul\u0000', 'str: text cannot contain NUL characters'],
    ['id', 'not-a-uuid', 'id: expected a UUID'],
    ['bool', 'yes', 'bool: expected a boolean'],
    ['int', 1.5, 'int: expected an integer'],
    ['int', 2 ** 31, 'int: out of range for a 32-bit integer'],
    ['int_value', '12a', 'int: expected an integer'],
    ['big', 2 ** 60, 'big: expected an integer (as a string when beyond 2^53)'],
    ['big', '9223372036854775808', 'big: out of range for a 64-bit integer'],
    ['big', '1.5', 'big: expected an integer (as a string when beyond 2^53)'],
    ['float', 'fast', 'float: expected a number'],
    ['dec', 'ten', 'dec: expected a decimal number or a numeric string'],
    ['dec', {}, 'dec: expected a decimal number or a numeric string'],
    ['date', 'yesterday', 'date: expected an ISO 8601 date-time'],
    ['date', true, 'date: expected an ISO 8601 date-time'],
    ['json', { k: 'a\u0000' }, 'json: JSON text cannot contain NUL characters'],
    ['bytes', '\\xzz', 'bytes: invalid \\x hex bytes'],
    ['bytes', 'not base64!', 'bytes: expected \\x-prefixed hex or base64 bytes'],
    ['bytes', [256], 'bytes: expected \\x-prefixed hex, base64 or an array of bytes'],
    ['status', 'closed', 'status: expected one of "open", "in_progress", "done"'],
    ['status', 3, 'status: expected one of "open", "in_progress", "done"'],
    ['strs', 'a', 'strs: expected an array'],
    ['strs', ['a', null], 'strs: [1] must not be null'],
    ['ints', [1, 'x'], 'ints: [1] expected an integer'],
    ['strs', null, 'strs: must not be null'],
  ])('rejects %s = %j', async (key, value, message) => {
    const { db } = ctx
    const error = await writerError(new Writer().allow(db.prisma.allTypes).apply([tanstack.insert({ id: uid(1), [key]: value }, all)], db.prisma))
    expect(error).toMatchObject({ step: 'parse', kind: 'invalid', operationIndex: 0, reason: message })
    expect(error.issues[0]!.path).toEqual(['data', key])
  })

  it('data Postgres refuses is invalid input (BAD_REQUEST), not a server error', async () => {
    const { db } = ctx
    const error = await writerError(new Writer().allow(db.prisma.allTypes).apply([tanstack.insert({ id: uid(1), dec: '1e30' }, all)], db.prisma))
    expect(error).toMatchObject({ step: 'write', kind: 'invalid', operationIndex: 0 })
    // a required field left out: Prisma refuses the arguments
    const missing = await writerError(new Writer().allow(db.prisma.todo).apply([tanstack.insert({ id: uid(2), title: 'no owner' })], db.prisma))
    expect(missing).toMatchObject({ step: 'write', kind: 'invalid', operationIndex: 0 })
  })
})

describe('composite primary key (Membership)', () => {
  const rel = 'memberships'
  async function seedProject() {
    await ctx.db.sql("INSERT INTO projects (id, name, owner_id) VALUES ($1, 'p', 'u1')", [uid(100)])
  }

  it('inserts, updates and deletes by the whole key, with field or column names', async () => {
    const { db } = ctx
    await seedProject()
    const writer = new Writer().allow(db.prisma.membership)
    await writer.apply([
      tanstack.insert({ userId: 'u1', projectId: uid(100) }, rel),
      tanstack.insert({ user_id: 'u2', project_id: uid(100), role: 'owner' }, rel),
      tanstack.update({ user_id: 'u1', project_id: uid(100), role: 'member' }, { role: 'admin' }, rel),
    ], db.prisma)
    expect(await db.sql('SELECT user_id, role FROM memberships ORDER BY user_id')).toEqual([
      { user_id: 'u1', role: 'admin' }, { user_id: 'u2', role: 'owner' },
    ])
    const { changes } = await writer.apply([tanstack.delete({ userId: 'u2', projectId: uid(100) }, rel)], db.prisma)
    expect(changes[0]!.row).toEqual({ userId: 'u2', projectId: uid(100), role: 'owner' })
    expect(await db.sql('SELECT user_id FROM memberships')).toEqual([{ user_id: 'u1' }])
  })

  it('a partial key is a missing primary key; a wrong one is not found', async () => {
    const { db } = ctx
    await seedProject()
    const writer = new Writer().allow(db.prisma.membership)
    await writer.apply([tanstack.insert({ userId: 'u1', projectId: uid(100) }, rel)], db.prisma)
    expect(await writerError(writer.apply([tanstack.update({ userId: 'u1' }, { role: 'x' }, rel)], db.prisma)))
      .toMatchObject({ step: 'primaryKey', kind: 'invalid', reason: 'missing primary key "projectId" of Membership' })
    expect(await writerError(writer.apply([tanstack.delete({ userId: 'u2', projectId: uid(100) }, rel)], db.prisma)))
      .toMatchObject({ step: 'load', kind: 'not_found', reason: `no Membership row found for delete (userId = "u2", projectId = "${uid(100)}")` })
  })
})
