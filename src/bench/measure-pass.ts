import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Gateway } from "../server/gateway.js";
import { drive, percentile, type DriveFailure, type DriveOptions } from "./load-driver.js";

/** The figures of one measured pass, per request where it says so. */
export interface PassResult {
  label: string;
  concurrency: number;
  completed: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** SQL statements per request (`database.statements.count`). */
  statements: number;
  /** Cache round trips per request (`cache.stats.roundTrips`). */
  roundTrips: number;
  /** Share of cache lookups that hit, 0-1; NaN when nothing was looked up. */
  hitRate: number;
  /** Cache calls that failed or passed the cache timeout, in the whole pass. */
  cacheErrors: number;
  /**
   * CPU time of this process per request (ms): the gateway's, plus the small share of the
   * in-process client that sends and checks the requests.
   */
  cpuMs: number;
  /**
   * The 99th percentile of event-loop delay during the pass (ms). Past the cache timeout,
   * answers from Redis that were already on their way arrive too late and count as misses.
   */
  loopDelayP99Ms: number;
  failures: DriveFailure[];
}

export interface PassOptions extends DriveOptions {
  label: string;
  /**
   * Round trips made by `prepare` itself, read after the pass: they are the harness's, not
   * the request's, and are taken out of the per-request figure.
   */
  harnessRoundTrips?: () => number;
}

/** What the gateway and this process have spent so far. */
export function readCounters(gateway: Gateway) {
  const { roundTrips, hits, misses, errors } = gateway.cache.stats;
  const cpu = process.cpuUsage();

  return {
    statements: gateway.database.statements.count,
    roundTrips,
    hits,
    misses,
    errors,
    cpuMs: (cpu.user + cpu.system) / 1_000,
  };
}

/** Drives `task` against `gateway` and divides what its counters moved by the requests. */
export async function measurePass(
  gateway: Gateway,
  task: (index: number) => Promise<void>,
  options: PassOptions,
): Promise<PassResult> {
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const before = readCounters(gateway);
  const result = await drive(task, options);
  const after = readCounters(gateway);
  loopDelay.disable();
  if (options.signal?.aborted) throw new Error(`Pass "${options.label}" was interrupted.`);

  const perRequest = (delta: number) => (result.completed > 0 ? delta / result.completed : 0);
  const harness = options.harnessRoundTrips?.() ?? 0;
  const hits = after.hits - before.hits;
  const lookups = hits + after.misses - before.misses;

  return {
    label: options.label,
    concurrency: Math.min(options.concurrency, options.requests),
    completed: result.completed,
    requestsPerSecond: result.completed / (result.elapsedMs / 1_000),
    p50Ms: percentile(result.latenciesMs, 50),
    p99Ms: percentile(result.latenciesMs, 99),
    statements: perRequest(after.statements - before.statements),
    roundTrips: perRequest(after.roundTrips - before.roundTrips - harness),
    hitRate: lookups > 0 ? hits / lookups : Number.NaN,
    cacheErrors: after.errors - before.errors,
    cpuMs: perRequest(after.cpuMs - before.cpuMs),
    // The histogram counts in nanoseconds.
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    failures: result.failures,
  };
}
