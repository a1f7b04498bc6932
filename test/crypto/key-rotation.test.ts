import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMasterKeys,
  masterKeyIdOf,
  rotateTenantKeys,
  SecretTamperedError,
  type RotationReport,
  type TenantKeyring,
} from "../../src/crypto/index.js";
import { generateDataKey, wrapDataKey } from "../../src/crypto/data-keys.js";
import { main, parseArgs } from "../../src/scripts/rotate-keys.js";
import {
  KEY_A,
  KEY_B,
  KEY_C,
  openControlPlane,
  tenantIds,
  type ControlPlane,
} from "./control-plane.js";

const FIELDS = ["settings.secrets", "billing.details"] as const;

/** Every tenant's values, sealed by one keyring. */
async function sealAll(keyring: TenantKeyring, tenants: readonly string[]) {
  const values: { tenant: string; field: string; plain: string; sealed: string }[] = [];
  for (const tenant of tenants) {
    for (const field of FIELDS) {
      const plain = `${field} of ${tenant}`;
      values.push({ tenant, field, plain, sealed: await keyring.seal(tenant, field, plain) });
    }
  }

  return values;
}

/** Runs `npm run keys:rotate` in process against the plane, with these master keys. */
async function runScript(
  plane: ControlPlane,
  argv: string[],
  current: Buffer,
  ...previous: Buffer[]
) {
  const written = { stdout: "", stderr: "" };
  const exitCode = await main(
    argv,
    {
      DATABASE_URL: plane.url,
      ENCRYPTION_KEY: current.toString("base64"),
      ENCRYPTION_KEY_PREVIOUS: previous.map((key) => key.toString("base64")).join(","),
    },
    {
      stdout: (text) => (written.stdout += text),
      stderr: (text) => (written.stderr += text),
    },
  );

  return { exitCode, ...written };
}

function masterKeyIds(plane: ControlPlane) {
  return plane.database.control.tenantKey
    .groupBy({ by: ["masterKeyId"], _count: { _all: true }, orderBy: { masterKeyId: "asc" } })
    .then((groups) => Object.fromEntries(groups.map((g) => [g.masterKeyId, g._count._all])));
}

describe("rotating the master key from A to B", () => {
  let plane: ControlPlane;
  let tenants: string[];
  let values: Awaited<ReturnType<typeof sealAll>>;
  let newcomer: string;

  beforeAll(async () => {
    plane = await openControlPlane("rotate");
    tenants = tenantIds("rot", 5);
    newcomer = `${tenants[0]}-new`;
    await plane.addTenants([...tenants, newcomer]);
    values = await sealAll(plane.keyring(KEY_A), tenants);
  });
  afterAll(() => plane?.close());

  it("still opens every value after a restart with B as the key and A as the previous one", async () => {
    const restarted = plane.keyring(KEY_B, KEY_A);

    for (const value of values) {
      expect(await restarted.open(value.tenant, value.field, value.sealed)).toBe(value.plain);
    }
    // A tenant's first key is wrapped with the current key, B.
    await restarted.seal(newcomer, "settings.secrets", "made after the restart");
    expect(await masterKeyIds(plane)).toEqual({
      [masterKeyIdOf(KEY_A)]: 5,
      [masterKeyIdOf(KEY_B)]: 1,
    });
  });

  it("counts what it would do on a dry run and writes nothing", async () => {
    const result = await runScript(plane, ["--dry-run", "--json"], KEY_B, KEY_A);
    const report = JSON.parse(result.stdout) as RotationReport;

    expect(result.exitCode).toBe(0);
    expect(report).toMatchObject({
      dryRun: true,
      masterKeyId: masterKeyIdOf(KEY_B),
      keys: { rewrapped: 5, alreadyCurrent: 1, failed: [] },
    });
    expect(await masterKeyIds(plane)).toEqual({
      [masterKeyIdOf(KEY_A)]: 5,
      [masterKeyIdOf(KEY_B)]: 1,
    });
  });

  it("rewraps every key A wrapped, and says so", async () => {
    const result = await runScript(plane, [], KEY_B, KEY_A);

    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split("\n")).toEqual([
      `master key ${masterKeyIdOf(KEY_B)}`,
      "tenant keys: 5 rewrapped, 1 already current, 0 failed",
      "connection strings sealed with a master key: 0 resealed, 0 failed",
      expect.stringMatching(/^in \d+\.\d s$/),
      "",
    ]);
    expect(await masterKeyIds(plane)).toEqual({ [masterKeyIdOf(KEY_B)]: 6 });
  });

  it("leaves every value readable with B alone, and none with A alone", async () => {
    const onlyB = plane.keyring(KEY_B);
    const onlyA = plane.keyring(KEY_A);

    for (const value of values) {
      expect(await onlyB.open(value.tenant, value.field, value.sealed)).toBe(value.plain);
      await expect(onlyA.open(value.tenant, value.field, value.sealed)).rejects.toThrow(
        `wrapped by master key ${masterKeyIdOf(KEY_B)}, which this process does not have`,
      );
    }
  });

  it("finds nothing left to do when run again", async () => {
    const result = await runScript(plane, ["--json"], KEY_B, KEY_A);

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      keys: { rewrapped: 0, alreadyCurrent: 6, failed: [] },
      databaseSecrets: { converted: 0, failed: [] },
    });
  });
});

describe("a rotation that meets a key it cannot unwrap", () => {
  let plane: ControlPlane;
  let tenants: string[];

  beforeAll(async () => {
    plane = await openControlPlane("rotate-fail");
    tenants = tenantIds("part", 4);
    await plane.addTenants(tenants);
    await sealAll(plane.keyring(KEY_A), tenants.slice(0, 3));
    // One tenant's key was wrapped by a master key the operator forgot to list.
    await sealAll(plane.keyring(KEY_C), tenants.slice(3));
  });
  afterAll(() => plane?.close());

  it("rewraps the rest, names the tenant that failed, and exits 1", async () => {
    const result = await runScript(plane, [], KEY_B, KEY_A);
    const [failed] = tenants.slice(3);

    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(
      `FAIL  key    ${failed}: The data key of tenant "${failed}" is wrapped by master key ${masterKeyIdOf(KEY_C)}`,
    );
    expect(result.stdout).toContain("tenant keys: 3 rewrapped, 0 already current, 1 failed");
    expect(await masterKeyIds(plane)).toEqual({
      [masterKeyIdOf(KEY_B)]: 3,
      [masterKeyIdOf(KEY_C)]: 1,
    });
  });

  it("finishes once the missing key is listed too", async () => {
    const result = await runScript(plane, ["--json"], KEY_B, KEY_A, KEY_C);

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      keys: { rewrapped: 1, alreadyCurrent: 3, failed: [] },
    });
  });

  it("runs in production without the token settings a gateway needs", async () => {
    const written = { stdout: "", stderr: "" };
    const exitCode = await main(
      ["--json"],
      {
        NODE_ENV: "production",
        DATABASE_URL: plane.url,
        ENCRYPTION_KEY: KEY_B.toString("base64"),
        ENCRYPTION_KEY_PREVIOUS: [KEY_A, KEY_C].map((key) => key.toString("base64")).join(","),
      },
      {
        stdout: (text) => (written.stdout += text),
        stderr: (text) => (written.stderr += text),
      },
    );

    expect({ exitCode, stderr: written.stderr }).toEqual({ exitCode: 0, stderr: "" });
    expect(JSON.parse(written.stdout)).toMatchObject({ keys: { rewrapped: 0, failed: [] } });
  });

  it("exits 2 on bad usage or configuration, before opening the database", async () => {
    const badFlag = await runScript(plane, ["--all"], KEY_B);
    const badBatch = await runScript(plane, ["--batch-size", "0"], KEY_B);
    const badKey = await main(
      [],
      { ENCRYPTION_KEY_PREVIOUS: "c2hvcnQ=" },
      {
        stdout: () => undefined,
        stderr: () => undefined,
      },
    );

    expect(badFlag.exitCode).toBe(2);
    expect(badFlag.stderr).toContain("Usage: npm run keys:rotate");
    expect(badBatch).toMatchObject({ exitCode: 2, stdout: "" });
    expect(badBatch.stderr).toMatch(/^--batch-size must be a whole number from 1 to 10000/);
    expect(badKey).toBe(2);
  });

  it("reads its flags", () => {
    expect(parseArgs([])).toEqual({
      dryRun: false,
      batchSize: 200,
      concurrency: 4,
      json: false,
      help: false,
    });
    expect(parseArgs(["--dry-run", "--batch-size", "50", "--concurrency", "8", "--json"])).toEqual({
      dryRun: true,
      batchSize: 50,
      concurrency: 8,
      json: true,
      help: false,
    });
  });
});

describe("rotating while gateways work", () => {
  let plane: ControlPlane;

  beforeAll(async () => {
    plane = await openControlPlane("rotate-live");
  });
  afterAll(() => plane?.close());

  it("loses nothing when new tenants make their keys and old ones seal values during the rotation", async () => {
    const old = tenantIds("old", 60);
    const fresh = tenantIds("fresh", 60);
    await plane.addTenants([...old, ...fresh]);
    const before = await sealAll(plane.keyring(KEY_A), old);
    // Gateways already deployed with B (and A as previous), three of them.
    const gateways = [0, 1, 2].map(() => plane.keyring(KEY_B, KEY_A));
    const during: Awaited<ReturnType<typeof sealAll>> = [];

    const [report] = await Promise.all([
      rotateTenantKeys(plane.database.control, createMasterKeys(KEY_B, [KEY_A]), {
        batchSize: 7,
        concurrency: 3,
      }),
      ...gateways.map(async (keyring, g) => {
        const mine = [...fresh, ...old].filter((_, i) => i % 3 === g);
        during.push(...(await sealAll(keyring, mine)));
      }),
    ]);

    expect(report.keys).toEqual({
      rewrapped: 60,
      alreadyCurrent: report.keys.alreadyCurrent,
      failed: [],
    });
    expect(await masterKeyIds(plane)).toEqual({ [masterKeyIdOf(KEY_B)]: 120 });
    const onlyB = plane.keyring(KEY_B);
    for (const value of [...before, ...during]) {
      expect(await onlyB.open(value.tenant, value.field, value.sealed)).toBe(value.plain);
    }
    expect(during).toHaveLength(240);
  });

  it("rewraps each key exactly once when two rotations run at once", async () => {
    const tenants = tenantIds("twice", 40);
    await plane.addTenants(tenants);
    const values = await sealAll(plane.keyring(KEY_B), tenants);
    const toC = createMasterKeys(KEY_C, [KEY_B]);

    const reports = await Promise.all([
      rotateTenantKeys(plane.database.control, toC, { batchSize: 5, concurrency: 4 }),
      rotateTenantKeys(plane.database.control, toC, { batchSize: 5, concurrency: 4 }),
    ]);

    const total = await plane.database.control.tenantKey.count();
    expect(reports.map((r) => r.keys.failed)).toEqual([[], []]);
    expect(reports[0]!.keys.rewrapped + reports[1]!.keys.rewrapped).toBe(total);
    expect(await masterKeyIds(plane)).toEqual({ [masterKeyIdOf(KEY_C)]: total });
    const onlyC = plane.keyring(KEY_C);
    for (const value of values) {
      expect(await onlyC.open(value.tenant, value.field, value.sealed)).toBe(value.plain);
    }
    await expect(
      plane.keyring(KEY_B).open(values[0]!.tenant, values[0]!.field, values[0]!.sealed),
    ).rejects.toThrow(SecretTamperedError);
  });

  it("prints how long rotating 2,000 tenants takes (measured, not asserted)", async () => {
    const tenants = tenantIds("bulk", 2_000);
    await plane.addTenants(tenants);
    const fromC = createMasterKeys(KEY_C);
    await plane.database.control.tenantKey.createMany({
      data: tenants.map((tenantId) => ({
        tenantId,
        ...wrapDataKey(fromC, tenantId, generateDataKey()),
      })),
    });
    const toA = createMasterKeys(KEY_A, [KEY_C]);

    const statements = plane.database.statements.count;
    const serial = await rotateTenantKeys(plane.database.control, toA, { concurrency: 1 });
    const perKey = (plane.database.statements.count - statements) / serial.keys.rewrapped;
    const back = createMasterKeys(KEY_C, [KEY_A]);
    const parallel = await rotateTenantKeys(plane.database.control, back, { concurrency: 4 });

    process.stdout.write(
      `rotation: ${serial.keys.rewrapped} keys in ${serial.durationMs} ms one at a time, ` +
        `${parallel.keys.rewrapped} in ${parallel.durationMs} ms four at a time; ` +
        `${perKey.toFixed(2)} statements per key\n`,
    );
    expect(serial.keys.failed).toEqual([]);
    expect(parallel.keys.rewrapped).toBe(serial.keys.rewrapped);
  });
});
