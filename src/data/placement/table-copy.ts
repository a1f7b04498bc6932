import { createHash } from "node:crypto";
import type { SqlSession } from "../migrator.js";
import { quoteIdentifier } from "./tenant-location.js";
import type { TenantTable } from "./tenant-tables.js";

/**
 * Reading and writing one tenant's rows as JSON text, the same on PostgreSQL
 * and PGlite, in any schema. A row's text is `row_to_json(row)`, which
 * carries every column with its type intact (arrays, JSON, timestamps with
 * milliseconds) and is what exports store, so the checksum a move compares
 * and the one an archive's manifest records are the same function.
 */

/** Rows fetched per round trip. */
const BATCH_ROWS = 1_000;

const qualified = (schema: string, table: TenantTable) =>
  `${quoteIdentifier(schema)}.${quoteIdentifier(table.name)}`;

// Byte order, not the server's collation: two servers must agree on it.
const orderBy = (table: TenantTable) =>
  table.primaryKey.map((column) => `"${column}" COLLATE "C"`).join(", ");

/**
 * Yields the tenant's rows of one table in primary-key order, a batch of
 * JSON texts at a time. Must run inside a transaction (it uses a cursor);
 * REPEATABLE READ makes every table of one export one snapshot.
 */
export async function* readRows(
  session: SqlSession,
  schema: string,
  table: TenantTable,
  tenantId: string,
): AsyncGenerator<string[]> {
  const cursor = `ogc_rows_${table.name.toLowerCase()}`;
  const select =
    `SELECT row_to_json(t)::text AS row FROM ${qualified(schema, table)} t` +
    ` WHERE t."tenantId" = ${literal(tenantId)} ORDER BY ${orderBy(table)}`;
  await session.exec(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${select}`);
  try {
    for (;;) {
      const rows = await session.query<{ row: string }>(`FETCH ${BATCH_ROWS} FROM ${cursor}`);
      if (rows.length === 0) return;
      yield rows.map((r) => r.row);
    }
  } finally {
    await session.exec(`CLOSE ${cursor}`).catch(() => {});
  }
}

/** Inserts rows given as `row_to_json` texts; returns how many. */
export async function writeRows(
  session: SqlSession,
  schema: string,
  table: TenantTable,
  rows: readonly string[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const target = qualified(schema, table);
  await session.query(
    `INSERT INTO ${target} SELECT * FROM json_populate_recordset(NULL::${target}, $1::json)`,
    [`[${rows.join(",")}]`],
  );

  return rows.length;
}

/** Deletes every row of the tenant from one table; returns how many. */
export async function deleteRows(
  session: SqlSession,
  schema: string,
  table: TenantTable,
  tenantId: string,
): Promise<number> {
  const rows = await session.query<{ n: number }>(
    `WITH gone AS (DELETE FROM ${qualified(schema, table)} WHERE "tenantId" = $1 RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    [tenantId],
  );

  return rows[0]?.n ?? 0;
}

/** Row count and content checksum of one table's share of a tenant. */
export interface TableDigest {
  readonly table: string;
  readonly rows: number;
  /** md5 over the md5 of each row's JSON text, in primary-key order. */
  readonly checksum: string;
}

/** Computes a {@link TableDigest} inside the database, without moving rows. */
export async function digestTable(
  session: SqlSession,
  schema: string,
  table: TenantTable,
  tenantId: string,
): Promise<TableDigest> {
  const rows = await session.query<{ rows: number; checksum: string }>(
    `SELECT count(*)::int AS rows,
            md5(coalesce(string_agg(md5(row_to_json(t)::text), '' ORDER BY ${orderBy(table)}), '')) AS checksum
       FROM ${qualified(schema, table)} t
      WHERE t."tenantId" = $1`,
    [tenantId],
  );
  const row = rows[0];

  return { table: table.name, rows: row?.rows ?? 0, checksum: row?.checksum ?? "" };
}

/**
 * The same digest computed in the gateway from row texts in primary-key
 * order, for archives: feed rows, then read `digest()`.
 */
export function createRowDigest(table: string) {
  const outer = createHash("md5");
  let rows = 0;

  return {
    add(rowText: string) {
      outer.update(createHash("md5").update(rowText, "utf8").digest("hex"));
      rows += 1;
    },
    digest(): TableDigest {
      return { table, rows, checksum: outer.digest("hex") };
    },
  };
}

/** A string literal for the cursor declaration, which takes no parameters. */
function literal(value: string): string {
  if (!/^[a-z][a-z0-9-]{1,38}[a-z0-9]$/.test(value)) {
    throw new Error(`refusing tenant id ${JSON.stringify(value)} in SQL`);
  }

  return `'${value}'`;
}
