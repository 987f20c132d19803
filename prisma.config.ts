import { defineConfig } from 'prisma/config'

// The database URL is only needed by the Prisma CLI's database commands, which this project does not
// use: migrations are plain SQL files applied by test/support and the demo (see prisma/migrations).
export default defineConfig({
  schema: 'prisma/schema.prisma',
})
