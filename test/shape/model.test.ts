import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { modelOf } from '../../src/shape/model.js'
import { ShapeError } from '../../src/shape/errors.js'

let db: TestDatabase
beforeAll(async () => { db = await createTestDatabase() })
afterAll(async () => { await db?.drop() })

describe('model metadata from the Prisma client', () => {
  it('maps Prisma names to database names, types and keys', () => {
    const todo = modelOf(db.prisma.todo)
    expect(todo.table).toBe('todos')
    expect(todo.namespace).toBe('public')
    expect(todo.primaryKey).toEqual(['id'])
    expect(todo.fields.get('completed')).toMatchObject({ column: 'is_completed', pgType: 'bool' })
    expect(todo.fields.get('id')).toMatchObject({ pgType: 'uuid', isId: true })
    expect(todo.fields.get('createdAt')).toMatchObject({ column: 'created_at', pgType: 'timestamptz' })
    const membership = modelOf(db.prisma.membership)
    expect(membership.primaryKey).toEqual(['userId', 'projectId'])
    const all = modelOf(db.prisma.allTypes)
    expect(all.fields.get('status')!.enumValues!.get('in_progress')).toBe('in progress')
    expect(all.fields.get('status')!.pgType).toBe('issue_status')
    expect(all.fields.get('strs')).toMatchObject({ isList: true, pgType: 'text' })
    expect(all.fields.get('dec')!.pgType).toBe('numeric')
    expect(all.fields.get('big')!.pgType).toBe('int8')
  })

  it('rejects what is not a model delegate', () => {
    expect(() => modelOf({})).toThrow(ShapeError)
    expect(() => modelOf('todos')).toThrow(/Prisma model delegate/)
  })
})
