/**
 * Settings of `npm run bench:tenants`, read once from the command line and the environment
 * before anything starts. A bad value stops the run with a message naming what to change.
 */
import { parseArgs } from "node:util";
import { BenchOptionsError, parseLogLevel, parseLoopbackUrl } from "./bench-options.js";
import { RUN_TAG } from "./tenant-fleet.js";

/** What one run of the scale benchmark uses. */
export interface TenantBenchOptions {
  /**
   * The control server (`DATABASE_URL`, default `postgresql://postgres@127.0.0.1:5432/test`),
   * which receives the run's `ogc_bench_<random>` control database; only its host, port and
   * credentials are used. Also the `primary` server of DATABASE tenants in region `local`.
   */
  readonly serverUrl: string;
  /**
   * The second server, `second` in region `eu` (`SECOND_DATABASE_URL`, default
   * `postgresql://postgres@127.0.0.1:5433/postgres`); it gets a scratch database as well.
   */
  readonly secondServerUrl: string;
  /** Redis for the gateway cache (`REDIS_URL`, default `redis://127.0.0.1:6379`). */
  readonly redisUrl: string;
  /** SHARED tenants (`--shared`, default 800). */
  readonly shared: number;
  /** SCHEMA tenants (`--schema`, default 150). */
  readonly schema: number;
  /** DATABASE tenants, half on each server (`--database`, default 50). */
  readonly database: number;
  /** Requests in flight at once (`--concurrency`, default 16). */
  readonly concurrency: number;
  /** Measured requests after the first touch of every tenant (`--requests`, default 10,000). */
  readonly requests: number;
  /** Longest measured load in seconds; it ends at whichever comes first (`--duration`, 120). */
  readonly durationSeconds: number;
  /** Tenants provisioned at once (`--provision-concurrency`, default 6). */
  readonly provisionConcurrency: number;
  /** Level of the gateways' logs on standard error (`BENCH_LOG_LEVEL`, default `silent`). */
  readonly logLevel: string;
  /**
   * Tag of an earlier run to remove instead of running (`--remove-run tb1a2b3c`): for a run
   * that could not clean up after itself (killed, or out of memory).
   */
  readonly removeRun: string | null;
}

export const TENANT_BENCH_USAGE = [
  "Usage: npm run bench:tenants -- [--shared 800] [--schema 150] [--database 50]",
  "         [--concurrency 16] [--requests 10000] [--duration 120] [--provision-concurrency 6]",
  "",
  "  --shared                 tenants in the shared tables",
  "  --schema                 tenants with a schema of their own",
  "  --database               tenants with a database of their own, half on each server",
  "  --concurrency            requests in flight at once",
  "  --requests               measured requests, round-robin over every tenant",
  "  --duration               longest measured load in seconds (the load ends at either)",
  "  --provision-concurrency  tenants provisioned at once",
  "  --remove-run TAG         only remove what the run TAG (printed at its start) left behind",
  "",
  "Environment: DATABASE_URL, SECOND_DATABASE_URL, REDIS_URL (loopback only), BENCH_LOG_LEVEL;",
  "DATABASE_POOL_MAX, TENANT_DATABASE_CONNECTIONS, CACHE_TIMEOUT_MS and",
  "CACHE_TTL_SECONDS reach the gateway under test.",
  "",
].join("\n");

/** `--help` was asked for: the caller prints {@link TENANT_BENCH_USAGE} and stops. */
export class HelpRequested extends Error {
  override name = "HelpRequested";
}

type Env = Readonly<Record<string, string | undefined>>;

const COUNT_FLAGS = {
  shared: { fallback: 800, min: 0, max: 10_000 },
  schema: { fallback: 150, min: 0, max: 2_000 },
  database: { fallback: 50, min: 0, max: 500 },
  concurrency: { fallback: 16, min: 1, max: 256 },
  requests: { fallback: 10_000, min: 1, max: 1_000_000 },
  duration: { fallback: 120, min: 1, max: 3_600 },
  "provision-concurrency": { fallback: 6, min: 1, max: 32 },
} as const;

type CountFlag = keyof typeof COUNT_FLAGS;

function parseFlag(values: Record<string, unknown>, flag: CountFlag): number {
  const { fallback, min, max } = COUNT_FLAGS[flag];
  const raw = values[flag];
  if (typeof raw !== "string") return fallback;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(value) || value < min || value > max) {
    throw new BenchOptionsError(
      `--${flag} must be a whole number from ${min} to ${max}, got "${raw}".`,
    );
  }

  return value;
}

/**
 * Reads the options from `argv` (the arguments after the script) and `env`. Throws
 * {@link BenchOptionsError} on a bad value and {@link HelpRequested} for `--help`.
 */
export function loadTenantBenchOptions(
  argv: readonly string[],
  env: Env = process.env,
): TenantBenchOptions {
  let values: Record<string, unknown>;
  try {
    const flags = Object.fromEntries(
      Object.keys(COUNT_FLAGS).map((flag) => [flag, { type: "string" as const }]),
    );
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...flags,
        "remove-run": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new BenchOptionsError(`${message}\n\n${TENANT_BENCH_USAGE}`);
  }
  if (values.help) throw new HelpRequested();
  const removeRun = typeof values["remove-run"] === "string" ? values["remove-run"] : null;
  if (removeRun !== null && !RUN_TAG.test(removeRun)) {
    throw new BenchOptionsError(
      `--remove-run takes a run tag like tb1a2b3c (printed at a run's start), got "${removeRun}".`,
    );
  }

  const tiers = {
    shared: parseFlag(values, "shared"),
    schema: parseFlag(values, "schema"),
    database: parseFlag(values, "database"),
  };
  if (tiers.shared + tiers.schema + tiers.database === 0) {
    throw new BenchOptionsError("Give at least one tenant (--shared, --schema or --database).");
  }
  const postgres = ["postgresql:", "postgres:"];

  return Object.freeze({
    serverUrl: parseLoopbackUrl(
      env,
      "DATABASE_URL",
      "postgresql://postgres@127.0.0.1:5432/test",
      postgres,
    ),
    secondServerUrl: parseLoopbackUrl(
      env,
      "SECOND_DATABASE_URL",
      "postgresql://postgres@127.0.0.1:5433/postgres",
      postgres,
    ),
    redisUrl: parseLoopbackUrl(env, "REDIS_URL", "redis://127.0.0.1:6379", ["redis:"]),
    ...tiers,
    concurrency: parseFlag(values, "concurrency"),
    requests: parseFlag(values, "requests"),
    durationSeconds: parseFlag(values, "duration"),
    provisionConcurrency: parseFlag(values, "provision-concurrency"),
    logLevel: parseLogLevel(env),
    removeRun,
  });
}
