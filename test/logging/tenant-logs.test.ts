import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantLogPath } from "../../src/logging/index.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  codesOf,
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";
import { captureLines, type CapturedLine } from "./log-capture.js";

const MIGRATIONS = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

/** A migration (first of all, so it fails fast) whose error quotes a connection string. */
const LEAKY = "00000000000000_leaky";
const DATABASE_PASSWORD = "Tenant-Pass-4242";
const LEAKED_URL = `postgresql://ogc_tenant:${DATABASE_PASSWORD}@127.0.0.1:5432/ogc`;
const MESSAGE_PASSWORD = "Hunter2-in-message";
/** Secrets a client puts in a syntax error's echo, which is logged. */
const ECHOED = {
  token: "tok-echoed-0001",
  urlPassword: "p@ss-echoed-0002",
  bearer: "brr-echoed-0003",
  stripe: "sk_live_Echoed0004abcdEFGH",
};

const FORBIDDEN_WRITE = 'mutation { createRole(input: { name: "x", permissions: [] }) { name } }';
const BAD_EMAIL = 'mutation { createUser(input: { email: "not-an-email", name: "N" }) { id } }';
const TENANT_LOGS = `query ($id: ID!, $first: Int, $level: String) {
  tenantLogs(id: $id, first: $first, level: $level) { time level message requestId line }
}`;

interface LogLine {
  time: string;
  level: string;
  message: string;
  requestId: string | null;
  line: CapturedLine;
}

let root: string;
let logDir: string;
let exportDir: string;
let migrations: string;
let gw: TestGateway;
let staff: string;
let a: TenantFixture;
let b: TenantFixture;
const capture = captureLines("debug");

/** The lines of a tenant's file, parsed; none when it has no file. */
async function fileLines(tenantId: string): Promise<CapturedLine[]> {
  await gw.gateway.lifecycle.logs?.flush();
  const text = await readFile(tenantLogPath(logDir, tenantId), "utf8").catch(() => "");

  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as CapturedLine);
}

/** Every line every sink received, as written: standard output and each tenant file. */
async function everySink(): Promise<string[]> {
  await gw.gateway.lifecycle.logs?.flush();
  const files = await readdir(logDir).catch(() => [] as string[]);
  const texts = await Promise.all(files.map((file) => readFile(join(logDir, file), "utf8")));

  return [...capture.raw, ...texts.flatMap((text) => text.split("\n").filter(Boolean))];
}

async function asTenantUser(
  fixture: TenantFixture,
  user: keyof TenantFixture["users"],
  query: string,
  requestId: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResponse> {
  return gw.request(query, {
    tenant: fixture.tenantId,
    token: await gw.tokenFor(fixture.tenantId, fixture.users[user]),
    headers: { "x-request-id": requestId },
    variables,
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "ogc-logs-"));
  logDir = join(root, "tenant-logs");
  exportDir = join(root, "exports");
  migrations = join(root, "migrations");
  await cp(MIGRATIONS, migrations, { recursive: true });
  gw = await startTestGateway("tenant-logs", {
    logger: capture.logger,
    migrationsDir: migrations,
    env: { TENANT_LOG_DIR: logDir, EXPORT_DIR: exportDir },
  });
  staff = await gw.globalAdminToken();
  a = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("logs-a"));
  b = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("logs-b"));

  // Traffic of both tenants: reads, refusals and bad input, each with a known request id.
  for (const fixture of [a, b]) {
    const tag = fixture === a ? "req-a" : "req-b";
    await asTenantUser(
      fixture,
      "admin",
      "{ users(first: 5) { edges { node { id } } } }",
      `${tag}-read`,
    );
    await asTenantUser(fixture, "member", FORBIDDEN_WRITE, `${tag}-forbidden`);
    await asTenantUser(fixture, "admin", BAD_EMAIL, `${tag}-bad-input`);
  }
});

afterAll(async () => {
  await gw?.stop();
  await rm(root, { recursive: true, force: true });
});

describe("a file per tenant", () => {
  it("holds only its tenant's lines, each request's with its request id", async () => {
    for (const [own, other] of [
      [a, "req-b"],
      [b, "req-a"],
    ] as const) {
      const lines = await fileLines(own.tenantId);
      const tag = own === a ? "req-a" : "req-b";
      const refusal = lines.find((line) => line.requestId === `${tag}-forbidden`);
      const badInput = lines.find((line) => line.requestId === `${tag}-bad-input`);

      expect(lines.length).toBeGreaterThanOrEqual(3);
      expect(lines.every((line) => line.tenantId === own.tenantId)).toBe(true);
      expect(refusal).toMatchObject({ code: "FORBIDDEN", level: 30 });
      expect(badInput).toMatchObject({ code: "BAD_USER_INPUT" });
      expect(lines.some((line) => line.msg === "tenant provisioned")).toBe(true);
      expect(lines.filter((line) => String(line.requestId).startsWith(other))).toEqual([]);
      // Every line a request wrote names it.
      expect(lines.filter((line) => line.code !== undefined && !line.requestId)).toEqual([]);
    }
  });

  it("sends lines without a tenant to standard output only", async () => {
    const untenanted = capture.lines().filter((line) => line.tenantId === undefined);

    expect(untenanted.length).toBeGreaterThan(0);
    const files = await readdir(logDir);
    expect(files.sort()).toEqual([`${a.tenantId}.log`, `${b.tenantId}.log`].sort());
  });
});

describe("secrets", () => {
  let token: string;

  beforeAll(async () => {
    token = await gw.tokenFor(a.tenantId, a.users.admin);
    // The token goes as the bearer credential, and is echoed by an error too.
    await gw.request("query ($first: Int) { users(first: $first) { edges { node { id } } } }", {
      tenant: a.tenantId,
      token,
      headers: { "x-request-id": "req-a-token-echo" },
      variables: { first: token },
    });
    await asTenantUser(
      a,
      "admin",
      "query ($first: Int) { users(first: $first) { pageInfo { hasNextPage } } }",
      "req-a-password",
      {
        first: `password=${MESSAGE_PASSWORD}`,
      },
    );
    // GraphQL quotes the unexpected string in its syntax error, and a rejected input whole.
    const syntax = await asTenantUser(
      a,
      "admin",
      `{ users "Authorization: Token ${ECHOED.token} postgres://u:${ECHOED.urlPassword}@db Bearer: ${ECHOED.bearer}" }`,
      "req-a-syntax",
    );
    expect(codesOf(syntax)).toEqual(["BAD_USER_INPUT"]);
    await asTenantUser(
      a,
      "admin",
      "mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }",
      "req-a-stripe",
      { input: { email: "x@y.test", name: "N", stripe: ECHOED.stripe } },
    );

    // A DATABASE tenant whose provisioning fails with a connection string in the error,
    // asked for by staff who name tenant A in the request.
    await mkdir(join(migrations, LEAKY), { recursive: true });
    await writeFile(join(migrations, LEAKY, "migration.sql"), `SELECT '${LEAKED_URL}'::int;\n`);
    try {
      const id = uniqueTenantId("logs-leaky");
      const failed = await gw.request(
        `mutation ($input: ProvisionTenantInput!) { provisionTenant(input: $input) { tenant { id } } }`,
        {
          tenant: a.tenantId,
          token: staff,
          headers: { "x-request-id": "req-staff-leaky" },
          variables: {
            input: { id, name: id, isolation: "DATABASE", adminEmail: `root@${id}.test` },
          },
        },
      );
      expect(codesOf(failed)).toEqual(["INTERNAL_SERVER_ERROR"]);
    } finally {
      await rm(join(migrations, LEAKY), { recursive: true, force: true });
    }
  });

  it("reach no sink: not the bearer token, not the database password, not a password in a message", async () => {
    const text = (await everySink()).join("\n");

    expect(text).not.toContain(token);
    expect(text).not.toContain(token.split(".")[2]);
    expect(text).not.toContain(DATABASE_PASSWORD);
    expect(text).not.toContain(MESSAGE_PASSWORD);
    for (const secret of Object.values(ECHOED)) expect(text).not.toContain(secret);
    expect(text).not.toContain("ss-echoed");
  });

  it("are replaced in lines that are still written", async () => {
    const lines = await fileLines(a.tenantId);
    const echo = lines.find((line) => line.requestId === "req-a-token-echo");
    const password = lines.find((line) => line.requestId === "req-a-password");
    const leaky = capture.lines().find((line) => line.requestId === "req-staff-leaky");

    expect(echo?.msg).toContain("[redacted]");
    expect(password?.msg).toContain("password=[redacted]");
    expect(JSON.stringify(leaky?.err)).toContain("postgresql://ogc_tenant:[redacted]@127.0.0.1");
    const syntax = lines.find((line) => line.requestId === "req-a-syntax");
    expect(syntax?.msg).toContain(
      "Authorization: Token [redacted] postgres://u:[redacted]@db Bearer: [redacted]",
    );
    const stripe = lines.find((line) => line.requestId === "req-a-stripe");
    expect(stripe?.msg).toContain('stripe: "[redacted]"');
  });

  it("files a failure of work on another tenant under neither tenant", async () => {
    const lines = await fileLines(a.tenantId);

    expect(lines.filter((line) => line.requestId === "req-staff-leaky")).toEqual([]);
    const leaky = capture.lines().find((line) => line.requestId === "req-staff-leaky");
    expect(leaky?.tenantId).toBeUndefined();
  });

  it("files a flag override refused for an unknown tenant, asked under A, under neither", async () => {
    const res = await gw.request(
      'mutation { setTenantFeature(tenantId: "nosuchco", key: "dashboards", enabled: true) { key } }',
      { tenant: a.tenantId, token: staff, headers: { "x-request-id": "req-staff-nosuchco" } },
    );

    expect(codesOf(res)).toEqual(["TENANT_NOT_FOUND"]);
    expect(
      (await fileLines(a.tenantId)).filter((line) => line.requestId === "req-staff-nosuchco"),
    ).toEqual([]);
    const logged = capture.lines().filter((line) => line.requestId === "req-staff-nosuchco");
    expect(logged.find((line) => line.code === "TENANT_NOT_FOUND")).toBeDefined();
    expect(logged.filter((line) => line.tenantId !== undefined)).toEqual([]);
  });
});

describe("no line carries two tenants", () => {
  beforeAll(async () => {
    // A move of A, asked for by staff who name tenant B in the request.
    const moved = await gw.request(
      "mutation ($id: ID!) { moveTenant(id: $id, isolation: SCHEMA) { to } }",
      { tenant: b.tenantId, token: staff, variables: { id: a.tenantId } },
    );
    expect(moved.body.errors).toBeUndefined();
    // Moved again to where it is: refused, with A's id in the message, still under B.
    const again = await gw.request(
      "mutation ($id: ID!) { moveTenant(id: $id, isolation: SCHEMA) { to } }",
      { tenant: b.tenantId, token: staff, variables: { id: a.tenantId } },
    );
    expect(codesOf(again)).toEqual(["BAD_USER_INPUT"]);
    // And the admin view that sums up every tenant, under B again.
    await gw.request("{ adminTenants { id usage } }", { tenant: b.tenantId, token: staff });
  });

  it("in any sink, after traffic, errors, provisioning and a move of both tenants", async () => {
    const lines = await everySink();
    const both = lines.filter((line) => line.includes(a.tenantId) && line.includes(b.tenantId));

    expect(lines.length).toBeGreaterThan(10);
    expect(both).toEqual([]);
    expect((await fileLines(a.tenantId)).some((line) => line.msg === "tenant moved")).toBe(true);
  });
});

describe("tenantLogs", () => {
  it("answers the newest lines first, at a level or above", async () => {
    const res = await gw.request<{ tenantLogs: LogLine[] }>(TENANT_LOGS, {
      token: staff,
      variables: { id: a.tenantId, first: 3, level: "info" },
    });

    expect(res.body.errors).toBeUndefined();
    const found = res.body.data?.tenantLogs ?? [];
    const times = found.map((line) => Date.parse(line.time));
    const newest = (await fileLines(a.tenantId)).filter((line) => line.level >= 30).slice(-3);
    expect(found).toHaveLength(3);
    expect(times).toEqual([...times].sort((x, y) => y - x));
    expect(found.map((line) => line.line)).toEqual(newest.reverse());
    expect(found.every((line) => line.line.tenantId === a.tenantId)).toBe(true);
  });

  it("keeps warn and above when asked for warn", async () => {
    const res = await gw.request<{ tenantLogs: LogLine[] }>(TENANT_LOGS, {
      token: staff,
      variables: { id: a.tenantId, first: 1000, level: "WARN" },
    });

    const expected = (await fileLines(a.tenantId)).filter((line) => line.level >= 40);
    expect(res.body.data?.tenantLogs.map((line) => line.level)).toEqual(
      expected.map(() => expect.stringMatching(/^(warn|error|fatal)$/)),
    );
  });

  it("refuses a malformed id, a bad level or count, and an unknown tenant", async () => {
    const ask = (variables: Record<string, unknown>) =>
      gw.request(TENANT_LOGS, { token: staff, variables });

    const malformed = await ask({ id: "Not An Id" });
    const level = await ask({ id: a.tenantId, level: "loud" });
    // Names every JavaScript object has are no levels either.
    const builtIns = await Promise.all(
      ["constructor", "toString", "__proto__", "hasOwnProperty"].map((name) =>
        ask({ id: a.tenantId, level: name }),
      ),
    );
    const count = await ask({ id: a.tenantId, first: 0 });
    const unknown = await ask({ id: uniqueTenantId("nobody") });

    expect(codesOf(malformed)).toEqual(["BAD_USER_INPUT"]);
    expect(malformed.body.errors?.[0]?.extensions?.field).toBe("id");
    for (const refused of [level, ...builtIns]) {
      expect(refused.body.data).toBeNull();
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "level",
      });
    }
    expect(count.body.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "first",
    });
    expect(codesOf(unknown)).toEqual(["TENANT_NOT_FOUND"]);
  });

  it("is on the platform audit log", async () => {
    const rows = await gw.gateway.database.control.platformAuditLog.findMany({
      where: { tenantId: a.tenantId, action: "tenant.logs.read" },
    });

    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows[0]?.actorId).toBe("platform:staff-1");
  });
});

describe("exportTenantLogs", () => {
  it("copies the tenant's file into the export directory, with its sha256", async () => {
    const res = await gw.request<{
      exportTenantLogs: { file: string; bytes: number; lines: number; sha256: string };
    }>("mutation ($id: ID!) { exportTenantLogs(id: $id) { file bytes lines sha256 } }", {
      token: staff,
      variables: { id: b.tenantId },
    });

    expect(res.body.errors).toBeUndefined();
    const exported = res.body.data!.exportTenantLogs;
    const copy = await readFile(join(exportDir, exported.file));
    const source = await readFile(tenantLogPath(logDir, b.tenantId));
    const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

    expect(exported.bytes).toBe(copy.length);
    expect(exported.sha256).toBe(sha256(copy));
    expect(sha256(source.subarray(0, exported.bytes))).toBe(exported.sha256);
    expect(exported.lines).toBe(copy.toString("utf8").split("\n").filter(Boolean).length);
    const audit = await gw.gateway.database.control.platformAuditLog.findFirst({
      where: { tenantId: b.tenantId, action: "tenant.logs.export" },
    });
    expect(audit?.detail).toMatchObject({ sha256: exported.sha256, bytes: exported.bytes });
  });
});

describe("eraseTenantLogs", () => {
  it("removes A's lines, leaves B's file byte for byte, and starts A anew", async () => {
    await gw.gateway.lifecycle.logs?.flush();
    const before = await readFile(tenantLogPath(logDir, b.tenantId));
    const size = (await readFile(tenantLogPath(logDir, a.tenantId))).length;

    const res = await gw.request<{ eraseTenantLogs: number }>(
      "mutation ($id: ID!) { eraseTenantLogs(id: $id) }",
      { token: staff, variables: { id: a.tenantId } },
    );

    expect(res.body).toEqual({ data: { eraseTenantLogs: size } });
    expect(await fileLines(a.tenantId)).toEqual([]);
    expect((await readFile(tenantLogPath(logDir, b.tenantId))).equals(before)).toBe(true);

    await asTenantUser(a, "member", FORBIDDEN_WRITE, "req-a-after-erase");
    expect((await fileLines(a.tenantId)).map((line) => line.requestId)).toEqual([
      "req-a-after-erase",
    ]);
  });

  it("happens when a tenant is deprovisioned", async () => {
    const doomed = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("logs-gone"));
    await asTenantUser(doomed, "member", FORBIDDEN_WRITE, "req-gone-forbidden");
    expect((await fileLines(doomed.tenantId)).length).toBeGreaterThan(0);
    const before = await readFile(tenantLogPath(logDir, b.tenantId));

    for (const mutation of ["suspendTenant(id: $id) { id }", "deprovisionTenant(id: $id)"]) {
      const res = await gw.request(`mutation ($id: ID!) { ${mutation} }`, {
        token: staff,
        variables: { id: doomed.tenantId },
      });
      expect(res.body.errors).toBeUndefined();
    }

    expect(await fileLines(doomed.tenantId)).toEqual([]);
    expect((await readFile(tenantLogPath(logDir, b.tenantId))).equals(before)).toBe(true);
  });
});
