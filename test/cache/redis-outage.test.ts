import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createCache, type GatewayCache } from "../../src/cache/index.js";
import { captureLogger, LEVEL, type LogLine } from "./capture-logger.js";
import { freePort, PrivateRedis, startPrivateRedis } from "./redis-server.js";

/** The cache's timeout in this suite. */
const TIMEOUT_MS = 150;

/** Slack over TIMEOUT_MS for timers and a busy machine: a bound on hanging, not a benchmark. */
const BOUND_MS = TIMEOUT_MS + 250;

/** How long the cache may take to use Redis again once it is back. */
const RECOVERY_MS = 5_000;

const servers: PrivateRedis[] = [];
const caches: GatewayCache[] = [];

// Servers go in afterAll too, so a failing test never leaves one running.
afterEach(async () => {
  for (const cache of caches.splice(0)) await cache.close();
});
afterAll(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

async function track(server: Promise<PrivateRedis> | PrivateRedis): Promise<PrivateRedis> {
  servers.push(await server);
  return server;
}

async function cacheOn(server: PrivateRedis): Promise<{ cache: GatewayCache; lines: LogLine[] }> {
  const { logger, lines } = captureLogger();
  const cache = await createCache({
    redisUrl: server.url,
    timeoutMs: TIMEOUT_MS,
    ttlSeconds: 60,
    logger,
  });
  caches.push(cache);

  return { cache, lines };
}

/** Runs `work` and returns how long it took, in milliseconds. */
async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();

  return { value, ms: performance.now() - start };
}

/** Polls until `check` holds; returns how long it took. */
async function waitFor(check: () => boolean | Promise<boolean>, within: number): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > within)
      throw new Error(`Condition not met within ${within} ms.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return performance.now() - start;
}

const outageWarnings = (lines: LogLine[]) =>
  lines.filter((line) => line.level === LEVEL.warn && /unavailable/.test(line.msg));
const recoveries = (lines: LogLine[]) =>
  lines.filter((line) => line.level === LEVEL.info && /answers again/.test(line.msg));

/** Every kind of call, each timed; all must return, none may throw. */
async function timeEveryCall(cache: GatewayCache) {
  const view = cache.forTenant("acme");

  return {
    getMany: await timed(() => view.getMany("identity", "user", ["u1", "u2"])),
    setMany: await timed(() => view.setMany("identity", "user", [["u3", 3]])),
    delete: await timed(() => view.delete("identity", "user", ["u1"])),
    ping: await timed(() => cache.ping()),
    concurrent: await timed(() =>
      Promise.all(Array.from({ length: 50 }, () => view.getMany("identity", "user", ["u2"]))),
    ),
  };
}

describe("the redis cache when Redis fails", () => {
  it("answers every call as a miss or no-op within timeoutMs once Redis is killed", async ({
    annotate,
  }) => {
    const server = await track(startPrivateRedis());
    const { cache, lines } = await cacheOn(server);
    const view = cache.forTenant("acme");
    await view.setMany("identity", "user", [
      ["u1", 1],
      ["u2", 2],
    ]);
    expect(await view.getMany("identity", "user", ["u1", "u2"])).toEqual([1, 2]);

    await server.kill();
    const calls = await timeEveryCall(cache);
    const again = await timeEveryCall(cache);

    for (const { ms } of [...Object.values(calls), ...Object.values(again)]) {
      expect(ms).toBeLessThan(BOUND_MS);
    }
    expect(calls.getMany.value).toEqual([undefined, undefined]);
    expect(calls.ping.value).toBe(false);
    expect(cache.status()).toBe("down");
    expect(outageWarnings(lines)).toHaveLength(1);
    // The failed delete is the one warning per request: its entry may be stale later.
    expect(lines.filter((line) => /delete did not reach/.test(line.msg))).toHaveLength(2);
    await annotate(
      `Redis killed; call times in ms: ${summarize(calls)}; again: ${summarize(again)}`,
    );
  });

  it("uses Redis again, without a restart of the gateway, once it is back on the same port", async ({
    annotate,
  }) => {
    const server = await track(startPrivateRedis());
    const { cache, lines } = await cacheOn(server);
    const view = cache.forTenant("acme");
    await server.kill();
    await view.getMany("identity", "user", ["u1"]);
    expect(cache.status()).toBe("down");

    await server.start();
    const recoveredIn = await waitFor(() => cache.status() === "up", RECOVERY_MS);

    await view.setMany("identity", "user", [["u1", "after"]]);
    expect(await view.getMany("identity", "user", ["u1"])).toEqual(["after"]);
    expect(await cache.ping()).toBe(true);
    expect(outageWarnings(lines)).toHaveLength(1);
    expect(recoveries(lines)).toHaveLength(1);
    await annotate(`Redis restarted; status up after ${Math.round(recoveredIn)} ms`);
  });

  it("bounds every call by timeoutMs when Redis hangs, and recovers when it resumes", async ({
    annotate,
  }) => {
    const server = await track(startPrivateRedis());
    const { cache, lines } = await cacheOn(server);
    const view = cache.forTenant("acme");
    await view.setMany("identity", "user", [["u1", 1]]);

    server.signal("SIGSTOP");
    const calls = await timeEveryCall(cache);

    for (const { ms } of Object.values(calls)) expect(ms).toBeLessThan(BOUND_MS);
    expect(calls.getMany.value).toEqual([undefined, undefined]);
    expect(calls.ping.value).toBe(false);
    expect(cache.status()).toBe("down");
    expect(outageWarnings(lines)).toHaveLength(1);

    server.signal("SIGCONT");
    // Nothing reconnects here: the breaker's next probe finds Redis answering.
    const recoveredIn = await waitFor(async () => {
      await view.getMany("identity", "user", ["u1"]);
      return cache.status() === "up";
    }, RECOVERY_MS);
    expect(await view.getMany("identity", "user", ["u1"])).toEqual([1]);
    expect(recoveries(lines)).toHaveLength(1);
    await annotate(
      `Redis frozen; call times in ms: ${summarize(calls)}; up ${Math.round(recoveredIn)} ms after it resumed`,
    );
  });

  it("starts without waiting when Redis is down, and uses it once it comes up", async ({
    annotate,
  }) => {
    const server = new PrivateRedis(await freePort());
    await track(server);
    const { logger, lines } = captureLogger();

    const created = await timed(() =>
      createCache({ redisUrl: server.url, timeoutMs: TIMEOUT_MS, ttlSeconds: 60, logger }),
    );
    const cache = created.value;
    caches.push(cache);

    expect(created.ms).toBeLessThan(BOUND_MS);
    expect(cache.status()).toBe("down");
    expect(await cache.ping()).toBe(false);
    expect(await cache.forTenant("acme").getMany("identity", "user", ["u1"])).toEqual([undefined]);
    await expect(cache.clearTenant("acme")).rejects.toThrow(/down/);

    await server.start();
    const recoveredIn = await waitFor(() => cache.status() === "up", RECOVERY_MS);
    await cache.forTenant("acme").setMany("identity", "user", [["u1", 1]]);
    expect(await cache.forTenant("acme").getMany("identity", "user", ["u1"])).toEqual([1]);
    expect(outageWarnings(lines)).toHaveLength(1);
    await annotate(
      `Redis down at start; createCache took ${Math.round(created.ms)} ms, up ${Math.round(recoveredIn)} ms after Redis started`,
    );
  });
});

function summarize(calls: Record<string, { ms: number }>): string {
  return Object.entries(calls)
    .map(([name, { ms }]) => `${name} ${ms.toFixed(1)}`)
    .join(", ");
}
