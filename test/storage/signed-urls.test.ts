import { createHash, createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantStatus } from "../../src/generated/prisma/enums.js";
import { linkUrl, UrlSigner, type LinkClaims } from "../../src/storage/index.js";
import { seedTenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import {
  bytesOf,
  createDownloadUrl,
  createUploadUrl,
  filesUnder,
  tenantDirectory,
  transfer,
  upload,
  type Caller,
  type TransferAnswer,
} from "./storage-client.js";

/** The master key startTestGateway configures (ENCRYPTION_KEY). */
const MASTER_KEY = Buffer.alloc(32, 1);

function sha256Of(body: Buffer): string {
  return createHash("sha256").update(body).digest("hex");
}

function codeOf(answer: TransferAnswer): string | undefined {
  return answer.json?.errors?.[0]?.extensions.code;
}

/** The URL with one query parameter set to another value. */
function withParam(url: string, name: string, value: string): string {
  const parsed = new URL(url, "http://gateway.test");
  parsed.searchParams.set(name, value);

  return `${parsed.pathname}${parsed.search}`;
}

describe("signed storage URLs", () => {
  let gw: TestGateway;
  let acme: Caller;
  let globex: Caller;
  let acmeId: string;
  let globexId: string;

  beforeAll(async () => {
    gw = await startTestGateway("storage-urls");
    acmeId = uniqueTenantId("st-acme");
    globexId = uniqueTenantId("st-globex");
    const [a, b] = await Promise.all([
      seedTenantFixture(gw.gateway.lifecycle, acmeId),
      seedTenantFixture(gw.gateway.lifecycle, globexId),
    ]);
    acme = { tenant: acmeId, token: await gw.tokenFor(acmeId, a.users.admin) };
    globex = { tenant: globexId, token: await gw.tokenFor(globexId, b.users.admin) };
  });
  afterAll(async () => {
    await gw?.stop();
  });

  describe("a round trip", () => {
    it("uploads with PUT and downloads the same bytes with GET, as an attachment", async () => {
      const body = bytesOf(1000);
      const { link, put } = await upload(
        gw,
        acme,
        "USER_UPLOADS",
        "reports/q1.csv",
        body,
        "text/csv",
      );

      expect(link.value?.method).toBe("PUT");
      expect(link.value?.headers).toEqual({ "Content-Type": "text/csv" });
      expect(link.value?.url).toMatch(
        new RegExp(
          `^/storage/${acmeId}/user-uploads/reports/q1\\.csv\\?expires=\\d+&size=1000&nonce=[\\w-]{22}&type=text%2Fcsv&signature=[\\w-]{43}$`,
        ),
      );
      const sha256 = createHash("sha256").update(body).digest("hex");
      expect(put?.status).toBe(201);
      expect(put?.json).toEqual({
        area: "user-uploads",
        path: "reports/q1.csv",
        bytes: 1000,
        sha256,
        contentType: "text/csv",
      });

      const download = await createDownloadUrl(gw, acme, "USER_UPLOADS", "reports/q1.csv");
      expect(download.value?.method).toBe("GET");
      const got = await transfer(gw, download.value!.url, "GET");

      expect(got.status).toBe(200);
      expect(got.body.equals(body)).toBe(true);
      expect(got.headers.get("content-type")).toBe("text/csv");
      expect(got.headers.get("content-length")).toBe("1000");
      expect(got.headers.get("content-disposition")).toBe('attachment; filename="q1.csv"');
      expect(got.headers.get("x-content-type-options")).toBe("nosniff");
      expect(got.headers.get("etag")).toBe(`"${sha256}"`);
    });

    it("stores the file under {bucket}/{tenantId}/{area}/ and records it", async () => {
      const onDisk = join(tenantDirectory(gw, "default", acmeId), "user-uploads/reports/q1.csv");
      const record = await gw.gateway.database.control.storedFile.findUnique({
        where: {
          tenantId_area_path: { tenantId: acmeId, area: "user-uploads", path: "reports/q1.csv" },
        },
      });

      expect((await readFile(onDisk)).equals(bytesOf(1000))).toBe(true);
      expect(record?.bytes).toBe(1000n);
      expect(record?.contentType).toBe("text/csv");
    });

    it("expires links after the configured lifetime, 300 s by default", async () => {
      const link = await createUploadUrl(gw, acme, { area: "AI_OUTPUTS", path: "a.txt", size: 1 });
      const expires = Number(new URL(link.value!.url, gw.url).searchParams.get("expires"));

      expect(Date.parse(link.value!.expiresAt)).toBe(expires * 1000);
      expect(expires * 1000).toBeGreaterThan(Date.now());
    });

    it("keeps spaces and parentheses in names, percent-encoding them in the URL", async () => {
      const body = Buffer.from("final answer");
      const { link, put } = await upload(
        gw,
        acme,
        "AI_OUTPUTS",
        "My Files/report (final).txt",
        body,
      );

      expect(link.value?.url).toContain("/ai-outputs/My%20Files/report%20(final).txt?");
      expect(put?.json?.path).toBe("My Files/report (final).txt");
      expect(put?.json?.contentType).toBe("application/octet-stream");
      const download = await createDownloadUrl(
        gw,
        acme,
        "AI_OUTPUTS",
        "My Files/report (final).txt",
      );
      const got = await transfer(gw, download.value!.url, "GET");
      expect(got.body.toString()).toBe("final answer");
    });

    it("answers HEAD with the headers of a GET and no body", async () => {
      const download = await createDownloadUrl(gw, acme, "USER_UPLOADS", "reports/q1.csv");
      const got = await transfer(gw, download.value!.url, "HEAD");

      expect(got.status).toBe(200);
      expect(got.headers.get("content-length")).toBe("1000");
      expect(got.body.length).toBe(0);
    });

    it("replaces a file in place; a download URL of the old content then answers NOT_FOUND", async () => {
      const before = await createDownloadUrl(gw, acme, "USER_UPLOADS", "reports/q1.csv");
      const { put } = await upload(gw, acme, "USER_UPLOADS", "reports/q1.csv", bytesOf(10, 3));

      expect(put?.status).toBe(200);
      const stale = await transfer(gw, before.value!.url, "GET");
      expect([stale.status, codeOf(stale)]).toEqual([404, "NOT_FOUND"]);
      const fresh = await createDownloadUrl(gw, acme, "USER_UPLOADS", "reports/q1.csv");
      expect((await transfer(gw, fresh.value!.url, "GET")).body.equals(bytesOf(10, 3))).toBe(true);
    });

    it("measures a 10 MB upload and download (printed, not asserted)", async () => {
      const body = bytesOf(10_000_000, 9);
      const link = await createUploadUrl(gw, acme, {
        area: "CHALLENGE_DATA",
        path: "big.bin",
        size: body.length,
      });
      const putStart = performance.now();
      const put = await transfer(gw, link.value!.url, "PUT", body);
      const putMs = performance.now() - putStart;
      const download = await createDownloadUrl(gw, acme, "CHALLENGE_DATA", "big.bin");
      const getStart = performance.now();
      const got = await transfer(gw, download.value!.url, "GET");
      const getMs = performance.now() - getStart;

      expect(put.status).toBe(201);
      expect(got.body.equals(body)).toBe(true);
      const rate = (ms: number) => `${((body.length / 1e6 / ms) * 1000).toFixed(0)} MB/s`;
      process.stdout.write(
        `storage 10 MB: upload ${putMs.toFixed(0)} ms (${rate(putMs)}), download ${getMs.toFixed(0)} ms (${rate(getMs)})\n`,
      );
    });
  });

  describe("a URL is refused with 403 FORBIDDEN", () => {
    let uploadUrl: string;
    let downloadUrl: string;

    beforeAll(async () => {
      await upload(gw, acme, "USER_UPLOADS", "shared/name.txt", Buffer.from("acme's"));
      downloadUrl = (await createDownloadUrl(gw, acme, "USER_UPLOADS", "shared/name.txt")).value!
        .url;
      uploadUrl = (
        await createUploadUrl(gw, acme, { area: "USER_UPLOADS", path: "new/one.txt", size: 5 })
      ).value!.url;
    });

    const refusals: [string, () => string, string, Buffer | undefined][] = [
      [
        "for another tenant",
        () => uploadUrl.replace(acmeId, globexId),
        "PUT",
        Buffer.from("12345"),
      ],
      ["to read another tenant", () => downloadUrl.replace(acmeId, globexId), "GET", undefined],
      [
        "for another path",
        () => uploadUrl.replace("one.txt", "two.txt"),
        "PUT",
        Buffer.from("12345"),
      ],
      [
        "for another area",
        () => uploadUrl.replace("user-uploads", "ai-outputs"),
        "PUT",
        Buffer.from("12345"),
      ],
      ["for another size", () => withParam(uploadUrl, "size", "6"), "PUT", Buffer.from("123456")],
      [
        "for another content type",
        () => withParam(uploadUrl, "type", "text/html"),
        "PUT",
        Buffer.from("12345"),
      ],
      ["for another method (upload URL read)", () => uploadUrl, "GET", undefined],
      [
        "for another method (download URL written)",
        () => downloadUrl,
        "PUT",
        Buffer.from("acme's"),
      ],
      [
        "with a later expiry",
        () => withParam(uploadUrl, "expires", "99999999999"),
        "PUT",
        Buffer.from("12345"),
      ],
      [
        "without a signature",
        () => uploadUrl.replace(/&signature=.*$/, ""),
        "PUT",
        Buffer.from("12345"),
      ],
    ];

    it.each(refusals)("%s", async (_name, url, method, body) => {
      const answer = await transfer(gw, url(), method, body);

      expect([answer.status, codeOf(answer)]).toEqual([403, "FORBIDDEN"]);
    });

    it.each([0, 20, 42])("with signature character %i changed", async (position) => {
      const signature = new URL(uploadUrl, gw.url).searchParams.get("signature")!;
      const flipped = `${signature.slice(0, position)}${signature[position] === "A" ? "B" : "A"}${signature.slice(position + 1)}`;
      const answer = await transfer(
        gw,
        withParam(uploadUrl, "signature", flipped),
        "PUT",
        Buffer.from("12345"),
      );

      expect([answer.status, codeOf(answer)]).toEqual([403, "FORBIDDEN"]);
    });

    it("after its expiry, though signed with the right key", async () => {
      const signer = new UrlSigner(MASTER_KEY, gw.gateway.database.deploymentId);
      const claims: LinkClaims = {
        method: "GET",
        tenantId: acmeId,
        bucket: "default",
        area: "user-uploads",
        path: "shared/name.txt",
        size: 6,
        sha256: sha256Of(Buffer.from("acme's")),
        nonce: "",
        contentType: "",
        expires: Math.floor(Date.now() / 1000) - 1,
      };
      const expired = await transfer(gw, linkUrl(claims, signer.sign(claims)), "GET");
      const later = { ...claims, expires: claims.expires + 600 };
      const valid = await transfer(gw, linkUrl(later, signer.sign(later)), "GET");

      expect([expired.status, codeOf(expired)]).toEqual([403, "FORBIDDEN"]);
      expect(expired.json?.errors?.[0]?.message).toMatch(/expired/);
      // The same claims a little later pass: the key was right, the time was not.
      expect([valid.status, valid.body.toString()]).toEqual([200, "acme's"]);
    });

    it("when signed with the master key itself instead of the derived key", async () => {
      const url = new URL(downloadUrl, gw.url);
      const canonical = JSON.stringify([
        "v2",
        "GET",
        acmeId,
        "default",
        "user-uploads",
        "shared/name.txt",
        6,
        sha256Of(Buffer.from("acme's")),
        "",
        "",
        Number(url.searchParams.get("expires")),
      ]);
      const raw = createHmac("sha256", MASTER_KEY).update(canonical).digest("base64url");
      const answer = await transfer(gw, withParam(downloadUrl, "signature", raw), "GET");

      expect([answer.status, codeOf(answer)]).toEqual([403, "FORBIDDEN"]);
    });

    it("when the tenant's bucket changed after the URL was made", async () => {
      const control = gw.gateway.database.control;
      await control.tenant.update({ where: { id: acmeId }, data: { storageBucket: "elsewhere" } });
      try {
        const answer = await transfer(gw, downloadUrl, "GET");
        expect([answer.status, codeOf(answer)]).toEqual([403, "FORBIDDEN"]);
      } finally {
        await control.tenant.update({ where: { id: acmeId }, data: { storageBucket: "default" } });
      }
    });

    it("for a suspended tenant, with TENANT_SUSPENDED", async () => {
      const control = gw.gateway.database.control;
      await control.tenant.update({
        where: { id: acmeId },
        data: { status: TenantStatus.SUSPENDED },
      });
      try {
        const answer = await transfer(gw, downloadUrl, "GET");
        expect([answer.status, codeOf(answer)]).toEqual([403, "TENANT_SUSPENDED"]);
      } finally {
        await control.tenant.update({
          where: { id: acmeId },
          data: { status: TenantStatus.ACTIVE },
        });
      }
    });

    it("and none of the refused uploads left a file or a record", async () => {
      const records = await gw.gateway.database.control.storedFile.findMany({
        where: {
          tenantId: { in: [acmeId, globexId] },
          path: { in: ["new/one.txt", "new/two.txt"] },
        },
      });

      expect(records).toEqual([]);
      expect(await filesUnder(tenantDirectory(gw, "default", globexId))).toEqual([]);
      expect(
        (await filesUnder(tenantDirectory(gw, "default", acmeId))).filter(
          (f) => f.startsWith(".incoming") || f.includes("new/"),
        ),
      ).toEqual([]);
      // The link itself was never used: it still works.
      expect((await transfer(gw, uploadUrl, "PUT", Buffer.from("12345"))).status).toBe(201);
    });
  });

  describe("a body of the wrong size", () => {
    async function leftovers(): Promise<{ files: string[]; records: number }> {
      const files = (await filesUnder(tenantDirectory(gw, "default", globexId))).filter(
        (file) => file.startsWith(".incoming/") || file.startsWith("challenge-data/"),
      );
      const records = await gw.gateway.database.control.storedFile.count({
        where: { tenantId: globexId, area: "challenge-data" },
      });

      return { files, records };
    }

    it("is refused with 413 when larger than signed, and nothing is kept", async () => {
      const link = await createUploadUrl(gw, globex, {
        area: "CHALLENGE_DATA",
        path: "x.bin",
        size: 100,
      });
      const answer = await transfer(gw, link.value!.url, "PUT", bytesOf(101));

      expect([answer.status, codeOf(answer)]).toEqual([413, "BAD_USER_INPUT"]);
      expect(await leftovers()).toEqual({ files: [], records: 0 });
    });

    it("is refused with 400 when smaller than signed, and nothing is kept", async () => {
      const link = await createUploadUrl(gw, globex, {
        area: "CHALLENGE_DATA",
        path: "x.bin",
        size: 100,
      });
      const answer = await transfer(gw, link.value!.url, "PUT", bytesOf(99));

      expect([answer.status, codeOf(answer)]).toEqual([400, "BAD_USER_INPUT"]);
      expect(await leftovers()).toEqual({ files: [], records: 0 });
    });

    it("is cut off with 413 when streamed without a length and running past the signed size", async () => {
      const link = await createUploadUrl(gw, globex, {
        area: "CHALLENGE_DATA",
        path: "x.bin",
        size: 100_000,
      });
      const chunks = [bytesOf(60_000), bytesOf(60_000, 1)];
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      });
      const response = await fetch(new URL(link.value!.url, gw.url), {
        method: "PUT",
        body,
        duplex: "half",
      } as RequestInit);

      expect(response.status).toBe(413);
      expect(
        ((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]
          ?.extensions.code,
      ).toBe("BAD_USER_INPUT");
      expect(await leftovers()).toEqual({ files: [], records: 0 });
    });
  });
});
