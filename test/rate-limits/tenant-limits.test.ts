import { createClient } from "@keyv/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_REDIS_URL } from "../support/env.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import {
  CHEAP,
  counterKey,
  extensionsOf,
  rateLimitFields,
  setRateLimits,
} from "./rate-limit-support.js";

/** Ten challenges with their titles: several objects, so it costs more than one. */
const PRICEY = "{ challenges(first: 10) { edges { node { title } } } }";

const CREATE_DASHBOARD = `mutation ($input: CreateDashboardInput!) {
  createDashboard(input: $input) { id }
}`;

describe("tenant and user rate limits, counted in Redis", () => {
  let gw: TestGateway;
  let staffToken: string;
  let redis: ReturnType<typeof createClient>;

  beforeAll(async () => {
    gw = await startTestGateway("rate-limits");
    staffToken = await gw.globalAdminToken();
    redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
  });
  afterAll(async () => {
    redis?.destroy();
    await gw?.stop();
  });

  /** A fresh tenant with one user per role: every test starts with full budgets. */
  async function freshTenant(prefix: string): Promise<TenantFixture> {
    return seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId(prefix), { challenges: 10 });
  }

  function key(tenantId: string, measure: "requests" | "cost", subject: string): string {
    return counterKey(tenantId, gw.gateway.database.deploymentId, measure, subject);
  }

  describe("a tenant at its request limit", () => {
    let fx: TenantFixture;
    let member: string;

    beforeAll(async () => {
      fx = await freshTenant("rl-tenant");
      member = await gw.tokenFor(fx.tenantId, fx.users.member);
      await setRateLimits(gw, staffToken, fx.tenantId, { requestsPerMinute: 3 });
    });

    it("counts each request down in the RateLimit headers", async () => {
      const seen = [];
      for (let n = 0; n < 3; n += 1) {
        const res = await gw.request(CHEAP, { tenant: fx.tenantId, token: member });
        expect(res.status).toBe(200);
        expect(res.body.errors).toBeUndefined();
        seen.push(rateLimitFields(res));
      }

      expect(seen.map((f) => [f.limit, f.remaining, f.policy])).toEqual([
        [3, 2, "3;w=60"],
        [3, 1, "3;w=60"],
        [3, 0, "3;w=60"],
      ]);
      for (const fields of seen) {
        expect(fields.reset).toBeGreaterThanOrEqual(1);
        expect(fields.reset).toBeLessThanOrEqual(60);
        expect(fields.retryAfter).toBeNull();
      }
    });

    it("refuses the next request with RATE_LIMITED, 429, the wait and Retry-After", async () => {
      const res = await gw.request(CHEAP, { tenant: fx.tenantId, token: member });
      const fields = rateLimitFields(res);
      const extensions = extensionsOf(res);

      expect(res.status).toBe(429);
      expect(codesOf(res)).toEqual(["RATE_LIMITED"]);
      expect(res.body.data).toBeUndefined();
      expect(extensions).toMatchObject({ reason: "TENANT_REQUESTS", limit: 3, remaining: 0 });
      const wait = extensions.retryAfterSeconds as number;
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(60);
      expect(res.body.errors?.[0]?.message).toBe(
        `This organization's budget of 3 requests per minute is spent. Try again in ${wait === 1 ? "1 second" : `${wait} seconds`}.`,
      );
      expect(fields).toEqual({
        limit: 3,
        remaining: 0,
        reset: wait,
        policy: "3;w=60",
        retryAfter: wait,
      });
    });

    it("refuses every user of the tenant, before any resolver runs", async () => {
      const admin = await gw.tokenFor(fx.tenantId, fx.users.admin);
      const before = await gw.gateway.database.control.dashboard.count({
        where: { tenantId: fx.tenantId },
      });

      const res = await gw.request(CREATE_DASHBOARD, {
        tenant: fx.tenantId,
        token: admin,
        variables: { input: { title: "Refused", modules: ["overview"] } },
      });

      expect(res.status).toBe(429);
      expect(codesOf(res)).toEqual(["RATE_LIMITED"]);
      expect(
        await gw.gateway.database.control.dashboard.count({ where: { tenantId: fx.tenantId } }),
      ).toBe(before);
    });

    it("keeps in Redis only what it admitted: refused requests take nothing", async () => {
      const tenantKey = key(fx.tenantId, "requests", "tenant");

      expect(await redis.get(tenantKey)).toBe("3");
      const ttl = await redis.pTTL(tenantKey);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    });

    it("does not count global admins, who are still served", async () => {
      const res = await gw.request(CHEAP, { tenant: fx.tenantId, token: staffToken });

      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ tenant: { id: fx.tenantId } });
      expect(rateLimitFields(res).limit).toBeNull();
      expect(await redis.get(key(fx.tenantId, "requests", "tenant"))).toBe("3");
    });
  });

  describe("one user at the per-user limit", () => {
    let fx: TenantFixture;

    beforeAll(async () => {
      fx = await freshTenant("rl-user");
      await setRateLimits(gw, staffToken, fx.tenantId, {
        requestsPerMinute: 100,
        userRequestsPerMinute: 2,
      });
    });

    it("is refused with USER_REQUESTS while another user of the tenant is served", async () => {
      const member = await gw.tokenFor(fx.tenantId, fx.users.member);
      const analyst = await gw.tokenFor(fx.tenantId, fx.users.analyst);
      const ask = (token: string) => gw.request(CHEAP, { tenant: fx.tenantId, token });

      expect((await ask(member)).status).toBe(200);
      expect((await ask(member)).status).toBe(200);
      const refused = await ask(member);
      // Knocking on while refused changes nothing for anyone.
      for (let n = 0; n < 5; n += 1) expect((await ask(member)).status).toBe(429);
      const other = await ask(analyst);

      expect(codesOf(refused)).toEqual(["RATE_LIMITED"]);
      expect(extensionsOf(refused)).toMatchObject({ reason: "USER_REQUESTS", limit: 2 });
      expect(refused.body.errors?.[0]?.message).toMatch(
        /^Your budget of 2 requests per minute is spent\. Try again in \d+ seconds?\.$/,
      );
      expect(rateLimitFields(refused)).toMatchObject({ limit: 2, remaining: 0, policy: "2;w=60" });
      expect(other.status).toBe(200);
      expect(other.body.data).toEqual({ tenant: { id: fx.tenantId } });
      // The analyst's own budget is the closest to exhaustion: 1 of 2 left.
      expect(rateLimitFields(other)).toMatchObject({ limit: 2, remaining: 1, policy: "2;w=60" });
      expect(await redis.get(key(fx.tenantId, "requests", "tenant"))).toBe("3");
      expect(await redis.get(key(fx.tenantId, "requests", `user:${fx.users.member}`))).toBe("2");
    });

    it("counts anonymous callers by their address", async () => {
      const anonymous = () => gw.request(CHEAP, { tenant: fx.tenantId });

      expect(rateLimitFields(await anonymous())).toMatchObject({ limit: 2, remaining: 1 });
      expect(rateLimitFields(await anonymous())).toMatchObject({ limit: 2, remaining: 0 });
      const refused = await anonymous();

      expect(refused.status).toBe(429);
      expect(extensionsOf(refused)).toMatchObject({ reason: "USER_REQUESTS" });
      expect(await redis.get(key(fx.tenantId, "requests", "client:127.0.0.1"))).toBe("2");
    });
  });

  describe("the query-cost budget", () => {
    let fx: TenantFixture;
    let member: string;

    beforeAll(async () => {
      fx = await freshTenant("rl-cost");
      member = await gw.tokenFor(fx.tenantId, fx.users.member);
      await setRateLimits(gw, staffToken, fx.tenantId, {
        requestsPerMinute: 100,
        queryCostPerMinute: 50,
      });
    });

    it("runs out on expensive queries long before the request count does", async () => {
      const ask = (query: string) => gw.request(query, { tenant: fx.tenantId, token: member });

      const first = await ask(PRICEY);
      const cost = 50 - (rateLimitFields(first).remaining as number);
      const second = await ask(PRICEY);
      const third = await ask(PRICEY);

      expect(first.status).toBe(200);
      expect(cost).toBeGreaterThan(10);
      expect(cost).toBeLessThanOrEqual(25);
      expect(rateLimitFields(first)).toMatchObject({ limit: 50, policy: "50;w=60" });
      expect(second.status).toBe(200);
      expect(rateLimitFields(second)).toMatchObject({ limit: 50, remaining: 50 - 2 * cost });
      expect(third.status).toBe(429);
      const left = 50 - 2 * cost;
      expect(extensionsOf(third)).toMatchObject({
        reason: "TENANT_QUERY_COST",
        limit: 50,
        remaining: left,
        cost,
      });
      // Says what happened: this request costs more than is left, not "the budget is spent".
      const wait = extensionsOf(third).retryAfterSeconds as number;
      expect(third.body.errors?.[0]?.message).toBe(
        `This query would resolve about ${cost} objects, but only ${left} of this organization's 50 objects per minute are left. Try again in ${wait === 1 ? "1 second" : `${wait} seconds`}, or ask for fewer items or fewer nested lists.`,
      );
      // Two requests of a hundred were used; a query that fits what is left runs.
      expect(await redis.get(key(fx.tenantId, "requests", "tenant"))).toBe("2");
      const cheap = await ask(CHEAP);
      expect(cheap.status).toBe(200);
      expect(rateLimitFields(cheap)).toMatchObject({ limit: 50, remaining: 50 - 2 * cost - 1 });
    });

    it("says, when a user's budget is too low for a query, what it would cost and what is left", async () => {
      const other = await freshTenant("rl-cost-user");
      const token = await gw.tokenFor(other.tenantId, other.users.member);
      await setRateLimits(gw, staffToken, other.tenantId, { userQueryCostPerMinute: 30 });
      const ask = (query: string) => gw.request(query, { tenant: other.tenantId, token });

      const first = await ask(PRICEY);
      const left = rateLimitFields(first).remaining as number;
      const cost = 30 - left;
      const refused = await ask(PRICEY);
      const wait = extensionsOf(refused).retryAfterSeconds as number;

      expect(first.status).toBe(200);
      expect(refused.status).toBe(429);
      expect(extensionsOf(refused)).toMatchObject({
        reason: "USER_QUERY_COST",
        limit: 30,
        remaining: left,
        cost,
      });
      expect(refused.body.errors?.[0]?.message).toBe(
        `This query would resolve about ${cost} objects, but only ${left} of your 30 objects per minute are left. Try again in ${wait === 1 ? "1 second" : `${wait} seconds`}, or ask for fewer items or fewer nested lists.`,
      );
      // Refused on the user's own budget: the tenant's counters never saw it.
      expect(await redis.get(key(other.tenantId, "requests", "tenant"))).toBe("1");
      expect(await redis.get(key(other.tenantId, "cost", "tenant"))).toBe(String(cost));
    });

    it("refuses a query dearer than the whole budget as BAD_USER_INPUT, counting one request", async () => {
      const other = await freshTenant("rl-cost-big");
      const token = await gw.tokenFor(other.tenantId, other.users.member);
      await setRateLimits(gw, staffToken, other.tenantId, { userQueryCostPerMinute: 10 });

      const res = await gw.request(PRICEY, { tenant: other.tenantId, token });

      expect(res.status).toBe(400);
      expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
      expect(extensionsOf(res)).toMatchObject({ reason: "USER_QUERY_COST", limit: 10 });
      expect(res.body.errors?.[0]?.message).toMatch(
        /^This query would resolve about \d+ objects; your budget is 10 a minute\./,
      );
      expect(await redis.get(key(other.tenantId, "requests", "tenant"))).toBe("1");
      expect(await redis.get(key(other.tenantId, "cost", "tenant"))).toBe("0");
    });
  });

  describe("requests refused before they run", () => {
    let fx: TenantFixture;
    let member: string;

    beforeAll(async () => {
      fx = await freshTenant("rl-invalid");
      member = await gw.tokenFor(fx.tenantId, fx.users.member);
    });

    it("count one request and no cost when the document fails validation", async () => {
      const res = await gw.request("{ tenant { noSuchField } }", {
        tenant: fx.tenantId,
        token: member,
      });

      expect(res.status).toBe(400);
      expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
      // Starter plan: 240 requests a minute per user, the budget closest to exhaustion.
      expect(rateLimitFields(res)).toMatchObject({ limit: 240, remaining: 239 });
      expect(await redis.get(key(fx.tenantId, "requests", "tenant"))).toBe("1");
      expect(await redis.get(key(fx.tenantId, "cost", "tenant"))).toBe("0");
    });

    it("count one request and no cost when the cost check refuses the operation", async () => {
      const limited = await startTestGateway("rate-limits-cost", {
        env: { QUERY_MAX_COST: "10" },
      });
      try {
        const other = await seedTenantFixture(limited.gateway.lifecycle, uniqueTenantId("rl-max"));
        const token = await limited.tokenFor(other.tenantId, other.users.member);

        const res = await limited.request(PRICEY, { tenant: other.tenantId, token });
        const keyOf = (measure: "requests" | "cost") =>
          counterKey(other.tenantId, limited.gateway.database.deploymentId, measure, "tenant");

        expect(res.status).toBe(400);
        expect(res.body.errors?.[0]?.message).toMatch(/the limit is 10\./);
        expect(rateLimitFields(res)).toMatchObject({ limit: 240, remaining: 239 });
        expect(await redis.get(keyOf("requests"))).toBe("1");
        expect(await redis.get(keyOf("cost"))).toBe("0");
      } finally {
        await limited.stop();
      }
    });

    it("leave requests that name no tenant alone: no budget, no headers", async () => {
      const res = await gw.request("{ __typename }");

      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ __typename: "Query" });
      expect(rateLimitFields(res).limit).toBeNull();
    });
  });

  describe("two tenants", () => {
    it("one at its limit costs the other nothing: all its requests pass with full headers", async () => {
      const [busy, calm] = await Promise.all([freshTenant("rl-busy"), freshTenant("rl-calm")]);
      await setRateLimits(gw, staffToken, busy.tenantId, { requestsPerMinute: 2 });
      const busyToken = await gw.tokenFor(busy.tenantId, busy.users.member);
      const calmToken = await gw.tokenFor(calm.tenantId, calm.users.member);
      for (let n = 0; n < 3; n += 1) {
        await gw.request(CHEAP, { tenant: busy.tenantId, token: busyToken });
      }
      const busyAgain = await gw.request(CHEAP, { tenant: busy.tenantId, token: busyToken });

      const calmAnswers = [];
      for (let n = 0; n < 20; n += 1) {
        calmAnswers.push(await gw.request(CHEAP, { tenant: calm.tenantId, token: calmToken }));
      }

      expect(busyAgain.status).toBe(429);
      expect(calmAnswers.map((res) => res.status)).toEqual(Array(20).fill(200));
      // Starter plan: 240 a minute per user is the budget closest to exhaustion.
      expect(calmAnswers.map((res) => rateLimitFields(res).remaining)).toEqual(
        Array.from({ length: 20 }, (_, n) => 239 - n),
      );
      for (const res of calmAnswers) {
        expect(rateLimitFields(res)).toMatchObject({ limit: 240, policy: "240;w=60" });
        expect(rateLimitFields(res).reset).toBeGreaterThanOrEqual(1);
      }
    });
  });

  describe("a change of the tenant's limits", () => {
    it("applies to the next request, raised or lowered, without a restart", async () => {
      const fx = await freshTenant("rl-change");
      const member = await gw.tokenFor(fx.tenantId, fx.users.member);
      const ask = () => gw.request(CHEAP, { tenant: fx.tenantId, token: member });
      await setRateLimits(gw, staffToken, fx.tenantId, { requestsPerMinute: 2 });
      await ask();
      await ask();
      const refused = await ask();

      await setRateLimits(gw, staffToken, fx.tenantId, { requestsPerMinute: 5 });
      const raised = await ask();
      await setRateLimits(gw, staffToken, fx.tenantId, { requestsPerMinute: 3 });
      const lowered = await ask();

      expect(refused.status).toBe(429);
      expect(raised.status).toBe(200);
      expect(rateLimitFields(raised)).toMatchObject({ limit: 5, remaining: 2, policy: "5;w=60" });
      expect(lowered.status).toBe(429);
      expect(extensionsOf(lowered)).toMatchObject({ reason: "TENANT_REQUESTS", limit: 3 });
      expect(rateLimitFields(lowered)).toMatchObject({ limit: 3, remaining: 0 });
    });
  });
});
