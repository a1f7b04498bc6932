import { copyFile, mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseNameFor, schemaNameFor } from "../../src/data/placement/tenant-location.js";
import { TENANT_TABLES } from "../../src/data/placement/tenant-tables.js";
import { provisionTenant } from "../../src/lifecycle/provision.js";
import { deprovisionTenant } from "../../src/lifecycle/deprovision.js";
import { newId } from "../../src/modules/common/ids.js";
import { main as archiveScript } from "../../src/scripts/tenant-archive.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { TEST_SECOND_DATABASE_URL } from "../support/env.js";
import {
  codesOf,
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";
import {
  gzipBomb,
  manifestOf,
  readArchiveFiles,
  tarHeader,
  tarOf,
  withVouchingManifest,
  writeArchiveFiles,
  type ArchiveFiles,
} from "./archive-files.js";

const EXPORT = `mutation ($id: ID!) {
  exportTenant(id: $id) { tenantId file bytes sha256 schemaVersion tables { name rows checksum } }
}`;
const IMPORT = `mutation ($file: String!, $isolation: Isolation, $region: String) {
  importTenant(file: $file, isolation: $isolation, region: $region) { id name status isolation region }
}`;
const SUSPEND = "mutation ($id: ID!) { suspendTenant(id: $id) { status } }";

/** What a tenant admin sees of the tenant: compared before and after a trip. */
const VIEW = `{
  tenant { id name branding features modules plan }
  me { id name email roles permissions }
  users(first: 100) { edges { node { id email name roles permissions organizations { id name } } } }
  organizations { id name members { role user { id email } } }
  dashboards { id title modules owner { id } }
  challenges(first: 100) {
    edges { node { id title submissions(first: 100) { id score author { id name } } } }
  }
}`;

interface ExportData {
  exportTenant: {
    tenantId: string;
    file: string;
    bytes: number;
    sha256: string;
    schemaVersion: string;
    tables: { name: string; rows: number; checksum: string }[];
  };
}

interface ImportData {
  importTenant: { id: string; status: string; isolation: string; region: string | null };
}

const ENCRYPTION_KEY = Buffer.alloc(32, 1).toString("base64");

/** The files that must survive a trip byte for byte. */
function contentOf(files: ArchiveFiles): Record<string, string> {
  return Object.fromEntries(
    [...files].filter(([name]) => name !== "manifest.json").map(([n, b]) => [n, b.toString()]),
  );
}

function expectRefused(res: GraphQLResponse<unknown>, code: string, mentions?: string): void {
  expect(codesOf(res)).toEqual([code]);
  expect(res.body.data ?? null).toBeNull();
  if (mentions) expect(res.body.errors?.[0]?.message).toContain(mentions);
}

describe("exporting a tenant and importing it elsewhere", () => {
  let a: TestGateway;
  let b: TestGateway;
  let c: TestGateway;
  let fixture: TenantFixture;
  let tenantId: string;
  let adminToken: string;
  let viewBefore: unknown;
  /** The first export, from A, as written and as files. */
  let original: { file: string; path: string; files: ArchiveFiles; data: ExportData };

  const admin = (gw: TestGateway) => gw.globalAdminToken();
  const exportVia = async (gw: TestGateway, id = tenantId) => {
    const res = await gw.request<ExportData>(EXPORT, {
      token: await admin(gw),
      variables: { id },
    });
    expect(res.body.errors).toBeUndefined();
    const data = res.body.data as ExportData;
    const path = join(gw.gateway.lifecycle.exportDir, data.exportTenant.file);

    return { data, path, files: await readArchiveFiles(path) };
  };
  const importVia = async (
    gw: TestGateway,
    file: string,
    variables: Record<string, unknown> = {},
  ) =>
    gw.request<ImportData>(IMPORT, { token: await admin(gw), variables: { file, ...variables } });
  /** Puts an archive (or forged bytes) into a gateway's export directory. */
  const place = async (gw: TestGateway, name: string, from: string | ArchiveFiles | Buffer) => {
    const dir = gw.gateway.lifecycle.exportDir;
    await mkdir(dir, { recursive: true });
    const target = join(dir, name);
    if (typeof from === "string") await copyFile(from, target);
    else if (Buffer.isBuffer(from)) await writeFile(target, from);
    else await writeArchiveFiles(target, from);

    return name;
  };
  const viewOn = async (gw: TestGateway) => {
    const res = await gw.request(VIEW, { tenant: tenantId, token: adminToken });
    expect(res.body.errors).toBeUndefined();

    return res.body.data;
  };
  /** Whether anything of the tenant exists on a gateway: registry row, rows, schema. */
  const tracesOn = async (gw: TestGateway, id = tenantId) => {
    const client = new pg.Client({ connectionString: gw.databaseUrl });
    await client.connect();
    try {
      const rows = await client.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM "Tenant" WHERE id = $1)
              + (SELECT count(*) FROM "User" WHERE "tenantId" = $1)
              + (SELECT count(*) FROM information_schema.schemata WHERE schema_name = $2) AS n`,
        [id, schemaNameFor(id)],
      );
      return Number(rows.rows[0]?.n);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    // B and C cache in memory: a shared Redis would answer B with A's entries.
    // Rate limits off: reading whole tenants back spends a user's query-cost budget.
    const env = { RATE_LIMITS: "false" };
    [a, b, c] = await Promise.all([
      startTestGateway("archive-a", { env }),
      startTestGateway("archive-b", { redis: false, env }),
      startTestGateway("archive-c", { redis: false, env }),
    ]);
    tenantId = uniqueTenantId("arc");
    fixture = await seedTenantFixture(a.gateway.lifecycle, tenantId);
    adminToken = await a.tokenFor(tenantId, fixture.users.admin);

    // Values whose text form is easy to get wrong on the way.
    await a.gateway.database.forTenant(tenantId).transaction(async (tx) => {
      await tx.user.create({
        data: {
          tenantId,
          id: newId(),
          email: `zoe@${tenantId}.test`,
          name: 'Zoë "Q" \\ tab\there\nnewline ✓ 🙂',
        },
      });
      await tx.dashboard.create({
        data: { tenantId, id: newId(), title: "Empty", ownerId: fixture.users.admin, modules: [] },
      });
      await tx.dashboard.create({
        data: {
          tenantId,
          id: newId(),
          title: "Odd modules",
          ownerId: fixture.users.admin,
          modules: ['a "b"', "{c,d}", "", "NULL", "ü"],
        },
      });
      await tx.submission.create({
        data: {
          tenantId,
          id: newId(),
          challengeId: fixture.challengeIds[0] ?? "",
          authorId: fixture.users.participant,
          score: 0.1 + 0.2,
        },
      });
      await tx.auditLog.create({
        data: {
          tenantId,
          id: newId(),
          action: "test.values",
          detail: { big: 2 ** 53, tiny: 1e-7, nested: { list: [1, "二", null] } },
        },
      });
    });
    viewBefore = await viewOn(a);

    const first = await exportVia(a);
    original = { ...first, file: first.data.exportTenant.file };
  });

  afterAll(async () => {
    try {
      await a?.gateway.cache.clearTenant(tenantId);
    } finally {
      await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
    }
  });

  describe("the archive", () => {
    it("holds a manifest first, the tenant, its config and one file per table", () => {
      expect([...original.files.keys()]).toEqual([
        "manifest.json",
        "tenant.json",
        "config.json",
        ...TENANT_TABLES.map((t) => `tables/${t.name}.jsonl`),
      ]);
      const manifest = manifestOf(original.files);
      expect(manifest).toMatchObject({
        format: "newfinity-tenant-archive",
        formatVersion: 1,
        tenantId,
        isolation: "SHARED",
      });
      expect(manifest.tables.every((t) => t.rows > 0)).toBe(true);
      expect(original.data.exportTenant.tables).toEqual(
        manifest.tables.map(({ name, rows, checksum }) => ({ name, rows, checksum })),
      );
      expect(JSON.parse(original.files.get("tenant.json")?.toString() ?? "")).toEqual({
        id: tenantId,
        name: `Tenant ${tenantId}`,
        region: "local",
        tier: "standard",
        releaseChannel: "stable",
        status: "ACTIVE",
      });
    });

    it("carries no location or secret of the tenant", () => {
      const text = [...original.files.values()].map((b) => b.toString()).join("\n");

      for (const word of ["databaseSecret", "schemaName", "databaseServer", "storageBucket"]) {
        expect(text).not.toContain(word);
      }
    });

    it("is readable and writable by the gateway's user alone", async () => {
      expect((await stat(original.path)).mode & 0o777).toBe(0o600);
    });

    it("is the same, file for file, when the same data is exported again", async () => {
      const again = await exportVia(a);

      expect(again.data.exportTenant.file).not.toBe(original.file);
      expect(contentOf(again.files)).toEqual(contentOf(original.files));
      expect(manifestOf(again.files).tables).toEqual(manifestOf(original.files).tables);
    });
  });

  describe("an archive that was damaged or forged", () => {
    const refusedOnB = async (name: string, files: ArchiveFiles | Buffer, mentions: string) => {
      await place(b, name, files);
      const res = await importVia(b, name, { isolation: "SCHEMA" });

      expectRefused(res, "BAD_USER_INPUT", mentions);
      expect(await tracesOn(b)).toBe(0);
    };
    const edited = (file: string, edit: (text: string) => string) => {
      const files = new Map(original.files);
      files.set(file, Buffer.from(edit(files.get(file)?.toString() ?? "")));
      return files;
    };

    it("is refused when one byte of a table file is flipped", async () => {
      const files = new Map(original.files);
      const bytes = Buffer.from(files.get("tables/Submission.jsonl") ?? Buffer.alloc(0));
      // A digit of the last row's createdAt: still a row, no longer the same.
      const at = bytes.length - 5;
      bytes[at] = (bytes[at] ?? 0) ^ 0x01;
      files.set("tables/Submission.jsonl", bytes);

      await refusedOnB("flipped.tar.gz", files, "tables/Submission.jsonl does not match");
    });

    it("is refused when a row was edited and nothing else", async () => {
      const files = edited("tables/User.jsonl", (t) => t.replace("Administrator", "Administrat0r"));

      await refusedOnB("edited.tar.gz", files, "tables/User.jsonl does not match");
    });

    it("is refused when a table file is missing", async () => {
      const files = new Map(original.files);
      files.delete("tables/AuditLog.jsonl");

      await refusedOnB("missing.tar.gz", files, "tables/AuditLog.jsonl");
    });

    it("is refused when the archive itself is cut short", async () => {
      const bytes = await readFile(original.path);

      await refusedOnB("cut.tar.gz", bytes.subarray(0, bytes.length - 200), "cut.tar.gz");
    });

    it("is refused when a vouching manifest brings rows of another tenant", async () => {
      const files = withVouchingManifest(
        edited("tables/Challenge.jsonl", (t) => t.replace(tenantId, "someone-else")),
      );

      await refusedOnB("foreign.tar.gz", files, "tables/Challenge.jsonl line 1 is not a row");
    });

    it("is refused when it comes from a newer migration", async () => {
      const files = edited("manifest.json", (t) =>
        t.replace(/"schemaVersion": "[^"]+"/, '"schemaVersion": "99991231000000_future"'),
      );

      await refusedOnB("future.tar.gz", files, "newer than this gateway's latest");
    });

    it("is refused after one MiB when a table file is one 16 MB line", async () => {
      const files = new Map(original.files);
      files.set("tables/Submission.jsonl", Buffer.alloc(16 * 1024 * 1024, "x"));

      await refusedOnB(
        "one-line.tar.gz",
        withVouchingManifest(files),
        "tables/Submission.jsonl line 1 is longer than 1 MiB, the limit for one row",
      );
    });

    it("is refused at its header when a file claims more than an archive may hold", async () => {
      const documents = new Map([...original.files].slice(0, 3));
      const tar = (await tarOf(documents)).subarray(0, -1024);
      const header = tarHeader("tables/User.jsonl", 3 * 1024 ** 3);

      await refusedOnB(
        "big-file.tar.gz",
        gzipBomb(Buffer.concat([tar, header]), 3 * 1024),
        "tables/User.jsonl is 3221225472 bytes, past the limit of 2 GiB for an archive",
      );
    });

    it("stops inflating a gzip bomb hidden after its files", async () => {
      // 3 GiB of zeros after the end of a valid tar, about 3 MB gzip'd.
      const bomb = gzipBomb(await tarOf(original.files), 3 * 1024);

      await refusedOnB(
        "bomb.tar.gz",
        bomb,
        '"bomb.tar.gz" inflates to more than 1 MiB beyond what its files account for',
      );
    });

    it("stops a row that does not read back the same, and leaves a tenant to deprovision", async () => {
      // Valid JSON, vouched for, but not the text row_to_json makes.
      const files = withVouchingManifest(
        edited("tables/Challenge.jsonl", (t) => t.replace('{"tenantId":', '{ "tenantId":')),
      );
      await place(b, "spaced.tar.gz", files);
      const res = await importVia(b, "spaced.tar.gz", { isolation: "SCHEMA" });

      expectRefused(res, "BAD_USER_INPUT", "tables/Challenge.jsonl reads back");
      const row = await b.gateway.database.control.tenant.findUnique({ where: { id: tenantId } });
      expect(row?.status).toBe("PROVISIONING");
      const view = await b.request(VIEW, { tenant: tenantId, token: adminToken });
      expect(codesOf(view)).toEqual(["TENANT_NOT_FOUND"]);
      // Provisioning cannot finish it as an empty tenant with an admin of its choosing.
      await expect(
        provisionTenant(
          b.gateway.lifecycle,
          {
            id: tenantId,
            name: row!.name,
            isolation: row!.isolation,
            region: row!.region,
            adminEmail: "intruder@elsewhere.test",
          },
          "test",
        ),
      ).rejects.toMatchObject({ extensions: { code: "BAD_USER_INPUT", field: "id" } });

      await deprovisionTenant(b.gateway.lifecycle, tenantId, "test");
      expect(await tracesOn(b)).toBe(0);
    });
  });

  describe("the file named", () => {
    const refused = async (file: string) =>
      expectRefused(await importVia(b, file), "BAD_USER_INPUT");

    it("must not climb out of the export directory", async () => {
      await refused(`../exports/${original.file}`);
      await refused("../../../etc/passwd");
    });

    it("must not be an absolute path elsewhere", async () => {
      await refused(original.path);
      await refused("/etc/passwd");
    });

    it("must not hold a NUL or be empty", async () => {
      await refused(`${original.file}\0.txt`);
      await refused("");
    });

    it("must not be a link that leads out of the export directory", async () => {
      await mkdir(b.gateway.lifecycle.exportDir, { recursive: true });
      await symlink(original.path, join(b.gateway.lifecycle.exportDir, "link.tar.gz"));

      await refused("link.tar.gz");
      expect(await tracesOn(b)).toBe(0);
    });

    it("must exist", async () => {
      await refused("never-written.tar.gz");
    });
  });

  describe("who may", () => {
    it("refuses a tenant admin both directions with FORBIDDEN", async () => {
      const asTenantAdmin = { tenant: tenantId, token: adminToken };
      const exported = await a.request(EXPORT, { ...asTenantAdmin, variables: { id: tenantId } });
      const imported = await a.request(IMPORT, { ...asTenantAdmin, variables: { file: "x" } });

      expectRefused(exported, "FORBIDDEN");
      expectRefused(imported, "FORBIDDEN");
    });

    it("refuses an anonymous caller", async () => {
      expectRefused(await a.request(EXPORT, { variables: { id: tenantId } }), "UNAUTHENTICATED");
    });

    it("audits exports and refused imports", async () => {
      const audit = (gw: TestGateway, action: string) =>
        gw.gateway.database.control.platformAuditLog.count({ where: { action } });

      expect(await audit(a, "tenant.export")).toBeGreaterThanOrEqual(2);
      expect(await audit(b, "tenant.import.failed")).toBeGreaterThanOrEqual(5);
    });
  });

  describe("into another gateway, as a SCHEMA tenant", () => {
    let back: Awaited<ReturnType<typeof exportVia>>;

    beforeAll(async () => {
      const name = await place(b, original.file, original.path);
      const res = await importVia(b, name, { isolation: "SCHEMA" });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.importTenant).toMatchObject({
        id: tenantId,
        status: "ACTIVE",
        isolation: "SCHEMA",
        region: "local",
      });
      back = await exportVia(b);
    });

    it("exports back to the same files, byte for byte", () => {
      expect(contentOf(back.files)).toEqual(contentOf(original.files));
      expect(manifestOf(back.files).tables).toEqual(manifestOf(original.files).tables);
      expect(manifestOf(back.files).isolation).toBe("SCHEMA");
    });

    it("answers the tenant's users the same as the source did", async () => {
      expect(await viewOn(b)).toEqual(viewBefore);
    });

    it("refuses to import the same tenant again", async () => {
      expectRefused(await importVia(b, original.file), "BAD_USER_INPUT", "already exists");
    });
  });

  describe("into another gateway, as a DATABASE tenant on the second cluster", () => {
    let back: Awaited<ReturnType<typeof exportVia>>;

    beforeAll(async () => {
      const name = await place(c, original.file, original.path);
      const res = await importVia(c, name, { isolation: "DATABASE", region: "eu" });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.importTenant).toMatchObject({ isolation: "DATABASE", region: "eu" });
      back = await exportVia(c);
    });

    it("lives in a database of its own there", async () => {
      const row = await c.gateway.database.control.tenant.findUnique({ where: { id: tenantId } });
      const second = new pg.Client({ connectionString: TEST_SECOND_DATABASE_URL });
      await second.connect();
      try {
        const found = await second.query("SELECT 1 FROM pg_database WHERE datname = $1", [
          databaseNameFor(tenantId),
        ]);
        expect(found.rowCount).toBe(1);
      } finally {
        await second.end();
      }
      expect(row?.databaseServer).toBe("second");
    });

    it("exports back to the same tables and config, byte for byte", () => {
      const { "tenant.json": tenant, ...rest } = contentOf(back.files);
      const { "tenant.json": originalTenant, ...originalRest } = contentOf(original.files);

      expect(rest).toEqual(originalRest);
      expect(JSON.parse(tenant ?? "")).toEqual({
        ...JSON.parse(originalTenant ?? ""),
        region: "eu",
      });
      expect(manifestOf(back.files).tables).toEqual(manifestOf(original.files).tables);
    });

    it("answers the tenant's users the same as the source did", async () => {
      expect(await viewOn(c)).toEqual(viewBefore);
    });
  });

  describe("out and back into the same gateway", () => {
    it("survives suspend, deprovision and import unchanged", async () => {
      const token = await admin(a);
      const suspended = await a.request(SUSPEND, { token, variables: { id: tenantId } });
      expect(suspended.body.errors).toBeUndefined();
      await deprovisionTenant(a.gateway.lifecycle, tenantId, "test");
      expect(await tracesOn(a)).toBe(0);

      const res = await importVia(a, original.file);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.importTenant).toMatchObject({ status: "ACTIVE", isolation: "SHARED" });
      const back = await exportVia(a);

      expect(contentOf(back.files)).toEqual(contentOf(original.files));
      expect(manifestOf(back.files).tables).toEqual(manifestOf(original.files).tables);
      expect(await viewOn(a)).toEqual(viewBefore);
    });
  });

  describe("the command line", () => {
    const envOf = (gw: TestGateway) => ({
      NODE_ENV: "test",
      DATABASE_URL: gw.databaseUrl,
      DATABASE_SERVERS: JSON.stringify([{ id: "primary", region: "local", url: gw.databaseUrl }]),
      ENCRYPTION_KEY,
      STORAGE_DIR: gw.gateway.lifecycle.storage.root,
      EXPORT_DIR: gw.gateway.lifecycle.exportDir,
    });
    const run = async (argv: string[], gw: TestGateway) => {
      const out = { stdout: "", stderr: "" };
      const code = await archiveScript(argv, envOf(gw), {
        stdout: (text) => (out.stdout += text),
        stderr: (text) => (out.stderr += text),
      });
      return { code, ...out };
    };

    it("exports the same files as the mutation", async () => {
      const path = join(a.gateway.lifecycle.exportDir, "cli", "out.tar.gz");
      const result = await run(["export", "--tenant", tenantId, "--out", path], a);

      expect(result).toMatchObject({ code: 0, stderr: "" });
      expect(result.stdout).toContain(path);
      expect(contentOf(await readArchiveFiles(path))).toEqual(contentOf(original.files));
    });

    it("imports into another tier, and refuses a tenant that exists with 1", async () => {
      await b.request(SUSPEND, { token: await admin(b), variables: { id: tenantId } });
      await deprovisionTenant(b.gateway.lifecycle, tenantId, "test");
      const argv = ["import", "--file", original.path, "--isolation", "schema"];

      const first = await run(argv, b);
      expect(first).toMatchObject({ code: 0, stderr: "" });
      expect(first.stdout).toContain(`schema:${schemaNameFor(tenantId)}`);
      expect(await viewOn(b)).toEqual(viewBefore);

      const again = await run(argv, b);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("already exists");
    });

    it("answers bad usage with 2", async () => {
      expect((await run(["export"], a)).code).toBe(2);
      expect((await run(["import", "--file", "x", "--isolation", "CLOUD"], a)).code).toBe(2);
      expect((await run(["copy", "--tenant", tenantId], a)).code).toBe(2);
    });
  });
});
