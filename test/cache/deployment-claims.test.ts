import { createClient } from "@keyv/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { provisionTenant } from "../../src/lifecycle/provision.js";
import { TEST_REDIS_URL } from "../support/env.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

/**
 * Two deployments (two control planes) on one Redis, each with a tenant of
 * the same id: the cache keys are the same, the tenants are not.
 */
describe("two deployments sharing a Redis and a tenant id", () => {
  let first: TestGateway;
  let second: TestGateway;
  const tenantId = uniqueTenantId("twin");
  const admins: Record<"first" | "second", { id: string; token: string }> = {
    first: { id: "", token: "" },
    second: { id: "", token: "" },
  };

  beforeAll(async () => {
    [first, second] = await Promise.all([
      startTestGateway("claims-a"),
      startTestGateway("claims-b"),
    ]);
    for (const [name, gw] of [
      ["first", first],
      ["second", second],
    ] as const) {
      const { adminUser } = await provisionTenant(
        gw.gateway.lifecycle,
        {
          id: tenantId,
          name: `The ${name}`,
          isolation: Isolation.SHARED,
          adminEmail: `${name}@twin.test`,
        },
        "test",
      );
      admins[name] = { id: adminUser.id, token: await gw.tokenFor(tenantId, adminUser.id) };
    }
  });
  afterAll(async () => {
    await first?.gateway.cache.clearTenant(tenantId);
    await Promise.all([first?.stop(), second?.stop()]);
  });

  it("never serves one deployment's cached users to the other", async () => {
    // The first deployment fills the cache with its admin.
    const own = await first.request<{ user: { email: string } | null }>(
      "query ($id: ID!) { user(id: $id) { email } }",
      { tenant: tenantId, token: admins.first.token, variables: { id: admins.first.id } },
    );
    expect(own.body.data?.user?.email).toBe("first@twin.test");

    const asked = await second.request<{ user: { email: string } | null }>(
      "query ($id: ID!) { user(id: $id) { email } }",
      { tenant: tenantId, token: admins.second.token, variables: { id: admins.first.id } },
    );

    expect(asked.body.errors).toBeUndefined();
    expect(asked.body.data?.user).toBeNull();
  });

  it("refuses the other deployment's user as not part of the tenant", async () => {
    const response = await second.request("{ me { email } }", {
      tenant: tenantId,
      token: admins.first.token,
    });

    expect(codesOf(response)).toEqual(["UNAUTHENTICATED"]);
  });

  it("marks the tenant's entries with the first deployment's id", async () => {
    const redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
    try {
      const holder = await redis.get(`ogc:${tenantId}:gateway:deployment:owner`);

      expect(holder).toBe(first.gateway.database.deploymentId);
      expect(holder).not.toBe(second.gateway.database.deploymentId);
    } finally {
      await redis.quit();
    }
  });

  it("reads no entry another deployment wrote, even when this one holds the claim", async () => {
    // The claims race or vanish (a FLUSHALL, a move clearing the keys): values
    // carry their writer, and another writer's value is a miss.
    const redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
    try {
      const key = `ogc:${tenantId}:identity:user:${admins.second.id}`;
      await redis.set(
        key,
        JSON.stringify({
          o: second.gateway.database.deploymentId,
          v: { id: admins.second.id, email: "planted@twin.test", name: "Planted" },
        }),
      );
      const view = first.gateway.cache.forTenant(tenantId);

      expect(await view.getMany("identity", "user", [admins.second.id])).toEqual([undefined]);
    } finally {
      await redis.quit();
    }
  });
});
