import {
  DatabaseServerConfigError,
  parseDatabaseServers,
  type DatabaseServer,
} from "../data/placement/database-servers.js";
import {
  ANONYMOUS_OPERATION,
  MAX_EXTRA_OPERATIONS,
  OTHER_OPERATION,
} from "../observability/known-operations.js";

/**
 * Gateway configuration, parsed and checked once at start.
 *
 * Every setting comes from the environment (see the README's table). A bad
 * value stops the start with a message that names the variable to change.
 */

/** The development JWT key; refused when `NODE_ENV=production`. */
export const DEVELOPMENT_JWT_SECRET = "newfinity-development-secret-do-not-use-in-production";

/** The development master key (32 bytes, base64); refused in production. */
export const DEVELOPMENT_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString("base64");

const DEVELOPMENT_KEY_BYTES = Buffer.from(DEVELOPMENT_ENCRYPTION_KEY, "base64");

export interface GatewayConfig {
  readonly port: number;
  /** Interface to listen on: loopback in development, all in production. */
  readonly host: string;
  readonly production: boolean;
  /** Control-plane PostgreSQL; `undefined` means the embedded PGlite. */
  readonly databaseUrl: string | undefined;
  /** Login of the tenant role `ogc_app`; default: DATABASE_URL as that user. */
  readonly tenantDatabaseUrl: string | undefined;
  /** Directory of the embedded PGlite data (default `./.data/pglite`). */
  readonly dataDir: string;
  /** Redis for the cache; `undefined` means an in-memory cache. */
  readonly redisUrl: string | undefined;
  readonly jwt: {
    readonly secret: string;
    readonly usingDevelopmentSecret: boolean;
    readonly jwksUrl: string | undefined;
    readonly issuer: string | undefined;
    readonly audience: string | undefined;
  };
  readonly baseDomain: string;
  /** Master key that wraps tenant data keys (`ENCRYPTION_KEY`). */
  readonly encryptionKey: Buffer;
  readonly usingDevelopmentEncryptionKey: boolean;
  /** Earlier master keys, which only unwrap keys not yet rotated (`ENCRYPTION_KEY_PREVIOUS`). */
  readonly previousEncryptionKeys: readonly Buffer[];
  /** Longest wait for one cache call before it counts as a miss (ms, default 500). */
  readonly cacheTimeoutMs: number;
  /** Seconds a cached entity lives. */
  readonly cacheTtlSeconds: number;
  /** Connections in the control-plane pool. */
  readonly databasePoolMax: number;
  readonly logLevel: string;
  /** Deepest field nesting an operation may have (default 12). */
  readonly queryMaxDepth: number;
  /** Most lexical tokens a GraphQL document may have (default 5,000). */
  readonly queryMaxTokens: number;
  /** Seed the demo tenants on start (default: yes, except in production). */
  readonly seedDemo: boolean;
  /** Bearer token `/metrics` requires; production refuses to start without one. */
  readonly metricsToken: string | undefined;
  /** Operation names with metric series of their own, besides the built-in ones. */
  readonly metricsOperations: readonly string[];
  /** Longest a `/metrics` scrape waits for the control plane's figures (ms, default 2,000). */
  readonly metricsReadTimeoutMs: number;
  /** Highest estimated cost (objects resolved) of one operation (default 50,000). */
  readonly queryMaxCost: number;
  /** Region of the control database, home of SHARED and SCHEMA tenants (default `local`). */
  readonly region: string;
  /** Servers for DATABASE tenants (`DATABASE_SERVERS`; default: the control server). */
  readonly databaseServers: readonly DatabaseServer[];
  /** Connections all tenant databases may hold together (default 8). */
  readonly tenantDatabaseConnections: number;
  /** How long a write waits while its tenant is being moved (ms, default 10,000). */
  readonly tenantWriteWaitMs: number;
  /** Root of the default storage bucket and of dedicated ones (default `./.data/storage`). */
  readonly storageDir: string;
  /** Where tenant export archives are written and imported from (default `./.data/exports`). */
  readonly exportDir: string;
  /** Where each tenant's log lines also go: `file` (a file per tenant, the default) or `off`. */
  readonly tenantLogs: TenantLogsMode;
  /** Directory of the per-tenant log files, `<tenantId>.log` each (default `./.data/tenant-logs`). */
  readonly tenantLogDir: string;
  /**
   * Size a tenant's log file may reach before it is rotated once to
   * `<tenantId>.log.1`, replacing the older one (`TENANT_LOG_MAX_BYTES`, default 256 MiB).
   */
  readonly tenantLogMaxBytes: number;
  /**
   * How long a process reuses a tenant's record and configuration and the
   * feature flags (ms, default 5,000). Changes reach every process at once
   * through Redis; this bounds staleness only when such a message is lost.
   */
  readonly configCacheTtlMs: number;
  /** Seconds a signed storage upload or download URL stays valid (default 300). */
  readonly storageUrlTtlSeconds: number;
  /** Base URL clients reach the gateway at; signed storage URLs start with it (default: relative). */
  readonly publicUrl: string | undefined;
  /** Enforce each tenant's request and query-cost limits (`RATE_LIMITS`, default true). */
  readonly rateLimits: boolean;
  /** Longest wait for a rate-limit call to Redis before counting in process (ms, default 200). */
  readonly rateLimitTimeoutMs: number;
  /** Between two writes of the counted usage, errors and probes (ms, default 2,000). */
  readonly telemetryFlushMs: number;
  /** Between two health probes of every active tenant (ms, default 30,000); 0 turns them off. */
  readonly healthProbeMs: number;
  /** Background jobs: concurrency, retries and crash recovery (`JOB_*`). */
  readonly jobs: JobSettings;
}

/** How background jobs (provision, move, export, migrate) run. */
export interface JobSettings {
  /** Jobs one gateway process runs at once (`JOB_CONCURRENCY`, default 4). */
  readonly concurrency: number;
  /** Jobs of one tenant running at once across all processes (`JOBS_PER_TENANT`, default 1). */
  readonly perTenant: number;
  /** Runs a queued job gets before it fails for good (`JOB_ATTEMPTS`, default 3). */
  readonly attempts: number;
  /** Wait before the first retry, doubled for each next one (`JOB_BACKOFF_MS`, default 1,000). */
  readonly backoffMs: number;
  /**
   * How long a running job's lock lasts unless its process renews it
   * (`JOB_LOCK_MS`, default 30,000): a process that dies leaves its job to
   * another process within 1.5 times this (see queueTimings in queue-runner.ts).
   */
  readonly lockMs: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Readonly<Record<string, string | undefined>>;

function parseInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}".`);
  }

  return value;
}

function parseBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}".`);
}

function parseUrl(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      `${name} is not a URL. Expected something like ${protocols[0]}//host:port.`,
    );
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(" or ")}, got "${url.protocol}".`);
  }

  return raw;
}

function parseEncryptionKey(env: Env, production: boolean): { key: Buffer; development: boolean } {
  const raw = env.ENCRYPTION_KEY;
  if (raw === undefined || raw === "") {
    if (production) {
      throw new ConfigError(
        "ENCRYPTION_KEY is required when NODE_ENV=production (32 bytes, base64).",
      );
    }
    return { key: Buffer.from(DEVELOPMENT_KEY_BYTES), development: true };
  }
  const key = Buffer.from(raw, "base64");
  if (key.length !== 32) {
    throw new ConfigError(`ENCRYPTION_KEY must be 32 bytes in base64, got ${key.length} bytes.`);
  }
  if (production && key.equals(DEVELOPMENT_KEY_BYTES)) {
    throw new ConfigError("ENCRYPTION_KEY is the development key; set a real one in production.");
  }

  return { key, development: false };
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * `ENCRYPTION_KEY_PREVIOUS`: comma-separated master keys a rotation moves
 * away from. Each must be 32 bytes in base64; the development key is
 * refused in production, like everywhere else.
 */
function parsePreviousKeys(env: Env, production: boolean): Buffer[] {
  const raw = env.ENCRYPTION_KEY_PREVIOUS;
  if (raw === undefined || raw.trim() === "") return [];

  return raw.split(",").map((entry, index) => {
    const text = entry.trim();
    const key = Buffer.from(text, "base64");
    if (!BASE64.test(text) || key.length !== 32) {
      const found =
        text === "" ? "empty" : BASE64.test(text) ? `${key.length} bytes` : "not base64";
      throw new ConfigError(
        `ENCRYPTION_KEY_PREVIOUS must list 32-byte base64 keys separated by commas; entry ${index + 1} is ${found}.`,
      );
    }
    if (production && key.equals(DEVELOPMENT_KEY_BYTES)) {
      throw new ConfigError(
        `ENCRYPTION_KEY_PREVIOUS entry ${index + 1} is the development key; it is public and refused in production.`,
      );
    }

    return key;
  });
}

/** Where tenant log lines go besides standard output (`TENANT_LOGS`). */
export type TenantLogsMode = "file" | "off";

function parseTenantLogs(env: Env): TenantLogsMode {
  const raw = (env.TENANT_LOGS ?? "").trim().toLowerCase();
  if (raw === "") return "file";
  if (raw === "file" || raw === "off") return raw;
  throw new ConfigError(`TENANT_LOGS must be file or off, got "${env.TENANT_LOGS}".`);
}

/** `PUBLIC_URL` without a trailing slash; a base has no query or fragment to append to. */
function parsePublicUrl(env: Env): string | undefined {
  const raw = parseUrl(env, "PUBLIC_URL", ["https:", "http:"]);
  if (raw === undefined) return undefined;
  const url = new URL(raw);
  if (url.search || url.hash || url.username || url.password) {
    throw new ConfigError(
      `PUBLIC_URL must be a plain base URL like https://api.example.com, got "${raw}".`,
    );
  }

  return url.toString().replace(/\/+$/, "");
}

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/**
 * `METRICS_OPERATIONS`: comma-separated GraphQL operation names that get
 * metric series of their own. Bounded, since each name multiplies series.
 */
function parseOperationNames(env: Env): string[] {
  const raw = env.METRICS_OPERATIONS;
  if (raw === undefined || raw.trim() === "") return [];

  const names = raw.split(",").map((entry) => entry.trim());
  names.forEach((name, index) => {
    if (!GRAPHQL_NAME.test(name)) {
      throw new ConfigError(
        `METRICS_OPERATIONS must list GraphQL operation names separated by commas; entry ${index + 1} is "${name}".`,
      );
    }
    if (name === ANONYMOUS_OPERATION || name === OTHER_OPERATION) {
      throw new ConfigError(
        `METRICS_OPERATIONS cannot list "${name}": it is the label of ${name === OTHER_OPERATION ? "unlisted" : "unnamed"} operations.`,
      );
    }
  });
  if (names.length > MAX_EXTRA_OPERATIONS) {
    throw new ConfigError(
      `METRICS_OPERATIONS may list at most ${MAX_EXTRA_OPERATIONS} names, got ${names.length}.`,
    );
  }

  return [...new Set(names)];
}

/** `HEALTH_PROBE_MS`: 0 turns probes off; anything else is an interval of at least 100 ms. */
function parseProbeInterval(env: Env): number {
  const value = parseInteger(env, "HEALTH_PROBE_MS", 30_000, 0, 3_600_000);
  if (value > 0 && value < 100) {
    throw new ConfigError(
      `HEALTH_PROBE_MS must be 0 (probes off) or from 100 to 3600000, got "${env.HEALTH_PROBE_MS}".`,
    );
  }

  return value;
}

/** Reads the configuration from `env`; throws {@link ConfigError} on a bad value. */
export interface LoadConfigOptions {
  /**
   * Whether the process verifies tokens (default true). Maintenance tools
   * (migrate, keys:rotate, tenant archives) never do, so production does
   * not ask them for JWT settings they would not use.
   */
  readonly verifiesTokens?: boolean;
  /**
   * Whether the process serves `/metrics` (default true). Maintenance tools
   * and the token script serve nothing, so production does not ask them
   * for `METRICS_TOKEN`.
   */
  readonly servesMetrics?: boolean;
}

export function loadConfig(env: Env = process.env, options: LoadConfigOptions = {}): GatewayConfig {
  const production = env.NODE_ENV === "production";
  const verifiesTokens = options.verifiesTokens ?? true;
  const servesMetrics = options.servesMetrics ?? true;

  const secret = env.JWT_SECRET;
  const jwksUrl = parseUrl(env, "JWKS_URL", ["https:", "http:"]);
  if (production && verifiesTokens && !secret && !jwksUrl) {
    throw new ConfigError("Set JWKS_URL (or JWT_SECRET) when NODE_ENV=production.");
  }
  if (production && secret === DEVELOPMENT_JWT_SECRET) {
    throw new ConfigError("JWT_SECRET is the development key; set a real one in production.");
  }
  if (secret !== undefined && secret !== "" && secret.length < 32) {
    throw new ConfigError("JWT_SECRET must be at least 32 characters long.");
  }

  const baseDomain = (env.BASE_DOMAIN ?? "localhost").trim().toLowerCase();
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(baseDomain)) {
    throw new ConfigError(`BASE_DOMAIN must be a host name like example.com, got "${baseDomain}".`);
  }

  const encryption = parseEncryptionKey(env, production);
  if (production && !env.DATABASE_URL) {
    throw new ConfigError(
      "DATABASE_URL is required when NODE_ENV=production; the embedded database is for development.",
    );
  }

  const metricsToken = env.METRICS_TOKEN || undefined;
  if (production && servesMetrics && !metricsToken) {
    throw new ConfigError(
      "METRICS_TOKEN is required when NODE_ENV=production: /metrics names every tenant.",
    );
  }

  const region = (env.REGION || "local").trim();
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(region)) {
    throw new ConfigError(`REGION must be a short lowercase label like eu-west, got "${region}".`);
  }
  const databaseUrl = parseUrl(env, "DATABASE_URL", ["postgresql:", "postgres:"]);
  let databaseServers: DatabaseServer[];
  try {
    databaseServers = parseDatabaseServers(env.DATABASE_SERVERS, databaseUrl, region);
  } catch (error) {
    if (error instanceof DatabaseServerConfigError) throw new ConfigError(error.message);
    throw error;
  }
  if (!databaseUrl && env.DATABASE_SERVERS) {
    throw new ConfigError(
      "DATABASE_SERVERS needs DATABASE_URL: the embedded database hosts no DATABASE tenants.",
    );
  }

  return Object.freeze({
    port: parseInteger(env, "PORT", 4000, 0, 65535),
    host: env.HOST || (production ? "0.0.0.0" : "127.0.0.1"),
    production,
    databaseUrl,
    tenantDatabaseUrl: parseUrl(env, "TENANT_DATABASE_URL", ["postgresql:", "postgres:"]),
    dataDir: env.DATA_DIR || ".data/pglite",
    redisUrl: parseUrl(env, "REDIS_URL", ["redis:", "rediss:"]),
    jwt: Object.freeze({
      secret: secret || DEVELOPMENT_JWT_SECRET,
      usingDevelopmentSecret: !secret,
      jwksUrl,
      issuer: env.JWT_ISSUER || undefined,
      audience: env.JWT_AUDIENCE || undefined,
    }),
    baseDomain,
    encryptionKey: encryption.key,
    usingDevelopmentEncryptionKey: encryption.development,
    previousEncryptionKeys: Object.freeze(parsePreviousKeys(env, production)),
    cacheTimeoutMs: parseInteger(env, "CACHE_TIMEOUT_MS", 500, 1, 10_000),
    cacheTtlSeconds: parseInteger(env, "CACHE_TTL_SECONDS", 300, 1, 86_400),
    databasePoolMax: parseInteger(env, "DATABASE_POOL_MAX", 10, 1, 500),
    logLevel: env.LOG_LEVEL || "info",
    seedDemo: parseBoolean(env, "SEED_DEMO", !production),
    metricsToken,
    metricsOperations: Object.freeze(parseOperationNames(env)),
    metricsReadTimeoutMs: parseInteger(env, "METRICS_READ_TIMEOUT_MS", 2_000, 50, 60_000),
    queryMaxDepth: parseInteger(env, "QUERY_MAX_DEPTH", 12, 2, 100),
    queryMaxTokens: parseInteger(env, "QUERY_MAX_TOKENS", 5_000, 100, 1_000_000),
    queryMaxCost: parseInteger(env, "QUERY_MAX_COST", 50_000, 10, 100_000_000),
    region,
    databaseServers: Object.freeze(databaseServers),
    tenantDatabaseConnections: parseInteger(env, "TENANT_DATABASE_CONNECTIONS", 8, 1, 1_000),
    tenantWriteWaitMs: parseInteger(env, "TENANT_WRITE_WAIT_MS", 10_000, 0, 600_000),
    storageDir: env.STORAGE_DIR || ".data/storage",
    exportDir: env.EXPORT_DIR || ".data/exports",
    tenantLogs: parseTenantLogs(env),
    tenantLogDir: env.TENANT_LOG_DIR || ".data/tenant-logs",
    tenantLogMaxBytes: parseInteger(
      env,
      "TENANT_LOG_MAX_BYTES",
      256 * 1024 * 1024,
      64 * 1024,
      Number.MAX_SAFE_INTEGER,
    ),
    configCacheTtlMs: parseInteger(env, "CONFIG_CACHE_TTL_MS", 5_000, 0, 3_600_000),
    storageUrlTtlSeconds: parseInteger(env, "STORAGE_URL_TTL_SECONDS", 300, 10, 3_600),
    publicUrl: parsePublicUrl(env),
    rateLimits: parseBoolean(env, "RATE_LIMITS", true),
    rateLimitTimeoutMs: parseInteger(env, "RATE_LIMIT_TIMEOUT_MS", 200, 1, 10_000),
    telemetryFlushMs: parseInteger(env, "TELEMETRY_FLUSH_MS", 2_000, 10, 600_000),
    healthProbeMs: parseProbeInterval(env),
    jobs: Object.freeze({
      concurrency: parseInteger(env, "JOB_CONCURRENCY", 4, 1, 100),
      perTenant: parseInteger(env, "JOBS_PER_TENANT", 1, 1, 100),
      attempts: parseInteger(env, "JOB_ATTEMPTS", 3, 1, 100),
      backoffMs: parseInteger(env, "JOB_BACKOFF_MS", 1_000, 0, 3_600_000),
      lockMs: parseInteger(env, "JOB_LOCK_MS", 30_000, 500, 3_600_000),
    }),
  });
}
