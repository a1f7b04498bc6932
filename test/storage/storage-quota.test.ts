import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/logging/index.js";
import { createGateway, type Gateway } from "../../src/server/gateway.js";
import { seedTenantFixture } from "../support/fixtures.js";
import {
  startTestGateway,
  TEST_JWT_SECRET,
  uniqueTenantId,
  type TestGateway,
} from "../support/gateway.js";
import {
  bytesOf,
  createUploadUrl,
  deleteFile,
  filesUnder,
  storageUsage,
  tenantDirectory,
  transfer,
  upload,
  type Caller,
} from "./storage-client.js";

const QUOTA = 1000;

describe("storage quotas", () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway("storage-quota");
  });
  afterAll(async () => {
    await gw?.stop();
  });

  /** A tenant with a quota of 1,000 bytes and uploads of at most 600. */
  async function tenantWithQuota(prefix: string): Promise<Caller & { id: string }> {
    const id = uniqueTenantId(prefix);
    const fixture = await seedTenantFixture(gw.gateway.lifecycle, id);
    await gw.gateway.database.control.tenantConfig.update({
      where: { tenantId: id },
      data: { limits: { storageBytes: QUOTA, maxUploadBytes: 600 } },
    });

    return { id, tenant: id, token: await gw.tokenFor(id, fixture.users.admin) };
  }

  /** What is on disk and in the ledger for a tenant: files, leftovers and recorded bytes. */
  async function stateOf(tenantId: string) {
    const files = await filesUnder(tenantDirectory(gw, "default", tenantId));
    const rows = await gw.gateway.database.control.storedFile.findMany({
      where: { tenantId },
      orderBy: { path: "asc" },
    });

    return {
      files: files.filter((file) => !file.startsWith(".incoming/")),
      incoming: files.filter((file) => file.startsWith(".incoming/")),
      recorded: rows.map((row) => `${row.area}/${row.path}`).sort(),
      bytes: rows.reduce((sum, row) => sum + Number(row.bytes), 0),
    };
  }

  describe("one upload at a time", () => {
    let caller: Caller & { id: string };

    beforeAll(async () => {
      caller = await tenantWithQuota("st-quota");
    });

    it("accepts uploads up to the quota exactly", async () => {
      const first = await upload(gw, caller, "USER_UPLOADS", "a.bin", bytesOf(400));
      const second = await upload(gw, caller, "AI_OUTPUTS", "b.bin", bytesOf(600));

      expect([first.put?.status, second.put?.status]).toEqual([201, 201]);
      expect(await stateOf(caller.id)).toEqual({
        files: ["ai-outputs/b.bin", "user-uploads/a.bin"],
        incoming: [],
        recorded: ["ai-outputs/b.bin", "user-uploads/a.bin"],
        bytes: 1000,
      });
    });

    it("refuses the URL of the upload that would pass it, with QUOTA_EXCEEDED", async () => {
      const answer = await createUploadUrl(gw, caller, {
        area: "USER_UPLOADS",
        path: "c.bin",
        size: 1,
      });

      expect(answer.codes).toEqual(["QUOTA_EXCEEDED"]);
      expect(answer.errors[0]?.message).toMatch(/needs 1 bytes, but only 0 of your 1000 bytes/);
    });

    it("refuses a size past the largest upload with BAD_USER_INPUT naming size", async () => {
      const answer = await createUploadUrl(gw, caller, {
        area: "USER_UPLOADS",
        path: "c.bin",
        size: 601,
      });

      expect(answer.codes).toEqual(["BAD_USER_INPUT"]);
      expect(answer.errors[0]?.extensions?.field).toBe("size");
    });

    it("counts only the difference when a file is replaced", async () => {
      const same = await upload(gw, caller, "AI_OUTPUTS", "b.bin", bytesOf(600, 1));
      const larger = await createUploadUrl(gw, caller, {
        area: "USER_UPLOADS",
        path: "a.bin",
        size: 401,
      });
      const smaller = await upload(gw, caller, "USER_UPLOADS", "a.bin", bytesOf(300, 2));

      expect(same.put?.status).toBe(200);
      expect(larger.codes).toEqual(["QUOTA_EXCEEDED"]);
      expect(smaller.put?.status).toBe(200);
      expect((await stateOf(caller.id)).bytes).toBe(900);
    });

    it("frees the bytes of a deleted file, on disk and in the ledger", async () => {
      const removed = await deleteFile(gw, caller, "AI_OUTPUTS", "b.bin");
      const again = await deleteFile(gw, caller, "AI_OUTPUTS", "b.bin");

      expect([removed.value, again.value]).toEqual([true, false]);
      expect(await stateOf(caller.id)).toEqual({
        files: ["user-uploads/a.bin"],
        incoming: [],
        recorded: ["user-uploads/a.bin"],
        bytes: 300,
      });
      expect((await upload(gw, caller, "CHALLENGE_DATA", "c.bin", bytesOf(600))).put?.status).toBe(
        201,
      );
    });

    it("refuses at upload time when another upload took the room after the URL was made", async () => {
      // 900 in use: two URLs of 100 bytes each fit now, only one will fit later.
      const late = await createUploadUrl(gw, caller, {
        area: "USER_UPLOADS",
        path: "late.bin",
        size: 100,
      });
      const early = await upload(gw, caller, "USER_UPLOADS", "early.bin", bytesOf(100));
      const answer = await transfer(gw, late.value!.url, "PUT", bytesOf(100), late.value!.headers);

      expect(early.put?.status).toBe(201);
      expect([answer.status, answer.json?.errors?.[0]?.extensions.code]).toEqual([
        413,
        "QUOTA_EXCEEDED",
      ]);
      expect(await stateOf(caller.id)).toEqual({
        files: ["challenge-data/c.bin", "user-uploads/a.bin", "user-uploads/early.bin"],
        incoming: [],
        recorded: ["challenge-data/c.bin", "user-uploads/a.bin", "user-uploads/early.bin"],
        bytes: 1000,
      });
    });

    it("reports usage per area that matches the files", async () => {
      const usage = await storageUsage(gw, caller);

      expect(usage.value).toEqual({
        bytes: 1000,
        files: 3,
        quotaBytes: 1000,
        freeBytes: 0,
        maxUploadBytes: 600,
        areas: [
          { area: "USER_UPLOADS", bytes: 400, files: 2 },
          { area: "AI_OUTPUTS", bytes: 0, files: 0 },
          { area: "CHALLENGE_DATA", bytes: 600, files: 1 },
        ],
      });
    });
  });

  describe("uploads racing for the last bytes", () => {
    /** Makes `count` URLs of `size` bytes while all still fit, then sends every body at once. */
    async function race(caller: Caller, count: number, size: number, via: (n: number) => string) {
      const links = await Promise.all(
        Array.from({ length: count }, (_, n) =>
          createUploadUrl(gw, caller, { area: "USER_UPLOADS", path: `race-${n}.bin`, size }),
        ),
      );
      const answers = await Promise.all(
        links.map((link, n) =>
          fetch(new URL(link.value!.url, via(n)), { method: "PUT", body: bytesOf(size, n) }),
        ),
      );

      return answers.map((answer) => answer.status).sort();
    }

    it("lets exactly the uploads that fit succeed", async () => {
      const caller = await tenantWithQuota("st-race");
      const statuses = await race(caller, 6, 300, () => gw.url);

      expect(statuses).toEqual([201, 201, 201, 413, 413, 413]);
      const state = await stateOf(caller.id);
      expect(state.bytes).toBe(900);
      expect(state.files).toEqual(state.recorded);
      expect(state.files).toHaveLength(3);
      expect(state.incoming).toEqual([]);
    });

    describe("across two gateway processes on one database", () => {
      let other: Gateway;
      let otherUrl: string;

      beforeAll(async () => {
        other = await createGateway({
          config: loadConfig({
            NODE_ENV: "test",
            DATABASE_URL: gw.databaseUrl,
            STORAGE_DIR: gw.gateway.lifecycle.storage.root,
            ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
            JWT_SECRET: TEST_JWT_SECRET,
            HOST: "127.0.0.1",
            PORT: "0",
          }),
          logger: createLogger({ level: "silent" }),
          registryTtlMs: 0,
        });
        otherUrl = await other.listen(0);
      });
      afterAll(async () => {
        await other?.stop();
      });

      it("still lets exactly the uploads that fit succeed", async () => {
        const caller = await tenantWithQuota("st-race2");
        const statuses = await race(caller, 8, 250, (n) => (n % 2 === 0 ? gw.url : otherUrl));

        expect(statuses).toEqual([201, 201, 201, 201, 413, 413, 413, 413]);
        const state = await stateOf(caller.id);
        expect(state.bytes).toBe(1000);
        expect(state.files).toEqual(state.recorded);
        expect(state.incoming).toEqual([]);
      });

      it("lets one link store one file, whichever process its uploads reach", async () => {
        const caller = await tenantWithQuota("st-once2");
        const link = await createUploadUrl(gw, caller, {
          area: "USER_UPLOADS",
          path: "once.bin",
          size: 100,
        });
        const answers = await Promise.all(
          Array.from({ length: 6 }, (_, n) =>
            transfer(
              { ...gw, url: n % 2 === 0 ? gw.url : otherUrl },
              link.value!.url,
              "PUT",
              bytesOf(100, n),
            ),
          ),
        );

        const outcomes = answers.map(
          (answer) => answer.json?.errors?.[0]?.extensions.code ?? "stored",
        );
        expect(outcomes.sort()).toEqual([
          "FORBIDDEN",
          "FORBIDDEN",
          "FORBIDDEN",
          "FORBIDDEN",
          "FORBIDDEN",
          "stored",
        ]);
        const state = await stateOf(caller.id);
        expect(state).toEqual({
          files: ["user-uploads/once.bin"],
          incoming: [],
          recorded: ["user-uploads/once.bin"],
          bytes: 100,
        });
      });
    });
  });
});
