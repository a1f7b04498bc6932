import { createClient } from "@keyv/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_REDIS_URL } from "../support/env.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";
import {
  CHEAP,
  counterKey,
  extensionsOf,
  rateLimitFields,
  setRateLimits,
} from "./rate-limit-support.js";

/** How many requests the refused user keeps in flight at once. */
const PARALLEL = 40;

describe("a user over their own limit who keeps sending in parallel", () => {
  let gw: TestGateway;
  let redis: ReturnType<typeof createClient>;
  let fx: TenantFixture;

  beforeAll(async () => {
    gw = await startTestGateway("rate-limits-parallel");
    redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
    fx = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("rl-parallel"));
    await setRateLimits(gw, await gw.globalAdminToken(), fx.tenantId, {
      requestsPerMinute: 30,
      userRequestsPerMinute: 20,
    });
  });
  afterAll(async () => {
    redis?.destroy();
    await gw?.stop();
  });

  const requestsKey = (subject: string) =>
    counterKey(fx.tenantId, gw.gateway.database.deploymentId, "requests", subject);

  it("locks no one else out: the other user is served each time and the tenant counts only what it admitted", async () => {
    const bob = await gw.tokenFor(fx.tenantId, fx.users.member);
    const alice = await gw.tokenFor(fx.tenantId, fx.users.analyst);
    const ask = (token: string) => gw.request(CHEAP, { tenant: fx.tenantId, token });
    for (let n = 0; n < 20; n += 1) expect((await ask(bob)).status).toBe(200);

    // Bob keeps PARALLEL requests in flight until Alice is done.
    const bobAnswers: GraphQLResponse[] = [];
    let hammering = true;
    let answeredLoops = 0;
    let flooding: () => void = () => undefined;
    const flood = new Promise<void>((resolve) => (flooding = resolve));
    const hammer = async () => {
      let first = true;
      while (hammering) {
        bobAnswers.push(await ask(bob));
        if (first && (answeredLoops += 1) === PARALLEL) flooding();
        first = false;
      }
    };
    const loops = Array.from({ length: PARALLEL }, hammer);
    await flood;
    const aliceAnswers = [];
    for (let n = 0; n < 8; n += 1) aliceAnswers.push(await ask(alice));
    hammering = false;
    await Promise.all(loops);

    process.stdout.write(
      `parallel flood: ${bobAnswers.length} refused requests of one user while another sent 8\n`,
    );
    expect(aliceAnswers.map((res) => res.status)).toEqual(Array(8).fill(200));
    // The tenant's budget (30, 20 spent by Bob) is the closest to exhaustion.
    expect(aliceAnswers.map((res) => rateLimitFields(res).remaining)).toEqual([
      9, 8, 7, 6, 5, 4, 3, 2,
    ]);
    expect(aliceAnswers.map((res) => rateLimitFields(res).limit)).toEqual(Array(8).fill(30));
    expect(bobAnswers.length).toBeGreaterThanOrEqual(PARALLEL);
    expect(new Set(bobAnswers.map((res) => res.status))).toEqual(new Set([429]));
    expect(new Set(bobAnswers.map((res) => extensionsOf(res).reason))).toEqual(
      new Set(["USER_REQUESTS"]),
    );
    expect(await redis.get(requestsKey("tenant"))).toBe("28");
    expect(await redis.get(requestsKey(`user:${fx.users.member}`))).toBe("20");
    expect(await redis.get(requestsKey(`user:${fx.users.analyst}`))).toBe("8");
  });
});
