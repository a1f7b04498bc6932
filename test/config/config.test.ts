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
    });
    expect(config.production).toBe(true);
    expect(config.host).toBe("0.0.0.0");
    expect(config.encryptionKey.length).toBe(32);
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
    };
    expect(loadConfig({}).seedDemo).toBe(true);
    expect(loadConfig({ SEED_DEMO: "false" }).seedDemo).toBe(false);
    expect(loadConfig(production).seedDemo).toBe(false);
    expect(loadConfig({ ...production, SEED_DEMO: "true" }).seedDemo).toBe(true);
    expect(() => loadConfig({ SEED_DEMO: "maybe" })).toThrow(/SEED_DEMO/);
  });
});
