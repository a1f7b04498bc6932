import pg from "pg";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { Logger } from "../logging/index.js";

/** Runs one statement with `$1`-style parameters. */
export type SqlRunner = (sql: string, params: readonly unknown[]) => Promise<void>;

/** Where telemetry is written: one transaction per flush. */
export interface TelemetrySql {
  transaction(work: (run: SqlRunner) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/** `application_name` of the telemetry connection, apart from request traffic. */
export const TELEMETRY_APPLICATION_NAME = "newfinity-gateway-telemetry";

/**
 * Telemetry on a PostgreSQL control plane gets a one-connection pool of its
 * own: flushes never wait behind request traffic for a pooled connection,
 * and they stay out of the statement counter, which tests and the
 * benchmark read as "statements this request cost".
 */
export function poolTelemetrySql(url: string, logger: Logger): TelemetrySql {
  const pool = new pg.Pool({
    connectionString: url,
    max: 1,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 10_000,
    // A flush that hangs would hold counts back from every later one.
    statement_timeout: 15_000,
    application_name: TELEMETRY_APPLICATION_NAME,
  });
  pool.on("error", (err) => logger.warn({ err }, "idle telemetry connection failed"));

  return {
    async transaction(work) {
      const client = await pool.connect();
      let healthy = true;
      try {
        await client.query("BEGIN");
        await work(async (sql, params) => {
          await client.query(sql, [...params]);
        });
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {
          healthy = false;
        });
        throw error;
      } finally {
        // A connection that could not roll back is not given to the next flush.
        client.release(!healthy);
      }
    },
    close: () => pool.end(),
  };
}

/** Telemetry on the embedded database: its one connection, through the control client. */
export function prismaTelemetrySql(control: PrismaClient): TelemetrySql {
  return {
    async transaction(work) {
      await control.$transaction(async (tx) => {
        await work(async (sql, params) => {
          await tx.$executeRawUnsafe(sql, ...params);
        });
      });
    },
    close: async () => {},
  };
}
