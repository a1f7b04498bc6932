import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  unlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/index.js";
import { parseStoragePath } from "../../src/storage/index.js";
import { seedTenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import {
  createDownloadUrl,
  createUploadUrl,
  deleteFile,
  filesUnder,
  rawRequest,
  tenantDirectory,
  transfer,
  upload,
  type Caller,
} from "./storage-client.js";

/** Paths refused, with what the message must say. */
const REFUSED: [string, string, RegExp][] = [
  ["a parent segment", "../secret.txt", /`\.` or `\.\.`/],
  ["a parent segment inside", "reports/../../other/x.txt", /`\.` or `\.\.`/],
  ["a dot segment", "./x.txt", /`\.` or `\.\.`/],
  ["an absolute path", "/etc/passwd", /relative/],
  ["a drive letter", "C:/windows/x.txt", /relative/],
  ["a backslash", "reports\\x.txt", /never `\\`/],
  ["backslash traversal", "..\\..\\x.txt", /never `\\`/],
  ["an encoded slash", "reports%2Fx.txt", /percent-encoding/],
  ["an encoded backslash", "reports%5cx.txt", /percent-encoding/],
  ["an encoded parent", "%2e%2e/x.txt", /percent-encoding/],
  ["a doubly encoded slash", "a%252Fb", /percent-encoding/],
  ["a NUL byte", "x.txt\u0000.png", /NUL or control/],
  ["a newline", "x\n.txt", /NUL or control/],
  ["a DEL", "x\u007f.txt", /NUL or control/],
  ["an empty path", "", /must name a file/],
  ["an empty segment", "reports//x.txt", /empty segment/],
  ["a trailing slash", "reports/", /empty segment/],
  ["a segment over 255 bytes", `${"a".repeat(256)}.txt`, /at most 255 bytes/],
  [
    "a path over 1,024 bytes",
    Array.from({ length: 9 }, () => "b".repeat(120)).join("/"),
    /at most 1024 bytes/,
  ],
  ["too many segments", Array.from({ length: 33 }, () => "d").join("/"), /32 segments/],
  ["non-ASCII letters", "résumé.pdf", /ASCII/],
  ["a colon", "notes:stream.txt", /ASCII/],
  ["a trailing dot", "x.txt.", /end with a space or a dot/],
  ["a leading space", " x.txt", /start with a space/],
  ["only dots", "...", /end with a space or a dot/],
];

const ACCEPTED = [
  "x.txt",
  "reports/2025/q1.csv",
  "My Files/report (final) v2+.txt",
  ".hidden",
  "a_b-c.d",
  "a".repeat(255),
];

describe("storage path rules", () => {
  it.each(REFUSED)("refuses %s", (_name, path, message) => {
    const error = (() => {
      try {
        parseStoragePath(path);
      } catch (caught) {
        return caught;
      }
      return null;
    })();

    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "path",
    });
    expect((error as GatewayError).message).toMatch(message);
  });

  it.each(ACCEPTED)("accepts %j", (path) => {
    expect(parseStoragePath(path)).toEqual({ text: path, segments: path.split("/") });
  });
});

describe("storage paths over the gateway", () => {
  let gw: TestGateway;
  let admin: Caller;
  let tenantId: string;
  let outside: string;

  beforeAll(async () => {
    gw = await startTestGateway("storage-paths");
    tenantId = uniqueTenantId("st-paths");
    const fixture = await seedTenantFixture(gw.gateway.lifecycle, tenantId);
    admin = { tenant: tenantId, token: await gw.tokenFor(tenantId, fixture.users.admin) };
    outside = await mkdtemp(join(tmpdir(), "ogc-outside-"));
  });
  afterAll(async () => {
    await gw?.stop();
    await rm(outside, { recursive: true, force: true });
  });

  it.each(REFUSED)(
    "createUploadUrl refuses %s with BAD_USER_INPUT naming path",
    async (_n, path) => {
      const answer = await createUploadUrl(gw, admin, { area: "USER_UPLOADS", path, size: 1 });

      expect(answer.value).toBeNull();
      expect(answer.codes).toEqual(["BAD_USER_INPUT"]);
      expect(answer.errors[0]?.extensions?.field).toBe("path");
    },
  );

  it.each(REFUSED)("createDownloadUrl refuses %s too", async (_n, path) => {
    const answer = await createDownloadUrl(gw, admin, "USER_UPLOADS", path);

    expect(answer.codes).toEqual(["BAD_USER_INPUT"]);
  });

  /** Raw request paths that try to leave the area, sent byte for byte. */
  const RAW: [string, string][] = [
    ["a parent segment", "a/../../../escape.txt"],
    ["an encoded parent", "%2e%2e/%2e%2e/escape.txt"],
    ["an encoded slash", "..%2F..%2Fescape.txt"],
    ["an encoded backslash", "..%5C..%5Cescape.txt"],
    ["a raw backslash", "..\\..\\escape.txt"],
    ["a double encoding", "%252e%252e%252fescape.txt"],
    ["an encoded NUL", "x.txt%00.png"],
    ["broken percent-encoding", "x%E0%A4%A.txt"],
    ["a trailing slash", "reports/"],
  ];

  it.each(RAW)(
    "the upload route refuses %s with 400 before looking at the signature",
    async (_n, path) => {
      const query = "expires=99999999999&size=3&signature=" + "A".repeat(43);
      const answer = await rawRequest(
        gw,
        "PUT",
        `/storage/${tenantId}/user-uploads/${path}?${query}`,
        Buffer.from("abc"),
      );

      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body).errors[0].extensions.code).toBe("BAD_USER_INPUT");
    },
  );

  it("the raw requests wrote nothing anywhere", async () => {
    expect(await filesUnder(tenantDirectory(gw, "default", tenantId))).toEqual([]);
    expect(await readdir(gw.gateway.lifecycle.storage.root)).toEqual(["default"]);
  });

  it("refuses an unknown area or tenant in a URL as an invalid link", async () => {
    const query = "expires=99999999999&size=3&signature=" + "A".repeat(43);
    const area = await rawRequest(gw, "GET", `/storage/${tenantId}/secrets/x.txt?${query}`);
    const tenant = await rawRequest(gw, "GET", `/storage/../default/x.txt?${query}`);

    expect([area.status, JSON.parse(area.body).errors[0].extensions.code]).toEqual([
      403,
      "FORBIDDEN",
    ]);
    expect(tenant.status).toBe(403);
  });

  describe("links planted on disk", () => {
    it("are not followed when a folder of the path is a symbolic link", async () => {
      const area = join(tenantDirectory(gw, "default", tenantId), "user-uploads");
      await symlink(outside, join(area, "linked"));
      try {
        const { link, put } = await upload(
          gw,
          admin,
          "USER_UPLOADS",
          "linked/x.txt",
          Buffer.from("abc"),
        );

        expect(link.codes).toEqual([]);
        expect(put?.status).toBe(403);
        expect(put?.json?.errors?.[0]?.extensions.code).toBe("FORBIDDEN");
        expect(await readdir(outside)).toEqual([]);
        expect(await gw.gateway.database.control.storedFile.count({ where: { tenantId } })).toBe(0);
        expect((await filesUnder(area)).filter((f) => f !== "linked")).toEqual([]);
      } finally {
        await unlink(join(area, "linked"));
      }
    });

    it("are not followed when the file itself was swapped for a link", async () => {
      await writeFile(join(outside, "private.txt"), "outside the tenant");
      const { put } = await upload(
        gw,
        admin,
        "USER_UPLOADS",
        "notes.txt",
        Buffer.from("outside the tenan!"),
      );
      expect(put?.status).toBe(201);
      const file = join(tenantDirectory(gw, "default", tenantId), "user-uploads", "notes.txt");
      await unlink(file);
      await symlink(join(outside, "private.txt"), file);

      const link = await createDownloadUrl(gw, admin, "USER_UPLOADS", "notes.txt");
      const answer = await transfer(gw, link.value!.url, "GET");

      expect(answer.status).toBe(403);
      expect(answer.body.toString()).not.toContain("outside the tenant");
      const removal = await deleteFile(gw, admin, "USER_UPLOADS", "notes.txt");
      expect(removal.codes).toEqual(["FORBIDDEN"]);
      expect(await readFile(join(outside, "private.txt"), "utf8")).toBe("outside the tenant");
    });

    it("refuses a file where a folder is needed, and a folder where a file is", async () => {
      await mkdir(join(tenantDirectory(gw, "default", tenantId), "ai-outputs"), {
        recursive: true,
      });
      const first = await upload(gw, admin, "AI_OUTPUTS", "runs/1/out.json", Buffer.from("{}"));
      const asFile = await createUploadUrl(gw, admin, {
        area: "AI_OUTPUTS",
        path: "runs/1",
        size: 2,
      });
      const underFile = await createUploadUrl(gw, admin, {
        area: "AI_OUTPUTS",
        path: "runs/1/out.json/x",
        size: 2,
      });

      expect(first.put?.status).toBe(201);
      expect(asFile.codes).toEqual(["BAD_USER_INPUT"]);
      expect(underFile.codes).toEqual(["BAD_USER_INPUT"]);
      expect(underFile.errors[0]?.message).toContain('"runs/1/out.json" is in the way');
    });

    it("does not take `_` in a name for a wildcard when looking for what is in the way", async () => {
      await upload(gw, admin, "AI_OUTPUTS", "aXb/f.txt", Buffer.from("f"));
      const answer = await createUploadUrl(gw, admin, { area: "AI_OUTPUTS", path: "a_b", size: 1 });

      expect(answer.codes).toEqual([]);
      expect(answer.value?.method).toBe("PUT");
    });
  });
});
