// The browser runtime as served JavaScript. A built package ships it compiled next to the server code
// (dist/client/live/runtime.js); running from source (tsx, vitest) it is client/live/runtime.ts with
// its types stripped by esbuild, which those tools bring along. Loaded once per process.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

let source: Promise<string> | undefined

export function runtimeSource(): Promise<string> {
  source ??= load()
  source.catch(() => (source = undefined))
  return source
}

async function load(): Promise<string> {
  const built = fileURLToPath(new URL('../../client/live/runtime.js', import.meta.url))
  const code = await readFile(built, 'utf8').catch(() => undefined)
  if (code !== undefined) return code
  const typescript = await readFile(fileURLToPath(new URL('../../client/live/runtime.ts', import.meta.url)), 'utf8')
  const { transform } = await import('esbuild')
  return (await transform(typescript, { loader: 'ts', format: 'esm', target: 'es2020' })).code
}
