import type { PrismaClient } from "../generated/prisma/client.js";
import type { Logger } from "../logging/index.js";

/** Bytes stored by one tenant in one storage area. */
export interface StorageFigure {
  readonly tenantId: string;
  readonly area: string;
  readonly bytes: number;
}

/** A tenant's queued jobs of one kind. */
export interface QueueFigure {
  readonly tenantId: string;
  readonly kind: string;
  readonly depth: number;
  /** Age of the oldest of them, in seconds. */
  readonly oldestSeconds: number;
}

/** How long a tenant's jobs that started in the last hour had waited. */
export interface WaitFigure {
  readonly tenantId: string;
  readonly averageSeconds: number;
  readonly maxSeconds: number;
}

/** A tenant's health probes over the last 24 hours. */
export interface HealthFigure {
  readonly tenantId: string;
  readonly probes: number;
  readonly passed: number;
  /** Failures in the latest sampled minute. */
  readonly latestFailures: number;
  /** How old that minute is, in seconds. */
  readonly latestAgeSeconds: number;
}

/** What one scrape reads from the control plane. */
export interface TenantFigures {
  /** Every tenant in the Tenant table: the only ones that get series. */
  readonly tenants: ReadonlySet<string>;
  readonly storage: readonly StorageFigure[];
  readonly queues: readonly QueueFigure[];
  readonly waits: readonly WaitFigure[];
  readonly health: readonly HealthFigure[];
}

export interface TenantFiguresOptions {
  /** Longest a scrape waits for the control plane before it reports without these figures. */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/** The gauges of one scrape share one read; a read this recent is reused (ms). */
const REUSE_MS = 1_000;

/** Times in these tables are UTC without a zone (Prisma's `timestamp(3)`). */
async function readFigures(control: PrismaClient, timeoutMs: number): Promise<TenantFigures> {
  const [, tenants, storage, queues, waits, health] = await control.$transaction([
    // The server gives up too, so a stuck read does not hold a connection long.
    control.$executeRawUnsafe(`SET LOCAL statement_timeout = ${Math.ceil(timeoutMs)}`),
    control.$queryRaw<{ id: string }[]>`SELECT id FROM "Tenant"`,
    control.$queryRaw<StorageFigure[]>`
      SELECT "tenantId", area, sum(bytes)::float8 AS bytes
      FROM "StoredFile"
      GROUP BY "tenantId", area`,
    control.$queryRaw<QueueFigure[]>`
      SELECT "tenantId", kind, count(*)::int AS depth,
        greatest(0, extract(epoch FROM (now() AT TIME ZONE 'UTC') - min("createdAt")))::float8
          AS "oldestSeconds"
      FROM "BackgroundJob"
      WHERE status = 'QUEUED'
      GROUP BY "tenantId", kind`,
    control.$queryRaw<WaitFigure[]>`
      SELECT "tenantId",
        greatest(0, avg(extract(epoch FROM "startedAt" - "createdAt")))::float8 AS "averageSeconds",
        greatest(0, max(extract(epoch FROM "startedAt" - "createdAt")))::float8 AS "maxSeconds"
      FROM "BackgroundJob"
      WHERE "startedAt" >= (now() AT TIME ZONE 'UTC') - interval '1 hour'
      GROUP BY "tenantId"`,
    control.$queryRaw<HealthFigure[]>`
      SELECT "tenantId",
        sum(probes)::float8 AS probes,
        sum(probes - failures)::float8 AS passed,
        (array_agg(failures ORDER BY minute DESC))[1]::int AS "latestFailures",
        extract(epoch FROM (now() AT TIME ZONE 'UTC') - max(minute))::float8 AS "latestAgeSeconds"
      FROM "TenantHealthSample"
      WHERE minute >= (now() AT TIME ZONE 'UTC') - interval '24 hours' AND probes > 0
      GROUP BY "tenantId"`,
  ]);

  return { tenants: new Set(tenants.map((row) => row.id)), storage, queues, waits, health };
}

/**
 * Reads the per-tenant figures `/metrics` reports from the control plane:
 * one grouped query per figure, in one short transaction, bounded by
 * `timeoutMs`. A read that fails or runs late answers null, and the scrape
 * goes on without those series rather than hang.
 */
export class TenantFiguresReader {
  readonly #control: PrismaClient;
  readonly #options: TenantFiguresOptions;
  #latest: { promise: Promise<TenantFigures | null>; settledAt: number | null } | null = null;

  constructor(control: PrismaClient, options: TenantFiguresOptions) {
    this.#control = control;
    this.#options = options;
  }

  /** The read in flight or just finished (a scrape's gauges share it), else a new one. */
  current(): Promise<TenantFigures | null> {
    const latest = this.#latest;
    const fresh = latest && (latest.settledAt === null || Date.now() - latest.settledAt < REUSE_MS);

    return fresh ? latest.promise : this.refresh();
  }

  /** Starts a new read, unless one is in flight. */
  refresh(): Promise<TenantFigures | null> {
    if (this.#latest && this.#latest.settledAt === null) return this.#latest.promise;

    const entry: { promise: Promise<TenantFigures | null>; settledAt: number | null } = {
      promise: this.#bounded().finally(() => {
        entry.settledAt = Date.now();
      }),
      settledAt: null,
    };
    this.#latest = entry;
    return entry.promise;
  }

  async #bounded(): Promise<TenantFigures | null> {
    const { timeoutMs, logger } = this.#options;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), timeoutMs);
    });
    try {
      const figures = await Promise.race([readFigures(this.#control, timeoutMs), late]);
      if (figures === "late") {
        logger.warn({ timeoutMs }, "metrics: the control plane did not answer in time");
        return null;
      }
      return figures;
    } catch (err) {
      logger.warn({ err }, "metrics: reading tenant figures from the control plane failed");
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}
