import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { readErasure, tenantLogPath } from "../../src/logging/index.js";
import { createGateway, type Gateway } from "../../src/server/gateway.js";
import { seedTenantFixture } from "../support/fixtures.js";
import {
  postGraphQL,
  startTestGateway,
  TEST_JWT_SECRET,
  uniqueTenantId,
  type TestGateway,
} from "../support/gateway.js";
import { captureLines } from "./log-capture.js";

/**
 * Two gateway processes of one deployment (one database, one
 * TENANT_LOG_DIR), each with its own tenant log writer: `gw` erases, and
 * `other` holds a tenant's lines in memory when it does (they wait up to
 * 250 ms for its next flush).
 */
let root: string;
let logDir: string;
let gw: TestGateway;
let other: Gateway;
let otherUrl: string;
let staff: string;
const otherLogs = captureLines("info");

const USERS = "{ users(first: 1) { edges { node { id } } } }";

/** An anonymous read naming the tenant, sent to the other gateway: a refusal line of the tenant. */
async function anonymousOnOther(tenantId: string, requestId: string): Promise<void> {
  const res = await postGraphQL(otherUrl, USERS, {
    tenant: tenantId,
    headers: { "x-request-id": requestId },
  });
  expect(res.body.errors?.length).toBeGreaterThan(0);
}

async function asStaff(mutation: string, id: string): Promise<void> {
  const res = await gw.request(`mutation ($id: ID!) { ${mutation} }`, {
    token: staff,
    variables: { id },
  });
  expect(res.body.errors).toBeUndefined();
}

/** The request ids of the tenant's file, once both gateways wrote what they hold. */
async function requestIdsInFile(tenantId: string): Promise<(string | undefined)[]> {
  await Promise.all([gw.gateway.lifecycle.logs?.flush(), other.lifecycle.logs?.flush()]);
  const text = await readFile(tenantLogPath(logDir, tenantId), "utf8").catch(() => "");

  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { requestId?: string }).requestId);
}

/** Waits out the erasure's millisecond: a line logged within it counts as before it. */
async function pastErasure(tenantId: string): Promise<void> {
  const erasedAt = (await readErasure(logDir, tenantId)) ?? Number.NaN;
  expect(erasedAt).toBeGreaterThan(0);
  while (Date.now() <= erasedAt) await new Promise((resolve) => setTimeout(resolve, 1));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "ogc-erase-gateways-"));
  logDir = join(root, "tenant-logs");
  gw = await startTestGateway("erase-gateways", {
    logger: captureLines("info").logger,
    env: { TENANT_LOG_DIR: logDir, EXPORT_DIR: join(root, "exports") },
  });
  other = await createGateway({
    config: loadConfig({
      NODE_ENV: "test",
      DATABASE_URL: gw.databaseUrl,
      STORAGE_DIR: gw.gateway.lifecycle.storage.root,
      TENANT_LOG_DIR: logDir,
      ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
      JWT_SECRET: TEST_JWT_SECRET,
      HOST: "127.0.0.1",
      PORT: "0",
    }),
    logger: otherLogs.logger,
    registryTtlMs: 0,
  });
  otherUrl = await other.listen(0);
  staff = await gw.globalAdminToken();
});

afterAll(async () => {
  await other?.stop();
  await gw?.stop();
  await rm(root, { recursive: true, force: true });
});

describe("a tenant's log erased through one gateway", () => {
  it("loses the lines another gateway still held, and keeps that gateway's later ones", async () => {
    const { tenantId } = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("erase2"));
    await anonymousOnOther(tenantId, "before-erase-0001");

    await asStaff("eraseTenantLogs(id: $id)", tenantId);

    expect(await requestIdsInFile(tenantId)).toEqual([]);
    await pastErasure(tenantId);
    await anonymousOnOther(tenantId, "after-erase-0001");
    expect(await requestIdsInFile(tenantId)).toEqual(["after-erase-0001"]);
  });

  it("on deprovisioning too: a new tenant of the same id starts without the old one's lines", async () => {
    const tenantId = uniqueTenantId("reuse");
    await seedTenantFixture(gw.gateway.lifecycle, tenantId);
    await asStaff("suspendTenant(id: $id) { id }", tenantId);
    // Work on the tenant in the other gateway (a job, say) logs as it is being removed.
    otherLogs.logger.child({ tenantId, requestId: "before-removal-0001" }).info("job succeeded");

    await asStaff("deprovisionTenant(id: $id)", tenantId);

    expect(await requestIdsInFile(tenantId)).toEqual([]);
    await pastErasure(tenantId);
    await seedTenantFixture(gw.gateway.lifecycle, tenantId);
    await anonymousOnOther(tenantId, "after-reuse-0001");
    const ids = await requestIdsInFile(tenantId);
    expect(ids).not.toContain("before-removal-0001");
    expect(ids).toContain("after-reuse-0001");
  });
});
