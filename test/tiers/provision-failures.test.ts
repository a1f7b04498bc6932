import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_SECOND_DATABASE_URL } from "../support/env.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

const MIGRATIONS = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));
const BROKEN = "29991231000000_broken";

const PROVISION = `mutation ($input: ProvisionTenantInput!) {
  provisionTenant(input: $input) { tenant { id } adminUser { id email } }
}`;

async function databaseExists(url: string, name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

describe("provisioning that fails part-way", () => {
  let gw: TestGateway;
  let migrations: string;
  let staff: string;

  const provision = (id: string, isolation: string, region?: string) =>
    gw.request<{ provisionTenant: { adminUser: { id: string } } }>(PROVISION, {
      token: staff,
      variables: { input: { id, name: id, isolation, region, adminEmail: `root@${id}.test` } },
    });
  const statusOf = async (id: string) =>
    (await gw.gateway.database.control.tenant.findUnique({ where: { id } }))?.status ?? null;
  const breakMigrations = async () => {
    await mkdir(join(migrations, BROKEN), { recursive: true });
    await writeFile(join(migrations, BROKEN, "migration.sql"), "SELECT 1 / 0;\n");
  };
  const mendMigrations = () => rm(join(migrations, BROKEN), { recursive: true, force: true });

  beforeAll(async () => {
    migrations = await mkdtemp(join(tmpdir(), "ogc-migrations-"));
    await cp(MIGRATIONS, migrations, { recursive: true });
    gw = await startTestGateway("provision-failures", {
      migrationsDir: migrations,
      // A server nobody listens on: a region whose database is unreachable.
      extraServers: [
        { id: "down", region: "down", url: "postgresql://postgres@127.0.0.1:9/postgres" },
      ],
    });
    staff = await gw.globalAdminToken();
  });
  afterAll(async () => {
    await gw?.stop();
    await rm(migrations, { recursive: true, force: true });
  });

  it("leaves a tenant whose server is unreachable PROVISIONING, invisible, and removable with force", async () => {
    const id = uniqueTenantId("unreachable");
    const remove = (force: boolean) =>
      gw.request(
        "mutation ($id: ID!, $force: Boolean) { deprovisionTenant(id: $id, force: $force) }",
        {
          token: staff,
          variables: { id, force },
        },
      );

    const failed = await provision(id, "DATABASE", "down");

    expect(codesOf(failed)).toEqual(["INTERNAL_SERVER_ERROR"]);
    expect(await statusOf(id)).toBe("PROVISIONING");
    expect(codesOf(await gw.request("{ tenant { id } }", { tenant: id }))).toEqual([
      "TENANT_NOT_FOUND",
    ]);

    // The server still does not answer: removal stops rather than forget a database.
    expect(codesOf(await remove(false))).toEqual(["INTERNAL_SERVER_ERROR"]);
    expect(await statusOf(id)).toBe("PROVISIONING");

    expect((await remove(true)).body).toEqual({ data: { deprovisionTenant: true } });
    expect(await statusOf(id)).toBeNull();
    const audit = await gw.gateway.database.control.platformAuditLog.findFirst({
      where: { tenantId: id, action: "tenant.deprovision" },
    });
    expect(audit?.detail).toMatchObject({
      orphaned: `database:down/ogc_tenant_${id.replaceAll("-", "_")}`,
    });
  });

  it("completes a SCHEMA tenant on retry once a failing migration is mended", async () => {
    const id = uniqueTenantId("retry");
    await breakMigrations();
    try {
      const failed = await provision(id, "SCHEMA");
      expect(codesOf(failed)).toEqual(["INTERNAL_SERVER_ERROR"]);
      expect(await statusOf(id)).toBe("PROVISIONING");
      expect(codesOf(await gw.request("{ tenant { id } }", { tenant: id }))).toEqual([
        "TENANT_NOT_FOUND",
      ]);
    } finally {
      await mendMigrations();
    }

    const retried = await provision(id, "SCHEMA");

    expect(retried.body.errors).toBeUndefined();
    expect(await statusOf(id)).toBe("ACTIVE");
    const adminId = retried.body.data!.provisionTenant.adminUser.id;
    const me = await gw.request<{ me: { id: string } }>("{ me { id } }", {
      tenant: id,
      token: await gw.tokenFor(id, adminId),
    });
    expect(me.body.data?.me.id).toBe(adminId);
  });

  it("removes a half-made DATABASE tenant's database and login on deprovision", async () => {
    const id = uniqueTenantId("half");
    const database = `ogc_tenant_${id.replaceAll("-", "_")}`;
    await breakMigrations();
    try {
      const failed = await provision(id, "DATABASE", "eu");
      expect(codesOf(failed)).toEqual(["INTERNAL_SERVER_ERROR"]);
    } finally {
      await mendMigrations();
    }
    expect(await statusOf(id)).toBe("PROVISIONING");
    expect(await databaseExists(TEST_SECOND_DATABASE_URL, database)).toBe(true);

    const removed = await gw.request("mutation ($id: ID!) { deprovisionTenant(id: $id) }", {
      token: staff,
      variables: { id },
    });

    expect(removed.body).toEqual({ data: { deprovisionTenant: true } });
    expect(await databaseExists(TEST_SECOND_DATABASE_URL, database)).toBe(false);
    expect(await statusOf(id)).toBeNull();
  });

  it("refuses to remove an active tenant", async () => {
    const id = uniqueTenantId("alive");
    expect((await provision(id, "SHARED")).body.errors).toBeUndefined();

    const refused = await gw.request("mutation ($id: ID!) { deprovisionTenant(id: $id) }", {
      token: staff,
      variables: { id },
    });

    expect(codesOf(refused)).toEqual(["BAD_USER_INPUT"]);
    expect(await statusOf(id)).toBe("ACTIVE");
  });
});
