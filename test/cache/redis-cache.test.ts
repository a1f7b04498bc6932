import { createClient } from "@keyv/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCache, type GatewayCache } from "../../src/cache/index.js";
import { TEST_REDIS_URL } from "../support/env.js";
import { describeCacheBehaviour } from "./behaviour-suite.js";
import { captureLogger } from "./capture-logger.js";
import { startPrivateRedis, type PrivateRedis } from "./redis-server.js";
import { uniqueTenantId } from "./tenant-ids.js";
import { scanKeys } from "../support/redis-keys.js";

type RedisClient = ReturnType<typeof createClient>;

describeCacheBehaviour("redis", ({ ttlSeconds, logger }) =>
  createCache({ redisUrl: TEST_REDIS_URL, timeoutMs: 2_000, ttlSeconds, logger }),
);

describe("the redis cache, seen from Redis", () => {
  const tenantId = uniqueTenantId("keys");
  let redis: RedisClient;
  let cache: GatewayCache;

  beforeAll(async () => {
    redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
    cache = await createCache({
      redisUrl: TEST_REDIS_URL,
      timeoutMs: 2_000,
      ttlSeconds: 120,
      logger: captureLogger().logger,
    });
  });

  afterAll(async () => {
    await cache.clearTenant(tenantId);
    await cache.close();
    await redis.close();
  });

  it("stores each entry under exactly ogc:{tenantId}:{service}:{entity}:{id}, as bare JSON", async () => {
    const users = cache.forTenant(tenantId);
    await users.setMany("identity", "user", [["u1", { name: "Ada" }]]);
    await users.getMany("identity", "user", ["u1"]);

    // No Keyv namespace ("keyv:", "keyv::", "ogc:acme::") may appear anywhere in the key.
    expect(await scanKeys(redis, `*${tenantId}*`)).toEqual([`ogc:${tenantId}:identity:user:u1`]);
    // Stored with its owner (the control plane's id; `local` by default).
    expect(await redis.get(`ogc:${tenantId}:identity:user:u1`)).toBe(
      '{"o":"local","v":{"name":"Ada"}}',
    );
  });

  it("gives each entry the TTL of ttlSeconds in Redis", async () => {
    await cache.forTenant(tenantId).setMany("identity", "user", [["ttl1", 1]]);

    const ttl = await redis.ttl(`ogc:${tenantId}:identity:user:ttl1`);

    expect(ttl).toBeGreaterThan(115);
    expect(ttl).toBeLessThanOrEqual(120);
  });
});

describe("the redis cache, one round trip per call", () => {
  // A private server, so MONITOR sees this test's commands and nobody else's.
  let server: PrivateRedis;
  let monitor: RedisClient;
  let cache: GatewayCache;
  const seen: string[] = [];

  beforeAll(async () => {
    server = await startPrivateRedis();
    monitor = createClient({ url: server.url });
    await monitor.connect();
    await monitor.monitor((line) => seen.push(line));
    cache = await createCache({
      redisUrl: server.url,
      timeoutMs: 2_000,
      ttlSeconds: 60,
      logger: captureLogger().logger,
    });
  });

  afterAll(async () => {
    await cache?.close();
    await monitor?.destroy();
    await server?.stop();
  });

  /** The commands Redis received while `work` ran, without timestamps and addresses. */
  async function commandsOf(work: () => Promise<unknown>): Promise<string[]> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    seen.length = 0;
    await work();
    await new Promise((resolve) => setTimeout(resolve, 50));

    return seen.map((line) => line.replace(/^[\d.]+ \[[^\]]*\] /, ""));
  }

  it("reads with one MGET, writes with one MULTI of SET PX, deletes with one MULTI of UNLINK", async () => {
    const view = cache.forTenant("acme");
    const before = cache.stats.roundTrips;

    const writes = await commandsOf(() =>
      view.setMany("identity", "user", [
        ["u1", 1],
        ["u2", 2],
      ]),
    );
    const reads = await commandsOf(() => view.getMany("identity", "user", ["u1", "u9", "u2"]));
    const deletes = await commandsOf(() => view.delete("identity", "user", ["u1", "u2"]));

    expect(writes).toEqual([
      '"MULTI"',
      '"SET" "ogc:acme:identity:user:u1" "{\\"o\\":\\"local\\",\\"v\\":1}" "PX" "60000"',
      '"SET" "ogc:acme:identity:user:u2" "{\\"o\\":\\"local\\",\\"v\\":2}" "PX" "60000"',
      '"EXEC"',
    ]);
    expect(reads).toEqual([
      '"MGET" "ogc:acme:identity:user:u1" "ogc:acme:identity:user:u9" "ogc:acme:identity:user:u2"',
    ]);
    expect(deletes).toEqual([
      '"MULTI"',
      '"UNLINK" "ogc:acme:identity:user:u1"',
      '"UNLINK" "ogc:acme:identity:user:u2"',
      '"EXEC"',
    ]);
    expect(cache.stats.roundTrips - before).toBe(3);
  });

  it("clears a tenant with SCAN and UNLINK, never KEYS", async () => {
    await cache.forTenant("acme").setMany("identity", "user", [["u1", 1]]);
    await cache.forTenant("acme-2").setMany("identity", "user", [["u1", 2]]);

    const commands = await commandsOf(() => cache.clearTenant("acme"));

    expect(commands).toEqual([
      '"SCAN" "0" "MATCH" "ogc:acme:*" "COUNT" "1000"',
      '"UNLINK" "ogc:acme:identity:user:u1"',
    ]);
    expect(await cache.forTenant("acme-2").getMany("identity", "user", ["u1"])).toEqual([2]);
  });
});
