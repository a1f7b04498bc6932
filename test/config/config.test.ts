import { describe, expect, it } from "vitest";
import { ConfigError, DEVELOPMENT_JWT_SECRET, loadConfig } from "../../src/config/index.js";

const KEY = Buffer.alloc(32, 3).toString("base64");

describe("loading the configuration", () => {
  it("runs with no variables at all on the embedded defaults", () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.baseDomain).toBe("localhost");
    expect(config.jwt.secret).toBe(DEVELOPMENT_JWT_SECRET);
    expect(config.jwt.usingDevelopmentSecret).toBe(true);
    expect(config.production).toBe(false);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("refuses to start in production on the development keys", () => {
    expect(() => loadConfig({ NODE_ENV: "production", ENCRYPTION_KEY: KEY })).toThrow(ConfigError);
    expect(() =>
      loadConfig({
        NODE_ENV: "production",
        JWT_SECRET: DEVELOPMENT_JWT_SECRET,
        ENCRYPTION_KEY: KEY,
      }),
    ).toThrow(/development key/);
    expect(() => loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(40) })).toThrow(
      /ENCRYPTION_KEY/,
    );
    expect(() =>
      loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(40), ENCRYPTION_KEY: KEY }),
    ).toThrow(/DATABASE_URL/);
  });

  it("accepts production with a real secret and key", () => {
    const config = loadConfig({
      NODE_ENV: "production",
      JWT_SECRET: "s".repeat(40),
      ENCRYPTION_KEY: KEY,
      DATABASE_URL: "postgresql://gateway@db.internal:5432/gateway",
      METRICS_TOKEN: "metrics-token-for-tests",
    });
    expect(config.production).toBe(true);
    expect(config.host).toBe("0.0.0.0");
    expect(config.encryptionKey.length).toBe(32);
    expect(config.metricsToken).toBe("metrics-token-for-tests");
  });

  it("refuses to start in production without METRICS_TOKEN: /metrics names every tenant", () => {
    const production = {
      NODE_ENV: "production",
      JWT_SECRET: "s".repeat(40),
      ENCRYPTION_KEY: KEY,
      DATABASE_URL: "postgresql://gateway@db.internal:5432/gateway",
    };
    expect(() => loadConfig(production)).toThrow(ConfigError);
    expect(() => loadConfig(production)).toThrow(/METRICS_TOKEN is required/);
    expect(() => loadConfig({ ...production, METRICS_TOKEN: "" })).toThrow(/METRICS_TOKEN/);
    // Tools that serve no /metrics (migrate, keys:rotate, token) do not need it.
    expect(loadConfig(production, { servesMetrics: false }).metricsToken).toBeUndefined();
    // Outside production /metrics may stay open.
    expect(loadConfig({}).metricsToken).toBeUndefined();
  });

  it("names the variable to change when a value is bad", () => {
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(/PORT/);
    expect(() => loadConfig({ PORT: "70000" })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ REDIS_URL: "not a url" })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ JWT_SECRET: "short" })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ ENCRYPTION_KEY: "c2hvcnQ=" })).toThrow(/ENCRYPTION_KEY/);
    expect(() => loadConfig({ BASE_DOMAIN: "bad domain" })).toThrow(/BASE_DOMAIN/);
  });
});

describe("seeding and metrics settings", () => {
  it("seeds the demo tenants in development and not in production unless asked", () => {
    const production = {
      NODE_ENV: "production",
      JWT_SECRET: "s".repeat(40),
      ENCRYPTION_KEY: KEY,
      DATABASE_URL: "postgresql://db/x",
      METRICS_TOKEN: "metrics-token-for-tests",
    };
    expect(loadConfig({}).seedDemo).toBe(true);
    expect(loadConfig({ SEED_DEMO: "false" }).seedDemo).toBe(false);
    expect(loadConfig(production).seedDemo).toBe(false);
    expect(loadConfig({ ...production, SEED_DEMO: "true" }).seedDemo).toBe(true);
    expect(() => loadConfig({ SEED_DEMO: "maybe" })).toThrow(/SEED_DEMO/);
  });
});

describe("telemetry settings", () => {
  it("flushes every 2 s and probes every 30 s unless told otherwise", () => {
    const config = loadConfig({});
    expect(config.telemetryFlushMs).toBe(2_000);
    expect(config.healthProbeMs).toBe(30_000);

    const tuned = loadConfig({ TELEMETRY_FLUSH_MS: "250", HEALTH_PROBE_MS: "0" });
    expect(tuned.telemetryFlushMs).toBe(250);
    expect(tuned.healthProbeMs).toBe(0);
  });

  it("names the variable when an interval is out of range", () => {
    expect(() => loadConfig({ TELEMETRY_FLUSH_MS: "0" })).toThrow(/TELEMETRY_FLUSH_MS/);
    expect(() => loadConfig({ HEALTH_PROBE_MS: "5" })).toThrow(/HEALTH_PROBE_MS must be 0/);
    expect(() => loadConfig({ HEALTH_PROBE_MS: "soon" })).toThrow(/HEALTH_PROBE_MS/);
  });
});

describe("tenant log settings", () => {
  it("writes a file per tenant under ./.data/tenant-logs unless told otherwise", () => {
    const config = loadConfig({});
    expect(config.tenantLogs).toBe("file");
    expect(config.tenantLogDir).toBe(".data/tenant-logs");

    const tuned = loadConfig({ TENANT_LOGS: "off", TENANT_LOG_DIR: "/var/log/ogc" });
    expect(tuned.tenantLogs).toBe("off");
    expect(tuned.tenantLogDir).toBe("/var/log/ogc");
  });

  it("names the variable when TENANT_LOGS is neither file nor off", () => {
    expect(() => loadConfig({ TENANT_LOGS: "syslog" })).toThrow(/TENANT_LOGS must be file or off/);
  });

  it("rotates a tenant's file at 256 MiB unless TENANT_LOG_MAX_BYTES says otherwise", () => {
    expect(loadConfig({}).tenantLogMaxBytes).toBe(256 * 1024 * 1024);
    expect(loadConfig({ TENANT_LOG_MAX_BYTES: "1048576" }).tenantLogMaxBytes).toBe(1_048_576);
    expect(() => loadConfig({ TENANT_LOG_MAX_BYTES: "100" })).toThrow(/TENANT_LOG_MAX_BYTES/);
    expect(() => loadConfig({ TENANT_LOG_MAX_BYTES: "lots" })).toThrow(/TENANT_LOG_MAX_BYTES/);
  });
});

describe("metrics settings", () => {
  it("lists extra operation names for metrics, trimmed and without repeats", () => {
    expect(loadConfig({}).metricsOperations).toEqual([]);
    expect(
      loadConfig({ METRICS_OPERATIONS: " NightlyReport, WeeklyDigest,NightlyReport " })
        .metricsOperations,
    ).toEqual(["NightlyReport", "WeeklyDigest"]);
  });

  it("refuses operation names that are not GraphQL names, reserved labels, or too many", () => {
    expect(() => loadConfig({ METRICS_OPERATIONS: "Good, not-a-name" })).toThrow(
      /METRICS_OPERATIONS .* entry 2 is "not-a-name"/,
    );
    expect(() => loadConfig({ METRICS_OPERATIONS: "A,,B" })).toThrow(/entry 2 is ""/);
    expect(() => loadConfig({ METRICS_OPERATIONS: "other" })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_OPERATIONS: "anonymous" })).toThrow(/METRICS_OPERATIONS/);
    const many = Array.from({ length: 101 }, (_, i) => `Op${i}`).join(",");
    expect(() => loadConfig({ METRICS_OPERATIONS: many })).toThrow(/at most 100 names, got 101/);
  });

  it("bounds how long a scrape waits for the control plane", () => {
    expect(loadConfig({}).metricsReadTimeoutMs).toBe(2_000);
    expect(loadConfig({ METRICS_READ_TIMEOUT_MS: "500" }).metricsReadTimeoutMs).toBe(500);
    expect(() => loadConfig({ METRICS_READ_TIMEOUT_MS: "0" })).toThrow(/METRICS_READ_TIMEOUT_MS/);
  });
});

describe("background job settings", () => {
  it("runs four jobs per process, one per tenant, three attempts from a one-second backoff", () => {
    expect(loadConfig({}).jobs).toEqual({
      concurrency: 4,
      perTenant: 1,
      attempts: 3,
      backoffMs: 1_000,
      lockMs: 30_000,
    });
    expect(
      loadConfig({
        JOB_CONCURRENCY: "8",
        JOBS_PER_TENANT: "2",
        JOB_ATTEMPTS: "5",
        JOB_BACKOFF_MS: "250",
        JOB_LOCK_MS: "1000",
      }).jobs,
    ).toEqual({ concurrency: 8, perTenant: 2, attempts: 5, backoffMs: 250, lockMs: 1_000 });
  });

  it("refuses settings that are not whole numbers in range, naming the variable", () => {
    expect(() => loadConfig({ JOB_CONCURRENCY: "0" })).toThrow(/JOB_CONCURRENCY must be/);
    expect(() => loadConfig({ JOBS_PER_TENANT: "1.5" })).toThrow(/JOBS_PER_TENANT must be/);
    expect(() => loadConfig({ JOB_ATTEMPTS: "many" })).toThrow(/JOB_ATTEMPTS must be/);
    expect(() => loadConfig({ JOB_BACKOFF_MS: "-1" })).toThrow(/JOB_BACKOFF_MS must be/);
    expect(() => loadConfig({ JOB_LOCK_MS: "100" })).toThrow(/JOB_LOCK_MS must be/);
  });
});
