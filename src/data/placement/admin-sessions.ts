import { AsyncLocalStorage } from "node:async_hooks";
import type { PGlite, Transaction } from "@electric-sql/pglite";
import pg from "pg";
import type { SqlSession } from "../migrator.js";
import { urlForDatabase, type DatabaseServer } from "./database-servers.js";
import { quoteIdentifier, schemaOf, type PlannedLocation } from "./tenant-location.js";
import { Isolation } from "../../generated/prisma/enums.js";

/**
 * Privileged sessions for provisioning, upgrades and moves: they create and
 * drop schemas, databases and roles, and copy rows past row-level security.
 * Request traffic never uses them.
 */
export interface AdminSessions {
  /** Runs `work` in the database of `location`, with its schema first on the search path. */
  atLocation<T>(location: PlannedLocation, work: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Runs `work` on a server's maintenance database (CREATE and DROP DATABASE, roles). */
  atServer<T>(serverId: string, work: (session: SqlSession) => Promise<T>): Promise<T>;
  /** The configured server, or an error naming the known ones. */
  server(serverId: string): DatabaseServer;
}

function pgClientSession(client: pg.Client): SqlSession {
  return {
    async exec(sql) {
      await client.query(sql);
    },
    async query<T>(sql: string, params?: unknown[]) {
      return (await client.query(sql, params)).rows as T[];
    },
  };
}

/** One short-lived connection per unit of work: nothing leaks into pooled ones. */
async function withClient<T>(
  url: string,
  setup: string | null,
  work: (session: SqlSession) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 5_000,
    application_name: "newfinity-gateway-admin",
  });
  client.on("error", () => {});
  await client.connect();
  try {
    if (setup) await client.query(setup);
    return await work(pgClientSession(client));
  } finally {
    await client.end().catch(() => {});
  }
}

/** Admin sessions on PostgreSQL servers. */
export function postgresAdminSessions(
  controlUrl: string,
  servers: readonly DatabaseServer[],
): AdminSessions {
  const server = (serverId: string) => {
    const found = servers.find((s) => s.id === serverId);
    if (!found) {
      const known = servers.map((s) => s.id).join(", ") || "none";
      throw new Error(`No database server "${serverId}" is configured (known: ${known}).`);
    }
    return found;
  };

  return {
    server,
    atLocation(location, work) {
      const setup = `SET search_path TO ${quoteIdentifier(schemaOf(location))}`;
      switch (location.isolation) {
        case Isolation.SHARED:
        case Isolation.SCHEMA:
          return withClient(controlUrl, setup, work);
        case Isolation.DATABASE:
          return withClient(
            urlForDatabase(server(location.server).adminUrl, location.database),
            setup,
            work,
          );
        default: {
          const unknown: never = location;
          throw new Error(`unhandled location ${JSON.stringify(unknown)}`);
        }
      }
    },
    atServer(serverId, work) {
      return withClient(server(serverId).adminUrl, null, work);
    },
  };
}

/**
 * Admin sessions on the embedded PGlite, which has one connection that
 * requests share. Each unit of work runs inside one PGlite transaction, which
 * holds requests off until it ends; the migrator's own BEGIN, COMMIT and
 * ROLLBACK become savepoints inside it. Work nested in other work (a move
 * reads one schema while writing another) joins the outer transaction.
 */
export function pgliteAdminSessions(pglite: PGlite): AdminSessions {
  const current = new AsyncLocalStorage<Transaction>();
  const savepointSession = (tx: Transaction): SqlSession => ({
    async exec(sql) {
      const command = sql.trim().toUpperCase();
      if (command === "BEGIN") await tx.exec("SAVEPOINT ogc_admin");
      else if (command === "COMMIT") await tx.exec("RELEASE SAVEPOINT ogc_admin");
      else if (command === "ROLLBACK") await tx.exec("ROLLBACK TO SAVEPOINT ogc_admin");
      else await tx.exec(sql);
    },
    async query<T>(sql: string, params?: unknown[]) {
      return (await tx.query<T>(sql, params)).rows;
    },
  });

  return {
    server(serverId) {
      throw new Error(
        `The embedded database has no database servers (asked for "${serverId}"); DATABASE tenants need DATABASE_URL.`,
      );
    },
    async atLocation(location, work) {
      if (location.isolation === Isolation.DATABASE) {
        throw new Error("The embedded database cannot host DATABASE tenants; set DATABASE_URL.");
      }
      const run = async (tx: Transaction) => {
        await tx.query("SELECT set_config('search_path', $1, true)", [
          quoteIdentifier(schemaOf(location)),
        ]);
        return work(savepointSession(tx));
      };
      const outer = current.getStore();
      if (outer) {
        // Joined work must not leave its search path to the outer work.
        const [saved] = (
          await outer.query<{ path: string }>("SELECT current_setting('search_path') AS path")
        ).rows;
        try {
          return await run(outer);
        } finally {
          await outer.query("SELECT set_config('search_path', $1, true)", [
            saved?.path ?? "public",
          ]);
        }
      }

      return pglite.transaction((tx) => current.run(tx, () => run(tx)));
    },
    atServer(serverId) {
      throw new Error(
        `The embedded database has no database servers (asked for "${serverId}"); DATABASE tenants need DATABASE_URL.`,
      );
    },
  };
}
