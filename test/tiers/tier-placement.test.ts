import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import { TEST_SECOND_DATABASE_URL } from "../support/env.js";

const run = promisify(execFile);

async function queryAt<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe("tenants of every tier in one gateway", () => {
  let gw: TestGateway;
  const tenants: Record<string, TenantFixture> = {};

  beforeAll(async () => {
    gw = await startTestGateway("tiers");
    const plans: [string, Isolation, string | undefined][] = [
      ["shared", Isolation.SHARED, undefined],
      ["schema", Isolation.SCHEMA, undefined],
      ["db-local", Isolation.DATABASE, "local"],
      ["db-eu", Isolation.DATABASE, "eu"],
    ];
    for (const [key, isolation, region] of plans) {
      tenants[key] = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId(`tier-${key}`), {
        isolation,
        region,
      });
    }
  });
  afterAll(() => gw?.stop());

  it("records where each tenant lives in the registry", async () => {
    const rows = await gw.gateway.database.control.tenant.findMany({
      where: { id: { in: Object.values(tenants).map((t) => t.tenantId) } },
      select: {
        id: true,
        isolation: true,
        schemaName: true,
        databaseServer: true,
        databaseName: true,
        schemaVersion: true,
      },
    });
    const byId = new Map(rows.map((row) => [row.id, row]));
    const at = (key: string) => byId.get(tenants[key]!.tenantId);

    expect(at("shared")).toMatchObject({
      isolation: "SHARED",
      schemaName: null,
      databaseServer: null,
    });
    expect(at("schema")).toMatchObject({
      isolation: "SCHEMA",
      schemaName: `tenant_${tenants.schema!.tenantId.replaceAll("-", "_")}`,
    });
    expect(at("db-local")).toMatchObject({ isolation: "DATABASE", databaseServer: "primary" });
    expect(at("db-eu")).toMatchObject({ isolation: "DATABASE", databaseServer: "second" });
    for (const row of rows) expect(row.schemaVersion).toMatch(/^\d{14}_/);
  });

  it("keeps a schema tenant's rows in its schema and none in the shared tables", async () => {
    const { tenantId } = tenants.schema!;
    const schema = `tenant_${tenantId.replaceAll("-", "_")}`;
    const own = await queryAt<{ n: number }>(
      gw.databaseUrl,
      `SELECT count(*)::int AS n FROM "${schema}"."User" WHERE "tenantId" = $1`,
      [tenantId],
    );
    const shared = await queryAt<{ n: number }>(
      gw.databaseUrl,
      `SELECT count(*)::int AS n FROM public."User" WHERE "tenantId" = $1`,
      [tenantId],
    );

    expect(own[0]?.n).toBeGreaterThan(5);
    expect(shared[0]?.n).toBe(0);
  });

  it("keeps a database tenant's rows on its own server, in its own database", async () => {
    const { tenantId } = tenants["db-eu"]!;
    const url = new URL(TEST_SECOND_DATABASE_URL);
    url.pathname = `/ogc_tenant_${tenantId.replaceAll("-", "_")}`;
    const own = await queryAt<{ n: number }>(
      url.toString(),
      `SELECT count(*)::int AS n FROM "User" WHERE "tenantId" = $1`,
      [tenantId],
    );
    const control = await queryAt<{ n: number }>(
      gw.databaseUrl,
      `SELECT count(*)::int AS n FROM public."User" WHERE "tenantId" = $1`,
      [tenantId],
    );

    expect(own[0]?.n).toBeGreaterThan(5);
    expect(control[0]?.n).toBe(0);
  });

  it("serves each tenant its own users through GraphQL", async () => {
    for (const fixture of Object.values(tenants)) {
      const token = await gw.tokenFor(fixture.tenantId, fixture.users.admin);
      const response = await gw.request<{ users: { edges: { node: { email: string } }[] } }>(
        "{ users(first: 50) { edges { node { email } } } }",
        { tenant: fixture.tenantId, token },
      );
      const emails = response.body.data?.users.edges.map((edge) => edge.node.email) ?? [];

      expect(response.body.errors).toBeUndefined();
      expect(emails.length).toBeGreaterThan(5);
      expect(emails.every((email) => email.endsWith(`@${fixture.tenantId}.test`))).toBe(true);
    }
  });

  it("shows no database password in a dump of the control database", async () => {
    const { stdout } = await run(
      "pg_dump",
      ["--data-only", '--table=public."Tenant"', gw.databaseUrl],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const sealed = await gw.gateway.database.control.tenant.findMany({
      where: { isolation: Isolation.DATABASE },
      select: { id: true, databaseSecret: true },
    });
    const location = await gw.gateway.database.placement.refresh(tenants["db-eu"]!.tenantId);
    const password = location.isolation === "DATABASE" ? new URL(location.url).password : "";

    expect(sealed).toHaveLength(2);
    expect(password.length).toBeGreaterThan(20);
    expect(stdout).toContain(tenants["db-eu"]!.tenantId);
    expect(stdout).not.toContain(password);
    expect(stdout).not.toMatch(/postgres(ql)?:\/\//);
  });

  it("lists every tenant's tier, location and version for the admin console, with no credential", async () => {
    const response = await gw.request<{
      adminTenants: {
        id: string;
        isolation: string;
        location: string;
        schemaVersion: string;
        health: string;
      }[];
    }>("{ adminTenants { id isolation location schemaVersion health storageBucket } }", {
      token: await gw.globalAdminToken(),
    });
    const byId = new Map(response.body.data?.adminTenants.map((t) => [t.id, t]));
    const underscored = (key: string) => tenants[key]!.tenantId.replaceAll("-", "_");

    expect(response.body.errors).toBeUndefined();
    expect(byId.get(tenants.shared!.tenantId)).toMatchObject({ location: "shared", health: "ok" });
    expect(byId.get(tenants.schema!.tenantId)?.location).toBe(
      `schema:tenant_${underscored("schema")}`,
    );
    expect(byId.get(tenants["db-eu"]!.tenantId)).toMatchObject({
      location: `database:second/ogc_tenant_${underscored("db-eu")}`,
      storageBucket: `tenant-${tenants["db-eu"]!.tenantId}`,
      health: "ok",
    });
    expect(JSON.stringify(response.body)).not.toMatch(/postgres(ql)?:\/\/|password/i);
  });

  describe("regions recorded where the data is", () => {
    const staff = () => gw.globalAdminToken();
    const provision = async (input: Record<string, unknown>) =>
      gw.request(
        `mutation ($input: ProvisionTenantInput!) { provisionTenant(input: $input) { tenant { id } } }`,
        {
          token: await staff(),
          variables: { input: { name: "Regions", adminEmail: "a@regions.test", ...input } },
        },
      );
    const move = async (id: string, args: string) =>
      gw.request<{ moveTenant: { tenant: { region: string } } }>(
        `mutation ($id: ID!) { moveTenant(id: $id, ${args}) { tenant { region location } } }`,
        { token: await staff(), variables: { id } },
      );
    const fieldOf = (response: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) =>
      response.body.errors?.[0]?.extensions;

    it("refuses a SHARED or SCHEMA tenant in a region the control database is not in", async () => {
      for (const isolation of ["SHARED", "SCHEMA"]) {
        const response = await provision({ id: uniqueTenantId("far"), isolation, region: "eu" });

        expect(fieldOf(response)).toMatchObject({ code: "BAD_USER_INPUT", field: "region" });
      }
    });

    it("takes a moved tenant's region from the server it lands on", async () => {
      const fixture = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("to-server"));

      const moved = await move(fixture.tenantId, `isolation: DATABASE, server: "second"`);

      expect(moved.body.data?.moveTenant.tenant.region).toBe("eu");
    });

    it("refuses a server and a region that disagree, and a server for a schema", async () => {
      const fixture = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("disagree"));

      expect(
        fieldOf(
          await move(fixture.tenantId, `isolation: DATABASE, server: "second", region: "local"`),
        ),
      ).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "region",
      });
      expect(
        fieldOf(await move(fixture.tenantId, `isolation: SCHEMA, server: "second"`)),
      ).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "server",
      });
      expect(
        fieldOf(await move(fixture.tenantId, `isolation: DATABASE, server: "${"x".repeat(5000)}"`)),
      ).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "server",
      });
    });
  });
});
