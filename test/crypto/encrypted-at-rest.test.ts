import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import {
  createMasterKeys,
  createSecretBox,
  masterKeyIdOf,
  SecretTamperedError,
  type MasterKeys,
} from "../../src/crypto/index.js";
import { unwrapDataKey } from "../../src/crypto/data-keys.js";
import { openDatabase, type Database } from "../../src/data/index.js";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { createLogger } from "../../src/logging/index.js";
import { main as rotateKeys } from "../../src/scripts/rotate-keys.js";
import { createGateway, type Gateway } from "../../src/server/gateway.js";
import { TEST_REDIS_URL, TEST_SECOND_DATABASE_URL } from "../support/env.js";
import { seedTenantFixture } from "../support/fixtures.js";
import {
  startTestGateway,
  TEST_JWT_SECRET,
  uniqueTenantId,
  type TestGateway,
} from "../support/gateway.js";
import { KEY_B } from "./control-plane.js";

const run = promisify(execFile);
const silent = createLogger({ level: "silent" });

/** The master key startTestGateway configures. */
const KEY_A = Buffer.alloc(32, 1);
const base64 = (key: Buffer) => key.toString("base64");

let gw: TestGateway;
let onPrimary: string;
let onSecond: string;

/** The gateway's settings with other master keys, as a redeployed process reads them. */
function envWith(current: Buffer, previous: Buffer[] = []): Record<string, string> {
  return {
    NODE_ENV: "test",
    DATABASE_URL: gw.databaseUrl,
    DATABASE_SERVERS: JSON.stringify([
      { id: "primary", region: "local", url: gw.databaseUrl },
      { id: "second", region: "eu", url: TEST_SECOND_DATABASE_URL },
    ]),
    REDIS_URL: TEST_REDIS_URL,
    JWT_SECRET: TEST_JWT_SECRET,
    ENCRYPTION_KEY: base64(current),
    ENCRYPTION_KEY_PREVIOUS: previous.map(base64).join(","),
  };
}

/** Another process's database layer over the same control plane. */
function openAs(masterKeys: MasterKeys): Promise<Database> {
  return openDatabase({ url: gw.databaseUrl, dataDir: "", poolMax: 4, masterKeys, logger: silent });
}

async function rotate(current: Buffer, ...previous: Buffer[]) {
  const written = { stdout: "", stderr: "" };
  const exitCode = await rotateKeys(["--json"], envWith(current, previous), {
    stdout: (text) => (written.stdout += text),
    stderr: (text) => (written.stderr += text),
  });

  return { exitCode, stderr: written.stderr, report: JSON.parse(written.stdout) as unknown };
}

async function dumpControlPlane(): Promise<string> {
  const { stdout } = await run("pg_dump", ["--data-only", gw.databaseUrl], {
    maxBuffer: 64 * 1024 * 1024,
  });

  return stdout;
}

/** Users a tenant's own tables hold, read through `database`'s placement of it. */
function usersOf(database: Database, tenantId: string): Promise<number> {
  return database.forTenant(tenantId).user.count();
}

beforeAll(async () => {
  gw = await startTestGateway("at-rest");
  onPrimary = uniqueTenantId("vault");
  onSecond = uniqueTenantId("vault-eu");
  await seedTenantFixture(gw.gateway.lifecycle, onPrimary, { isolation: Isolation.DATABASE });
  await seedTenantFixture(gw.gateway.lifecycle, onSecond, {
    isolation: Isolation.DATABASE,
    region: "eu",
  });
});
afterAll(() => gw?.stop());

describe("tenant connection strings at rest", () => {
  it("seals a DATABASE tenant's connection string with the tenant's own data key", async () => {
    const row = await gw.gateway.database.control.tenant.findUniqueOrThrow({
      where: { id: onPrimary },
      include: { key: true },
    });
    const url = await gw.gateway.database.keyring.open(
      onPrimary,
      "databaseSecret",
      row.databaseSecret!,
    );

    expect(row.databaseSecret).toMatch(/^e1\./);
    expect(row.key?.masterKeyId).toBe(masterKeyIdOf(KEY_A));
    expect(new URL(url).password.length).toBeGreaterThan(20);
    expect(await usersOf(gw.gateway.database, onPrimary)).toBe(8);
  });

  it("shows no connection string, password or data key in a dump of the control database", async () => {
    const dump = await dumpControlPlane();
    const masterKeys = createMasterKeys(KEY_A);

    expect(dump).toContain(onPrimary);
    expect(dump).not.toMatch(/postgres(ql)?:\/\//);
    for (const tenantId of [onPrimary, onSecond]) {
      const location = await gw.gateway.database.placement.refresh(tenantId);
      if (location.isolation !== Isolation.DATABASE) throw new Error("not a DATABASE tenant");
      const stored = await gw.gateway.database.control.tenantKey.findUniqueOrThrow({
        where: { tenantId },
      });
      const dataKey = unwrapDataKey(masterKeys, tenantId, stored);

      expect(dump).toContain(stored.wrappedKey);
      for (const secret of [
        location.url,
        new URL(location.url).password,
        dataKey.toString("base64"),
        dataKey.toString("base64url"),
        dataKey.toString("hex"),
      ]) {
        expect(dump).not.toContain(secret);
      }
    }
  });
});

describe("connection strings sealed the old way", () => {
  it("still reads a master-sealed v1 string, and the rotation reseals it with the data key", async () => {
    const location = await gw.gateway.database.placement.refresh(onPrimary);
    if (location.isolation !== Isolation.DATABASE) throw new Error("not a DATABASE tenant");
    // As the gateway wrote it before envelope encryption.
    const legacy = createSecretBox(KEY_A).seal(location.url, `tenant:${onPrimary}:databaseSecret`);
    await gw.gateway.database.control.tenant.update({
      where: { id: onPrimary },
      data: { databaseSecret: legacy },
    });
    const reader = await openAs(createMasterKeys(KEY_A));
    try {
      expect(await usersOf(reader, onPrimary)).toBe(8);

      const rotation = await rotate(KEY_A);

      expect(rotation).toMatchObject({
        exitCode: 0,
        report: { databaseSecrets: { converted: 1, failed: [] }, keys: { failed: [] } },
      });
      const row = await gw.gateway.database.control.tenant.findUniqueOrThrow({
        where: { id: onPrimary },
      });
      expect(row.databaseSecret).toMatch(/^e1\./);
      expect(await reader.placement.refresh(onPrimary)).toEqual(location);
      expect((await dumpControlPlane()).includes(legacy)).toBe(false);
    } finally {
      await reader.close();
    }
  });
});

describe("moving to a new master key without downtime", () => {
  let redeployed: Gateway | undefined;
  afterAll(() => redeployed?.stop());

  it("serves every tenant through the redeploy and the rotation, and then needs only the new key", async () => {
    const keys = await gw.gateway.database.control.tenantKey.count();
    // 1. Redeploy with B as the key and A as the previous one.
    redeployed = await createGateway({
      config: loadConfig(envWith(KEY_B, [KEY_A])),
      logger: silent,
      registryTtlMs: 0,
    });
    for (const tenantId of [onPrimary, onSecond]) {
      expect(await usersOf(redeployed.database, tenantId)).toBe(8);
    }

    // 2. Rotate; the old and the new gateway both keep serving.
    const rotation = await rotate(KEY_B, KEY_A);
    expect(rotation).toMatchObject({
      exitCode: 0,
      report: { keys: { rewrapped: keys, alreadyCurrent: 0, failed: [] } },
    });
    for (const database of [gw.gateway.database, redeployed.database]) {
      expect(await usersOf(database, onSecond)).toBe(8);
    }

    // 3. Drop A: a process with B alone reads every tenant; one with A alone reads none.
    const onlyB = await openAs(createMasterKeys(KEY_B));
    const onlyA = await openAs(createMasterKeys(KEY_A));
    try {
      for (const tenantId of [onPrimary, onSecond]) {
        expect(await usersOf(onlyB, tenantId)).toBe(8);
        await expect(onlyA.placement.refresh(tenantId)).rejects.toThrow(SecretTamperedError);
      }
    } finally {
      await onlyB.close();
      await onlyA.close();
    }
  });
});
