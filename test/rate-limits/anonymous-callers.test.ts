import { createClient } from "@keyv/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_REDIS_URL } from "../support/env.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  codesOf,
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";
import {
  CHEAP,
  counterKey,
  extensionsOf,
  postFrom,
  rateLimitFields,
  setRateLimits,
} from "./rate-limit-support.js";

/** Four client addresses of the loopback network, as four anonymous callers. */
const ADDRESSES = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];

describe("anonymous callers", () => {
  let gw: TestGateway;
  let staffToken: string;
  let redis: ReturnType<typeof createClient>;

  beforeAll(async () => {
    gw = await startTestGateway("rate-limits-anonymous");
    staffToken = await gw.globalAdminToken();
    redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
  });
  afterAll(async () => {
    redis?.destroy();
    await gw?.stop();
  });

  async function freshTenant(prefix: string): Promise<TenantFixture> {
    return seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId(prefix));
  }

  /** A counter's value in Redis, or null when the counter was never touched. */
  function counter(
    tenantId: string,
    measure: "requests" | "cost",
    subject: string,
  ): Promise<string | null> {
    return redis.get(counterKey(tenantId, gw.gateway.database.deploymentId, measure, subject));
  }

  /** Each address in turn sends `each` anonymous requests, one after the other. */
  async function flood(tenantId: string, each: number): Promise<GraphQLResponse[]> {
    const answers = [];
    for (const address of ADDRESSES) {
      for (let n = 0; n < each; n += 1) {
        answers.push(await postFrom(gw.url, address, CHEAP, { tenant: tenantId }));
      }
    }

    return answers;
  }

  describe("flooding a tenant from several addresses", () => {
    let fx: TenantFixture;
    let flooded: GraphQLResponse[];

    beforeAll(async () => {
      fx = await freshTenant("rl-anon-flood");
      await setRateLimits(gw, staffToken, fx.tenantId, {
        requestsPerMinute: 6,
        userRequestsPerMinute: 20,
        anonymousRequestsPerMinute: 8,
      });
      flooded = await flood(fx.tenantId, 4);
    });

    it("are served until their shared pool is spent, then refused with ANONYMOUS_REQUESTS", () => {
      const refused = flooded.slice(8);

      expect(flooded.map((res) => res.status)).toEqual([
        ...Array(8).fill(200),
        ...Array(8).fill(429),
      ]);
      expect(flooded.map((res) => rateLimitFields(res).remaining)).toEqual([
        7,
        6,
        5,
        4,
        3,
        2,
        1,
        0,
        ...Array(8).fill(0),
      ]);
      for (const res of flooded) {
        expect(rateLimitFields(res)).toMatchObject({ limit: 8, policy: "8;w=60" });
      }
      for (const res of refused) {
        const wait = extensionsOf(res).retryAfterSeconds as number;
        expect(codesOf(res)).toEqual(["RATE_LIMITED"]);
        expect(extensionsOf(res)).toMatchObject({
          reason: "ANONYMOUS_REQUESTS",
          limit: 8,
          remaining: 0,
        });
        expect(rateLimitFields(res).retryAfter).toBe(wait);
        expect(res.body.errors?.[0]?.message).toBe(
          `This organization's budget of 8 requests per minute for callers who are not signed in is spent. Sign in, or try again in ${wait === 1 ? "1 second" : `${wait} seconds`}.`,
        );
      }
    });

    it("leave the tenant's budget whole: a signed-in user gets all of it, and no more", async () => {
      const member = await gw.tokenFor(fx.tenantId, fx.users.member);
      const answers = [];
      for (let n = 0; n < 7; n += 1) {
        answers.push(await gw.request(CHEAP, { tenant: fx.tenantId, token: member }));
      }

      expect(answers.map((res) => res.status)).toEqual([...Array(6).fill(200), 429]);
      // The tenant's budget of 6 is the closest to exhaustion, and starts full.
      expect(answers.map((res) => rateLimitFields(res).remaining)).toEqual([5, 4, 3, 2, 1, 0, 0]);
      for (const res of answers) expect(rateLimitFields(res).limit).toBe(6);
      expect(extensionsOf(answers[6]!)).toMatchObject({ reason: "TENANT_REQUESTS", limit: 6 });
    });

    it("count in Redis apart from the tenant's counters, keeping only what was admitted", async () => {
      expect(await counter(fx.tenantId, "requests", "anonymous")).toBe("8");
      expect(await counter(fx.tenantId, "requests", "tenant")).toBe("6");
      expect(await counter(fx.tenantId, "cost", "tenant")).toBe("6");
      expect(await counter(fx.tenantId, "requests", "client:127.0.0.2")).toBe("4");
      expect(await counter(fx.tenantId, "requests", "client:127.0.0.3")).toBe("4");
      // Refused by the pool: what they added to their own budgets was given back.
      expect(await counter(fx.tenantId, "requests", "client:127.0.0.4")).toBe("0");
      expect(await counter(fx.tenantId, "cost", "client:127.0.0.5")).toBe("0");
    });
  });

  describe("one address", () => {
    it("is held to the per-user limit or the pool, whichever is smaller, before the pool", async () => {
      const fx = await freshTenant("rl-anon-address");
      await setRateLimits(gw, staffToken, fx.tenantId, {
        userRequestsPerMinute: 20,
        anonymousRequestsPerMinute: 3,
      });

      const answers = [];
      for (let n = 0; n < 4; n += 1) {
        answers.push(await postFrom(gw.url, ADDRESSES[0]!, CHEAP, { tenant: fx.tenantId }));
      }
      const other = await postFrom(gw.url, ADDRESSES[1]!, CHEAP, { tenant: fx.tenantId });

      expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 429]);
      expect(extensionsOf(answers[3]!)).toMatchObject({ reason: "USER_REQUESTS", limit: 3 });
      expect(answers[3]!.body.errors?.[0]?.message).toMatch(
        /^Your budget of 3 requests per minute is spent\. Try again in \d+ seconds?\.$/,
      );
      expect(other.status).toBe(429);
      expect(extensionsOf(other)).toMatchObject({ reason: "ANONYMOUS_REQUESTS", limit: 3 });
      expect(await counter(fx.tenantId, "requests", "anonymous")).toBe("3");
      expect(await counter(fx.tenantId, "requests", "tenant")).toBeNull();
    });
  });

  describe("on a plan's defaults", () => {
    it("share the starter plan's 120 requests a minute, apart from the tenant's 600", async () => {
      const fx = await freshTenant("rl-anon-plan");

      const res = await postFrom(gw.url, ADDRESSES[2]!, CHEAP, { tenant: fx.tenantId });

      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ tenant: { id: fx.tenantId } });
      expect(rateLimitFields(res)).toMatchObject({
        limit: 120,
        remaining: 119,
        policy: "120;w=60",
      });
      expect(await counter(fx.tenantId, "requests", "anonymous")).toBe("1");
      expect(await counter(fx.tenantId, "requests", "client:127.0.0.4")).toBe("1");
      expect(await counter(fx.tenantId, "requests", "tenant")).toBeNull();
      expect(await counter(fx.tenantId, "cost", "tenant")).toBeNull();
    });
  });
});
