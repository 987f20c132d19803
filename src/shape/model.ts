// Model metadata (table, columns, Postgres types, primary key, enums) read from the app's own Prisma
// client with no extra step: the generated client carries its schema text (`_engineConfig.inlineSchema`),
// which Prisma's schema wasm turns into the full DMMF. Read once per client and cached.
import prismaSchemaWasm from '@prisma/prisma-schema-wasm'
import { ShapeError } from './errors.js'

export type PrismaScalarType =
  | 'String' | 'Boolean' | 'Int' | 'BigInt' | 'Float' | 'Decimal' | 'DateTime' | 'Json' | 'Bytes'

export interface FieldMeta {
  /** Prisma field name. */
  name: string
  /** Database column name. */
  column: string
  kind: 'scalar' | 'enum' | 'object'
  /** Prisma scalar type, enum name or related model name. */
  type: string
  isList: boolean
  isRequired: boolean
  isId: boolean
  /** Postgres type name of the column (element type for lists), e.g. `uuid`, `timestamptz`, `int4`. */
  pgType: string
  /** For enums: Prisma value name → database label. */
  enumValues?: Map<string, string>
  /** For relations: the related model and the join fields. */
  relation?: { model: string; fromFields: string[]; toFields: string[] }
}

export interface ModelMeta {
  name: string
  table: string
  namespace: string
  fields: Map<string, FieldMeta>
  /** Column name → field. */
  byColumn: Map<string, FieldMeta>
  /** Primary-key field names, in key order. */
  primaryKey: string[]
}

export interface DataModelMeta {
  models: Map<string, ModelMeta>
  /** Look a model up by its database `namespace.table`. */
  byTable: Map<string, ModelMeta>
}

/** What `prisma.todo` looks like to us: a model delegate that knows its name and its client. */
export interface PrismaModelDelegate {
  name?: string
  $name?: string
  $parent?: unknown
}

const cache = new WeakMap<object, DataModelMeta>()

export function isModelDelegate(value: unknown): value is PrismaModelDelegate {
  return typeof value === 'object' && value !== null &&
    typeof (value as PrismaModelDelegate).$parent === 'object' &&
    typeof ((value as PrismaModelDelegate).$name ?? (value as PrismaModelDelegate).name) === 'string'
}

/** Metadata of the model behind a delegate such as `prisma.todo`. */
export function modelOf(delegate: unknown): ModelMeta {
  if (!isModelDelegate(delegate)) {
    throw new ShapeError('model', 'expected a Prisma model delegate such as `prisma.todo`')
  }
  const name = (delegate.$name ?? delegate.name)!
  const model = dataModelOf(delegate.$parent).models.get(name)
  if (!model) throw new ShapeError('model', `unknown Prisma model "${name}"`)
  return model
}

/** Metadata of every model of a Prisma client, cached per client. */
export function dataModelOf(client: unknown): DataModelMeta {
  if (typeof client !== 'object' || client === null) {
    throw new ShapeError('model', 'expected a Prisma client')
  }
  const root = ((client as { _originalClient?: object })._originalClient ?? client) as object
  let meta = cache.get(root)
  if (!meta) {
    const schema = (root as { _engineConfig?: { inlineSchema?: unknown } })._engineConfig?.inlineSchema
    if (typeof schema !== 'string') {
      throw new ShapeError('model', 'this Prisma client does not carry its schema; trpc-sync needs Prisma 6.6 or later')
    }
    meta = dataModelFromSchema(schema)
    cache.set(root, meta)
  }
  return meta
}

interface DmmfField {
  name: string
  dbName?: string | null
  kind: 'scalar' | 'enum' | 'object' | 'unsupported'
  isList: boolean
  isRequired: boolean
  isId: boolean
  type: string
  nativeType?: [string, string[]] | null
  relationFromFields?: string[]
  relationToFields?: string[]
}
interface DmmfModel {
  name: string
  dbName: string | null
  schema: string | null
  fields: DmmfField[]
  primaryKey: { fields: string[] } | null
}
interface DmmfEnum {
  name: string
  dbName?: string | null
  values: { name: string; dbName: string | null }[]
}

/** Builds the metadata from Prisma schema text. */
export function dataModelFromSchema(schema: string): DataModelMeta {
  const dmmf = JSON.parse(prismaSchemaWasm.get_dmmf(JSON.stringify({ prismaSchema: schema }))) as {
    datamodel: { models: DmmfModel[]; enums: DmmfEnum[] }
  }
  const enums = new Map(dmmf.datamodel.enums.map((e) => [e.name, e]))
  const models = new Map<string, ModelMeta>()
  const byTable = new Map<string, ModelMeta>()
  for (const model of dmmf.datamodel.models) {
    const fields = new Map<string, FieldMeta>()
    const byColumn = new Map<string, FieldMeta>()
    for (const f of model.fields) {
      if (f.kind === 'unsupported') continue
      const enumDef = f.kind === 'enum' ? enums.get(f.type) : undefined
      const field: FieldMeta = {
        name: f.name,
        column: f.dbName ?? f.name,
        kind: f.kind,
        type: f.type,
        isList: f.isList,
        isRequired: f.isRequired,
        isId: f.isId,
        pgType: f.kind === 'object' ? '' : enumDef ? (enumDef.dbName ?? enumDef.name) : pgTypeOf(f),
      }
      if (enumDef) field.enumValues = new Map(enumDef.values.map((v) => [v.name, v.dbName ?? v.name]))
      if (f.kind === 'object') {
        field.relation = { model: f.type, fromFields: f.relationFromFields ?? [], toFields: f.relationToFields ?? [] }
      } else {
        byColumn.set(field.column, field)
      }
      fields.set(field.name, field)
    }
    const primaryKey = model.primaryKey?.fields ?? model.fields.filter((f) => f.isId).map((f) => f.name)
    const meta: ModelMeta = {
      name: model.name,
      table: model.dbName ?? model.name,
      namespace: model.schema ?? 'public',
      fields,
      byColumn,
      primaryKey,
    }
    models.set(meta.name, meta)
    byTable.set(`${meta.namespace}.${meta.table}`, meta)
  }
  return { models, byTable }
}

const nativeTypes: Record<string, string> = {
  Uuid: 'uuid', Text: 'text', VarChar: 'varchar', Char: 'bpchar', Citext: 'citext', Inet: 'inet',
  Xml: 'xml', Bit: 'bit', VarBit: 'varbit',
  SmallInt: 'int2', Integer: 'int4', Oid: 'oid', BigInt: 'int8',
  Real: 'float4', DoublePrecision: 'float8', Decimal: 'numeric', Money: 'money',
  Timestamp: 'timestamp', Timestamptz: 'timestamptz', Date: 'date', Time: 'time', Timetz: 'timetz',
  Json: 'json', JsonB: 'jsonb', ByteA: 'bytea', Boolean: 'bool',
}
const defaultTypes: Record<PrismaScalarType, string> = {
  String: 'text', Boolean: 'bool', Int: 'int4', BigInt: 'int8', Float: 'float8', Decimal: 'numeric',
  DateTime: 'timestamp', Json: 'jsonb', Bytes: 'bytea',
}

function pgTypeOf(field: DmmfField): string {
  const native = field.nativeType?.[0]
  if (native && nativeTypes[native]) return nativeTypes[native]
  return defaultTypes[field.type as PrismaScalarType] ?? 'text'
}
