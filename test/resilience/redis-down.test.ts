import "reflect-metadata";
import { createClient } from "@keyv/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivateRedis, type PrivateRedis } from "../cache/redis-server.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import { eventually } from "../support/eventually.js";

/** Longest a request may take while Redis is gone: a bound against hanging, not a benchmark. */
const HANG_BOUND_MS = 2_000;

/** How long the gateway may take to notice that Redis is back. */
const RECOVERY_BOUND_MS = 10_000;

const DASHBOARD_QUERY = `{
  me { id roles }
  dashboards { id title owner { name } }
  challenges(first: 20) {
    edges { node { id title submissions { id score author { id name organizations { name } } } } }
  }
}`;

interface Answer {
  status: number;
  body: { data?: unknown; errors?: unknown[] };
}

describe("the gateway when its Redis dies and comes back", () => {
  let redisServer: PrivateRedis;
  let gw: TestGateway;
  let tenant: TenantFixture;
  let token: string;
  let warmAnswer: unknown;

  /** Sends the dashboard query, giving up (and failing) past the hang bound. */
  async function dashboard(): Promise<Answer> {
    const response = await fetch(`${gw.url}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-tenant-id": tenant.tenantId,
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query: DASHBOARD_QUERY }),
      signal: AbortSignal.timeout(HANG_BOUND_MS),
    });

    return { status: response.status, body: (await response.json()) as Answer["body"] };
  }

  async function readiness(): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${gw.url}/readyz`, {
      signal: AbortSignal.timeout(HANG_BOUND_MS),
    });

    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** The tenant's keys in the private Redis, read with a client of our own. */
  async function tenantKeys(): Promise<string[]> {
    const client = createClient({ url: redisServer.url });
    await client.connect();
    try {
      const keys: string[] = [];
      let cursor = "0";
      do {
        const page = await client.scan(cursor, { MATCH: `ogc:${tenant.tenantId}:*`, COUNT: 1_000 });
        cursor = String(page.cursor);
        keys.push(...page.keys);
      } while (cursor !== "0");
      return keys;
    } finally {
      client.destroy();
    }
  }

  beforeAll(async () => {
    redisServer = await startPrivateRedis();
    // Rate limits off: polling the dashboard spends a user's query-cost budget,
    // and their counters would land among the tenant's keys in this Redis.
    gw = await startTestGateway("redis-down", {
      redisUrl: redisServer.url,
      env: { RATE_LIMITS: "false" },
    });
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("down"));
    token = await gw.tokenFor(tenant.tenantId, tenant.users.member);
  });

  afterAll(async () => {
    await gw?.stop();
    await redisServer?.stop();
  });

  describe("while Redis is up", () => {
    it("answers the dashboard and fills the cache", async () => {
      const res = await dashboard();

      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      warmAnswer = res.body.data;
      expect(await tenantKeys()).toContain(
        `ogc:${tenant.tenantId}:identity:user:${tenant.users.member}`,
      );
      expect((await readiness()).status).toBe(200);
    });
  });

  describe("after redis-server is killed", () => {
    beforeAll(async () => {
      await redisServer.kill();
    });

    it("answers every request from PostgreSQL, the same as before, within the hang bound", async () => {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const started = Date.now();
        const res = await dashboard();

        expect(Date.now() - started).toBeLessThan(HANG_BOUND_MS);
        expect(res.status).toBe(200);
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data).toEqual(warmAnswer);
      }
    });

    it("reports not ready with a 503 whose JSON names the cache", async () => {
      const res = await readiness();

      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ checks: { cache: "down", database: "up" } });
      expect(res.body.down).toEqual(["cache"]);
    });

    it("stays alive on /healthz", async () => {
      const response = await fetch(`${gw.url}/healthz`, {
        signal: AbortSignal.timeout(HANG_BOUND_MS),
      });

      expect(response.status).toBe(200);
    });
  });

  describe("after redis-server restarts on the same port", () => {
    beforeAll(async () => {
      await redisServer.start();
    });

    it("is ready again within the recovery bound", async () => {
      const ready = await eventually(
        async () => (await readiness()).status === 200,
        (ok) => ok,
        RECOVERY_BOUND_MS,
      );

      expect(ready).toBe(true);
      expect(await readiness()).toMatchObject({
        status: 200,
        body: { checks: { cache: "up", database: "up" }, down: [] },
      });
    });

    it("writes new keys to the restarted Redis", async () => {
      // Nothing survives the kill: the restarted server keeps no data.
      expect(await tenantKeys()).toEqual([]);

      const filled = await eventually(
        async () => {
          const res = await dashboard();
          expect(res.body.data).toEqual(warmAnswer);
          return (await tenantKeys()).length > 0;
        },
        (ok) => ok,
        RECOVERY_BOUND_MS,
      );

      expect(filled).toBe(true);
      expect(await tenantKeys()).toContain(
        `ogc:${tenant.tenantId}:identity:user:${tenant.users.member}`,
      );
    });
  });
});
