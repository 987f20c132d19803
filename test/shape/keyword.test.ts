import { describe, expect, it } from 'vitest'
import { keywordShape, ShapeError, type KeywordShapeInput } from '../../src/shape/index.js'

function fails(input: unknown, path: string, problem: RegExp): void {
  let error: unknown
  try {
    keywordShape(input as KeywordShapeInput)
  } catch (caught) {
    error = caught
  }
  expect(error).toBeInstanceOf(ShapeError)
  expect((error as ShapeError).path).toBe(path)
  expect((error as ShapeError).problem).toMatch(problem)
}

describe('keywordShape', () => {
  it('builds a definition with defaults', () => {
    expect(keywordShape({ table: 'todos' })).toEqual({ table: 'todos', namespace: 'public', replica: 'default' })
    expect(keywordShape({ table: 'todos', where: 'is_completed = $1', params: ['false'], columns: ['id', 'title'], replica: 'full' }))
      .toEqual({ table: 'todos', namespace: 'public', where: 'is_completed = $1', params: ['false'], columns: ['id', 'title'], replica: 'full' })
  })

  it('reads table names like Postgres and Electric: bare names lowercased, quoted names kept', () => {
    expect(keywordShape({ table: 'Todos' }).table).toBe('todos')
    expect(keywordShape({ table: '"AllTypes"' }).table).toBe('AllTypes')
    expect(keywordShape({ table: 'app.todos' })).toMatchObject({ namespace: 'app', table: 'todos' })
    expect(keywordShape({ table: '"My Schema"."issues for 1.0"' })).toMatchObject({ namespace: 'My Schema', table: 'issues for 1.0' })
    expect(keywordShape({ table: '"a""b"' }).table).toBe('a"b')
    expect(keywordShape({ table: 'todos', namespace: 'App' }).namespace).toBe('app')
    expect(keywordShape({ table: 'todos', namespace: '"App"' }).namespace).toBe('App')
  })

  it('takes params as an array or Electric\'s { "1": ... } record, as text', () => {
    const where = '$1 AND $2 AND $3 AND $4 AND $5'
    expect(keywordShape({ table: 't', where, params: ['a', false, 3, 4n, new Date('2024-01-02T03:04:05.123Z')] }).params)
      .toEqual(['a', 'false', '3', '4', '2024-01-02T03:04:05.123Z'])
    expect(keywordShape({ table: 't', where, params: { 2: 'b', 1: 'a' } }).params).toEqual(['a', 'b'])
    expect(keywordShape({ table: 't', where, params: [] }).params).toBeUndefined()
  })

  it('rejects malformed input, naming the option', () => {
    fails(null, 'shape', /expected a shape object/)
    fails({}, 'table', /expected a table name/)
    fails({ table: '' }, 'table', /not a valid identifier/)
    fails({ table: 'todos; drop table x' }, 'table', /not a valid identifier/)
    fails({ table: 'a.b.c' }, 'table', /table or schema.table/)
    fails({ table: '"open' }, 'table', /unterminated quoted identifier/)
    fails({ table: '""' }, 'table', /cannot be empty/)
    fails({ table: 'x'.repeat(64) }, 'table', /63-byte identifier limit/)
    fails({ table: 'app.todos', namespace: 'public' }, 'namespace', /already names a schema/)
    fails({ table: 'todos', namespace: 'a.b' }, 'namespace', /one schema name/)
    fails({ table: 'todos', where: '  ' }, 'where', /expected a SQL condition/)
    fails({ table: 'todos', where: 1 }, 'where', /expected a SQL condition/)
    fails({ table: 'todos', params: ['x'] }, 'params', /need a where clause/)
    fails({ table: 'todos', where: '$1', params: 'x' }, 'params', /array or a \{ "1": value \} object/)
    fails({ table: 'todos', where: '$1', params: { 1: 'a', 3: 'c' } }, 'params.3', /keys "1" to "2"/)
    fails({ table: 'todos', where: '$1', params: { a: 'x' } }, 'params.a', /keys "1" to "1"/)
    fails({ table: 'todos', where: '$1', params: [null] }, 'params[0]', /expected a string, number, bigint, boolean or Date, got null/)
    fails({ table: 'todos', where: '$1', params: [Number.NaN] }, 'params[0]', /not a finite number/)
    fails({ table: 'todos', where: '$1', params: ['a\u0000'] }, 'params[0]', /NUL/)
    fails({ table: 'todos', columns: [] }, 'columns', /non-empty array/)
    fails({ table: 'todos', columns: 'id,title' }, 'columns', /non-empty array/)
    fails({ table: 'todos', columns: ['id', 1] }, 'columns[1]', /expected a column name/)
    fails({ table: 'todos', columns: ['id', 'id'] }, 'columns[1]', /listed twice/)
    fails({ table: 'todos', columns: [''] }, 'columns[0]', /cannot be empty/)
    fails({ table: 'todos', replica: 'partial' }, 'replica', /'default' or 'full'/)
    fails({ table: 'todos', offset: '-1' }, 'offset', /unknown shape option/)
  })
})
