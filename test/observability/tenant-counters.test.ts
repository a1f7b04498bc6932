import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import { scrape, type Scrape } from "./prometheus-text.js";

const CACHE = "gateway_cache_requests_total";
const SQL = "gateway_sql_statements_total";

const USER = "query User($id: ID!) { user(id: $id) { id name } }";
const USERS = "query Users { users(first: 5) { edges { node { id } } } }";

function cacheCounts(metrics: Scrape, tenant: string) {
  return {
    hit: metrics.value(CACHE, { tenant, result: "hit" }) ?? 0,
    miss: metrics.value(CACHE, { tenant, result: "miss" }) ?? 0,
  };
}

function statements(metrics: Scrape, tenant: string): number {
  return metrics.value(SQL, { tenant }) ?? 0;
}

describe("/metrics: cache reads and SQL statements per tenant", () => {
  let gw: TestGateway;
  let a: TenantFixture;
  let b: TenantFixture;

  beforeAll(async () => {
    gw = await startTestGateway("metrics-counters");
    a = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("metrics-a"));
    b = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("metrics-b"), {
      isolation: Isolation.SCHEMA,
    });
  });
  afterAll(() => gw?.stop());

  it("counts a repeated cached read as misses first, then as hits", async () => {
    const token = await gw.tokenFor(a.tenantId, a.users.admin);
    const read = () =>
      gw.request(USER, { tenant: a.tenantId, token, variables: { id: a.users.member } });
    const stats = gw.gateway.cache.stats;

    const start = await scrape(gw.url);
    const startStats = { hits: stats.hits, misses: stats.misses };
    expect((await read()).body.errors).toBeUndefined();
    const cold = await scrape(gw.url);
    expect((await read()).body.errors).toBeUndefined();
    const warm = await scrape(gw.url);

    const first = {
      hit: cacheCounts(cold, a.tenantId).hit - cacheCounts(start, a.tenantId).hit,
      miss: cacheCounts(cold, a.tenantId).miss - cacheCounts(start, a.tenantId).miss,
    };
    const second = {
      hit: cacheCounts(warm, a.tenantId).hit - cacheCounts(cold, a.tenantId).hit,
      miss: cacheCounts(warm, a.tenantId).miss - cacheCounts(cold, a.tenantId).miss,
    };
    // The first read loaded what it asked for; the second found all of it.
    expect(first.miss).toBeGreaterThan(0);
    expect(second).toEqual({ hit: first.hit + first.miss, miss: 0 });
    // Only tenant A read the cache: its series hold every read the cache counted.
    expect(first.hit + first.miss + second.hit).toBe(
      stats.hits + stats.misses - startStats.hits - startStats.misses,
    );
    expect(cacheCounts(warm, b.tenantId)).toEqual(cacheCounts(start, b.tenantId));
  });

  it("counts a tenant's statements, transaction control included, for that tenant only", async () => {
    const before = await scrape(gw.url);
    // One read through the tenant handle: BEGIN, the tenant binding, the query, COMMIT.
    await gw.gateway.database.forTenant(a.tenantId).user.count();
    const after = await scrape(gw.url);

    expect(statements(after, a.tenantId) - statements(before, a.tenantId)).toBe(4);
    expect(statements(after, b.tenantId)).toBe(statements(before, b.tenantId));
  });

  it("counts the statements of a SCHEMA tenant's requests, not the other tenant's", async () => {
    const token = await gw.tokenFor(b.tenantId, b.users.admin);
    // The first request caches the caller; later ones read only the page.
    expect((await gw.request(USERS, { tenant: b.tenantId, token })).body.errors).toBeUndefined();
    const before = await scrape(gw.url);
    expect((await gw.request(USERS, { tenant: b.tenantId, token })).body.errors).toBeUndefined();
    const after = await scrape(gw.url);

    // BEGIN, the tenant binding, the page query, COMMIT.
    expect(statements(after, b.tenantId) - statements(before, b.tenantId)).toBe(4);
    expect(statements(after, a.tenantId)).toBe(statements(before, a.tenantId));
  });

  it("counts a DATABASE tenant's statements on its own pool", async () => {
    const d = uniqueTenantId("metrics-d");
    await seedTenantFixture(gw.gateway.lifecycle, d, {
      isolation: Isolation.DATABASE,
      challenges: 0,
    });
    const before = await scrape(gw.url);
    await gw.gateway.database.forTenant(d).user.count();
    const after = await scrape(gw.url);

    expect(statements(after, d) - statements(before, d)).toBe(4);
    expect(statements(after, a.tenantId)).toBe(statements(before, a.tenantId));
  });
});
