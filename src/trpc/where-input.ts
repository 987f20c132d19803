// The first look at a client's where input, before any schema walks it. One walk, bounded by the limits:
// it stops as soon as the input's JSON bytes, its conditions or its depth exceed theirs, and refuses an
// `in` / `notIn` list over `inValues` before reading it, so its cost is bounded by the limits however
// large the input. Superjson's shared references are followed as they resolve (a subtree referenced
// twice is walked and counted twice), and the depth bound also stops reference cycles.
// It also refuses what is not a plain JSON value (Map, Set, class instances, functions, NaN...) and keys
// that name an object's prototype machinery, naming the path: the schema would otherwise read a Map or
// a Date as an empty filter object, which widens the shape. A Date, a bigint or a Decimal passes (they
// are values of DateTime, BigInt and Decimal fields); whether it fits its field is the schema's check.
import { Decimal } from '@prisma/client/runtime/client'
import { LimitError, type SyncLimits } from '../limits/index.js'

export type WhereInputLimits = Pick<SyncLimits, 'whereBytes' | 'whereConditions' | 'whereDepth' | 'inValues'>

/** What is wrong with the input, at `path`. */
export interface InputProblem {
  path: PropertyKey[]
  message: string
}

const forbiddenKeys = new Set(['__proto__', 'constructor', 'prototype'])
const listOperators = new Set(['in', 'notIn'])
const int8Min = -(2n ** 63n)
const int8Max = 2n ** 63n - 1n
/** `"2024-01-01T00:00:00.000Z"`, as superjson and JSON.stringify write a Date. */
const dateBytes = 26

class Refused extends Error {
  constructor(readonly problem: InputProblem) {
    super(problem.message)
  }
}

/** Checks a client where input against the limits; returns the first non-JSON value or forbidden key, if any. */
export function inspectWhereInput(value: unknown, limits: WhereInputLimits): InputProblem | undefined {
  if (hasReplacedPrototype(value)) return { path: [], message: replacedPrototype }
  if (!isPlainObject(value)) return { path: [], message: `expected a where object, got ${describe(value)}` }
  try {
    new Walk(limits).visit(value, undefined, 1, false)
    return undefined
  } catch (error) {
    if (error instanceof Refused) return error.problem
    throw error
  }
}

class Walk {
  private bytes = 0
  private conditions = 0
  private readonly path: PropertyKey[] = []

  constructor(private readonly limits: WhereInputLimits) {}

  /** One value under `key` (its parent's key, or undefined for array items) at `depth`; `inList`: an `in` list's item. */
  visit(value: unknown, key: string | undefined, depth: number, inList: boolean): void {
    switch (typeof value) {
      case 'undefined': return // absent, as in Prisma
      case 'string': return this.leaf(jsonStringBytes(value), key, inList)
      case 'boolean': return this.leaf(value ? 4 : 5, key, inList)
      case 'number':
        if (!Number.isFinite(value)) this.refuse(`${value} is not a finite number`)
        return this.leaf(String(value).length, key, inList)
      case 'bigint':
        if (value < int8Min || value > int8Max) this.refuse(`${value} is out of range for a BigInt field`)
        return this.leaf(String(value).length + 2, key, inList)
      case 'object': break
      default: this.refuse(`expected a JSON value, got a ${typeof value}`)
    }
    if (value === null) return this.leaf(4, key, inList)
    if (Array.isArray(value) && Object.getPrototypeOf(value) === Array.prototype) return this.array(value, key, depth)
    if (isPlainObject(value)) return this.object(value, depth)
    if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) this.refuse('invalid Date')
      return this.leaf(dateBytes, key, inList)
    }
    if (hasReplacedPrototype(value)) this.refuse(replacedPrototype)
    if (Decimal.isDecimal(value)) return this.leaf(value.toString().length + 2, key, inList)
    this.refuse(`expected a plain JSON value, got ${describe(value)}`)
  }

  private object(value: Record<string, unknown>, depth: number): void {
    this.enter(depth)
    this.add(2)
    let first = true
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue
      this.path.push(key)
      if (forbiddenKeys.has(key)) this.refuse(`"${key}" is not allowed as a key`)
      if (value[key] !== undefined) { // JSON leaves the key out
        this.add(jsonStringBytes(key) + (first ? 1 : 2)) // colon, comma
        first = false
        this.visit(value[key], key, depth + 1, false)
      }
      this.path.pop()
    }
  }

  private array(value: unknown[], key: string | undefined, depth: number): void {
    this.enter(depth)
    const list = key !== undefined && listOperators.has(key)
    if (list) {
      // Refused before it is read: a list's length is known at once.
      if (value.length > this.limits.inValues) {
        throw new LimitError('inValues', this.limits.inValues, `${pathText(this.path)}: the list has ${value.length} values`)
      }
      this.count()
    }
    this.add(2)
    for (let i = 0; i < value.length; i++) {
      this.path.push(i)
      if (i > 0) this.add(1)
      if (value[i] === undefined) this.add(4) // JSON's null
      else this.visit(value[i], undefined, depth + 1, list)
      this.path.pop()
    }
  }

  /** A scalar of `bytes` JSON bytes: one condition, unless it is an `in` list's item or a `mode`. */
  private leaf(bytes: number, key: string | undefined, inList: boolean): void {
    this.add(bytes)
    if (!inList && key !== 'mode') this.count()
  }

  private enter(depth: number): void {
    if (depth > this.limits.whereDepth) {
      throw new LimitError('whereDepth', this.limits.whereDepth, `${pathText(this.path)}: the filter is nested more than ${this.limits.whereDepth} levels deep`)
    }
  }

  private add(bytes: number): void {
    this.bytes += bytes
    if (this.bytes > this.limits.whereBytes) {
      throw new LimitError('whereBytes', this.limits.whereBytes, `the filter is larger than ${this.limits.whereBytes} bytes as JSON`)
    }
  }

  private count(): void {
    if (++this.conditions > this.limits.whereConditions) {
      throw new LimitError('whereConditions', this.limits.whereConditions, `the filter has more than ${this.limits.whereConditions} conditions`)
    }
  }

  private refuse(message: string): never {
    throw new Refused({ path: [...this.path], message })
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

const escaped = /["\\\b\f\n\r\t]|([\u0000-\u001f])/g

/** The UTF-8 bytes of a string as JSON text: quotes, and `\n` or `\u0000` for what JSON escapes. */
function jsonStringBytes(text: string): number {
  let bytes = Buffer.byteLength(text) + 2
  for (const match of text.matchAll(escaped)) bytes += match[1] === undefined ? 1 : 5
  return bytes
}

/**
 * An object whose prototype is another plain object: what copying a parsed `{"__proto__": {...}}` makes
 * (superjson's deserialize copies by assignment, so the key becomes the prototype).
 */
function hasReplacedPrototype(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto !== null && proto !== Object.prototype && typeof proto === 'object' && !Object.hasOwn(proto, 'constructor')
}

const replacedPrototype = '"__proto__" is not allowed as a key'

/** `a Map`, `an array`, `the number NaN`: what a value is, for messages (never its content). */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number' || typeof value === 'bigint') return `the number ${value}`
  if (Decimal.isDecimal(value)) return 'a Decimal'
  if (typeof value === 'object') {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name
    return typeof name === 'string' && name !== 'Object' && name !== '' ? `a ${name}` : 'an object'
  }
  return `a ${typeof value}`
}

const pathText = (path: readonly PropertyKey[]) =>
  path.length === 0 ? 'where' : path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`)).join('')
