import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevelopmentToken } from "../../src/auth/index.js";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { moveTenant } from "../../src/lifecycle/move-tenant.js";
import { provisionTenant } from "../../src/lifecycle/provision.js";
import type { Gateway } from "../../src/server/gateway.js";
import { startEmbeddedGateway, type EmbeddedGateway } from "../support/embedded-gateway.js";
import { TEST_JWT_SECRET as SECRET, uniqueTenantId } from "../support/gateway.js";

/** The embedded default (`npm start` with no servers): PGlite and an in-memory cache. */
describe("tiers on the embedded database", () => {
  let embedded: EmbeddedGateway;
  let gateway: Gateway;
  let url: string;

  const ask = async (tenant: string, userId: string, query: string) => {
    const token = await issueDevelopmentToken(SECRET, { sub: userId, tid: tenant });
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-tenant-id": tenant,
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  };

  beforeAll(async () => {
    embedded = await startEmbeddedGateway("embedded");
    ({ gateway, url } = embedded);
  });
  afterAll(() => embedded?.stop());

  it("provisions a SCHEMA tenant and serves it beside a shared one", async () => {
    const shared = uniqueTenantId("emb-shared");
    const schema = uniqueTenantId("emb-schema");
    const made = await Promise.all(
      [
        [shared, Isolation.SHARED],
        [schema, Isolation.SCHEMA],
      ].map(([id, isolation]) =>
        provisionTenant(
          gateway.lifecycle,
          { id: id!, name: id!, isolation: isolation as Isolation, adminEmail: `a@${id}.test` },
          "test",
        ),
      ),
    );

    for (const outcome of made) {
      const answer = await ask(outcome.tenantId, outcome.adminUser.id, "{ me { email } }");
      expect(answer).toEqual({ data: { me: { email: `a@${outcome.tenantId}.test` } } });
    }
  });

  it("refuses a DATABASE tenant with a message naming DATABASE_URL", async () => {
    const id = uniqueTenantId("emb-db");

    await expect(
      provisionTenant(
        gateway.lifecycle,
        { id, name: id, isolation: Isolation.DATABASE, adminEmail: `a@${id}.test` },
        "test",
      ),
    ).rejects.toMatchObject({ extensions: { code: "BAD_USER_INPUT", field: "isolation" } });
  });

  it("moves a tenant from the shared tables to a schema and back", async () => {
    const id = uniqueTenantId("emb-move");
    const { adminUser } = await provisionTenant(
      gateway.lifecycle,
      { id, name: id, isolation: Isolation.SHARED, adminEmail: `a@${id}.test` },
      "test",
    );
    await ask(id, adminUser.id, `mutation { createChallenge(input: { title: "Kept" }) { id } }`);
    const before = await ask(
      id,
      adminUser.id,
      "{ me { id } challenges(first: 5) { edges { node { title } } } }",
    );

    const there = await moveTenant(gateway.lifecycle, id, { isolation: Isolation.SCHEMA }, "test");
    expect(
      await ask(
        id,
        adminUser.id,
        "{ me { id } challenges(first: 5) { edges { node { title } } } }",
      ),
    ).toEqual(before);
    const back = await moveTenant(gateway.lifecycle, id, { isolation: Isolation.SHARED }, "test");

    expect(there.to).toBe(`schema:tenant_${id.replaceAll("-", "_")}`);
    expect(back.tables).toEqual(there.tables);
    expect(
      await ask(
        id,
        adminUser.id,
        "{ me { id } challenges(first: 5) { edges { node { title } } } }",
      ),
    ).toEqual(before);
  });
});
