// Runs `prisma generate` offline. The Prisma CLI looks for its native schema engine even though the
// "prisma-client" generator never uses it; pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file
// stops it from trying to download one (see shared/reference/environment.md).
import { spawnSync } from 'node:child_process'

const env = { ...process.env }
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath
env.PRISMA_HIDE_UPDATE_MESSAGE = '1'
const result = spawnSync('npx', ['prisma', 'generate'], { stdio: ['ignore', 'inherit', 'inherit'], env })
process.exit(result.status ?? 1)
