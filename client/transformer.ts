// The client half of the server's sync transformer: superjson with Prisma's Decimal registered under the
// same name (the browser build of Prisma's Decimal, so this bundles for the browser).
import { Decimal } from '@prisma/client/runtime/index-browser'
import SuperJSON from 'superjson'

export function createClientTransformer(superjson: SuperJSON = new SuperJSON()): SuperJSON {
  superjson.registerCustom<Decimal, string>({
    isApplicable: (value): value is Decimal => Decimal.isDecimal(value),
    serialize: (value) => value.toFixed(),
    deserialize: (text) => new Decimal(text),
  }, 'Decimal')
  return superjson
}

export const clientTransformer = createClientTransformer()
