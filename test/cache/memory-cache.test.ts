import { describe, expect, it } from "vitest";
import { createCache } from "../../src/cache/index.js";
import { MEMORY_MAX_ENTRIES, MemoryStore } from "../../src/cache/memory-store.js";
import { describeCacheBehaviour } from "./behaviour-suite.js";
import { captureLogger } from "./capture-logger.js";

describeCacheBehaviour("memory", ({ ttlSeconds, logger }) =>
  createCache({ timeoutMs: 1_000, ttlSeconds, logger }),
);

describe("the memory cache", () => {
  it("is a separate store per cache: one process's entries are not another's", async () => {
    const options = { timeoutMs: 100, ttlSeconds: 60, logger: captureLogger().logger };
    const first = await createCache(options);
    const second = await createCache(options);

    await first.forTenant("acme").setMany("identity", "user", [["u1", 1]]);

    expect(await second.forTenant("acme").getMany("identity", "user", ["u1"])).toEqual([undefined]);
    await first.close();
    await second.close();
  });

  it("holds at most MEMORY_MAX_ENTRIES entries, dropping the oldest written first", async () => {
    const store = new MemoryStore();
    const entries = Array.from({ length: MEMORY_MAX_ENTRIES + 1 }, (_, index) => ({
      key: `k${index}`,
      value: String(index),
      ttl: 60_000,
    }));

    await store.setMany(entries);

    expect(store.keysWithPrefix("k")).toHaveLength(MEMORY_MAX_ENTRIES);
    expect(await store.getMany(["k0", "k1", `k${MEMORY_MAX_ENTRIES}`])).toEqual([
      undefined,
      "1",
      String(MEMORY_MAX_ENTRIES),
    ]);
  });

  it("refuses a redisUrl that is empty or not redis:// before connecting anywhere", async () => {
    const logger = captureLogger().logger;

    for (const redisUrl of ["", "http://127.0.0.1:6379", "127.0.0.1:6379"]) {
      await expect(
        createCache({ redisUrl, timeoutMs: 100, ttlSeconds: 60, logger }),
      ).rejects.toThrow(TypeError);
    }
  });

  it("refuses options that are not whole numbers of at least 1", async () => {
    const logger = captureLogger().logger;

    await expect(createCache({ timeoutMs: 0, ttlSeconds: 60, logger })).rejects.toThrow(RangeError);
    await expect(createCache({ timeoutMs: 100, ttlSeconds: 1.5, logger })).rejects.toThrow(
      /ttlSeconds/,
    );
  });
});
