// superjson-text.ts writes superjson's output for row trees without superjson's walk: whatever it writes,
// superjson's own deserialize (what every client runs) must give back a value deep-equal to the input,
// and the same value superjson's own round trip gives; what it does not handle it must leave to superjson.
import { Decimal } from '@prisma/client/runtime/client'
import fc from 'fast-check'
import SuperJSON from 'superjson'
import { describe, expect, it } from 'vitest'
import { superjsonText } from '../../src/trpc/superjson-text.js'
import { createSyncTransformer } from '../../src/trpc/transformer.js'

const seed = Number(process.env.FC_SEED ?? 42)
const superjson = new SuperJSON()
createSyncTransformer(superjson) // registers Decimal on it

const key = fc.oneof(fc.string(), fc.constantFrom('a.b', 'a\\b', '\\.', '.', '', 'row', 'data', '0'))
  .filter((k) => k !== '__proto__' && k !== 'constructor' && k !== 'prototype')
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.string(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(key, tie('value'), { maxKeys: 4 })),
})).value
const scalar = fc.oneof(
  fc.string(), fc.boolean(), fc.constant(null), fc.integer(), fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0),
  fc.bigInt(), fc.date({ noInvalidDate: true }), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)).map((n) => new Decimal(n)), // superjson's Decimal drops -0's sign too
  json,
)
const row = fc.dictionary(key, scalar, { maxKeys: 8 })
const event = fc.oneof(
  row.map((r) => ({ type: 'insert', key: '"public"."t"/"1"', row: r, txids: [1, 2] })),
  row.map((r) => ({ type: 'update', key: 'k', row: r, changes: { ...r }, txids: [] })),
)

describe('superjsonText', () => {
  it('round-trips through superjson.deserialize exactly as superjson.serialize does', () => {
    fc.assert(fc.property(event, (data) => {
      const wrapped = { id: '', data }
      const text = superjsonText(wrapped)
      expect(text).toBeDefined()
      const mine = superjson.deserialize(JSON.parse(text!))
      const theirs = superjson.deserialize(JSON.parse(JSON.stringify(superjson.serialize(wrapped))))
      expect(mine).toEqual(wrapped)
      expect(mine).toEqual(theirs)
    }), { numRuns: 500, seed })
  })

  it('writes the same text as superjson for a value with no repeated objects', () => {
    const value = { id: 'x', data: { type: 'insert', row: { at: new Date(0), n: 12n, d: new Decimal('1.50'), f: NaN, z: -0, j: { 'a.b': [1, { c: Infinity }] } } } }
    expect(JSON.parse(superjsonText(value)!)).toEqual(JSON.parse(JSON.stringify(superjson.serialize(value))))
  })

  it('leaves what it does not handle to superjson', () => {
    for (const value of [new Uint8Array([1]), new Map(), new Set(), undefined, new Date(NaN), Symbol('s'), () => 1, new (class X {})()]) {
      expect(superjsonText({ id: '', data: { row: { v: value } } })).toBeUndefined()
    }
    expect(superjsonText({ id: '', data: JSON.parse('{"constructor": 1}') })).toBeUndefined()
    expect(superjsonText(new Date(0))).toBeUndefined() // an annotated root
  })
})
