import { createClient } from "@keyv/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogger, type LogLine } from "../cache/capture-logger.js";
import { startPrivateRedis, type PrivateRedis } from "../cache/redis-server.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import {
  CHEAP,
  counterKey,
  extensionsOf,
  rateLimitFields,
  setRateLimits,
} from "./rate-limit-support.js";
import { eventually } from "../support/eventually.js";

const WENT_AWAY = /^Rate-limit counters in Redis unavailable/;
const CAME_BACK = /^Rate-limit counters in Redis answer again/;

/** How long the gateway may take to notice that Redis is back. */
const RECOVERY_BOUND_MS = 10_000;

describe("rate limits when their Redis hangs, comes back and dies", () => {
  let redisServer: PrivateRedis;
  let gw: TestGateway;
  let fx: TenantFixture;
  let lines: LogLine[];

  const count = (pattern: RegExp) => lines.filter((line) => pattern.test(line.msg)).length;
  const ask = async (userId: string) =>
    gw.request(CHEAP, { tenant: fx.tenantId, token: await gw.tokenFor(fx.tenantId, userId) });

  /** A counter's value in the private Redis, read with a client of our own. */
  async function counter(subject: string): Promise<string | null> {
    const client = createClient({ url: redisServer.url });
    await client.connect();
    try {
      return await client.get(
        counterKey(fx.tenantId, gw.gateway.database.deploymentId, "requests", subject),
      );
    } finally {
      client.destroy();
    }
  }

  beforeAll(async () => {
    redisServer = await startPrivateRedis();
    const captured = captureLogger();
    lines = captured.lines;
    gw = await startTestGateway("rate-limits-outage", {
      redisUrl: redisServer.url,
      logger: captured.logger,
    });
    fx = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("rl-outage"));
    await setRateLimits(gw, await gw.globalAdminToken(), fx.tenantId, {
      userRequestsPerMinute: 4,
    });
  });

  afterAll(async () => {
    redisServer?.signal("SIGCONT");
    await gw?.stop();
    await redisServer?.stop();
  });

  it("counts in Redis while it answers", async () => {
    const res = await ask(fx.users.member);

    expect(res.status).toBe(200);
    expect(rateLimitFields(res)).toMatchObject({ limit: 4, remaining: 3 });
    expect(await counter(`user:${fx.users.member}`)).toBe("1");
    expect(count(WENT_AWAY)).toBe(0);
  });

  it("counts in process while Redis hangs, and still enforces the limit there", async () => {
    redisServer.signal("SIGSTOP");

    const statuses = [];
    for (let n = 0; n < 5; n += 1) statuses.push(await ask(fx.users.member));

    // The process's own counters start empty: four admitted, the fifth refused.
    expect(statuses.map((res) => res.status)).toEqual([200, 200, 200, 200, 429]);
    expect(statuses.map((res) => rateLimitFields(res).remaining)).toEqual([3, 2, 1, 0, 0]);
    expect(extensionsOf(statuses[4]!)).toMatchObject({ reason: "USER_REQUESTS" });
    expect(count(WENT_AWAY)).toBe(1);
  });

  it("goes back to Redis when it answers again, and says so once", async () => {
    redisServer.signal("SIGCONT");

    const back = await eventually(
      async () => {
        await ask(fx.users.analyst);
        return count(CAME_BACK) > 0;
      },
      (ok) => ok,
      RECOVERY_BOUND_MS,
    );
    const before = Number(await counter("tenant"));
    const res = await ask(fx.users.admin);

    expect(back).toBe(true);
    expect(res.status).toBe(200);
    expect(Number(await counter("tenant"))).toBe(before + 1);
    expect(await counter(`user:${fx.users.admin}`)).toBe("1");
    expect(count(WENT_AWAY)).toBe(1);
    expect(count(CAME_BACK)).toBe(1);
  });

  it("serves requests when Redis dies, logging the new outage once", async () => {
    await redisServer.kill();

    const answers = [];
    for (let n = 0; n < 3; n += 1) answers.push(await ask(fx.users.orgOwner));

    expect(answers.map((res) => res.status)).toEqual([200, 200, 200]);
    expect(answers.map((res) => rateLimitFields(res).remaining)).toEqual([3, 2, 1]);
    expect(count(WENT_AWAY)).toBe(2);
  });
});
