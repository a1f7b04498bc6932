import type { ApolloServerPlugin } from "@apollo/server";
import type { GatewayContext } from "../context/gateway-context.js";
import type { Database } from "../data/index.js";
import { TENANT_LOGIN_ROLE } from "../data/database.js";
import type { Logger } from "../logging/index.js";
import { createOperationLabeller } from "../observability/known-operations.js";
import { startHealthProbes, type HealthProbes } from "./health-probes.js";
import { SAMPLE_REQUEST_IDS, TelemetryBuffer } from "./telemetry-buffer.js";
import { poolTelemetrySql, prismaTelemetrySql, type TelemetrySql } from "./telemetry-sql.js";
import { pruneTelemetry, writeBatch } from "./telemetry-writes.js";
import { createTrafficPlugin } from "./traffic-plugin.js";

/** Retention pruning runs at most this often per process (ms). */
const PRUNE_EVERY_MS = 10 * 60_000;

export interface TelemetryOptions {
  readonly database: Database;
  /** The control database's URL; undefined on the embedded PGlite. */
  readonly databaseUrl: string | undefined;
  /** `TENANT_DATABASE_URL`: names the login SHARED and SCHEMA tenants' statements run on. */
  readonly tenantDatabaseUrl: string | undefined;
  /** Between two flushes (ms, `TELEMETRY_FLUSH_MS`). */
  readonly flushMs: number;
  /** Between two rounds of health probes (ms, `HEALTH_PROBE_MS`); 0 turns probes off. */
  readonly healthProbeMs: number;
  /** The gateway's cost limit for one operation (`QUERY_MAX_COST`). */
  readonly maxCost: number;
  /**
   * Operation names error clusters keep besides the built-in ones
   * (`METRICS_OPERATIONS`); any other name is clustered as `other`.
   */
  readonly operations?: readonly string[];
  readonly logger: Logger;
}

/** Usage, error and health counting of one gateway process. */
export interface Telemetry {
  /** The Apollo plugin that counts requests and errors. */
  readonly plugin: ApolloServerPlugin<GatewayContext>;
  /**
   * Writes everything counted so far and resolves once it is stored.
   * Rejects when the write failed; the counts are then kept for the next
   * flush. Calls queue: each covers what was counted before it was made.
   */
  flush(): Promise<void>;
  /** Runs a round of health probes now (and its pruning when due); no-op when probes are off. */
  probe(): Promise<void>;
  /** Stops the timers and writes what is left. */
  stop(): Promise<void>;
  /**
   * The database login SHARED and SCHEMA tenants' connections use, by which
   * the admin views count their connections.
   */
  readonly tenantLogin: string;
}

/**
 * Counts in memory and writes every `flushMs` as additive upserts (see
 * telemetry-writes.ts), so every process's counts add up in the database;
 * probes tenants' data every `healthProbeMs`. The one owner of the
 * telemetry buffer, its timers and its database connection.
 */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  const { database, logger } = options;
  const buffer = new TelemetryBuffer();
  const sql: TelemetrySql = options.databaseUrl
    ? poolTelemetrySql(options.databaseUrl, logger)
    : prismaTelemetrySql(database.control);

  const flushOnce = async () => {
    const dropped = buffer.takeDropped();
    if (dropped > 0) {
      logger.warn({ dropped }, "telemetry buffer full while flushes failed: counts dropped");
    }
    if (buffer.isEmpty) return;
    const batch = buffer.take();
    try {
      await writeBatch(sql, batch, SAMPLE_REQUEST_IDS);
    } catch (error) {
      buffer.restore(batch);
      throw error;
    }
  };
  let queue: Promise<void> = Promise.resolve();
  const flush = () => {
    const next = queue.then(flushOnce);
    queue = next.catch(() => {});

    return next;
  };
  const flushTimer = setInterval(() => {
    flush().catch((err: unknown) =>
      logger.warn({ err }, "telemetry flush failed; its counts wait for the next one"),
    );
  }, options.flushMs);
  // Counting alone must not keep the process alive.
  flushTimer.unref();

  let lastPrune = 0;
  const pruneWhenDue = async () => {
    if (Date.now() - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = Date.now();
    await pruneTelemetry(sql, new Date());
  };
  const probes: HealthProbes | null =
    options.healthProbeMs > 0
      ? startHealthProbes({
          database,
          intervalMs: options.healthProbeMs,
          record: (tenantId, at, ok) => buffer.recordProbe(tenantId, at, ok),
          afterRound: pruneWhenDue,
          logger,
        })
      : null;

  let stopped: Promise<void> | null = null;

  return {
    tenantLogin: options.tenantDatabaseUrl
      ? decodeURIComponent(new URL(options.tenantDatabaseUrl).username) || TENANT_LOGIN_ROLE
      : TENANT_LOGIN_ROLE,
    plugin: createTrafficPlugin({
      buffer,
      maxCost: options.maxCost,
      labelOperation: createOperationLabeller(options.operations),
    }),
    flush,
    probe: async () => {
      await probes?.runRound();
    },
    stop: () => {
      stopped ??= (async () => {
        clearInterval(flushTimer);
        await probes?.stop();
        await flush().catch((err: unknown) =>
          logger.error({ err }, "last telemetry flush failed; its counts are lost"),
        );
        await sql.close();
      })();

      return stopped;
    },
  };
}
