// Runs `prisma generate` offline. The Prisma CLI looks for its native schema engine even though the
// "prisma-client" generator never uses it; pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file
// stops it from trying to download one (see shared/reference/environment.md).
// Skipped when the client in generated/ was made from this very schema by this very Prisma: generating
// rewrites every file, and `npm run demo` (which generates first) may run while other processes, the
// test suite's among them, are importing that client.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const stamp = 'generated/prisma/.schema-stamp'
const prismaVersion = JSON.parse(readFileSync('node_modules/prisma/package.json', 'utf8')).version
const wanted = createHash('sha256').update(prismaVersion).update('\0').update(readFileSync('prisma/schema.prisma')).digest('hex')
if (existsSync('generated/prisma/client.ts') && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) process.exit(0)

const env = { ...process.env }
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath
env.PRISMA_HIDE_UPDATE_MESSAGE = '1'
const result = spawnSync('npx', ['prisma', 'generate'], { stdio: ['ignore', 'inherit', 'inherit'], env })
if (result.status === 0) writeFileSync(stamp, wanted)
process.exit(result.status ?? 1)
