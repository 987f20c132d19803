// onConflict: 'reject' answers CONFLICT when a changed column no longer holds the client's original
// value (a concurrent writer got there first); the default, last writer wins on the changed columns.
import { describe, expect, it } from 'vitest'
import { Writer } from '../../src/writer/index.js'
import { seedTodos, tanstack, todo, uid, useDatabase, writerError } from './support.js'

const ctx = useDatabase()
const stored = () => ctx.db.sql('SELECT title, is_completed FROM todos ORDER BY id')

describe('onConflict', () => {
  it("'reject': a changed column that moved since the client read it is CONFLICT and writes nothing", async () => {
    await seedTodos(ctx.db, todo(1, 'read by the client'))
    await ctx.db.sql(`UPDATE todos SET title = 'changed by someone else'`)
    const writer = new Writer().allow(ctx.db.prisma.todo, { onConflict: 'reject' })
    const error = await writerError(writer.apply([
      tanstack.insert(todo(2, 'new')),
      tanstack.update({ id: uid(1), title: 'read by the client', completed: false }, { title: 'mine' }),
    ], ctx.db.prisma))
    expect(error).toMatchObject({ step: 'conflict', kind: 'conflict', operationIndex: 1, reason: '"title" of this Todo row changed since the client read it (a concurrent write got there first)' })
    expect(await stored()).toEqual([{ title: 'changed by someone else', is_completed: false }])
  })

  it("'reject': columns the update does not change may have moved; equal originals apply (also later in the batch)", async () => {
    await seedTodos(ctx.db, todo(1, 'same'))
    await ctx.db.sql(`UPDATE todos SET is_completed = true`)
    const writer = new Writer().allow(ctx.db.prisma.todo, { onConflict: 'reject' })
    await writer.apply([
      tanstack.update({ id: uid(1), title: 'same', completed: false }, { title: 'renamed' }),
      // the second update read the first one's result
      tanstack.update({ id: uid(1), title: 'renamed' }, { title: 'renamed again' }),
    ], ctx.db.prisma)
    expect(await stored()).toEqual([{ title: 'renamed again', is_completed: true }])
  })

  it("'reject' needs the original of each changed column (BAD_REQUEST)", async () => {
    await seedTodos(ctx.db, todo(1))
    const error = await writerError(new Writer().allow(ctx.db.prisma.todo, { onConflict: 'reject' })
      .apply([tanstack.update({ id: uid(1) }, { title: 'x', completed: true })], ctx.db.prisma))
    expect(error).toMatchObject({ step: 'conflict', kind: 'invalid', reason: `onConflict: 'reject' needs the original value of "title", "completed" in the update's original row` })
  })

  it('default: the last writer wins on the changed columns only', async () => {
    await seedTodos(ctx.db, todo(1, 'read by the client'))
    await ctx.db.sql(`UPDATE todos SET title = 'changed by someone else', is_completed = true`)
    await new Writer().allow(ctx.db.prisma.todo).apply([tanstack.update({ id: uid(1), title: 'read by the client', completed: false }, { title: 'mine' })], ctx.db.prisma)
    expect(await stored()).toEqual([{ title: 'mine', is_completed: true }])
    expect(() => new Writer().allow(ctx.db.prisma.todo, { onConflict: 'merge' as 'reject' })).toThrow(/onConflict must be/)
  })
})
