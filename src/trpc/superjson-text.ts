// The JSON text of superjson's serialization of an immutable tree of Prisma row values, without
// superjson's generic walk (which was the largest item of a delivered change's CPU once tRPC's adapter
// was gone: every value is tried against every rule, and the whole tree is copied).
// Invariant: superjson's `deserialize` of this text gives a value deep-equal to the input. Handled:
// plain objects, arrays, strings, booleans, null, numbers (NaN, ±Infinity and -0 annotated as superjson
// does), bigint, Date, Prisma's Decimal (the custom type registered as 'Decimal'). Anything else (a
// typed array, a Map, undefined, an invalid Date, a key superjson refuses) returns `undefined`, and the
// caller uses superjson itself. Object identity is not kept: a value that appears twice (an update's
// `changes` reuse the row's values) is written twice, which readers of immutable rows cannot tell apart.
import { Decimal } from '@prisma/client/runtime/client'

type Annotation = string | [string, string]

/** superjson's `{ json, meta }` of `value` as JSON text, or `undefined` if `value` holds something not handled. */
export function superjsonText(value: unknown): string | undefined {
  const annotations: [string, Annotation][] = []
  const json = walk(value, '', annotations)
  // A root value of its own (not an object's field) is annotated differently; not needed here.
  if (json === FAIL || annotations.some(([path]) => path === '')) return undefined
  const text = JSON.stringify(json)
  if (annotations.length === 0) return `{"json":${text}}`
  let values = ''
  for (const [path, annotation] of annotations) values += `${values ? ',' : ''}${JSON.stringify(path)}:${JSON.stringify([annotation])}`
  return `{"json":${text},"meta":{"values":{${values}},"v":1}}`
}

const FAIL = Symbol('fail')

/**
 * The value to stringify (the input itself where JSON.stringify already writes what superjson would: a
 * Date's toJSON is its toISOString), recording annotations by superjson path; FAIL if not handled.
 */
function walk(value: unknown, path: string, annotations: [string, Annotation][]): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value
      annotations.push([path, 'number'])
      return Number.isNaN(value) ? 'NaN' : value === Infinity ? 'Infinity' : value === -Infinity ? '-Infinity' : '-0'
    case 'bigint':
      annotations.push([path, 'bigint'])
      return value.toString()
    case 'object': {
      if (value === null) return null
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime()) || Object.getPrototypeOf(value) !== Date.prototype || Object.hasOwn(value, 'toJSON')) return FAIL
        annotations.push([path, 'Date'])
        return value
      }
      if (Decimal.isDecimal(value)) {
        annotations.push([path, ['custom', 'Decimal']])
        return (value as Decimal).toFixed()
      }
      if (Array.isArray(value)) {
        let copy: unknown[] | undefined
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i]
          const out = walk(item, path === '' ? String(i) : `${path}.${i}`, annotations)
          if (out === FAIL) return FAIL
          if (out !== item) (copy ??= value.slice())[i] = out
        }
        return copy ?? value
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return FAIL
      let copy: Record<string, unknown> | undefined
      for (const key of Object.keys(value)) {
        // superjson throws on these keys; leave the decision to it.
        if (key === '__proto__' || key === 'constructor' || key === 'prototype') return FAIL
        const item = (value as Record<string, unknown>)[key]
        const escaped = key.replace(/\\/g, '\\\\').replace(/\./g, '\\.')
        const out = walk(item, path === '' ? escaped : `${path}.${escaped}`, annotations)
        if (out === FAIL) return FAIL
        if (out !== item) (copy ??= { ...value })[key] = out
      }
      return copy ?? value
    }
    default:
      return FAIL
  }
}
