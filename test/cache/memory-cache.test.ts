import { describe, expect, it } from "vitest";
import { createCache } from "../../src/cache/index.js";
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

  it("refuses options that are not whole numbers of at least 1", async () => {
    const logger = captureLogger().logger;

    await expect(createCache({ timeoutMs: 0, ttlSeconds: 60, logger })).rejects.toThrow(RangeError);
    await expect(createCache({ timeoutMs: 100, ttlSeconds: 1.5, logger })).rejects.toThrow(
      /ttlSeconds/,
    );
  });
});
