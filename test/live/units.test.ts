// Unit tests of the live views' parts: the html tag, keyed row HTML, the ordered row list, and a
// session's translation of events into list changes.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { escapeHtml, html, raw } from '../../src/live/index.js'
import { keyedHtml } from '../../src/live/keyed.js'
import { RowList } from '../../src/live/rows.js'
import { ViewSession, type SessionView } from '../../src/live/session.js'
import type { SharedEvent } from '../../src/sync/sync.js'

describe('html tag', () => {
  it('escapes interpolations, keeps nested templates and raw markup, joins arrays', () => {
    const title = `<script>alert("x")</script> & 'y'`
    const items = ['a<', 'b'].map((t) => html`<i>${t}</i>`)
    const out = html`<li title="${title}">${title}${items}${raw('<b>ok</b>')}${null}${undefined}${false}${true}${3}</li>`
    expect(String(out)).toBe(
      `<li title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;<i>a&lt;</i><i>b</i><b>ok</b>3</li>`,
    )
    expect(String(html`${new Date('2024-01-02T03:04:05.000Z')}`)).toBe('2024-01-02T03:04:05.000Z')
  })

  it('escapeHtml leaves nothing a parser would read as markup', () => {
    fc.assert(fc.property(fc.string(), (text) => !/[<>"'&](?![a-z#0-9]+;)/.test(escapeHtml(text))))
  })
})

describe('keyedHtml', () => {
  it('puts data-key on the root element, escaped, after leading space and comments', () => {
    expect(keyedHtml('<li class="a">x</li>', '"public"."todos"/"1"')).toBe('<li data-key="&quot;public&quot;.&quot;todos&quot;/&quot;1&quot;" class="a">x</li>')
    expect(keyedHtml('\n <!-- row --><tr><td>1</td></tr>', 'k')).toBe('\n <!-- row --><tr data-key="k"><td>1</td></tr>')
    expect(keyedHtml('<my-row/>', 'k')).toBe('<my-row data-key="k"/>')
  })

  it('rejects a render that does not start with an element', () => {
    expect(() => keyedHtml('just text', 'k')).toThrow(/one HTML element per row/)
  })
})

describe('RowList', () => {
  type Row = { n: number }
  const byN = (a: Row, b: Row) => a.n - b.n

  it('keeps comparator order with ties by key, and reports where each set row now is', () => {
    const list = new RowList<Row>(byN)
    expect(list.set('b', { n: 2 })).toBe(null)
    expect(list.set('a', { n: 2 })).toBe('b') // tie: key order
    expect(list.set('c', { n: 1 })).toBe('a')
    expect(list.set('c', { n: 9 })).toBe(null) // moved last
    expect([...list.entries()].map(([k]) => k)).toEqual(['a', 'b', 'c'])
    expect(list.delete('b')).toBe(true)
    expect(list.delete('b')).toBe(false)
    expect([...list.clone().entries()].map(([k]) => k)).toEqual(['a', 'c'])
  })

  it('keeps arrival order without a comparator: new rows last, updates in place', () => {
    const list = new RowList<Row>()
    expect(list.set('x', { n: 1 })).toBe(null)
    expect(list.set('y', { n: 0 })).toBe(null)
    expect(list.set('x', { n: 5 })).toBe(undefined)
    expect([...list.entries()]).toEqual([['x', { n: 5 }], ['y', { n: 0 }]])
  })

  it('equals a sort of its rows after any sequence of sets and deletes', () => {
    const op = fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), n: fc.integer({ min: 0, max: 4 }), del: fc.boolean() })
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const list = new RowList<Row>(byN)
      const model = new Map<string, Row>()
      for (const { key, n, del } of ops) {
        if (del) {
          list.delete(key)
          model.delete(key)
          continue
        }
        list.set(key, { n })
        model.set(key, { n })
      }
      const expected = [...model].sort(([ka, a], [kb, b]) => a.n - b.n || (ka < kb ? -1 : 1)).map(([k]) => k)
      expect([...list.entries()].map(([k]) => k)).toEqual(expected)
    }))
  })
})

describe('ViewSession', () => {
  type Row = { n: number }
  const view: SessionView<Row> = {
    shape: undefined as never,
    renderRow: (key) => `<li>${key}</li>`,
    renderRows: () => '',
  }
  const at = (event: SharedEvent<Row>['event'], offset: string, handle = 'h1'): SharedEvent<Row> => ({ event, handle, offset })
  const insert = (key: string, n: number) => ({ type: 'insert' as const, key, row: { n }, txids: [1] })

  it('holds back rows until the first up-to-date, then resets; afterwards passes changes through', () => {
    const session = new ViewSession<Row>('s', view, new RowList<Row>())
    expect(session.apply(at(insert('a', 1), '-1'))).toBeUndefined()
    expect(session.apply(at({ type: 'up-to-date' }, '0_0'))).toEqual({ op: 'reset' })
    expect(session.state).toBe('h1:0_0')
    expect(session.apply(at(insert('b', 2), '5_0'))).toEqual({ op: 'insert', key: 'b', row: { n: 2 }, before: null })
    expect(session.apply(at({ type: 'update', key: 'a', row: { n: 3 }, changes: { n: 3 }, txids: [2] }, '6_0'))).toEqual({ op: 'update', key: 'a', row: { n: 3 } })
    expect(session.apply(at({ type: 'delete', key: 'zz', row: { n: 0 }, txids: [3] }, '7_0'))).toBeUndefined()
    expect(session.apply(at({ type: 'delete', key: 'b', row: { n: 2 }, txids: [3] }, '7_1'))).toEqual({ op: 'delete', key: 'b' })
    expect(session.apply(at({ type: 'up-to-date' }, '7_1'))).toEqual({ op: 'up-to-date' })
  })

  it('after must-refetch, drops the rows and resets at the next up-to-date', () => {
    const session = new ViewSession<Row>('s', view, new RowList<Row>(), { handle: 'h1', offset: '3_0' })
    session.apply(at(insert('a', 1), '4_0'))
    expect(session.apply(at({ type: 'must-refetch' }, '-1', 'h2'))).toBeUndefined()
    expect(session.apply(at(insert('b', 1), '-1', 'h2'))).toBeUndefined()
    expect(session.apply(at({ type: 'up-to-date' }, '9_0', 'h2'))).toEqual({ op: 'reset' })
    expect([...session.rows.entries()].map(([k]) => k)).toEqual(['b'])
  })

  it('resets a page that resumes from a position other than the session\'s, and starts over from -1', () => {
    const session = new ViewSession<Row>('s', view, new RowList<Row>(), { handle: 'h1', offset: '3_0' })
    expect(session.resume('h1:3_0')).toEqual({ handle: 'h1', offset: '3_0' })
    expect(session.apply(at(insert('a', 1), '4_0'))?.op).toBe('insert')
    session.resume('h1:3_0')
    expect(session.apply(at(insert('b', 1), '5_0'))).toBeUndefined()
    expect(session.apply(at({ type: 'up-to-date' }, '5_0'))).toEqual({ op: 'reset' })

    session.apply(at({ type: 'must-refetch' }, '-1', 'h2'))
    session.apply(at(insert('c', 1), '-1', 'h2')) // the connection drops mid-refill
    session.resume('h1:5_0')
    expect(session.rows.size).toBe(0)
  })

  it('forks an independent copy', () => {
    const session = new ViewSession<Row>('s', view, new RowList<Row>(), { handle: 'h1', offset: '3_0' })
    session.apply(at(insert('a', 1), '4_0'))
    const fork = session.fork('t')
    fork.apply(at(insert('b', 1), '5_0'))
    expect(fork.state).toBe('h1:5_0')
    expect(session.state).toBe('h1:4_0')
    expect(session.rows.has('b')).toBe(false)
  })
})
