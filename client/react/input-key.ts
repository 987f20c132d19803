// Inputs compared by value: `useLiveShape(proc, { where: { completed: false } })` written inline gives a
// new object each render but the same key, so the subscription stays.

/** JSON of the input with object keys sorted (bigints as `<n>n`; Dates as their ISO text). */
export function inputKey(input: unknown): string {
  return JSON.stringify(input, (_key, value: unknown) => {
    if (typeof value === 'bigint') return `${value}n`
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  }) ?? 'undefined'
}
