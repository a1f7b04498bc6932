import { createHash } from "node:crypto";
import http from "node:http";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLAIM_GRACE_MS,
  linkUrl,
  removeExpiredClaims,
  UrlSigner,
  type LinkClaims,
} from "../../src/storage/index.js";
import { eventually } from "../support/eventually.js";
import { seedTenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import {
  bytesOf,
  createDownloadUrl,
  createUploadUrl,
  deleteFile,
  filesUnder,
  startUpload,
  storageUsage,
  tenantDirectory,
  transfer,
  upload,
  type Caller,
  type TransferAnswer,
} from "./storage-client.js";

/** The master key startTestGateway configures (ENCRYPTION_KEY). */
const MASTER_KEY = Buffer.alloc(32, 1);

const USED = "This upload link was already used. Ask for a new one.";

function sha256Of(body: Buffer): string {
  return createHash("sha256").update(body).digest("hex");
}

function refusalOf(answer: Pick<TransferAnswer, "status" | "json">): [number, string?, string?] {
  const error = answer.json?.errors?.[0];

  return [answer.status, error?.extensions.code, error?.message];
}

/** Seeds a tenant whose admin calls; optionally with a quota and largest upload. */
async function seedCaller(
  gw: TestGateway,
  prefix: string,
  limits?: { storageBytes: number; maxUploadBytes: number },
  id = uniqueTenantId(prefix),
): Promise<Caller & { id: string }> {
  const fixture = await seedTenantFixture(gw.gateway.lifecycle, id);
  if (limits) {
    await gw.gateway.database.control.tenantConfig.update({
      where: { tenantId: id },
      data: { limits },
    });
  }

  return { id, tenant: id, token: await gw.tokenFor(id, fixture.users.admin) };
}

/** What a GET sends before it ends, and whether it ended whole. */
function download(gw: TestGateway, url: string): Promise<{ bytes: number; whole: boolean }> {
  const target = new URL(url, gw.url);

  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: "127.0.0.1", port: target.port, path: `${target.pathname}${target.search}` },
      (response) => {
        let bytes = 0;
        response.on("data", (chunk: Buffer) => (bytes += chunk.length));
        response.on("end", () => resolve({ bytes, whole: response.complete }));
        response.on("aborted", () => resolve({ bytes, whole: false }));
        response.on("error", () => resolve({ bytes, whole: false }));
      },
    );
    request.on("error", reject);
  });
}

describe("storage links", () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway("storage-links");
  });
  afterAll(async () => {
    await gw?.stop();
  });

  const incomingOf = async (tenantId: string) =>
    filesUnder(join(tenantDirectory(gw, "default", tenantId), ".incoming"));

  describe("an upload link stores one file", () => {
    let caller: Caller & { id: string };

    beforeAll(async () => {
      caller = await seedCaller(gw, "ln-once");
    });

    it("refuses a second upload through a used link, and keeps the first file", async () => {
      const first = bytesOf(100, 1);
      const link = await createUploadUrl(gw, caller, {
        area: "USER_UPLOADS",
        path: "once.bin",
        size: 100,
      });
      const put = await transfer(gw, link.value!.url, "PUT", first);
      const again = await transfer(gw, link.value!.url, "PUT", bytesOf(100, 2));

      expect(put.status).toBe(201);
      expect(refusalOf(again)).toEqual([403, "FORBIDDEN", USED]);
      const onDisk = await readFile(
        join(tenantDirectory(gw, "default", caller.id), "user-uploads/once.bin"),
      );
      expect(onDisk.equals(first)).toBe(true);
      expect(await incomingOf(caller.id)).toEqual([]);
    });

    it("lets one of ten parallel uploads through one link in, refusing the others before their bodies are stored", async () => {
      const size = 200_000;
      const body = bytesOf(size, 3);
      const half = size / 2;
      const link = await createUploadUrl(gw, caller, {
        area: "USER_UPLOADS",
        path: "replayed.bin",
        size,
      });

      // Each sends half its body and holds the rest back.
      const uploads = Array.from({ length: 10 }, () =>
        startUpload(gw, link.value!.url, size, body.subarray(0, half), link.value!.headers),
      );
      const answered: number[] = [];
      uploads.forEach((open, n) => void open.answer.then(() => answered.push(n)));
      await eventually(
        async () => answered.length,
        (count) => count === 9,
      );

      // Nine answered while their bodies were incomplete: none was read to the end.
      const refusals = await Promise.all(answered.map((n) => uploads[n]!.answer));
      expect(refusals.map(refusalOf)).toEqual(Array(9).fill([403, "FORBIDDEN", USED]));
      // Only the one let in receives: its half body is all the incoming directory holds.
      const receiving = await eventually(
        () => incomingOf(caller.id),
        (files) => files.length === 1,
      );
      expect(receiving).toHaveLength(1);
      const partial = join(tenantDirectory(gw, "default", caller.id), ".incoming", receiving[0]!);
      expect(
        (
          await eventually(
            () => readFile(partial),
            (bytes) => bytes.length === half,
          )
        ).length,
      ).toBe(half);

      const winner = uploads.find((_, n) => !answered.includes(n))!;
      winner.finish(body.subarray(half));
      const stored = await winner.answer;

      expect([stored.status, stored.json?.sha256]).toEqual([201, sha256Of(body)]);
      expect(await incomingOf(caller.id)).toEqual([]);
      const signature = new URL(link.value!.url, gw.url).searchParams.get("signature")!;
      const claims = await gw.gateway.database.control.uploadLinkClaim.count({
        where: { signatureHash: sha256Of(Buffer.from(signature)) },
      });
      expect(claims).toBe(1);
    });

    it("is spent by an upload whose body arrived with the wrong size: the retry is refused", async () => {
      const link = await createUploadUrl(gw, caller, {
        area: "USER_UPLOADS",
        path: "short.bin",
        size: 100,
      });
      // Streamed without a length: the size shows only once the body is in.
      const response = await fetch(new URL(link.value!.url, gw.url), {
        method: "PUT",
        body: new Blob([bytesOf(99)]).stream(),
        duplex: "half",
      } as RequestInit);
      const short = {
        status: response.status,
        json: (await response.json()) as TransferAnswer["json"],
      };
      const retry = await transfer(gw, link.value!.url, "PUT", bytesOf(100));

      expect(refusalOf(short).slice(0, 2)).toEqual([400, "BAD_USER_INPUT"]);
      expect(refusalOf(retry)).toEqual([403, "FORBIDDEN", USED]);
      expect(await incomingOf(caller.id)).toEqual([]);
    });

    it("stays usable after a refusal that came before the body (a declared length that differs)", async () => {
      const link = await createUploadUrl(gw, caller, {
        area: "USER_UPLOADS",
        path: "declared.bin",
        size: 100,
      });
      const declared = startUpload(gw, link.value!.url, 101, Buffer.alloc(0));
      const refused = await declared.answer;
      const put = await transfer(gw, link.value!.url, "PUT", bytesOf(100));

      expect(refusalOf(refused).slice(0, 2)).toEqual([413, "BAD_USER_INPUT"]);
      expect(put.status).toBe(201);
    });

    it("keeps a claim an hour past its link's expiry, then lets it be removed", async () => {
      const control = gw.gateway.database.control;
      const now = Date.now();
      const claim = (key: string, expiredMsAgo: number) => ({
        signatureHash: key,
        tenantId: caller.id,
        expiresAt: new Date(now - expiredMsAgo),
      });
      await control.uploadLinkClaim.createMany({
        data: [
          claim("long-expired", CLAIM_GRACE_MS + 60_000),
          claim("just-expired", 60_000),
          claim("live", -60_000),
        ],
      });

      const removed = await removeExpiredClaims(control, now);

      expect(removed).toBeGreaterThanOrEqual(1);
      const left = await control.uploadLinkClaim.findMany({
        where: {
          tenantId: caller.id,
          signatureHash: { in: ["long-expired", "just-expired", "live"] },
        },
        orderBy: { signatureHash: "asc" },
      });
      expect(left.map((row) => row.signatureHash)).toEqual(["just-expired", "live"]);
    });

    it("keys a claim by a hash of the signature, never the signature itself", async () => {
      const link = await createUploadUrl(gw, caller, {
        area: "USER_UPLOADS",
        path: "keyed.bin",
        size: 1,
      });
      await transfer(gw, link.value!.url, "PUT", Buffer.from("k"));
      const params = new URL(link.value!.url, gw.url).searchParams;
      const signature = params.get("signature")!;

      const row = await gw.gateway.database.control.uploadLinkClaim.findUnique({
        where: { signatureHash: sha256Of(Buffer.from(signature)) },
      });
      expect(row?.expiresAt.getTime()).toBe(Number(params.get("expires")) * 1000);
      expect(
        await gw.gateway.database.control.uploadLinkClaim.count({
          where: { signatureHash: signature },
        }),
      ).toBe(0);
    });
  });

  describe("uploads under way count against the quota", () => {
    it("refuses, before reading its body, an upload that fits alone but not with one under way; its link then still works", async () => {
      const caller = await seedCaller(gw, "ln-flight", { storageBytes: 1000, maxUploadBytes: 600 });
      const first = await createUploadUrl(gw, caller, {
        area: "USER_UPLOADS",
        path: "first.bin",
        size: 600,
      });
      const second = await createUploadUrl(gw, caller, {
        area: "USER_UPLOADS",
        path: "second.bin",
        size: 500,
      });

      // The first streams 100 of its 600 bytes and waits.
      const slow = startUpload(gw, first.value!.url, 600, bytesOf(100));
      await eventually(
        () => incomingOf(caller.id),
        (files) => files.length === 1,
      );
      // The second sends its headers and no byte of its body.
      const refused = await startUpload(gw, second.value!.url, 500, Buffer.alloc(0)).answer;

      expect(refusalOf(refused).slice(0, 2)).toEqual([413, "QUOTA_EXCEEDED"]);
      expect(refusalOf(refused)[2]).toMatch(
        /needs 500 bytes; with 600 bytes of other uploads under way, only 400 of your 1000 bytes/,
      );
      expect(await incomingOf(caller.id)).toHaveLength(1);

      slow.finish(bytesOf(600).subarray(100));
      expect((await slow.answer).status).toBe(201);
      expect(await incomingOf(caller.id)).toEqual([]);
      expect((await deleteFile(gw, caller, "USER_UPLOADS", "first.bin")).value).toBe(true);
      // Refused before its body, the link was not spent.
      const retry = await transfer(gw, second.value!.url, "PUT", bytesOf(500));
      expect(retry.status).toBe(201);
      expect((await storageUsage(gw, caller)).value?.bytes).toBe(500);
    });
  });

  describe("a download link is for the content it was made for", () => {
    let caller: Caller & { id: string };

    beforeAll(async () => {
      caller = await seedCaller(gw, "ln-content");
    });

    it("answers NOT_FOUND once the file is replaced by another of the same size", async () => {
      await upload(gw, caller, "AI_OUTPUTS", "same-size.bin", bytesOf(100, 1));
      const before = await createDownloadUrl(gw, caller, "AI_OUTPUTS", "same-size.bin");
      const replaced = await upload(gw, caller, "AI_OUTPUTS", "same-size.bin", bytesOf(100, 2));

      expect(replaced.put?.status).toBe(200);
      const get = await transfer(gw, before.value!.url, "GET");
      const head = await fetch(new URL(before.value!.url, gw.url), { method: "HEAD" });
      expect(refusalOf(get)).toEqual([404, "NOT_FOUND", "The file was not found."]);
      expect(head.status).toBe(404);
      const fresh = await createDownloadUrl(gw, caller, "AI_OUTPUTS", "same-size.bin");
      expect((await transfer(gw, fresh.value!.url, "GET")).body.equals(bytesOf(100, 2))).toBe(true);
    });

    it("keeps working when the very same bytes are uploaded again", async () => {
      await upload(gw, caller, "AI_OUTPUTS", "again.bin", bytesOf(100, 5));
      const before = await createDownloadUrl(gw, caller, "AI_OUTPUTS", "again.bin");
      await upload(gw, caller, "AI_OUTPUTS", "again.bin", bytesOf(100, 5));
      const got = await transfer(gw, before.value!.url, "GET");

      expect([got.status, got.body.equals(bytesOf(100, 5))]).toEqual([200, true]);
    });

    it("cuts a download off before its last byte when the bytes on disk are not the linked ones", async () => {
      const size = 300_000;
      await upload(gw, caller, "AI_OUTPUTS", "swapped.bin", bytesOf(size, 1));
      const link = await createDownloadUrl(gw, caller, "AI_OUTPUTS", "swapped.bin");
      // What a replacement renamed in but not yet committed looks like.
      const file = join(tenantDirectory(gw, "default", caller.id), "ai-outputs/swapped.bin");
      await writeFile(file, bytesOf(size, 2));

      const got = await download(gw, link.value!.url);

      expect(got.whole).toBe(false);
      expect(got.bytes).toBeLessThan(size);
    });
  });

  describe("a link is bound to its deployment", () => {
    it("is refused when signed with the same key for another deployment's id", async () => {
      const caller = await seedCaller(gw, "ln-deploy");
      const body = Buffer.from("deployment");
      await upload(gw, caller, "USER_UPLOADS", "d.txt", body);
      const claims: LinkClaims = {
        method: "GET",
        tenantId: caller.id,
        bucket: "default",
        area: "user-uploads",
        path: "d.txt",
        size: body.length,
        sha256: sha256Of(body),
        nonce: "",
        contentType: "",
        expires: Math.floor(Date.now() / 1000) + 300,
      };
      const sign = (deploymentId: string) =>
        linkUrl(claims, new UrlSigner(MASTER_KEY, deploymentId).sign(claims));

      const foreign = await transfer(gw, sign("another-deployment"), "GET");
      const own = await transfer(gw, sign(gw.gateway.database.deploymentId), "GET");

      expect(refusalOf(foreign).slice(0, 2)).toEqual([403, "FORBIDDEN"]);
      expect([own.status, own.body.toString()]).toEqual([200, "deployment"]);
    });

    describe("across two deployments that share an ENCRYPTION_KEY", () => {
      let other: TestGateway;

      beforeAll(async () => {
        other = await startTestGateway("storage-links-other");
      });
      afterAll(async () => {
        await other?.stop();
      });

      it("refuses in one an upload link the other made for a tenant of the same id", async () => {
        const id = uniqueTenantId("ln-twin");
        const here = await seedCaller(gw, "ln-twin", undefined, id);
        await seedCaller(other, "ln-twin", undefined, id);
        const link = await createUploadUrl(gw, here, {
          area: "USER_UPLOADS",
          path: "twin.txt",
          size: 4,
        });

        expect(other.gateway.database.deploymentId).not.toBe(gw.gateway.database.deploymentId);
        const there = await transfer(other, link.value!.url, "PUT", Buffer.from("twin"));
        expect(refusalOf(there).slice(0, 2)).toEqual([403, "FORBIDDEN"]);
        expect(await filesUnder(tenantDirectory(other, "default", id))).toEqual([]);
        expect((await transfer(gw, link.value!.url, "PUT", Buffer.from("twin"))).status).toBe(201);
      });
    });
  });
});
