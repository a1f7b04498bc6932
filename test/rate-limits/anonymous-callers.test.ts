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

/** Twelve client addresses of the loopback network, as twelve anonymous callers. */
const ADDRESSES = Array.from({ length: 12 }, (_, i) => `127.0.0.${i + 2}`);

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
  async function flood(tenantId: string, each: number): Promise<GraphQLResponse[][]> {
    const answers = [];
    for (const address of ADDRESSES) {
      const mine = [];
      for (let n = 0; n < each; n += 1) {
        mine.push(await postFrom(gw.url, address, CHEAP, { tenant: tenantId }));
      }
      answers.push(mine);
    }

    return answers;
  }

  describe("flooding a tenant from several addresses", () => {
    let fx: TenantFixture;
    let flooded: GraphQLResponse[][];

    beforeAll(async () => {
      fx = await freshTenant("rl-anon-flood");
      // A pool of 10: each address may take one of it.
      await setRateLimits(gw, staffToken, fx.tenantId, {
        requestsPerMinute: 6,
        userRequestsPerMinute: 20,
        anonymousRequestsPerMinute: 10,
      });
      flooded = await flood(fx.tenantId, 2);
    });

    it("hold each address to a tenth of the pool, so it takes ten addresses to spend it", () => {
      const reasons = flooded.map((answers) =>
        answers.map((res) => (res.status === 200 ? 200 : extensionsOf(res).reason)),
      );

      expect(reasons).toEqual([
        ...Array(10).fill([200, "USER_REQUESTS"]),
        ["ANONYMOUS_REQUESTS", "ANONYMOUS_REQUESTS"],
        ["ANONYMOUS_REQUESTS", "ANONYMOUS_REQUESTS"],
      ]);
      const [first] = flooded[0]!;
      expect(rateLimitFields(first!)).toMatchObject({ limit: 1, remaining: 0, policy: "1;w=60" });
      expect(extensionsOf(flooded[0]![1]!)).toMatchObject({ limit: 1, remaining: 0 });
    });

    it("are refused with ANONYMOUS_REQUESTS once the pool is spent", () => {
      for (const res of [...flooded[10]!, ...flooded[11]!]) {
        const wait = extensionsOf(res).retryAfterSeconds as number;
        expect(codesOf(res)).toEqual(["RATE_LIMITED"]);
        expect(extensionsOf(res)).toMatchObject({ limit: 10, remaining: 0 });
        expect(rateLimitFields(res)).toMatchObject({ limit: 10, policy: "10;w=60" });
        expect(rateLimitFields(res).retryAfter).toBe(wait);
        expect(res.body.errors?.[0]?.message).toBe(
          `This organization's budget of 10 requests per minute for callers who are not signed in is spent. Sign in, or try again in ${wait === 1 ? "1 second" : `${wait} seconds`}.`,
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
      expect(await counter(fx.tenantId, "requests", "anonymous")).toBe("10");
      expect(await counter(fx.tenantId, "requests", "tenant")).toBe("6");
      expect(await counter(fx.tenantId, "cost", "tenant")).toBe("6");
      expect(await counter(fx.tenantId, "requests", "client:127.0.0.2")).toBe("1");
      expect(await counter(fx.tenantId, "requests", "client:127.0.0.11")).toBe("1");
      // Refused by the pool: what they added to their own budgets was given back.
      expect(await counter(fx.tenantId, "requests", "client:127.0.0.12")).toBe("0");
      expect(await counter(fx.tenantId, "cost", "client:127.0.0.13")).toBe("0");
    });
  });

  describe("one address", () => {
    it("is held to a tenth of the pool, and others are still served", async () => {
      const fx = await freshTenant("rl-anon-address");
      await setRateLimits(gw, staffToken, fx.tenantId, {
        userRequestsPerMinute: 20,
        anonymousRequestsPerMinute: 30,
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
      expect(other.status).toBe(200);
      expect(await counter(fx.tenantId, "requests", "anonymous")).toBe("4");
      expect(await counter(fx.tenantId, "requests", "tenant")).toBeNull();
    });

    it("is held to the per-user limit when that is smaller than its share", async () => {
      const fx = await freshTenant("rl-anon-user");
      await setRateLimits(gw, staffToken, fx.tenantId, {
        userRequestsPerMinute: 2,
        anonymousRequestsPerMinute: 100,
      });

      const answers = [];
      for (let n = 0; n < 3; n += 1) {
        answers.push(await postFrom(gw.url, ADDRESSES[2]!, CHEAP, { tenant: fx.tenantId }));
      }

      expect(answers.map((res) => res.status)).toEqual([200, 200, 429]);
      expect(extensionsOf(answers[2]!)).toMatchObject({ reason: "USER_REQUESTS", limit: 2 });
    });
  });

  describe("on a plan's defaults", () => {
    it("share the starter plan's 600 anonymous requests a minute, 60 per address, apart from the tenant's", async () => {
      const fx = await freshTenant("rl-anon-plan");

      const res = await postFrom(gw.url, ADDRESSES[2]!, CHEAP, { tenant: fx.tenantId });

      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ tenant: { id: fx.tenantId } });
      // The address's share (59 of 60 left) is closer to exhaustion than the pool.
      expect(rateLimitFields(res)).toMatchObject({
        limit: 60,
        remaining: 59,
        policy: "60;w=60",
      });
      expect(await counter(fx.tenantId, "requests", "anonymous")).toBe("1");
      expect(await counter(fx.tenantId, "requests", "client:127.0.0.4")).toBe("1");
      expect(await counter(fx.tenantId, "requests", "tenant")).toBeNull();
      expect(await counter(fx.tenantId, "cost", "tenant")).toBeNull();
    });
  });
});
