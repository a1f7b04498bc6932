import os from "node:os";
import type { GatewayConfig } from "../config/index.js";
import type { BenchOptions } from "./bench-options.js";
import { DASHBOARD_QUERY } from "./dashboard-query.js";
import type { ScratchDatabase } from "./scratch-database.js";
import type { SeededVolume, VolumeSpec } from "./seed-volume.js";

/** The 1, 5 and 15 minute load averages: other work on these cores skews every figure. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(" / ");
}

/** The machine the figures come from. */
export function describeMachine(
  database: ScratchDatabase,
  loadAtStart: string,
): [string, string][] {
  const cpus = os.cpus();

  return [
    ["cores", `${cpus.length} x ${cpus[0]?.model.trim() ?? "unknown CPU"}`],
    ["memory", `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ["node", `${process.version} (${process.platform} ${process.arch})`],
    ["postgresql", database.serverVersion],
    ["load average", `${loadAtStart} at start, ${loadAverage()} at end (1 / 5 / 15 min)`],
  ];
}

/** What a run was given and what it built. */
export interface RunFacts {
  options: BenchOptions;
  database: ScratchDatabase;
  /** The configuration the gateways ran with. */
  config: GatewayConfig;
  volume: SeededVolume;
  spec: VolumeSpec;
}

/** The settings and the seeded volume, as the report's parameter lines. */
export function describeParameters(facts: RunFacts): [string, string][] {
  const { options, database, config, volume, spec } = facts;
  const server = new URL(options.serverUrl);

  return [
    ["concurrency", `${options.concurrency} (BENCH_CONCURRENCY)`],
    ["requests per pass", `${options.requests} (BENCH_REQUESTS)`],
    ["naive pass requests", `${options.naiveRequests} (BENCH_NAIVE_REQUESTS)`],
    ["warm-up per gateway", `${options.warmup} (BENCH_WARMUP)`],
    ["tenant", `${volume.tenantId}, caller a plain member`],
    [
      "volume",
      `${spec.users} users, ${spec.organizations} organizations, ${volume.memberships} memberships ` +
        `(1-${spec.maxMembershipsPerUser} per user), ${spec.challenges} challenges x ` +
        `${spec.submissionsPerChallenge} submissions, ${spec.dashboards} dashboards`,
    ],
    [
      "database",
      `${database.name} on ${server.host} (dropped at the end), pool ${config.databasePoolMax}`,
    ],
    [
      "cache",
      `${options.redisUrl}, TTL ${config.cacheTtlSeconds} s, timeout ${config.cacheTimeoutMs} ms`,
    ],
    ["tenant registry", "kept in process for the run, so no request pays a tenant lookup"],
    ["query", DASHBOARD_QUERY],
  ];
}
