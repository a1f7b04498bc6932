/**
 * Settings of `npm run bench`, read once from the environment before anything starts. A bad
 * value stops the run with a message that names the variable to change.
 */

/** What one run of the benchmark uses. */
export interface BenchOptions {
  /**
   * PostgreSQL server that receives the throwaway `ogc_bench_<random>` database
   * (`DATABASE_URL`, default `postgresql://postgres@127.0.0.1:5432/test`). Only its host,
   * port and credentials are used; the named database is left alone.
   */
  readonly serverUrl: string;
  /** Redis for the gateway cache (`REDIS_URL`, default `redis://127.0.0.1:6379`). */
  readonly redisUrl: string;
  /** Requests in flight at once in the concurrent passes (`BENCH_CONCURRENCY`, default 16). */
  readonly concurrency: number;
  /** Measured requests in every pass (`BENCH_REQUESTS`, default 400). */
  readonly requests: number;
  /**
   * Measured requests of the naive pass (`BENCH_NAIVE_REQUESTS`, default 40): each
   * costs thousands of statements, and 400 of them took 25 minutes.
   */
  readonly naiveRequests: number;
  /** Unmeasured requests before a gateway's passes (`BENCH_WARMUP`, default 20). */
  readonly warmup: number;
  /**
   * Level of the gateways' logs, written to standard error (`BENCH_LOG_LEVEL`, default
   * `silent`, so logging costs nothing). Set `error` to see what an internal error hid.
   */
  readonly logLevel: string;
}

export class BenchOptionsError extends Error {
  override name = "BenchOptionsError";
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ["silent", "fatal", "error", "warn", "info", "debug", "trace"];

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

function parseCount(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new BenchOptionsError(`${name} must be a whole number from 1 to ${max}, got "${raw}".`);
  }

  return value;
}

/**
 * The benchmark creates and drops a database and reads latencies as the gateway's own cost,
 * so both servers must be on this machine: a remote server would measure the network.
 */
export function parseLoopbackUrl(
  env: Env,
  name: string,
  fallback: string,
  protocols: string[],
): string {
  const raw = env[name] || fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BenchOptionsError(`${name} is not a URL; expected something like ${fallback}.`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new BenchOptionsError(
      `${name} must use ${protocols.join(" or ")}, got "${url.protocol}".`,
    );
  }
  if (!LOOPBACK_HOSTS.has(url.hostname)) {
    throw new BenchOptionsError(
      `${name} must point at this machine (127.0.0.1, localhost or ::1), got "${url.hostname}".`,
    );
  }

  return raw;
}

/** `BENCH_LOG_LEVEL`, default `silent`. */
export function parseLogLevel(env: Env): string {
  const level = env.BENCH_LOG_LEVEL || "silent";
  if (!LOG_LEVELS.includes(level)) {
    throw new BenchOptionsError(
      `BENCH_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${level}".`,
    );
  }

  return level;
}

/** Reads the options from `env`; throws {@link BenchOptionsError} on a bad value. */
export function loadBenchOptions(env: Env = process.env): BenchOptions {
  return Object.freeze({
    serverUrl: parseLoopbackUrl(env, "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test", [
      "postgresql:",
      "postgres:",
    ]),
    redisUrl: parseLoopbackUrl(env, "REDIS_URL", "redis://127.0.0.1:6379", ["redis:"]),
    concurrency: parseCount(env, "BENCH_CONCURRENCY", 16, 256),
    requests: parseCount(env, "BENCH_REQUESTS", 400, 100_000),
    naiveRequests: parseCount(env, "BENCH_NAIVE_REQUESTS", 40, 100_000),
    warmup: parseCount(env, "BENCH_WARMUP", 20, 10_000),
    logLevel: parseLogLevel(env),
  });
}
