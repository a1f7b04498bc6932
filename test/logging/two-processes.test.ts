import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readErasure, TenantLogStore, tenantLogPath } from "../../src/logging/index.js";
import { GATEWAY_BUILD_ROOT } from "../support/gateway-build.js";

/** Lines each process writes for each tenant. */
const LINES = 1_500;
const TENANTS = ["proc-tenant-a", "proc-tenant-b"];

/**
 * A process that logs as the gateway does (the compiled logging module,
 * which globalSetup builds): `LINES` lines per tenant through loggers bound
 * to it, in bursts so its flushes meet the other process's, then stops.
 */
const WRITER = `
const { createLogger, routeTenantLines, TenantLogFiles } = await import(process.env.LOGGING);
const logger = createLogger({ level: "info", destination: { write() {} } });
const files = new TenantLogFiles({ directory: process.env.DIR, flushIntervalMs: 5 });
routeTenantLines(logger, files);
for (let n = 0; n < ${LINES}; n += 1) {
  for (const tenantId of ${JSON.stringify(TENANTS)}) {
    logger.child({ tenantId, requestId: process.env.NAME + "-" + n }).info({ pad: "x".repeat(200) }, "line");
  }
  if (n % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
}
await files.close();
`;

describe("two processes appending to one tenant log directory", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ogc-process-logs-"));
    const logging = pathToFileURL(join(GATEWAY_BUILD_ROOT, "build", "logging", "index.js"));
    const run = (name: string) =>
      promisify(execFile)(process.execPath, ["--input-type=module", "-e", WRITER], {
        env: { LOGGING: logging.href, DIR: dir, NAME: name },
        timeout: 30_000,
      });

    await Promise.all([run("first"), run("second")]);
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("lands every line of both, whole, in its own tenant's file only", async () => {
    for (const tenantId of TENANTS) {
      const text = await readFile(tenantLogPath(dir, tenantId), "utf8");
      const lines = text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { tenantId: string; requestId: string });

      expect(lines).toHaveLength(2 * LINES);
      expect(lines.every((line) => line.tenantId === tenantId)).toBe(true);
      for (const name of ["first", "second"]) {
        const own = lines.filter((line) => line.requestId.startsWith(`${name}-`));
        expect(own.map((line) => line.requestId)).toEqual(
          Array.from({ length: LINES }, (_, n) => `${name}-${n}`),
        );
      }
    }
  });
});

/**
 * A gateway-like process that logs a line for a tenant and holds it (its
 * flush is a minute away), says `held`, and on `go` logs another line and
 * stops, writing what it holds.
 */
const HOLDER = `
const { createLogger, routeTenantLines, TenantLogFiles } = await import(process.env.LOGGING);
const logger = createLogger({ level: "info", destination: { write() {} } });
const files = new TenantLogFiles({ directory: process.env.DIR, flushIntervalMs: 60_000 });
routeTenantLines(logger, files);
logger.child({ tenantId: "proc-erased", requestId: "before-erase-0001" }).warn("held");
logger.child({ tenantId: "proc-kept", requestId: "kept-0001" }).warn("held");
process.stdout.write("held\\n");
process.stdin.once("data", async () => {
  logger.child({ tenantId: "proc-erased", requestId: "after-erase-0001" }).warn("later");
  await files.close();
  process.exit(0);
});
`;

describe("erasing a tenant's log while another process holds lines of it", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ogc-process-erase-"));
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("keeps that process from writing the lines it logged before the erasure", async () => {
    const logging = pathToFileURL(join(GATEWAY_BUILD_ROOT, "build", "logging", "index.js"));
    const holder = spawn(process.execPath, ["--input-type=module", "-e", HOLDER], {
      env: { LOGGING: logging.href, DIR: dir },
      stdio: ["pipe", "pipe", "inherit"],
      timeout: 30_000,
    });
    const exited = once(holder, "exit");
    await once(holder.stdout, "data");

    await new TenantLogStore({ directory: dir }).erase("proc-erased");
    // A line of the erasure's own millisecond counts as before it: go on in the next one.
    const erasedAt = (await readErasure(dir, "proc-erased")) ?? Number.NaN;
    while (Date.now() <= erasedAt) await new Promise((resolve) => setTimeout(resolve, 1));
    holder.stdin.end("go\n");
    expect(await exited).toEqual([0, null]);

    const lines = async (tenantId: string) =>
      (await readFile(tenantLogPath(dir, tenantId), "utf8"))
        .split("\n")
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { requestId: string }).requestId);
    expect(await lines("proc-erased")).toEqual(["after-erase-0001"]);
    expect(await lines("proc-kept")).toEqual(["kept-0001"]);
    expect((await readdir(dir)).sort()).toEqual([
      "proc-erased.erased",
      "proc-erased.log",
      "proc-kept.log",
    ]);
  });
});
