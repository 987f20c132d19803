import type { PrismaClient } from '../generated/prisma/client.js'

/** A few todos for an empty database. */
export async function seed(prisma: PrismaClient): Promise<void> {
  if (await prisma.todo.count()) return
  await prisma.todo.createMany({
    data: [
      { title: 'Try the demo in two windows', ownerId: 'alice' },
      { title: 'Change a row with psql and watch it move', ownerId: 'alice' },
      { title: 'Read the README', ownerId: 'bob', completed: true },
    ],
  })
}
