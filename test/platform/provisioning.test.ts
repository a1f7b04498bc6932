import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEVELOPMENT_ENCRYPTION_KEY } from "../../src/config/index.js";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCache } from "../../src/cache/index.js";
import { createMasterKeys } from "../../src/crypto/index.js";
import type { LifecycleServices } from "../../src/lifecycle/lifecycle-services.js";
import { StorageLayout } from "../../src/storage/index.js";
import { openDatabase, type Database } from "../../src/data/index.js";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { createLogger } from "../../src/logging/index.js";
import { newId } from "../../src/modules/common/ids.js";
import { provisionTenant } from "../../src/lifecycle/provision.js";
import { ProvisionTenantDocument, type ProvisionTenantInput } from "../generated/graphql.js";
import {
  codesOf,
  execute,
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";

const silent = createLogger({ level: "silent" });

function inputFor(id: string, change: Partial<ProvisionTenantInput> = {}): ProvisionTenantInput {
  return {
    id,
    name: `Tenant ${id}`,
    isolation: "SHARED",
    adminEmail: `root@${id}.test`,
    ...change,
  };
}

/** The ids of the tenant's users that hold `tenant_admin`. */
async function tenantAdminsOf(database: Database, tenantId: string): Promise<string[]> {
  const rows = await database.forTenant(tenantId).roleAssignment.findMany({
    where: { tenantId, roleName: "tenant_admin" },
    select: { userId: true },
  });

  return rows.map((row) => row.userId);
}

/** How many platform audit rows of `action` name the tenant. */
function platformAuditCount(database: Database, tenantId: string, action: string) {
  return database.control.platformAuditLog.count({ where: { tenantId, action } });
}

/** How many `tenant.provision` rows the tenant's own audit log holds. */
function tenantAuditCount(database: Database, tenantId: string) {
  return database.forTenant(tenantId).auditLog.count({
    where: { tenantId, action: "tenant.provision" },
  });
}

function errorOf(res: GraphQLResponse<unknown>) {
  expect(res.body.errors).toHaveLength(1);

  return res.body.errors?.[0];
}

describe("provisioning a tenant that already exists", () => {
  let gw: TestGateway;
  let token: string;
  let tenantId: string;
  let firstAdminId: string;

  const provision = (input: ProvisionTenantInput) =>
    execute(gw, ProvisionTenantDocument, { token, variables: { input } });

  beforeAll(async () => {
    gw = await startTestGateway("provisioning-retry");
    token = await gw.globalAdminToken();
    tenantId = uniqueTenantId("prov");
    const first = await provision(inputFor(tenantId));
    expect(first.body.errors).toBeUndefined();
    firstAdminId = first.body.data?.provisionTenant.adminUser.id ?? "";
  });
  afterAll(() => gw?.stop());

  it("answers a retry of the same request with the same first admin", async () => {
    const res = await provision(inputFor(tenantId));

    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.provisionTenant.adminUser).toEqual({
      id: firstAdminId,
      email: `root@${tenantId}.test`,
      name: "Administrator",
    });
    expect(await tenantAdminsOf(gw.gateway.database, tenantId)).toEqual([firstAdminId]);
  });

  it("accepts the first admin's email written in other case and with spaces", async () => {
    const res = await provision(inputFor(tenantId, { adminEmail: ` ROOT@${tenantId}.TEST ` }));

    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.provisionTenant.adminUser.id).toBe(firstAdminId);
  });

  it("refuses another adminEmail with BAD_USER_INPUT on adminEmail and adds no admin", async () => {
    const res = await provision(inputFor(tenantId, { adminEmail: `intruder@${tenantId}.test` }));

    expect(res.body.data).toBeNull();
    expect(errorOf(res)?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "adminEmail" });
    expect(errorOf(res)?.message).toBe(
      `Tenant "${tenantId}" already has its first administrator; a retry must send the same adminEmail.`,
    );
    expect(await tenantAdminsOf(gw.gateway.database, tenantId)).toEqual([firstAdminId]);
    const intruder = await gw.gateway.database.forTenant(tenantId).user.findUnique({
      where: { tenantId_email: { tenantId, email: `intruder@${tenantId}.test` } },
    });
    expect(intruder).toBeNull();
  });

  it("refuses the email of another user of the tenant without promoting that user", async () => {
    const memberId = newId();
    const email = `member@${tenantId}.test`;
    const db = gw.gateway.database.forTenant(tenantId);
    await db.user.create({ data: { tenantId, id: memberId, email, name: "Member" } });

    const res = await provision(inputFor(tenantId, { adminEmail: email }));

    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    expect(errorOf(res)?.extensions?.field).toBe("adminEmail");
    expect(await tenantAdminsOf(gw.gateway.database, tenantId)).toEqual([firstAdminId]);
  });

  it("refuses another name with BAD_USER_INPUT on name and keeps the name", async () => {
    const res = await provision(inputFor(tenantId, { name: "Renamed by a retry" }));

    expect(res.body.data).toBeNull();
    expect(errorOf(res)?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "name" });
    const tenant = await gw.gateway.database.control.tenant.findUnique({ where: { id: tenantId } });
    expect(tenant?.name).toBe(`Tenant ${tenantId}`);
  });

  it("writes one tenant.provision row, a retry row per accepted retry, none for refusals", async () => {
    const id = uniqueTenantId("prov");
    await provision(inputFor(id));
    await provision(inputFor(id));
    await provision(inputFor(id, { adminEmail: `other@${id}.test` }));
    await provision(inputFor(id, { name: "Other" }));
    const database = gw.gateway.database;

    expect(await platformAuditCount(database, id, "tenant.provision")).toBe(1);
    expect(await platformAuditCount(database, id, "tenant.provision.retry")).toBe(1);
    expect(await tenantAuditCount(database, id)).toBe(1);
  });
});

describe("concurrent provisioning of a new tenant", () => {
  let gw: TestGateway;
  let token: string;

  beforeAll(async () => {
    gw = await startTestGateway("provisioning-race");
    token = await gw.globalAdminToken();
  });
  afterAll(() => gw?.stop());

  it("answers 10 concurrent identical requests with one admin and one provision row", async () => {
    const tenantId = uniqueTenantId("race");
    const input = inputFor(tenantId);

    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        execute(gw, ProvisionTenantDocument, { token, variables: { input } }),
      ),
    );

    expect(results.map((res) => codesOf(res))).toEqual(Array.from({ length: 10 }, () => []));
    const adminIds = new Set(results.map((res) => res.body.data?.provisionTenant.adminUser.id));
    expect(adminIds.size).toBe(1);
    const database = gw.gateway.database;
    expect(await tenantAdminsOf(database, tenantId)).toEqual([...adminIds]);
    expect(await platformAuditCount(database, tenantId, "tenant.provision")).toBe(1);
    expect(await platformAuditCount(database, tenantId, "tenant.provision.retry")).toBe(9);
    expect(await tenantAuditCount(database, tenantId)).toBe(1);
    const tenant = await database.control.tenant.findUnique({ where: { id: tenantId } });
    expect(tenant?.status).toBe("ACTIVE");
  });

  it("lets exactly one of concurrent requests with different admin emails win", async () => {
    const tenantId = uniqueTenantId("race");
    const emails = Array.from({ length: 6 }, (_, n) => `admin${n}@${tenantId}.test`);

    const results = await Promise.all(
      emails.map((adminEmail) =>
        execute(gw, ProvisionTenantDocument, {
          token,
          variables: { input: inputFor(tenantId, { adminEmail }) },
        }),
      ),
    );

    const winners = results.filter((res) => res.body.errors === undefined);
    expect(winners).toHaveLength(1);
    const losers = results.filter((res) => res.body.errors !== undefined);
    expect(losers.map((res) => errorOf(res)?.extensions?.field)).toEqual(
      Array.from({ length: 5 }, () => "adminEmail"),
    );
    const adminId = winners[0]?.body.data?.provisionTenant.adminUser.id;
    expect(await tenantAdminsOf(gw.gateway.database, tenantId)).toEqual([adminId]);
  });

  it("serialises calls from two gateway processes sharing the database", async () => {
    // A second handle has its own in-process queue, as another process would,
    // so only the database's advisory lock keeps the two apart.
    const other = await openDatabase({
      url: gw.databaseUrl,
      dataDir: "",
      poolMax: 8,
      masterKeys: createMasterKeys(Buffer.from(DEVELOPMENT_ENCRYPTION_KEY, "base64")),
      logger: silent,
    });
    try {
      const tenantId = uniqueTenantId("race");
      const request = {
        id: tenantId,
        name: "Two processes",
        isolation: Isolation.SHARED,
        adminEmail: `root@${tenantId}.test`,
      };
      const outcomes = await Promise.all(
        [gw.gateway.database, other].flatMap((database) =>
          Array.from({ length: 5 }, () =>
            provisionTenant({ ...gw.gateway.lifecycle, database }, request, "test:race"),
          ),
        ),
      );

      expect(new Set(outcomes.map((outcome) => outcome.adminUser.id)).size).toBe(1);
      expect(outcomes.filter((outcome) => outcome.created)).toHaveLength(1);
      expect(await platformAuditCount(other, tenantId, "tenant.provision")).toBe(1);
      expect(await tenantAuditCount(other, tenantId)).toBe(1);
    } finally {
      await other.close();
    }
  });
});

describe("concurrent provisioning on the embedded PGlite", () => {
  let database: Database;
  let lifecycle: LifecycleServices;

  beforeAll(async () => {
    database = await openDatabase({
      url: undefined,
      dataDir: "memory://",
      poolMax: 4,
      masterKeys: createMasterKeys(Buffer.from(DEVELOPMENT_ENCRYPTION_KEY, "base64")),
      logger: silent,
    });
    lifecycle = {
      database,
      cache: await createCache({
        redisUrl: undefined,
        timeoutMs: 100,
        ttlSeconds: 60,
        logger: silent,
      }),
      storage: new StorageLayout(await mkdtemp(join(tmpdir(), "ogc-storage-"))),
      region: "local",
      exportDir: tmpdir(),
      logger: silent,
    };
  });
  afterAll(() => database?.close());

  it("answers 10 concurrent identical calls with one admin and one provision row", async () => {
    const tenantId = uniqueTenantId("pglite");
    const request = {
      id: tenantId,
      name: "Embedded",
      isolation: Isolation.SHARED,
      adminEmail: `root@${tenantId}.test`,
    };

    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => provisionTenant(lifecycle, request, "test:race")),
    );

    expect(new Set(outcomes.map((outcome) => outcome.adminUser.id)).size).toBe(1);
    expect(outcomes.filter((outcome) => outcome.created)).toHaveLength(1);
    expect(await tenantAdminsOf(database, tenantId)).toHaveLength(1);
    expect(await platformAuditCount(database, tenantId, "tenant.provision")).toBe(1);
    expect(await tenantAuditCount(database, tenantId)).toBe(1);
  });
});
