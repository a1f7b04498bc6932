import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMasterKeys,
  createSecretBox,
  createTenantKeyring,
  masterKeyIdOf,
  SecretTamperedError,
} from "../../src/crypto/index.js";
import { openDatabase } from "../../src/data/index.js";
import { createLogger } from "../../src/logging/index.js";
import { KEY_A, KEY_C, openControlPlane, tenantIds, type ControlPlane } from "./control-plane.js";

const SECRET = "sk_live_51Habc-very-secret-value";

let plane: ControlPlane;

beforeAll(async () => {
  plane = await openControlPlane("keyring");
});
afterAll(() => plane?.close());

/** Flips one bit of byte `at` of part `index` (1 iv, 2 tag, 3 ciphertext). */
function flipByte(sealed: string, index: number, at: number): string {
  const parts = sealed.split(".");
  const bytes = Buffer.from(parts[index] ?? "", "base64url");
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  parts[index] = bytes.toString("base64url");

  return parts.join(".");
}

describe("sealing with a tenant's data key", () => {
  it("opens what it sealed, and seals the same text differently each time", async () => {
    const [tenant] = tenantIds("round", 1) as [string];
    await plane.addTenants([tenant]);
    const keyring = plane.keyring(KEY_A);

    const first = await keyring.seal(tenant, "settings.secrets", SECRET);
    const second = await keyring.seal(tenant, "settings.secrets", SECRET);

    expect(first).toMatch(/^e1\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
    expect(first).not.toBe(second);
    expect(first).not.toContain("sk_live");
    expect(await keyring.open(tenant, "settings.secrets", first)).toBe(SECRET);
    expect(await plane.keyring(KEY_A).open(tenant, "settings.secrets", second)).toBe(SECRET);
    expect(await keyring.open(tenant, "empty", await keyring.seal(tenant, "empty", ""))).toBe("");
  });

  it("makes one data key per tenant, stored wrapped and named by a keyed fingerprint of the master key", async () => {
    const [tenant] = tenantIds("wrapped", 1) as [string];
    await plane.addTenants([tenant]);
    await plane.keyring(KEY_A).seal(tenant, "billing.details", SECRET);
    await plane.keyring(KEY_A).seal(tenant, "settings.secrets", SECRET);

    const rows = await plane.database.control.tenantKey.findMany({ where: { tenantId: tenant } });

    expect(rows).toHaveLength(1);
    expect(rows[0]?.wrappedKey).toMatch(/^k1\.[\w-]+\.[\w-]+\.[\w-]{43}$/);
    expect(rows[0]?.masterKeyId).toBe(masterKeyIdOf(KEY_A));
    expect(rows[0]?.masterKeyId).toMatch(/^[0-9a-f]{16}$/);
    expect(createHash("sha256").update(KEY_A).digest("hex")).not.toContain(rows[0]?.masterKeyId);
  });

  it("agrees on one key when processes seal a new tenant's first value at once", async () => {
    const [tenant] = tenantIds("race", 1) as [string];
    await plane.addTenants([tenant]);
    const processes = Array.from({ length: 6 }, () => plane.keyring(KEY_A));

    const sealed = await Promise.all(
      processes.map((keyring, i) => keyring.seal(tenant, "settings.secrets", `value ${i}`)),
    );

    expect(await plane.database.control.tenantKey.count({ where: { tenantId: tenant } })).toBe(1);
    const reader = plane.keyring(KEY_A);
    for (const [i, value] of sealed.entries()) {
      expect(await reader.open(tenant, "settings.secrets", value)).toBe(`value ${i}`);
    }
  });

  it("refuses to make a key for a tenant that does not exist", async () => {
    await expect(plane.keyring(KEY_A).seal("no-such-tenant", "f", SECRET)).rejects.toMatchObject({
      extensions: { code: "TENANT_NOT_FOUND" },
    });
  });
});

describe("detecting values that were altered or moved", () => {
  let tenant: string;
  let other: string;
  let sealed: string;

  beforeAll(async () => {
    [tenant, other] = tenantIds("tamper", 2) as [string, string];
    await plane.addTenants([tenant, other]);
    sealed = await plane.keyring(KEY_A).seal(tenant, "settings.secrets", SECRET);
    await plane.keyring(KEY_A).seal(other, "settings.secrets", "the other tenant's");
  });

  it("refuses the value under another tenant", async () => {
    await expect(plane.keyring(KEY_A).open(other, "settings.secrets", sealed)).rejects.toThrow(
      SecretTamperedError,
    );
  });

  it("refuses the value under another field of the same tenant", async () => {
    await expect(plane.keyring(KEY_A).open(tenant, "billing.details", sealed)).rejects.toThrow(
      /sealed billing.details of tenant "tamper-.*" failed to open/,
    );
  });

  it("refuses every single flipped byte of the iv, the tag and the ciphertext", async () => {
    const keyring = plane.keyring(KEY_A);
    const lengths = sealed
      .split(".")
      .slice(1)
      .map((part) => Buffer.from(part, "base64url").length);
    expect(lengths.slice(0, 2)).toEqual([12, 16]);
    expect(lengths[2]).toBe(Buffer.byteLength(SECRET));

    let refused = 0;
    for (const [offset, length] of lengths.entries()) {
      for (let at = 0; at < length; at += 1) {
        const tampered = flipByte(sealed, offset + 1, at);
        await expect(keyring.open(tenant, "settings.secrets", tampered)).rejects.toThrow(
          SecretTamperedError,
        );
        refused += 1;
      }
    }

    expect(refused).toBe(12 + 16 + Buffer.byteLength(SECRET));
    expect(await keyring.open(tenant, "settings.secrets", sealed)).toBe(SECRET);
  });

  it.each([
    ["an unknown version", (s: string) => `e9${s.slice(2)}`],
    ["no version at all", (s: string) => s.slice(3)],
    ["a missing part", (s: string) => s.split(".").slice(0, 3).join(".")],
    ["an extra part", (s: string) => `${s}.AAAA`],
    [
      "a truncated tag",
      (s: string) =>
        s
          .split(".")
          .map((p, i) => (i === 2 ? p.slice(0, 8) : p))
          .join("."),
    ],
    ["an empty string", () => ""],
  ])("refuses %s", async (_, tamper) => {
    await expect(
      plane.keyring(KEY_A).open(tenant, "settings.secrets", tamper(sealed)),
    ).rejects.toThrow(SecretTamperedError);
  });

  it("refuses a ciphertext whose text changed although its bytes did not", async () => {
    // The secret's 32 bytes take 43 base64url characters; the last one has 2 spare bits.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(sealed.at(-1) ?? "");
    const tampered = `${sealed.slice(0, -1)}${alphabet[last ^ 0x01]}`;
    const body = (text: string) => Buffer.from(text.split(".")[3] ?? "", "base64url");
    expect(body(tampered).equals(body(sealed))).toBe(true);

    await expect(plane.keyring(KEY_A).open(tenant, "settings.secrets", tampered)).rejects.toThrow(
      /malformed/,
    );
  });

  it("refuses a master-sealed v1 value outside the connection-string field", async () => {
    const legacy = createSecretBox(KEY_A).seal(SECRET, `tenant:${tenant}:settings.secrets`);

    await expect(plane.keyring(KEY_A).open(tenant, "settings.secrets", legacy)).rejects.toThrow(
      /not in a known format/,
    );
  });

  it("refuses a data key row copied from another tenant", async () => {
    const [victim, donor] = tenantIds("copied", 2) as [string, string];
    await plane.addTenants([victim, donor]);
    const value = await plane.keyring(KEY_A).seal(victim, "settings.secrets", SECRET);
    await plane.keyring(KEY_A).seal(donor, "settings.secrets", SECRET);
    const donorRow = await plane.database.control.tenantKey.findUniqueOrThrow({
      where: { tenantId: donor },
    });
    await plane.database.control.tenantKey.update({
      where: { tenantId: victim },
      data: { wrappedKey: donorRow.wrappedKey, masterKeyId: donorRow.masterKeyId },
    });

    await expect(plane.keyring(KEY_A).open(victim, "settings.secrets", value)).rejects.toThrow(
      /data key of tenant "copied-.*" failed to unwrap/,
    );
    await expect(plane.keyring(KEY_A).seal(victim, "settings.secrets", SECRET)).rejects.toThrow(
      SecretTamperedError,
    );
  });

  it("refuses a key wrapped by a master key the process does not have, and says which", async () => {
    await expect(plane.keyring(KEY_C).open(tenant, "settings.secrets", sealed)).rejects.toThrow(
      `wrapped by master key ${masterKeyIdOf(KEY_A)}, which this process does not have`,
    );
  });
});

describe("remembering unwrapped keys", () => {
  it("opens many values of a tenant with one read of its key, and none once it is warm", async () => {
    const [tenant] = tenantIds("warm", 1) as [string];
    await plane.addTenants([tenant]);
    const values = await Promise.all(
      Array.from({ length: 20 }, (_, i) => plane.keyring(KEY_A).seal(tenant, `field${i}`, `v${i}`)),
    );
    const keyring = plane.keyring(KEY_A);
    const { statements } = plane.database;

    const cold = statements.count;
    const opened = await Promise.all(values.map((v, i) => keyring.open(tenant, `field${i}`, v)));
    const coldStatements = statements.count - cold;
    const warm = statements.count;
    await Promise.all(values.map((v, i) => keyring.open(tenant, `field${i}`, v)));

    expect(opened).toEqual(values.map((_, i) => `v${i}`));
    expect(coldStatements).toBe(1);
    expect(statements.count - warm).toBe(0);
  });

  it("follows a tenant that was removed and made again by another process", async () => {
    const [tenant] = tenantIds("again", 1) as [string];
    await plane.addTenants([tenant]);
    const stale = plane.keyring(KEY_A);
    const old = await stale.seal(tenant, "settings.secrets", "before");
    expect(await stale.open(tenant, "settings.secrets", old)).toBe("before");

    // Another process removes the tenant (its key goes with it) and provisions it again.
    await plane.database.control.tenant.delete({ where: { id: tenant } });
    await plane.addTenants([tenant]);
    const fresh = plane.keyring(KEY_A);
    const renewed = await fresh.seal(tenant, "settings.secrets", "after");

    expect(await stale.open(tenant, "settings.secrets", renewed)).toBe("after");
    const sealedByStale = await stale.seal(tenant, "settings.secrets", "written later");
    expect(await fresh.open(tenant, "settings.secrets", sealedByStale)).toBe("written later");
    await expect(fresh.open(tenant, "settings.secrets", old)).rejects.toThrow(SecretTamperedError);
  });

  it("forgets a tenant's key on request", async () => {
    const [tenant] = tenantIds("forget", 1) as [string];
    await plane.addTenants([tenant]);
    const keyring = plane.keyring(KEY_A);
    const value = await keyring.seal(tenant, "f", "x");
    const { statements } = plane.database;

    keyring.forget(tenant);
    const before = statements.count;
    expect(await keyring.open(tenant, "f", value)).toBe("x");

    expect(statements.count - before).toBe(1);
  });

  it("prints seal and open rates with a warm key (measured, not asserted)", async () => {
    const [tenant] = tenantIds("rate", 1) as [string];
    await plane.addTenants([tenant]);
    const keyring = plane.keyring(KEY_A);
    const value = await keyring.seal(tenant, "settings.secrets", SECRET);
    await keyring.open(tenant, "settings.secrets", value);

    const rate = async (count: number, work: () => Promise<unknown>) => {
      const started = process.hrtime.bigint();
      for (let i = 0; i < count; i += 1) await work();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return Math.round(count / seconds);
    };
    const opens = await rate(20_000, () => keyring.open(tenant, "settings.secrets", value));
    const seals = await rate(500, () => keyring.seal(tenant, "settings.secrets", SECRET));

    process.stdout.write(
      `keyring, warm key: ${opens} opens/s (memory only), ${seals} seals/s (one key-row read each)\n`,
    );
    expect(opens).toBeGreaterThan(0);
  });
});

describe("on the embedded PGlite", () => {
  it("makes, stores and reads tenant keys the same way", async () => {
    const embedded = await openDatabase({
      url: undefined,
      dataDir: "memory://",
      poolMax: 4,
      masterKeys: createMasterKeys(KEY_A),
      logger: createLogger({ level: "silent" }),
    });
    try {
      await embedded.control.tenant.create({ data: { id: "pglite-vault", name: "Vault" } });
      const sealed = await Promise.all(
        [1, 2, 3].map((i) => embedded.keyring.seal("pglite-vault", "settings.secrets", `v${i}`)),
      );
      const reader = createTenantKeyring({
        control: embedded.control,
        masterKeys: createMasterKeys(KEY_A),
      });

      expect(await embedded.control.tenantKey.count()).toBe(1);
      expect(
        await Promise.all(sealed.map((s) => reader.open("pglite-vault", "settings.secrets", s))),
      ).toEqual(["v1", "v2", "v3"]);
    } finally {
      await embedded.close();
    }
  });
});
