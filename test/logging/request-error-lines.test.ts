import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MAX_ERROR_LINES_PER_REQUEST,
  rotatedLogPath,
  tenantLogPath,
} from "../../src/logging/index.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";
import { captureLines, type CapturedLine } from "./log-capture.js";

/** TENANT_LOG_MAX_BYTES of this gateway: the smallest allowed, so a few requests rotate. */
const MAX_FILE_BYTES = 64 * 1024;

let root: string;
let logDir: string;
let gw: TestGateway;
let staff: string;
let a: TenantFixture;
let b: TenantFixture;
const capture = captureLines("debug");

/** Lines of a file, parsed; none when there is no file. */
async function linesIn(path: string): Promise<CapturedLine[]> {
  const text = await readFile(path, "utf8").catch(() => "");

  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as CapturedLine);
}

/** The lines of a tenant's current file, after what is queued is written. */
async function fileLines(tenantId: string): Promise<CapturedLine[]> {
  await gw.gateway.lifecycle.logs?.flush();

  return linesIn(tenantLogPath(logDir, tenantId));
}

/** An operation sent without a token, naming a tenant. */
function anonymous(
  tenantId: string,
  query: string,
  requestId: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResponse> {
  return gw.request(query, { tenant: tenantId, headers: { "x-request-id": requestId }, variables });
}

/** A document of `count` aliased fields that do not exist, each an error of its own. */
function failingFields(count: number, name = "noSuchField"): string {
  return `{ ${Array.from({ length: count }, (_, n) => `f${n}: ${name}${n}`).join(" ")} }`;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "ogc-request-errors-"));
  logDir = join(root, "tenant-logs");
  gw = await startTestGateway("request-error-lines", {
    logger: capture.logger,
    env: {
      TENANT_LOG_DIR: logDir,
      EXPORT_DIR: join(root, "exports"),
      TENANT_LOG_MAX_BYTES: String(MAX_FILE_BYTES),
    },
  });
  staff = await gw.globalAdminToken();
  a = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("errs-a"));
  b = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("errs-b"));
});

afterAll(async () => {
  await gw?.stop();
  await rm(root, { recursive: true, force: true });
});

describe("the error lines of one request", () => {
  it("are at most 10, and one line counts the rest, for a request without a token", async () => {
    const res = await anonymous(a.tenantId, failingFields(60), "req-errs-flood");
    expect(res.body.errors).toHaveLength(60);

    const lines = (await fileLines(a.tenantId)).filter((l) => l.requestId === "req-errs-flood");
    const summary = lines.filter((line) => line.omitted !== undefined);
    expect(lines).toHaveLength(MAX_ERROR_LINES_PER_REQUEST + 1);
    expect(lines.filter((line) => line.code === "GRAPHQL_VALIDATION_FAILED")).toHaveLength(10);
    expect(summary).toEqual([
      expect.objectContaining({
        tenantId: a.tenantId,
        level: 40,
        logged: 10,
        omitted: 50,
        omittedCodes: { GRAPHQL_VALIDATION_FAILED: 50 },
      }),
    ]);
    // Standard output gets no more than the file.
    const printed = capture.lines().filter((line) => line.requestId === "req-errs-flood");
    expect(printed).toHaveLength(MAX_ERROR_LINES_PER_REQUEST + 1);
  });

  it("keep 2,000 characters of a message that echoes a long input", async () => {
    const res = await anonymous(
      a.tenantId,
      "query ($first: Int) { users(first: $first) { pageInfo { hasNextPage } } }",
      "req-errs-long",
      { first: "x".repeat(50_000) },
    );
    expect(res.body.errors?.[0]?.message.length).toBeGreaterThan(50_000);

    const [line] = (await fileLines(a.tenantId)).filter((l) => l.requestId === "req-errs-long");
    expect(line?.msg?.length).toBeLessThan(2_100);
    expect(line?.msg).toMatch(/… \(\d+ more characters\)$/);
  });

  it("carry no pass or cookie a client sent in an unknown field of createUser", async () => {
    const res = await gw.request(
      "mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }",
      {
        tenant: a.tenantId,
        token: await gw.tokenFor(a.tenantId, a.users.admin),
        headers: { "x-request-id": "req-errs-pass" },
        variables: {
          input: {
            email: "new@example.test",
            name: "New",
            pass: "PassValue99",
            cookie: "sid=Cookie-Value-77",
            password: "Password-Value-88",
          },
        },
      },
    );
    expect(res.body.errors?.[0]?.message).toContain("PassValue99");

    const [line] = (await fileLines(a.tenantId)).filter((l) => l.requestId === "req-errs-pass");
    expect(line?.msg).toContain("pass: [redacted]");
    expect(line?.msg).toContain("cookie: [redacted]");
    const text = [...capture.raw, await readFile(tenantLogPath(logDir, a.tenantId), "utf8")].join(
      "\n",
    );
    for (const secret of ["PassValue99", "Cookie-Value-77", "Password-Value-88"]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("a tenant's file at TENANT_LOG_MAX_BYTES", () => {
  beforeAll(async () => {
    // Ten errors of about 2 kB each per request: a few requests pass 64 KiB.
    for (let n = 0; n < 5; n += 1) {
      await anonymous(b.tenantId, failingFields(10, "y".repeat(1_900)), `req-errs-big-${n}`);
    }
    await gw.gateway.lifecycle.logs?.flush();
  });

  it("is rotated once to <id>.log.1, and neither passes the bound", async () => {
    const files = (await readdir(logDir)).filter((file) => file.startsWith(b.tenantId));

    expect(files.sort()).toEqual([`${b.tenantId}.log`, `${b.tenantId}.log.1`]);
    for (const path of [tenantLogPath(logDir, b.tenantId), rotatedLogPath(logDir, b.tenantId)]) {
      expect((await stat(path)).size).toBeLessThanOrEqual(MAX_FILE_BYTES);
    }
  });

  it("is read, exported and erased together with the rotated file", async () => {
    const current = await linesIn(tenantLogPath(logDir, b.tenantId));
    const older = await linesIn(rotatedLogPath(logDir, b.tenantId));
    const bytes =
      (await stat(tenantLogPath(logDir, b.tenantId))).size +
      (await stat(rotatedLogPath(logDir, b.tenantId))).size;

    const read = await gw.request<{ tenantLogs: { line: CapturedLine }[] }>(
      "query ($id: ID!) { tenantLogs(id: $id, first: 1000) { line } }",
      { token: staff, variables: { id: b.tenantId } },
    );
    expect(read.body.data?.tenantLogs.map((entry) => entry.line)).toEqual(
      [...older, ...current].reverse(),
    );

    const exported = await gw.request<{ exportTenantLogs: { bytes: number; lines: number } }>(
      "mutation ($id: ID!) { exportTenantLogs(id: $id) { bytes lines } }",
      { token: staff, variables: { id: b.tenantId } },
    );
    expect(exported.body.data?.exportTenantLogs).toEqual({
      bytes,
      lines: older.length + current.length,
    });

    const erased = await gw.request("mutation ($id: ID!) { eraseTenantLogs(id: $id) }", {
      token: staff,
      variables: { id: b.tenantId },
    });
    expect(erased.body).toEqual({ data: { eraseTenantLogs: bytes } });
    // Only the erasure's time is left, for other processes' writers.
    expect((await readdir(logDir)).filter((file) => file.startsWith(b.tenantId))).toEqual([
      `${b.tenantId}.erased`,
    ]);
  });

  it("is removed with the rotated file when its tenant is deprovisioned", async () => {
    const doomed = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("errs-gone"));
    await anonymous(doomed.tenantId, failingFields(1), "req-errs-gone");
    await writeFile(rotatedLogPath(logDir, doomed.tenantId), '{"level":30,"msg":"older"}\n');
    expect(await fileLines(doomed.tenantId)).not.toEqual([]);

    for (const mutation of ["suspendTenant(id: $id) { id }", "deprovisionTenant(id: $id)"]) {
      const res = await gw.request(`mutation ($id: ID!) { ${mutation} }`, {
        token: staff,
        variables: { id: doomed.tenantId },
      });
      expect(res.body.errors).toBeUndefined();
    }

    expect((await readdir(logDir)).filter((file) => file.startsWith(doomed.tenantId))).toEqual([
      `${doomed.tenantId}.erased`,
    ]);
  });
});
