import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevelopmentToken } from "../../src/auth/index.js";
import { loadConfig } from "../../src/config/index.js";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { provisionTenant } from "../../src/lifecycle/provision.js";
import { createLogger } from "../../src/logging/index.js";
import { createGateway, type Gateway } from "../../src/server/gateway.js";
import { uniqueTenantId, type TestGateway } from "../support/gateway.js";
import {
  bytesOf,
  createUploadUrl,
  filesUnder,
  storageUsage,
  type Caller,
} from "./storage-client.js";

const SECRET = "embedded-storage-secret-long-enough-for-hs256";

/**
 * The embedded default (no DATABASE_URL): PGlite has one connection, so the
 * storage lock's transaction must never wait on the control client itself.
 */
describe("storage on the embedded database", () => {
  let gateway: Gateway;
  let files: string;
  let gw: TestGateway;
  let caller: Caller;
  let tenantId: string;

  beforeAll(async () => {
    files = await mkdtemp(join(tmpdir(), "ogc-embedded-storage-"));
    gateway = await createGateway({
      config: loadConfig({
        NODE_ENV: "test",
        DATA_DIR: "memory://",
        JWT_SECRET: SECRET,
        STORAGE_DIR: join(files, "storage"),
        EXPORT_DIR: join(files, "exports"),
        SEED_DEMO: "false",
        PORT: "0",
      }),
      logger: createLogger({ level: "silent" }),
      registryTtlMs: 0,
    });
    const url = await gateway.listen(0);
    // Enough of a TestGateway for the storage client's helpers.
    gw = {
      url,
      gateway,
      request: async (query, options = {}) => {
        const response = await fetch(`${url}/graphql`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-tenant-id": options.tenant ?? "",
            authorization: `Bearer ${options.token}`,
          },
          body: JSON.stringify({ query, variables: options.variables }),
        });
        return { status: response.status, body: await response.json() };
      },
    } as TestGateway;

    tenantId = uniqueTenantId("emb-files");
    const { adminUser } = await provisionTenant(
      gateway.lifecycle,
      {
        id: tenantId,
        name: tenantId,
        isolation: Isolation.SHARED,
        adminEmail: `a@${tenantId}.test`,
      },
      "test",
    );
    await gateway.database.control.tenantConfig.update({
      where: { tenantId },
      data: { limits: { storageBytes: 1000 } },
    });
    caller = {
      tenant: tenantId,
      token: await issueDevelopmentToken(SECRET, { sub: adminUser.id, tid: tenantId }),
    };
  });
  afterAll(async () => {
    await gateway?.stop();
    await rm(files, { recursive: true, force: true });
  });

  it("lets exactly the racing uploads that fit succeed, and counts them", async () => {
    const links = await Promise.all(
      Array.from({ length: 5 }, (_, n) =>
        createUploadUrl(gw, caller, { area: "USER_UPLOADS", path: `r${n}.bin`, size: 300 }),
      ),
    );
    const statuses = await Promise.all(
      links.map(async (link, n) => {
        const response = await fetch(new URL(link.value!.url, gw.url), {
          method: "PUT",
          body: bytesOf(300, n),
        });
        return response.status;
      }),
    );
    const usage = await storageUsage(gw, caller);
    const onDisk = await filesUnder(join(files, "storage", "default", tenantId));

    expect(statuses.sort()).toEqual([201, 201, 201, 413, 413]);
    expect(usage.value).toMatchObject({ bytes: 900, files: 3, quotaBytes: 1000 });
    expect(onDisk).toHaveLength(3);
    expect(onDisk.every((file) => file.startsWith("user-uploads/"))).toBe(true);
  });

  it("refuses a second upload through a used link", async () => {
    const link = await createUploadUrl(gw, caller, {
      area: "AI_OUTPUTS",
      path: "once.bin",
      size: 10,
    });
    const put = () => fetch(new URL(link.value!.url, gw.url), { method: "PUT", body: bytesOf(10) });

    const first = await put();
    const second = await put();

    expect([first.status, second.status]).toEqual([201, 403]);
    expect(await second.json()).toMatchObject({
      errors: [{ extensions: { code: "FORBIDDEN" } }],
    });
  });
});
