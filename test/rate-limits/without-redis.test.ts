import { createClient } from "@keyv/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_REDIS_URL } from "../support/env.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import { CHEAP, extensionsOf, rateLimitFields, setRateLimits } from "./rate-limit-support.js";
import { scanKeys } from "../support/redis-keys.js";

describe("rate limits of a gateway without Redis", () => {
  let gw: TestGateway;
  let fx: TenantFixture;

  beforeAll(async () => {
    gw = await startTestGateway("rate-limits-memory", { redis: false });
    fx = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("rl-memory"));
    await setRateLimits(gw, await gw.globalAdminToken(), fx.tenantId, {
      requestsPerMinute: 3,
    });
  });
  afterAll(() => gw?.stop());

  it("still holds each tenant to its limit, in process memory", async () => {
    const token = await gw.tokenFor(fx.tenantId, fx.users.member);
    const answers = [];
    for (let n = 0; n < 4; n += 1) {
      answers.push(await gw.request(CHEAP, { tenant: fx.tenantId, token }));
    }

    expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 429]);
    expect(answers.map((res) => rateLimitFields(res).remaining)).toEqual([2, 1, 0, 0]);
    expect(rateLimitFields(answers[0]!)).toMatchObject({ limit: 3, policy: "3;w=60" });
    expect(codesOf(answers[3]!)).toEqual(["RATE_LIMITED"]);
    expect(extensionsOf(answers[3]!)).toMatchObject({ reason: "TENANT_REQUESTS", limit: 3 });
    expect(rateLimitFields(answers[3]!).retryAfter).toBe(
      extensionsOf(answers[3]!).retryAfterSeconds,
    );
  });

  it("writes nothing to Redis", async () => {
    const redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
    try {
      expect(await scanKeys(redis, `ogc:${fx.tenantId}:*`)).toEqual([]);
    } finally {
      redis.destroy();
    }
  });
});
