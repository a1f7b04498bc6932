import { afterAll, describe, expect, it } from "vitest";
import type { GatewayCache } from "../../src/cache/index.js";
import { captureLogger, LEVEL, type LogLine } from "./capture-logger.js";
import { uniqueTenantId } from "./tenant-ids.js";

/** Makes a cache of the backend under test; the suite closes it. */
export type MakeCache = (options: {
  ttlSeconds: number;
  logger: ReturnType<typeof captureLogger>["logger"];
}) => Promise<GatewayCache>;

interface User {
  id: string;
  name: string;
}

const user = (id: string, name = `User ${id}`): User => ({ id, name });

/**
 * What every backend must do alike. Run once per backend, so the memory store can stand
 * in for Redis in development without surprises.
 */
export function describeCacheBehaviour(backend: "redis" | "memory", makeCache: MakeCache): void {
  describe(`the ${backend} cache`, () => {
    const caches: GatewayCache[] = [];
    const tenants: string[] = [];

    /** A fresh cache and logger; each tenant id is unique to this run and cleared after. */
    async function setUp(ttlSeconds = 60): Promise<{ cache: GatewayCache; lines: LogLine[] }> {
      const { logger, lines } = captureLogger();
      const cache = await makeCache({ ttlSeconds, logger });
      caches.push(cache);
      expect(cache.backend).toBe(backend);

      return { cache, lines };
    }

    function tenant(label: string): string {
      const id = uniqueTenantId(label);
      tenants.push(id);

      return id;
    }

    afterAll(async () => {
      // The memory store dies with its cache; Redis keeps keys, so clear every tenant.
      const cleaner = await makeCache({ ttlSeconds: 60, logger: captureLogger().logger });
      for (const id of tenants) await cleaner.clearTenant(id);
      for (const cache of [...caches, cleaner]) await cache.close();
    });

    describe("reading and writing", () => {
      it("returns values in the order asked, with undefined for each miss", async () => {
        const { cache } = await setUp();
        const users = cache.forTenant(tenant("order"));

        await users.setMany("identity", "user", [
          ["u1", user("u1")],
          ["u3", user("u3")],
        ]);
        const found = await users.getMany<User>("identity", "user", ["u3", "u2", "u1", "u4"]);

        expect(found).toEqual([user("u3"), undefined, user("u1"), undefined]);
      });

      it("keeps the same id under another service or entity apart", async () => {
        const { cache } = await setUp();
        const view = cache.forTenant(tenant("kinds"));

        await view.setMany("identity", "user", [["x1", "a user"]]);
        await view.setMany("identity", "role", [["x1", "a role"]]);

        expect(await view.getMany("identity", "user", ["x1"])).toEqual(["a user"]);
        expect(await view.getMany("identity", "role", ["x1"])).toEqual(["a role"]);
        expect(await view.getMany("billing", "user", ["x1"])).toEqual([undefined]);
      });

      it("passes values through JSON: dates come back as strings, null stays a value", async () => {
        const { cache } = await setUp();
        const view = cache.forTenant(tenant("json"));
        const at = new Date("2030-01-02T03:04:05.678Z");
        const stored = { at, tags: ["a"] };

        await view.setMany("identity", "user", [
          ["d1", stored],
          ["n1", null],
        ]);
        stored.tags.push("changed after the write");
        const [dated, nothing] = await view.getMany("identity", "user", ["d1", "n1"]);

        expect(dated).toEqual({ at: "2030-01-02T03:04:05.678Z", tags: ["a"] });
        expect(nothing).toBeNull();
      });

      it("skips values JSON cannot represent, writes the rest and warns once", async () => {
        const { cache, lines } = await setUp();
        const view = cache.forTenant(tenant("unjson"));

        await view.setMany<unknown>("identity", "user", [
          ["ok", 1],
          ["big", 10n],
          ["none", undefined],
        ]);

        expect(await view.getMany("identity", "user", ["ok", "big", "none"])).toEqual([
          1,
          undefined,
          undefined,
        ]);
        const warnings = lines.filter((line) => line.level === LEVEL.warn);
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatchObject({ entries: { count: 2, ids: ["big", "none"] } });
      });

      it("rejects malformed key parts with a TypeError and writes nothing", async () => {
        const { cache } = await setUp();
        const view = cache.forTenant(tenant("badkey"));

        await expect(
          view.setMany("identity", "user", [
            ["fine", 1],
            ["a:b", 2],
          ]),
        ).rejects.toThrow(TypeError);
        await expect(view.getMany("identity", "user", ["with space"])).rejects.toThrow(TypeError);
        await expect(view.delete("", "user", ["fine"])).rejects.toThrow(TypeError);
        expect(await view.getMany("identity", "user", ["fine"])).toEqual([undefined]);
      });

      it("refuses tenant ids outside the contract's pattern", async () => {
        const { cache } = await setUp();

        for (const bad of ["", "*", "acme:evil", "Acme", "a", "acme-", "ac me", "acme*"]) {
          expect(() => cache.forTenant(bad)).toThrow(TypeError);
          await expect(cache.clearTenant(bad)).rejects.toThrow(TypeError);
        }
      });
    });

    describe("tenant isolation", () => {
      it("never shows one tenant the values of another under the same ids", async () => {
        const { cache } = await setUp();
        const acme = cache.forTenant(tenant("acme"));
        const globex = cache.forTenant(tenant("globex"));

        await acme.setMany("identity", "user", [["u1", user("u1", "Acme's")]]);
        await globex.setMany("identity", "user", [["u1", user("u1", "Globex's")]]);
        await globex.delete("identity", "user", ["u1"]);

        expect(await acme.getMany("identity", "user", ["u1"])).toEqual([user("u1", "Acme's")]);
        expect(await globex.getMany("identity", "user", ["u1"])).toEqual([undefined]);
      });

      it("clearTenant removes one tenant's entries and leaves a tenant whose id extends it", async () => {
        const { cache } = await setUp();
        const cleared = tenant("p");
        const longer = `${cleared}-2`;
        const other = tenant("other");
        tenants.push(longer);
        for (const id of [cleared, longer, other]) {
          await cache.forTenant(id).setMany("identity", "user", [
            ["u1", id],
            ["u2", id],
          ]);
        }
        await cache.forTenant(cleared).setMany("catalog", "course", [["c1", cleared]]);

        expect(await cache.clearTenant(cleared)).toBe(3);

        const read = (id: string) => cache.forTenant(id).getMany("identity", "user", ["u1", "u2"]);
        expect(await read(cleared)).toEqual([undefined, undefined]);
        expect(await read(longer)).toEqual([longer, longer]);
        expect(await read(other)).toEqual([other, other]);
        expect(await cache.clearTenant(cleared)).toBe(0);
      });
    });

    describe("invalidation and expiry", () => {
      it("delete makes the next read a miss and leaves other ids alone", async () => {
        const { cache, lines } = await setUp();
        const view = cache.forTenant(tenant("del"));
        await view.setMany("identity", "user", [
          ["u1", 1],
          ["u2", 2],
        ]);

        await view.delete("identity", "user", ["u1", "never-written"]);

        expect(await view.getMany("identity", "user", ["u1", "u2"])).toEqual([undefined, 2]);
        expect(lines.filter((line) => line.level >= LEVEL.warn)).toEqual([]);
      });

      it("forgets entries once ttlSeconds have passed", async () => {
        const { cache } = await setUp(1);
        const view = cache.forTenant(tenant("ttl"));
        await view.setMany("identity", "user", [["u1", 1]]);
        expect(await view.getMany("identity", "user", ["u1"])).toEqual([1]);

        await new Promise((resolve) => setTimeout(resolve, 1_150));

        expect(await view.getMany("identity", "user", ["u1"])).toEqual([undefined]);
      });
    });

    describe("stats and health", () => {
      it("counts one round trip per getMany, setMany and delete, and none for empty calls", async () => {
        const { cache } = await setUp();
        const view = cache.forTenant(tenant("stats"));
        const before = { ...cache.stats };

        await view.setMany("identity", "user", [
          ["u1", 1],
          ["u2", 2],
          ["u3", 3],
        ]);
        await view.getMany("identity", "user", ["u1", "u2", "u3", "u4", "u5"]);
        await view.delete("identity", "user", ["u1", "u2"]);
        await view.getMany("identity", "user", []);
        await view.setMany("identity", "user", []);
        await view.delete("identity", "user", []);

        expect(cache.stats.roundTrips - before.roundTrips).toBe(3);
        expect(cache.stats.hits - before.hits).toBe(3);
        expect(cache.stats.misses - before.misses).toBe(2);
        expect(cache.stats.errors - before.errors).toBe(0);
      });

      it("reports up and answers ping", async () => {
        const { cache } = await setUp();

        expect(cache.status()).toBe("up");
        expect(await cache.ping()).toBe(true);
      });

      it("after close, reads miss, writes do nothing and status is down", async () => {
        const { cache } = await setUp();
        const view = cache.forTenant(tenant("closed"));
        await view.setMany("identity", "user", [["u1", 1]]);

        await cache.close();

        expect(await view.getMany("identity", "user", ["u1"])).toEqual([undefined]);
        await expect(view.setMany("identity", "user", [["u2", 2]])).resolves.toBeUndefined();
        expect(await cache.ping()).toBe(false);
        expect(cache.status()).toBe("down");
        await cache.close();
      });
    });
  });
}
