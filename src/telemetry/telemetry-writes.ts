import type { TelemetryBatch } from "./telemetry-buffer.js";
import type { SqlRunner, TelemetrySql } from "./telemetry-sql.js";

/*
 * Every write is an additive upsert: a row of another process's counts is
 * added to, never overwritten, so any number of gateway processes sum to
 * exact totals. Rows are inserted by SELECT from the batch joined with
 * "Tenant": counts of a tenant removed meanwhile are dropped instead of
 * failing the flush for every other tenant. Each statement takes its rows
 * in key order, and every flush runs the statements in the same order, so
 * two processes flushing at once lock rows in one order and cannot deadlock.
 *
 * Times travel as ISO strings and are stored as UTC, as Prisma stores them,
 * whatever the session's time zone.
 */

const KNOWN_TENANT = `EXISTS (SELECT 1 FROM "Tenant" WHERE "Tenant".id = v."tenantId")`;
const utc = (column: string) => `(v.${column} AT TIME ZONE 'UTC')`;

const WRITE_TRAFFIC = `
INSERT INTO "TenantTraffic" AS t
  ("tenantId", "windowStart", requests, errors, failures, "durationMsSum", "latencyCounts")
SELECT v."tenantId", ${utc(`"windowStart"`)}, v.requests, v.errors, v.failures, v."durationMsSum",
       v."latencyCounts"::int[]
  FROM unnest($1::text[], $2::timestamptz[], $3::int[], $4::int[], $5::int[], $6::float8[],
              $7::text[])
       AS v("tenantId", "windowStart", requests, errors, failures, "durationMsSum", "latencyCounts")
 WHERE ${KNOWN_TENANT}
 ORDER BY 1, 2
ON CONFLICT ("tenantId", "windowStart") DO UPDATE SET
  requests = t.requests + EXCLUDED.requests,
  errors = t.errors + EXCLUDED.errors,
  failures = t.failures + EXCLUDED.failures,
  "durationMsSum" = t."durationMsSum" + EXCLUDED."durationMsSum",
  "latencyCounts" = ARRAY(
    SELECT COALESCE(x.held, 0) + COALESCE(x.added, 0)
      FROM unnest(t."latencyCounts", EXCLUDED."latencyCounts") WITH ORDINALITY AS x(held, added, i)
     ORDER BY x.i)`;

const WRITE_USAGE = `
INSERT INTO "TenantUsagePeriod" AS t
  ("tenantId", period, requests, errors, "queryCost", "updatedAt")
SELECT v."tenantId", v.period, v.requests, v.errors, v."queryCost", now() AT TIME ZONE 'UTC'
  FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[])
       AS v("tenantId", period, requests, errors, "queryCost")
 WHERE ${KNOWN_TENANT}
 ORDER BY 1, 2
ON CONFLICT ("tenantId", period) DO UPDATE SET
  requests = t.requests + EXCLUDED.requests,
  errors = t.errors + EXCLUDED.errors,
  "queryCost" = t."queryCost" + EXCLUDED."queryCost",
  "updatedAt" = EXCLUDED."updatedAt"`;

/** Request ids match [A-Za-z0-9._-] (see create-context.ts), so a comma joins them safely. */
const WRITE_CLUSTERS = `
INSERT INTO "ErrorCluster" AS t
  (fingerprint, code, operation, path, message, count, "firstSeen", "lastSeen", "sampleRequestIds")
SELECT v.fingerprint, v.code, v.operation, v.path, v.message, v.count,
       ${utc(`"firstSeen"`)}, ${utc(`"lastSeen"`)}, string_to_array(v.samples, ',')
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int8[],
              $7::timestamptz[], $8::timestamptz[], $9::text[])
       AS v(fingerprint, code, operation, path, message, count, "firstSeen", "lastSeen", samples)
 ORDER BY 1
ON CONFLICT (fingerprint) DO UPDATE SET
  count = t.count + EXCLUDED.count,
  "firstSeen" = LEAST(t."firstSeen", EXCLUDED."firstSeen"),
  "lastSeen" = GREATEST(t."lastSeen", EXCLUDED."lastSeen"),
  "sampleRequestIds" = (CASE WHEN EXCLUDED."lastSeen" >= t."lastSeen"
    THEN EXCLUDED."sampleRequestIds" || t."sampleRequestIds"
    ELSE t."sampleRequestIds" || EXCLUDED."sampleRequestIds" END)[1:$10::int]`;

const WRITE_CLUSTER_TENANTS = `
INSERT INTO "ErrorClusterTenant" AS t
  (fingerprint, "tenantId", count, "firstSeen", "lastSeen", "lastRequestId")
SELECT v.fingerprint, v."tenantId", v.count, ${utc(`"firstSeen"`)}, ${utc(`"lastSeen"`)},
       v."lastRequestId"
  FROM unnest($1::text[], $2::text[], $3::int8[], $4::timestamptz[], $5::timestamptz[], $6::text[])
       AS v(fingerprint, "tenantId", count, "firstSeen", "lastSeen", "lastRequestId")
 WHERE ${KNOWN_TENANT}
 ORDER BY 1, 2
ON CONFLICT (fingerprint, "tenantId") DO UPDATE SET
  count = t.count + EXCLUDED.count,
  "firstSeen" = LEAST(t."firstSeen", EXCLUDED."firstSeen"),
  "lastSeen" = GREATEST(t."lastSeen", EXCLUDED."lastSeen"),
  "lastRequestId" = CASE WHEN EXCLUDED."lastSeen" >= t."lastSeen"
    THEN EXCLUDED."lastRequestId" ELSE t."lastRequestId" END`;

const WRITE_HEALTH = `
INSERT INTO "TenantHealthSample" AS t ("tenantId", minute, probes, failures)
SELECT v."tenantId", ${utc("minute")}, v.probes, v.failures
  FROM unnest($1::text[], $2::timestamptz[], $3::int[], $4::int[])
       AS v("tenantId", minute, probes, failures)
 WHERE ${KNOWN_TENANT}
 ORDER BY 1, 2
ON CONFLICT ("tenantId", minute) DO UPDATE SET
  probes = t.probes + EXCLUDED.probes,
  failures = t.failures + EXCLUDED.failures`;

const iso = (date: Date) => date.toISOString();

async function writeTraffic(run: SqlRunner, cells: TelemetryBatch["traffic"]) {
  if (cells.length === 0) return;
  await run(WRITE_TRAFFIC, [
    cells.map((c) => c.tenantId),
    cells.map((c) => iso(c.windowStart)),
    cells.map((c) => c.requests),
    cells.map((c) => c.errors),
    cells.map((c) => c.failures),
    cells.map((c) => c.durationMsSum),
    cells.map((c) => `{${c.latencyCounts.join(",")}}`),
  ]);
}

async function writeUsage(run: SqlRunner, cells: TelemetryBatch["usage"]) {
  if (cells.length === 0) return;
  await run(WRITE_USAGE, [
    cells.map((c) => c.tenantId),
    cells.map((c) => c.period),
    cells.map((c) => c.requests),
    cells.map((c) => c.errors),
    cells.map((c) => c.queryCost),
  ]);
}

async function writeClusters(
  run: SqlRunner,
  cells: TelemetryBatch["clusters"],
  samplesKept: number,
) {
  if (cells.length === 0) return;
  await run(WRITE_CLUSTERS, [
    cells.map((c) => c.fingerprint),
    cells.map((c) => c.shape.code),
    cells.map((c) => c.shape.operation),
    cells.map((c) => c.shape.path),
    cells.map((c) => c.shape.message),
    cells.map((c) => c.count),
    cells.map((c) => iso(c.firstSeen)),
    cells.map((c) => iso(c.lastSeen)),
    cells.map((c) => c.sampleRequestIds.join(",")),
    samplesKept,
  ]);
}

async function writeClusterTenants(run: SqlRunner, cells: TelemetryBatch["clusterTenants"]) {
  if (cells.length === 0) return;
  await run(WRITE_CLUSTER_TENANTS, [
    cells.map((c) => c.fingerprint),
    cells.map((c) => c.tenantId),
    cells.map((c) => c.count),
    cells.map((c) => iso(c.firstSeen)),
    cells.map((c) => iso(c.lastSeen)),
    cells.map((c) => c.lastRequestId),
  ]);
}

async function writeHealth(run: SqlRunner, cells: TelemetryBatch["health"]) {
  if (cells.length === 0) return;
  await run(WRITE_HEALTH, [
    cells.map((c) => c.tenantId),
    cells.map((c) => iso(c.minute)),
    cells.map((c) => c.probes),
    cells.map((c) => c.failures),
  ]);
}

/** Writes one batch in one transaction: all of it, or (on failure) none of it. */
export async function writeBatch(
  sql: TelemetrySql,
  batch: TelemetryBatch,
  samplesKept: number,
): Promise<void> {
  await sql.transaction(async (run) => {
    await writeTraffic(run, batch.traffic);
    await writeUsage(run, batch.usage);
    // Clusters before the tenants' shares, which refer to them.
    await writeClusters(run, batch.clusters, samplesKept);
    await writeClusterTenants(run, batch.clusterTenants);
    await writeHealth(run, batch.health);
  });
}

/** How long each kind of row is kept (ms). Monthly usage is billing history and stays. */
export const RETENTION_MS = {
  traffic: 35 * 86_400_000,
  health: 8 * 86_400_000,
  clusters: 30 * 86_400_000,
} as const;

/** Removes rows older than their retention, in one transaction. */
export async function pruneTelemetry(sql: TelemetrySql, now: Date): Promise<void> {
  const before = (ms: number) => new Date(now.getTime() - ms).toISOString();
  const cutoff = `($1::timestamptz AT TIME ZONE 'UTC')`;

  await sql.transaction(async (run) => {
    await run(`DELETE FROM "TenantTraffic" WHERE "windowStart" < ${cutoff}`, [
      before(RETENTION_MS.traffic),
    ]);
    await run(`DELETE FROM "TenantHealthSample" WHERE minute < ${cutoff}`, [
      before(RETENTION_MS.health),
    ]);
    // A tenant's share that stopped recurring goes too, even while others keep the cluster.
    await run(`DELETE FROM "ErrorClusterTenant" WHERE "lastSeen" < ${cutoff}`, [
      before(RETENTION_MS.clusters),
    ]);
    await run(`DELETE FROM "ErrorCluster" WHERE "lastSeen" < ${cutoff}`, [
      before(RETENTION_MS.clusters),
    ]);
  });
}
