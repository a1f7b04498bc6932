/**
 * The hand-written migrations must build exactly the database schema.prisma
 * describes, since Prisma's schema engine cannot run here to generate them.
 *
 * The expected side is Prisma's own reading of schema.prisma (its DMMF, from
 * @prisma/internals), turned into the shape PostgreSQL would show by Prisma's
 * mapping rules. The actual side is read from the catalog of a freshly
 * migrated database. Each table is one test, so a drift shows as a diff of
 * that table alone.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import internals from "@prisma/internals";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, pgSession } from "../../src/data/migrator.js";
import { createTestDatabase } from "../support/database.js";

type Datamodel = Awaited<ReturnType<typeof internals.getDMMF>>["datamodel"];
type Model = Datamodel["models"][number];
type Field = Model["fields"][number];

interface ColumnShape {
  type: string;
  nullable: boolean;
  default: string | null;
}

interface TableShape {
  columns: Record<string, ColumnShape>;
  primaryKey: { name: string; columns: string[] };
  indexes: Record<string, { unique: boolean; columns: string[] }>;
  foreignKeys: Record<
    string,
    {
      columns: string[];
      references: string;
      referencedColumns: string[];
      onDelete: string;
      onUpdate: string;
    }
  >;
}

const SCHEMA_PATH = fileURLToPath(new URL("../../prisma/schema.prisma", import.meta.url));
const HISTORY_TABLE = "_prisma_migrations";

/** PostgreSQL's longest identifier; Prisma shortens longer default names by a rule not copied here. */
const MAX_IDENTIFIER_LENGTH = 63;

/** Prisma's column types for PostgreSQL when a field names no native type. */
const SQL_TYPES: Record<string, string> = {
  String: "text",
  Boolean: "boolean",
  Int: "integer",
  BigInt: "bigint",
  Float: "double precision",
  Decimal: "numeric(65,30)",
  DateTime: "timestamp(3) without time zone",
  Json: "jsonb",
  Bytes: "bytea",
};

/** pg_constraint's action letters, named as schema.prisma names them. */
const REFERENTIAL_ACTIONS: Record<string, string> = {
  a: "NoAction",
  r: "Restrict",
  c: "Cascade",
  n: "SetNull",
  d: "SetDefault",
};

const { datamodel } = await internals.getDMMF({ datamodel: await readFile(SCHEMA_PATH, "utf8") });

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let client: pg.Client;
let catalog: Catalog;

beforeAll(async () => {
  database = await createTestDatabase("schema_drift");
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await migrate(pgSession(client));
  catalog = await readCatalog(client);
});

afterAll(async () => {
  await client?.end();
  await database?.drop();
});

describe("the migrated database matches schema.prisma", () => {
  it("has one table per model and no other but the migration history", () => {
    const expected = [...datamodel.models.map(tableName), HISTORY_TABLE].sort();

    expect(Object.keys(catalog.tables).sort()).toEqual(expected);
  });

  it.each(datamodel.models.map((model) => [tableName(model), model] as const))(
    "table %s has the model's columns, keys, indexes and foreign keys",
    (table, model) => {
      expect(catalog.tables[table]).toEqual(expectedTable(model));
    },
  );

  it("has every enum with its values in order, and no other enum", () => {
    const expected = Object.fromEntries(
      datamodel.enums.map((e) => [e.dbName ?? e.name, e.values.map((v) => v.dbName ?? v.name)]),
    );

    expect(catalog.enums).toEqual(expected);
  });
});

// ------------------------------------------------------------------ expected side

function tableName(model: Model): string {
  return model.dbName ?? model.name;
}

function columnName(model: Model, fieldName: string): string {
  const field = model.fields.find((f) => f.name === fieldName);
  if (!field) throw new Error(`${model.name} has no field ${fieldName}`);

  return field.dbName ?? field.name;
}

function modelNamed(name: string): Model {
  const model = datamodel.models.find((m) => m.name === name);
  if (!model) throw new Error(`schema.prisma has no model ${name}`);

  return model;
}

function expectedTable(model: Model): TableShape {
  const table = tableName(model);
  const shape: TableShape = {
    columns: {},
    primaryKey: { name: "", columns: [] },
    indexes: {},
    foreignKeys: {},
  };

  for (const field of model.fields) {
    if (field.kind === "scalar" || field.kind === "enum") {
      shape.columns[field.dbName ?? field.name] = expectedColumn(field);
    }
    if (field.kind === "object" && field.relationFromFields?.length) {
      const [name, foreignKey] = expectedForeignKey(model, field);
      shape.foreignKeys[name] = foreignKey;
    }
  }
  for (const index of datamodel.indexes.filter((i) => i.model === model.name)) {
    const columns = index.fields.map((f) => columnName(model, f.name));
    switch (index.type) {
      case "id":
        shape.primaryKey = { name: index.dbName ?? defaultName(table, [], "pkey"), columns };
        break;
      case "unique":
      case "normal": {
        const unique = index.type === "unique";
        const name = index.dbName ?? defaultName(table, columns, unique ? "key" : "idx");
        shape.indexes[name] = { unique, columns };
        break;
      }
      default:
        throw new Error(`the drift test cannot check ${index.type} indexes yet (${table})`);
    }
  }

  return shape;
}

function expectedColumn(field: Field): ColumnShape {
  if (field.nativeType) {
    throw new Error(`the drift test cannot check native types yet (${field.name})`);
  }
  const base = field.kind === "enum" ? quoteIdent(enumDbName(field.type)) : SQL_TYPES[field.type];
  if (!base) throw new Error(`no PostgreSQL type known for ${field.type} (${field.name})`);

  return {
    type: field.isList ? `${base}[]` : base,
    // Prisma leaves list columns nullable even when the field is required.
    nullable: field.isList || !field.isRequired,
    default: expectedDefault(field),
  };
}

/** The default as pg_get_expr prints it, or null where Prisma makes none in the database. */
function expectedDefault(field: Field): string | null {
  const value = field.default;
  if (value === undefined || value === null) return null;
  if (typeof value === "object" && "name" in value) {
    if (value.name === "now") return "CURRENT_TIMESTAMP";
    // These ids are made by the client, not by the database.
    if (["uuid", "cuid", "nanoid", "ulid"].includes(value.name)) return null;
    throw new Error(`the drift test cannot check @default(${value.name}()) yet (${field.name})`);
  }
  if (field.isList || Array.isArray(value)) {
    throw new Error(`the drift test cannot check list defaults yet (${field.name})`);
  }
  if (field.kind === "enum")
    return `${literal(String(value))}::${quoteIdent(enumDbName(field.type))}`;

  switch (field.type) {
    case "String":
      return `${literal(String(value))}::text`;
    case "Json":
      return `${literal(String(value))}::jsonb`;
    case "Boolean":
      return String(value);
    case "Int":
    case "Float":
      if (typeof value === "number" && value >= 0) return String(value);
      break;
    case "BigInt":
      // The DMMF may carry a BigInt default as a number or as digits.
      if (/^\d+$/.test(String(value))) return String(value);
  }
  throw new Error(`the drift test cannot check a ${field.type} default yet (${field.name})`);
}

function expectedForeignKey(
  model: Model,
  field: Field,
): [string, TableShape["foreignKeys"][string]] {
  const from = field.relationFromFields ?? [];
  const target = modelNamed(field.type);
  const columns = from.map((name) => columnName(model, name));
  const required = from.every((name) => model.fields.find((f) => f.name === name)?.isRequired);

  return [
    defaultName(tableName(model), columns, "fkey"),
    {
      columns,
      references: tableName(target),
      referencedColumns: (field.relationToFields ?? []).map((name) => columnName(target, name)),
      // Prisma's defaults when the relation names no action.
      onDelete: field.relationOnDelete ?? (required ? "Restrict" : "SetNull"),
      onUpdate: field.relationOnUpdate ?? "Cascade",
    },
  ];
}

function enumDbName(name: string): string {
  const found = datamodel.enums.find((e) => e.name === name);

  return found?.dbName ?? name;
}

/** Prisma's default constraint name: table, columns and a suffix, joined by "_". */
function defaultName(table: string, columns: string[], suffix: string): string {
  const name = [table, ...columns, suffix].join("_");
  if (name.length > MAX_IDENTIFIER_LENGTH) {
    throw new Error(`${name} is too long: give it a map: name in schema.prisma`);
  }

  return name;
}

/** Quotes an identifier the way format_type and pg_get_expr do. */
function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

// ------------------------------------------------------------------ actual side

interface Catalog {
  tables: Record<string, TableShape>;
  enums: Record<string, string[]>;
}

/** Reads tables, columns, keys, indexes, foreign keys and enums of the current schema. */
async function readCatalog(db: pg.Client): Promise<Catalog> {
  const tables: Record<string, TableShape> = {};
  const tableOf = (name: string) =>
    (tables[name] ??= {
      columns: {},
      primaryKey: { name: "", columns: [] },
      indexes: {},
      foreignKeys: {},
    });

  const relations = await db.query<{ name: string }>(`
    SELECT c.relname AS name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`);
  for (const row of relations.rows) tableOf(row.name);

  const columns = await db.query<{ table: string; column: string } & ColumnShape>(`
    SELECT c.relname AS table, a.attname AS column,
           format_type(a.atttypid, a.atttypmod) AS type,
           NOT a.attnotnull AS nullable,
           pg_get_expr(d.adbin, d.adrelid) AS default
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE n.nspname = current_schema() AND c.relkind = 'r'
       AND a.attnum > 0 AND NOT a.attisdropped`);
  for (const { table, column, ...shape } of columns.rows) tableOf(table).columns[column] = shape;

  const indexes = await db.query<{
    table: string;
    name: string;
    primary: boolean;
    unique: boolean;
    columns: string[];
  }>(`
    SELECT t.relname AS table, i.relname AS name, x.indisprimary AS primary,
           x.indisunique AS unique,
           array(SELECT a.attname::text
                   FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                  ORDER BY k.ord) AS columns
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class t ON t.oid = x.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE n.nspname = current_schema()`);
  for (const { table, name, primary, unique, columns: cols } of indexes.rows) {
    if (primary) tableOf(table).primaryKey = { name, columns: cols };
    else tableOf(table).indexes[name] = { unique, columns: cols };
  }

  const foreignKeys = await db.query<{
    table: string;
    name: string;
    references: string;
    columns: string[];
    referenced_columns: string[];
    on_delete: string;
    on_update: string;
  }>(`
    SELECT t.relname AS table, k.conname AS name, r.relname AS references,
           array(SELECT a.attname::text
                   FROM unnest(k.conkey) WITH ORDINALITY c(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = c.attnum
                  ORDER BY c.ord) AS columns,
           array(SELECT a.attname::text
                   FROM unnest(k.confkey) WITH ORDINALITY c(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = c.attnum
                  ORDER BY c.ord) AS referenced_columns,
           k.confdeltype AS on_delete, k.confupdtype AS on_update
      FROM pg_constraint k
      JOIN pg_class t ON t.oid = k.conrelid
      JOIN pg_class r ON r.oid = k.confrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE k.contype = 'f' AND n.nspname = current_schema()`);
  for (const row of foreignKeys.rows) {
    tableOf(row.table).foreignKeys[row.name] = {
      columns: row.columns,
      references: row.references,
      referencedColumns: row.referenced_columns,
      onDelete: REFERENTIAL_ACTIONS[row.on_delete] ?? row.on_delete,
      onUpdate: REFERENTIAL_ACTIONS[row.on_update] ?? row.on_update,
    };
  }

  const enums = await db.query<{ name: string; values: string[] }>(`
    SELECT t.typname AS name,
           array(SELECT e.enumlabel::text FROM pg_enum e
                  WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS values
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE t.typtype = 'e' AND n.nspname = current_schema()`);

  return {
    tables,
    enums: Object.fromEntries(enums.rows.map((row) => [row.name, row.values])),
  };
}
