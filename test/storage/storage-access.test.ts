import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Isolation, TenantStatus } from "../../src/generated/prisma/enums.js";
import { deprovisionTenant } from "../../src/lifecycle/deprovision.js";
import { moveTenant } from "../../src/lifecycle/move-tenant.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import {
  bytesOf,
  createDownloadUrl,
  createUploadUrl,
  deleteFile,
  filesUnder,
  listFiles,
  storageUsage,
  tenantDirectory,
  transfer,
  upload,
  type Caller,
} from "./storage-client.js";

describe("storage access", () => {
  let gw: TestGateway;
  let one: TenantFixture;
  let two: TenantFixture;
  let oneAdmin: Caller;
  let twoAdmin: Caller;

  beforeAll(async () => {
    gw = await startTestGateway("storage-access");
    [one, two] = await Promise.all([
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("st-one")),
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("st-two")),
    ]);
    oneAdmin = { tenant: one.tenantId, token: await gw.tokenFor(one.tenantId, one.users.admin) };
    twoAdmin = { tenant: two.tenantId, token: await gw.tokenFor(two.tenantId, two.users.admin) };
    await upload(gw, oneAdmin, "USER_UPLOADS", "secret.txt", Buffer.from("tenant one's secret"));
    await upload(gw, twoAdmin, "USER_UPLOADS", "secret.txt", Buffer.from("tenant two"));
  });
  afterAll(async () => {
    await gw?.stop();
  });

  describe("between tenants", () => {
    it("gives each tenant its own file at the same path", async () => {
      const oneLink = await createDownloadUrl(gw, oneAdmin, "USER_UPLOADS", "secret.txt");
      const twoLink = await createDownloadUrl(gw, twoAdmin, "USER_UPLOADS", "secret.txt");

      expect((await transfer(gw, oneLink.value!.url, "GET")).body.toString()).toBe(
        "tenant one's secret",
      );
      expect((await transfer(gw, twoLink.value!.url, "GET")).body.toString()).toBe("tenant two");
    });

    it.each([
      ["a file only the other tenant has", "USER_UPLOADS", "only-one.txt"],
      ["the other tenant's file in another area", "AI_OUTPUTS", "secret.txt"],
    ])("answers NOT_FOUND for %s", async (_name, area, path) => {
      await upload(gw, oneAdmin, area, path, Buffer.from("x"));
      const answer = await createDownloadUrl(gw, twoAdmin, area, path);

      expect(answer.codes).toEqual(["NOT_FOUND"]);
      expect(answer.errors[0]?.message).toBe("The file was not found.");
    });

    it.each([
      `../../${"ONE"}/user-uploads/secret.txt`,
      `../${"ONE"}/user-uploads/secret.txt`,
      `%2e%2e/%2e%2e/${"ONE"}/user-uploads/secret.txt`,
      `/${"ONE"}/user-uploads/secret.txt`,
    ])("refuses the path %s and reads nothing of the other tenant", async (template) => {
      const path = template.replace("ONE", one.tenantId);
      const answer = await createDownloadUrl(gw, twoAdmin, "USER_UPLOADS", path);

      expect(answer.value).toBeNull();
      expect(answer.codes).toEqual(["BAD_USER_INPUT"]);
    });

    it("lists only the tenant's own files", async () => {
      const page = await listFiles(gw, twoAdmin, { area: "AI_OUTPUTS" });

      expect(page.value?.edges).toEqual([]);
    });

    it("cannot delete the other tenant's file", async () => {
      const answer = await deleteFile(gw, twoAdmin, "AI_OUTPUTS", "secret.txt");
      const still = await createDownloadUrl(gw, oneAdmin, "AI_OUTPUTS", "secret.txt");

      expect(answer.value).toBe(false);
      expect(still.codes).toEqual([]);
    });

    it("refuses a token of one tenant naming the other", async () => {
      const answer = await createDownloadUrl(
        gw,
        { tenant: one.tenantId, token: twoAdmin.token },
        "USER_UPLOADS",
        "secret.txt",
      );

      expect(answer.value).toBeNull();
      expect(answer.codes).toEqual(["TENANT_MISMATCH"]);
    });
  });

  describe("by role", () => {
    const as = (user: keyof TenantFixture["users"]) => async () => ({
      tenant: one.tenantId,
      token: await gw.tokenFor(one.tenantId, one.users[user]),
    });

    it("lets a member list, measure and download", async () => {
      const member = await as("member")();
      const link = await createDownloadUrl(gw, member, "USER_UPLOADS", "secret.txt");
      const usage = await storageUsage(gw, member);
      const page = await listFiles(gw, member, { area: "USER_UPLOADS" });

      expect((await transfer(gw, link.value!.url, "GET")).body.toString()).toBe(
        "tenant one's secret",
      );
      expect(usage.codes).toEqual([]);
      expect(page.value?.edges.map((edge) => edge.node.path)).toEqual([
        "only-one.txt",
        "secret.txt",
      ]);
    });

    it("refuses a member an upload URL and a delete", async () => {
      const member = await as("member")();
      const link = await createUploadUrl(gw, member, {
        area: "USER_UPLOADS",
        path: "m.txt",
        size: 1,
      });
      const removal = await deleteFile(gw, member, "USER_UPLOADS", "secret.txt");

      expect(link.codes).toEqual(["FORBIDDEN"]);
      expect(removal.codes).toEqual(["FORBIDDEN"]);
    });

    it("refuses a user without a role, and asks an anonymous caller to sign in", async () => {
      const nobody = await as("nobody")();
      const anonymous = { tenant: one.tenantId, token: "" };

      expect((await createDownloadUrl(gw, nobody, "USER_UPLOADS", "secret.txt")).codes).toEqual([
        "FORBIDDEN",
      ]);
      expect((await storageUsage(gw, nobody)).codes).toEqual(["FORBIDDEN"]);
      expect((await storageUsage(gw, anonymous)).codes).toEqual(["UNAUTHENTICATED"]);
    });
  });

  describe("listing", () => {
    it("pages through an area in one stable order, and filters by prefix literally", async () => {
      for (const path of ["p/a_1.txt", "p/a_2.txt", "p/aX3.txt", "q/z.txt"]) {
        await upload(gw, oneAdmin, "CHALLENGE_DATA", path, Buffer.from(path));
      }
      const paths = (page: Awaited<ReturnType<typeof listFiles>>) =>
        page.value?.edges.map((edge) => edge.node.path) ?? [];
      // Path order is the database's collation, which need not be byte order.
      const whole = await listFiles(gw, oneAdmin, { area: "CHALLENGE_DATA" });
      const first = await listFiles(gw, oneAdmin, { area: "CHALLENGE_DATA", first: 2 });
      const rest = await listFiles(gw, oneAdmin, {
        area: "CHALLENGE_DATA",
        first: 2,
        after: first.value!.pageInfo.endCursor!,
      });
      const underscore = await listFiles(gw, oneAdmin, { area: "CHALLENGE_DATA", prefix: "p/a_" });

      expect([...paths(whole)].sort()).toEqual(["p/aX3.txt", "p/a_1.txt", "p/a_2.txt", "q/z.txt"]);
      expect([...paths(first), ...paths(rest)]).toEqual(paths(whole));
      expect(first.value?.pageInfo.hasNextPage).toBe(true);
      expect(rest.value?.pageInfo.hasNextPage).toBe(false);
      // `_` is a LIKE wildcard: "p/aX3.txt" must not match the prefix "p/a_".
      expect([...paths(underscore)].sort()).toEqual(["p/a_1.txt", "p/a_2.txt"]);
      expect(whole.value?.edges.find((e) => e.node.path === "q/z.txt")?.node).toMatchObject({
        bytes: 7,
        contentType: "application/octet-stream",
      });
    });

    it("refuses a cursor it did not issue", async () => {
      const answer = await listFiles(gw, oneAdmin, { area: "CHALLENGE_DATA", after: "bm9wZQ" });

      expect(answer.codes).toEqual(["BAD_USER_INPUT"]);
      expect(answer.errors[0]?.extensions?.field).toBe("after");
    });
  });

  describe("usage", () => {
    it("matches the files on disk, and shows in the admin's tenant list", async () => {
      const id = uniqueTenantId("st-usage");
      const fixture = await seedTenantFixture(gw.gateway.lifecycle, id);
      const admin = { tenant: id, token: await gw.tokenFor(id, fixture.users.admin) };
      await upload(gw, admin, "USER_UPLOADS", "a.bin", bytesOf(1234));
      await upload(gw, admin, "USER_UPLOADS", "dir/b.bin", bytesOf(66));
      await upload(gw, admin, "AI_OUTPUTS", "c.bin", bytesOf(700));

      const directory = tenantDirectory(gw, "default", id);
      const files = await filesUnder(directory);
      const sizes = await Promise.all(
        files.map(async (f) => (await stat(join(directory, f))).size),
      );
      const usage = await storageUsage(gw, admin);
      const staff = await gw.request<{
        adminTenants: { id: string; usage: { storage: unknown } }[];
      }>("{ adminTenants { id usage } }", { token: await gw.globalAdminToken() });

      expect(files).toEqual(["ai-outputs/c.bin", "user-uploads/a.bin", "user-uploads/dir/b.bin"]);
      expect(usage.value?.bytes).toBe(sizes.reduce((a, b) => a + b, 0));
      expect(usage.value).toMatchObject({
        bytes: 2000,
        files: 3,
        quotaBytes: 100 * 1024 * 1024,
        freeBytes: 100 * 1024 * 1024 - 2000,
        areas: [
          { area: "USER_UPLOADS", bytes: 1300, files: 2 },
          { area: "AI_OUTPUTS", bytes: 700, files: 1 },
          { area: "CHALLENGE_DATA", bytes: 0, files: 0 },
        ],
      });
      expect(staff.body.data?.adminTenants.find((t) => t.id === id)?.usage.storage).toEqual({
        bytes: 2000,
        files: 3,
        quotaBytes: 100 * 1024 * 1024,
        maxUploadBytes: 10 * 1024 * 1024,
        areas: {
          "user-uploads": { bytes: 1300, files: 2 },
          "ai-outputs": { bytes: 700, files: 1 },
          "challenge-data": { bytes: 0, files: 0 },
        },
      });
    });
  });

  describe("buckets and lifecycle", () => {
    it("keeps a DATABASE tenant's files in its own bucket", async () => {
      const id = uniqueTenantId("st-db");
      const fixture = await seedTenantFixture(gw.gateway.lifecycle, id, {
        isolation: Isolation.DATABASE,
      });
      const admin = { tenant: id, token: await gw.tokenFor(id, fixture.users.admin) };
      const { put } = await upload(gw, admin, "AI_OUTPUTS", "model/out.json", Buffer.from("{}"));
      const tenant = await gw.gateway.database.control.tenant.findUnique({ where: { id } });

      expect(put?.status).toBe(201);
      expect(tenant?.storageBucket).toBe(`tenant-${id}`);
      expect(await filesUnder(tenantDirectory(gw, `tenant-${id}`, id))).toEqual([
        "ai-outputs/model/out.json",
      ]);
      expect(await filesUnder(tenantDirectory(gw, "default", id))).toEqual([]);
    });

    it("keeps files readable after a move, in the bucket the tenant had", async () => {
      const id = uniqueTenantId("st-move");
      const fixture = await seedTenantFixture(gw.gateway.lifecycle, id);
      const admin = { tenant: id, token: await gw.tokenFor(id, fixture.users.admin) };
      await upload(gw, admin, "USER_UPLOADS", "kept.txt", Buffer.from("kept"));

      await moveTenant(gw.gateway.lifecycle, id, { isolation: Isolation.SCHEMA }, "test");
      const link = await createDownloadUrl(gw, admin, "USER_UPLOADS", "kept.txt");
      const tenant = await gw.gateway.database.control.tenant.findUnique({ where: { id } });

      expect(tenant?.isolation).toBe(Isolation.SCHEMA);
      expect(tenant?.storageBucket).toBe("default");
      expect((await transfer(gw, link.value!.url, "GET")).body.toString()).toBe("kept");
    });

    it("removes a deprovisioned tenant's files and records", async () => {
      const id = uniqueTenantId("st-gone");
      const fixture = await seedTenantFixture(gw.gateway.lifecycle, id);
      const admin = { tenant: id, token: await gw.tokenFor(id, fixture.users.admin) };
      await upload(gw, admin, "USER_UPLOADS", "x.txt", Buffer.from("x"));
      const control = gw.gateway.database.control;
      await control.tenant.update({ where: { id }, data: { status: TenantStatus.SUSPENDED } });

      await deprovisionTenant(gw.gateway.lifecycle, id, "test");

      expect(await control.storedFile.count({ where: { tenantId: id } })).toBe(0);
      expect(
        await readFile(join(tenantDirectory(gw, "default", id), "user-uploads/x.txt")).catch(
          (e: NodeJS.ErrnoException) => e.code,
        ),
      ).toBe("ENOENT");
    });
  });
});
