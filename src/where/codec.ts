// Values of each type: Postgres text input and output, ordering and hash keys.
//
// Runtime representation: int2/int4 number, int8 bigint, numeric Numeric, float4/float8 number,
// text/varchar/bpchar/enum string (bpchar keeps its padding), bool boolean, uuid canonical string,
// bytea lowercase hex, date/time/timestamp(tz) as in datetime.ts, arrays PgArray.
import { fail } from './errors.js'
import { compareNumeric, formatNumeric, numericKey, parseNumeric, type Numeric } from './numeric.js'
import { compareFloat, formatFloat, parseFloat8, parseInt2, parseInt4, parseInt8 } from './numbers.js'
import { compareTimestamp, formatDate, formatTime, formatTimestamp, parseDate, parseTime, parseTimestamp, type PgTimestamp } from './datetime.js'
import { compareText } from './text.js'
import { elementOf, type PgType } from './types.js'

export type Value = number | bigint | string | boolean | Numeric | PgArray

export interface PgArray {
  /** Length of each dimension; empty for an empty array. */
  readonly dims: readonly number[]
  readonly lbs: readonly number[]
  /** Elements in row-major order. */
  readonly items: readonly (Value | null)[]
}

export interface Codec {
  /** The type's input function. Throws EvalFailure on invalid text. */
  parse(text: string): Value
  /** The type's output function. */
  output(v: Value): string
  /** btree order; 0 exactly when Postgres's = is true. */
  compare(a: Value, b: Value): number
  /** A string that is equal for exactly the values Postgres considers equal. */
  key(v: Value): string
  /** Whether < > are defined (not for enums whose labels are unknown, nor for opaque types). */
  readonly ordered: boolean
}

const compareNumbers = (a: Value, b: Value) => ((a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0)
const compareStrings = (a: Value, b: Value) => compareText(a as string, b as string)
const compareStamps = (a: Value, b: Value) => compareTimestamp(a as PgTimestamp, b as PgTimestamp)

function integerCodec(parse: (text: string) => number | bigint): Codec {
  return { parse, output: String, compare: compareNumbers, key: String, ordered: true }
}

export function rtrimSpaces(s: string): string {
  let end = s.length
  while (end > 0 && s.charCodeAt(end - 1) === 0x20) end--
  return end === s.length ? s : s.slice(0, end)
}

const BOOL_WORDS: ReadonlyArray<readonly [string, boolean, number]> = [
  // word, value, shortest accepted prefix
  ['true', true, 1], ['false', false, 1], ['yes', true, 1], ['no', false, 1], ['on', true, 2], ['off', false, 2],
]

function parseBool(text: string): boolean {
  if (text === 't') return true
  if (text === 'f') return false
  const s = text.trim().toLowerCase()
  if (s === '1') return true
  if (s === '0') return false
  for (const [word, value, min] of BOOL_WORDS) if (s.length >= min && word.startsWith(s)) return value
  return fail(`invalid input syntax for type boolean: "${text}"`)
}

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function parseUuid(text: string): string {
  if (CANONICAL_UUID.test(text)) return text // the form Postgres sends
  let s = text
  if (s.startsWith('{')) {
    if (!s.endsWith('}')) fail(`invalid input syntax for type uuid: "${text}"`)
    s = s.slice(1, -1)
  }
  let hex = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    // A hyphen may follow any group of four digits.
    if (c === '-' && hex.length > 0 && hex.length % 4 === 0 && hex.length < 32 && s[i - 1] !== '-') continue
    if (!/[0-9a-fA-F]/.test(c)) fail(`invalid input syntax for type uuid: "${text}"`)
    hex += c
  }
  if (hex.length !== 32) fail(`invalid input syntax for type uuid: "${text}"`)
  hex = hex.toLowerCase()
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const utf8 = new TextEncoder()

/** byteain: `\x` hex, or the escape format (`\\`, `\ooo`, other characters as their UTF-8 bytes). */
function parseBytea(text: string): string {
  if (text.startsWith('\\x')) {
    const hex = text.slice(2).replace(/\s+/g, '')
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) fail(`invalid hexadecimal data: "${text}"`)
    return hex.toLowerCase()
  }
  let out = ''
  for (let i = 0; i < text.length; ) {
    if (text[i] === '\\') {
      if (text[i + 1] === '\\') {
        out += '5c'
        i += 2
      } else if (/^[0-3][0-7]{2}$/.test(text.slice(i + 1, i + 4))) {
        out += parseInt(text.slice(i + 1, i + 4), 8).toString(16).padStart(2, '0')
        i += 4
      } else {
        return fail('invalid input syntax for type bytea')
      }
    } else {
      const cp = text.codePointAt(i)!
      const ch = String.fromCodePoint(cp)
      for (const b of utf8.encode(ch)) out += b.toString(16).padStart(2, '0')
      i += ch.length
    }
  }
  return out
}

const scalarCodecs: Partial<Record<string, Codec>> = {
  int2: integerCodec(parseInt2),
  int4: integerCodec(parseInt4),
  int8: integerCodec(parseInt8),
  numeric: {
    parse: parseNumeric,
    output: (v) => formatNumeric(v as Numeric),
    compare: (a, b) => compareNumeric(a as Numeric, b as Numeric),
    key: (v) => numericKey(v as Numeric),
    ordered: true,
  },
  float4: {
    parse: (t) => parseFloat8(t, true),
    output: (v) => formatFloat(v as number, true),
    compare: (a, b) => compareFloat(a as number, b as number),
    key: floatKey,
    ordered: true,
  },
  float8: {
    parse: (t) => parseFloat8(t),
    output: (v) => formatFloat(v as number),
    compare: (a, b) => compareFloat(a as number, b as number),
    key: floatKey,
    ordered: true,
  },
  text: stringCodec(),
  varchar: stringCodec(),
  bpchar: {
    parse: (t) => t,
    output: (v) => v as string,
    compare: (a, b) => compareText(rtrimSpaces(a as string), rtrimSpaces(b as string)),
    key: (v) => rtrimSpaces(v as string),
    ordered: true,
  },
  bool: {
    parse: parseBool,
    output: (v) => (v ? 't' : 'f'),
    compare: (a, b) => (a === b ? 0 : a ? 1 : -1),
    key: (v) => (v ? 't' : 'f'),
    ordered: true,
  },
  uuid: { parse: parseUuid, output: (v) => v as string, compare: compareStrings, key: (v) => v as string, ordered: true },
  bytea: {
    parse: parseBytea,
    output: (v) => `\\x${v as string}`,
    compare: compareStrings, // lowercase hex orders like the bytes
    key: (v) => v as string,
    ordered: true,
  },
  date: { parse: parseDate, output: (v) => formatDate(v as number), compare: compareNumbers, key: String, ordered: true },
  time: { parse: parseTime, output: (v) => formatTime(v as number), compare: compareNumbers, key: String, ordered: true },
  timestamp: {
    parse: (t) => parseTimestamp(t, false),
    output: (v) => formatTimestamp(v as PgTimestamp, false),
    compare: compareStamps,
    key: String,
    ordered: true,
  },
  timestamptz: {
    parse: (t) => parseTimestamp(t, true),
    output: (v) => formatTimestamp(v as PgTimestamp, true),
    compare: compareStamps,
    key: String,
    ordered: true,
  },
}

function stringCodec(): Codec {
  return { parse: (t) => t, output: (v) => v as string, compare: compareStrings, key: (v) => v as string, ordered: true }
}

function floatKey(v: Value): string {
  const x = v as number
  return x === 0 ? '0' : String(x) // -0 = 0; NaN = NaN
}

function enumCodec(t: PgType): Codec {
  const labels = t.labels
  const rank = labels ? new Map(labels.map((l, i) => [l, i])) : undefined
  return {
    parse(text) {
      if (rank && !rank.has(text)) fail(`invalid input value for enum ${t.name}: "${text}"`)
      return text
    },
    output: (v) => v as string,
    compare: rank
      ? (a, b) => rank.get(a as string)! - rank.get(b as string)!
      : (a, b) => (a === b ? 0 : compareText(a as string, b as string)),
    key: (v) => v as string,
    ordered: rank !== undefined,
  }
}

const opaqueCodec: Codec = {
  parse: (t) => t,
  output: (v) => v as string,
  compare: compareStrings,
  key: (v) => v as string,
  ordered: false,
}

const enumCodecs = new WeakMap<PgType, Codec>()
const arrayCodecs = new WeakMap<Codec, Codec>()

export function codecOf(t: PgType): Codec {
  if (t.array) {
    const element = codecOf(elementOf(t))
    let codec = arrayCodecs.get(element)
    if (!codec) {
      codec = arrayCodec(element)
      arrayCodecs.set(element, codec)
    }
    return codec
  }
  if (t.kind === 'enum') {
    let codec = enumCodecs.get(t)
    if (!codec) {
      codec = enumCodec(t)
      enumCodecs.set(t, codec)
    }
    return codec
  }
  if (t.kind === 'unsupported' || t.kind === 'unknown') return opaqueCodec
  return scalarCodecs[t.kind]!
}

export const EMPTY_ARRAY: PgArray = { dims: [], lbs: [], items: [] }

function arrayCodec(element: Codec): Codec {
  return {
    parse: (text) => parseArray(text, element),
    output: (v) => formatArray(v as PgArray, element),
    compare: (a, b) => compareArrays(a as PgArray, b as PgArray, element),
    key: (v) => {
      const a = v as PgArray
      return JSON.stringify([a.dims, a.lbs, a.items.map((x) => (x === null ? null : element.key(x)))])
    },
    ordered: element.ordered,
  }
}

/** btarraycmp: elements in order (NULL after any value), then item count, dimensions, lower bounds. */
function compareArrays(a: PgArray, b: PgArray, element: Codec): number {
  const n = Math.min(a.items.length, b.items.length)
  for (let i = 0; i < n; i++) {
    const x = a.items[i]!
    const y = b.items[i]!
    const c = x === null ? (y === null ? 0 : 1) : y === null ? -1 : element.compare(x, y)
    if (c !== 0) return c
  }
  if (a.items.length !== b.items.length) return a.items.length < b.items.length ? -1 : 1
  if (a.dims.length !== b.dims.length) return a.dims.length < b.dims.length ? -1 : 1
  for (let i = 0; i < a.dims.length; i++) if (a.dims[i] !== b.dims[i]) return a.dims[i]! < b.dims[i]! ? -1 : 1
  for (let i = 0; i < a.lbs.length; i++) if (a.lbs[i] !== b.lbs[i]) return a.lbs[i]! < b.lbs[i]! ? -1 : 1
  return 0
}

/** array_isspace: blanks around unquoted elements are not part of them. */
function isArraySpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f'
}

/** A one-dimensional array without quoting or escapes, the common case. */
const SIMPLE_ARRAY = /^\{[^{}"\\]*\}$/

/** An array literal's elements as text (e.g. `{1,"a b",NULL}` → `['1', 'a b', null]`), with its dimensions. */
export function parseArrayText(text: string): PgArray & { items: (string | null)[] } {
  return parseArray(text, opaqueCodec) as PgArray & { items: (string | null)[] }
}

/** array_in for `,`-delimited arrays, with optional `[lb:ub]=` decoration. */
function parseArray(text: string, element: Codec): PgArray {
  if (SIMPLE_ARRAY.test(text)) {
    const simple = parseSimpleArray(text, element)
    if (simple) return simple
  }
  return new ArrayParser(text, element).parse()
}

class ArrayParser {
  private i = 0
  private readonly items: (Value | null)[] = []
  private readonly dims: number[] = []
  private leafDepth = -1

  constructor(
    private readonly text: string,
    private readonly element: Codec,
  ) {}

  parse(): PgArray {
    const text = this.text
    this.skip()
    let explicit: { lbs: number[]; dims: number[] } | undefined
    if (text[this.i] === '[') {
      explicit = { lbs: [], dims: [] }
      while (text[this.i] === '[') {
        const m = /^\[\s*(-?\d+)\s*(?::\s*(-?\d+)\s*)?\]/.exec(text.slice(this.i)) ?? this.bad()
        const lb = m[2] === undefined ? 1 : Number(m[1])
        const ub = Number(m[2] ?? m[1])
        if (ub < lb - 1) fail('upper bound cannot be less than lower bound')
        explicit.lbs.push(lb)
        explicit.dims.push(ub - lb + 1)
        this.i += m[0].length
      }
      this.skip()
      if (text[this.i] !== '=') this.bad()
      this.i++
      this.skip()
    }
    this.level(0)
    this.skip()
    const { items, dims } = this
    if (this.i < text.length) this.bad()
    if (items.length === 0) return EMPTY_ARRAY
    if (dims.length !== this.leafDepth + 1 || dims.includes(0)) this.bad()
    if (explicit) {
      if (explicit.dims.length !== dims.length || explicit.dims.some((d, k) => d !== dims[k])) this.bad()
      return { dims, lbs: explicit.lbs, items }
    }
    return { dims, lbs: dims.map(() => 1), items }
  }

  private bad(): never {
    return fail(`malformed array literal: "${this.text}"`)
  }

  private skip(): void {
    while (isArraySpace(this.text[this.i])) this.i++
  }

  private level(depth: number): void {
    const text = this.text
    if (text[this.i] !== '{') this.bad()
    if (this.leafDepth !== -1 && depth > this.leafDepth) this.bad()
    this.i++
    this.skip()
    let count = 0
    if (text[this.i] === '}') {
      this.i++
    } else {
      for (;;) {
        if (text[this.i] === '{') this.level(depth + 1)
        else this.item(depth)
        count++
        this.skip()
        const c = text[this.i]
        this.i++
        if (c === ',') this.skip()
        else if (c === '}') break
        else this.bad()
      }
    }
    if (this.dims[depth] === undefined) this.dims[depth] = count
    else if (this.dims[depth] !== count) this.bad()
  }

  /** An element: quoted, or unquoted up to the next delimiter with blanks around it trimmed. */
  private item(depth: number): void {
    if (this.leafDepth === -1) this.leafDepth = depth
    else if (this.leafDepth !== depth) this.bad()
    const text = this.text
    let raw = ''
    let quoted = false
    if (text[this.i] === '"') {
      quoted = true
      let i = this.i + 1
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++
        if (i >= text.length) this.bad()
        raw += text[i++]
      }
      if (text[i] !== '"') this.bad()
      this.i = i + 1
      this.skip()
    } else {
      let significant = 0
      let i = this.i
      while (i < text.length && text[i] !== ',' && text[i] !== '}') {
        const ch = text[i]!
        if (ch === '{' || ch === '"') this.bad()
        if (ch === '\\') {
          if (++i >= text.length) this.bad()
          raw += text[i]
          quoted = true
          significant = raw.length
        } else {
          raw += ch
          if (!isArraySpace(ch)) significant = raw.length
        }
        i++
      }
      this.i = i
      raw = raw.slice(0, significant)
      if (raw === '' && !quoted) this.bad()
    }
    this.items.push(!quoted && raw.length === 4 && raw.toUpperCase() === 'NULL' ? null : this.element.parse(raw))
  }
}

function parseSimpleArray(text: string, element: Codec): PgArray | undefined {
  if (text.length === 2) return EMPTY_ARRAY
  const parts = text.slice(1, -1).split(',')
  const items: (Value | null)[] = new Array(parts.length)
  for (let i = 0; i < parts.length; i++) {
    let part = parts[i]!
    if (isArraySpace(part[0]) || isArraySpace(part[part.length - 1])) part = part.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, '')
    if (part === '') return undefined // malformed: let the full parser report it
    items[i] = part.length === 4 && part.toUpperCase() === 'NULL' ? null : element.parse(part)
  }
  return { dims: [items.length], lbs: [1], items }
}

function quoteElement(s: string): string {
  if (s === '' || s.toUpperCase() === 'NULL' || /[{}",\\ \t\n\r\v\f]/.test(s)) {
    return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`
  }
  return s
}

/** array_out: nested braces, quoted elements where needed, `[lb:ub]=` when a lower bound is not 1. */
function formatArray(a: PgArray, element: Codec): string {
  if (a.items.length === 0) return '{}'
  let k = 0
  const level = (d: number): string => {
    const parts: string[] = []
    for (let j = 0; j < a.dims[d]!; j++) {
      if (d === a.dims.length - 1) {
        const v = a.items[k++]!
        parts.push(v === null ? 'NULL' : quoteElement(element.output(v)))
      } else {
        parts.push(level(d + 1))
      }
    }
    return `{${parts.join(',')}}`
  }
  const body = level(0)
  if (a.lbs.every((lb) => lb === 1)) return body
  return `${a.lbs.map((lb, d) => `[${lb}:${lb + a.dims[d]! - 1}]`).join('')}=${body}`
}
