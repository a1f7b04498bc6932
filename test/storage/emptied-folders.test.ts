import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import { deleteFile, tenantDirectory, upload, type Caller } from "./storage-client.js";

describe("folders a delete leaves empty", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;
  let admin: Caller;

  beforeAll(async () => {
    gw = await startTestGateway("storage-folders");
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("st-dirs"));
    admin = {
      tenant: tenant.tenantId,
      token: await gw.tokenFor(tenant.tenantId, tenant.users.admin),
    };
  });
  afterAll(() => gw?.stop());

  const area = () => join(tenantDirectory(gw, "default", tenant.tenantId), "user-uploads");

  it("are removed, so their name can hold a file again", async () => {
    expect(
      (await upload(gw, admin, "USER_UPLOADS", "a/b/x.txt", Buffer.from("x"))).put?.status,
    ).toBe(201);
    expect((await deleteFile(gw, admin, "USER_UPLOADS", "a/b/x.txt")).value).toBe(true);

    expect(await readdir(area())).not.toContain("a");
    const reused = await upload(gw, admin, "USER_UPLOADS", "a", Buffer.from("now a file"));
    expect(reused.link.codes).toEqual([]);
    expect(reused.put?.status).toBe(201);
  });

  it("stop at the first folder that still holds something", async () => {
    await upload(gw, admin, "USER_UPLOADS", "keep/inner/one.txt", Buffer.from("1"));
    await upload(gw, admin, "USER_UPLOADS", "keep/two.txt", Buffer.from("2"));

    await deleteFile(gw, admin, "USER_UPLOADS", "keep/inner/one.txt");

    expect((await readdir(join(area(), "keep"))).sort()).toEqual(["two.txt"]);
  });
});
