import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GATEWAY_APPLICATION_NAME } from "../../src/data/database.js";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { provisionTenant } from "../../src/lifecycle/provision.js";
import { TEST_SECOND_DATABASE_URL } from "../support/env.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

/** The configured bounds: far fewer connections than tenants. */
const POOL_MAX = 4; // tenant pool; the control pool gets max(2, ceil(4 / 4)) = 2
const DATABASE_BUDGET = 4; // two tenant-database pools of two connections
const BOUND = POOL_MAX + 2 + DATABASE_BUDGET;

interface Tenant {
  id: string;
  adminId: string;
  token: string;
}

describe("connections and clients with many tenants", () => {
  let gw: TestGateway;
  const tenants: Record<"schema" | "database", Tenant[]> = { schema: [], database: [] };
  const observers: pg.Client[] = [];

  /**
   * This gateway's pooled connections on both servers right now: to its
   * control database and to its tenants' databases (other test files run
   * gateways on the same servers at the same time).
   */
  async function gatewayConnections(): Promise<number> {
    const databases = [
      new URL(gw.databaseUrl).pathname.slice(1),
      ...tenants.database.map((t) => `ogc_tenant_${t.id.replaceAll("-", "_")}`),
    ];
    let total = 0;
    for (const observer of observers) {
      const { rows } = await observer.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE application_name = $1 AND datname = ANY($2)`,
        [GATEWAY_APPLICATION_NAME, databases],
      );
      total += rows[0]?.n ?? 0;
    }
    return total;
  }

  async function ask(tenant: Tenant) {
    return gw.request<{ me: { id: string } }>(
      "{ me { id } users(first: 3) { edges { node { id } } } }",
      {
        tenant: tenant.id,
        token: tenant.token,
      },
    );
  }

  beforeAll(async () => {
    gw = await startTestGateway("bounds", {
      env: {
        DATABASE_POOL_MAX: String(POOL_MAX),
        TENANT_DATABASE_CONNECTIONS: String(DATABASE_BUDGET),
      },
    });
    for (const url of [gw.databaseUrl, TEST_SECOND_DATABASE_URL]) {
      const observer = new pg.Client({ connectionString: url });
      await observer.connect();
      observers.push(observer);
    }
    const plans = [
      ...Array.from({ length: 5 }, () => ["schema", Isolation.SCHEMA, undefined] as const),
      ...Array.from(
        { length: 6 },
        (_, n) => ["database", Isolation.DATABASE, n % 2 ? "eu" : "local"] as const,
      ),
    ];
    for (const [kind, isolation, region] of plans) {
      const id = uniqueTenantId(`bound-${kind}`);
      const { adminUser } = await provisionTenant(
        gw.gateway.lifecycle,
        { id, name: id, isolation, region, adminEmail: `admin@${id}.test` },
        "test:bounds",
      );
      tenants[kind].push({ id, adminId: adminUser.id, token: await gw.tokenFor(id, adminUser.id) });
    }
  });

  afterAll(async () => {
    await Promise.all(observers.map((observer) => observer.end()));
    await gw?.stop();
  });

  it("never holds more connections than configured while 11 tenants are served at once", async () => {
    const all = [...tenants.schema, ...tenants.database];
    let peak = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        peak = Math.max(peak, await gatewayConnections());
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    const answers = await Promise.all(
      Array.from({ length: 3 }, () => all.map((tenant) => ask(tenant))).flat(),
    );
    watching = false;
    await watcher;

    for (const [n, answer] of answers.entries()) {
      const tenant = all[n % all.length]!;
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data?.me.id).toBe(tenant.adminId);
    }
    expect(peak).toBeGreaterThan(0);
    // The server lists a backend until it has exited, a moment after the
    // gateway closed its connection and opened the next pool's: one of those
    // can overlap. Without the budget the peak would be 4 + 2 + 12.
    expect(peak).toBeLessThanOrEqual(BOUND + 1);
    expect(gw.gateway.database.stats().databasePools).toBeLessThanOrEqual(DATABASE_BUDGET / 2);
    expect(gw.gateway.database.stats().databaseConnections).toBeLessThanOrEqual(DATABASE_BUDGET);
  });

  it("serves every schema tenant through one client, each from its own schema, under concurrency", async () => {
    const rounds = await Promise.all(
      Array.from({ length: 8 }, () =>
        Promise.all(
          tenants.schema.map(async (tenant) => {
            const answer = await gw.request<{
              me: { id: string };
              users: { edges: { node: { email: string } }[] };
            }>("{ me { id } users(first: 5) { edges { node { email } } } }", {
              tenant: tenant.id,
              token: tenant.token,
            });
            return { tenant, answer };
          }),
        ),
      ),
    );

    for (const { tenant, answer } of rounds.flat()) {
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data?.me.id).toBe(tenant.adminId);
      expect(answer.body.data?.users.edges.map((e) => e.node.email)).toEqual([
        `admin@${tenant.id}.test`,
      ]);
    }
  });

  it("refuses a schema-tier statement that is not bound to a tenant", async () => {
    const lease = await gw.gateway.database.locations.acquire({
      isolation: Isolation.SCHEMA,
      schema: `tenant_${tenants.schema[0]!.id.replaceAll("-", "_")}`,
    });
    try {
      await expect(lease.client.user.findMany()).rejects.toThrow(/outside a transaction bound/);
      const unbound = lease.client.$transaction([
        lease.client.user.count(),
        lease.client.user.findMany(),
      ]);
      await expect(unbound).rejects.toThrow(/before its transaction was bound/);
    } finally {
      lease.release();
    }
  });

  it("closes the pool of the coldest tenant database to open another", async () => {
    for (const tenant of tenants.database) {
      const answer = await ask(tenant);

      expect(answer.body.data?.me.id).toBe(tenant.adminId);
      const stats = gw.gateway.database.stats();
      expect(stats.databasePools).toBeLessThanOrEqual(DATABASE_BUDGET / 2);
      expect(stats.databaseConnections).toBeLessThanOrEqual(DATABASE_BUDGET);
    }
  });
});
