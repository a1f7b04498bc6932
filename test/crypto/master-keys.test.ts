import { describe, expect, it } from "vitest";
import { ConfigError, DEVELOPMENT_ENCRYPTION_KEY, loadConfig } from "../../src/config/index.js";
import { createMasterKeys, masterKeyIdOf } from "../../src/crypto/index.js";
import { KEY_A, KEY_B, KEY_C } from "./control-plane.js";

const PRODUCTION = {
  NODE_ENV: "production",
  JWT_SECRET: "s".repeat(40),
  DATABASE_URL: "postgresql://gateway@db.internal:5432/gateway",
  ENCRYPTION_KEY: KEY_B.toString("base64"),
  METRICS_TOKEN: "metrics-token-for-master-key-tests",
};

describe("master keys", () => {
  it("names each key by a short fingerprint that differs per key", () => {
    expect(masterKeyIdOf(KEY_A)).toMatch(/^[0-9a-f]{16}$/);
    expect(masterKeyIdOf(KEY_A)).toBe(masterKeyIdOf(Buffer.from(KEY_A)));
    expect(masterKeyIdOf(KEY_A)).not.toBe(masterKeyIdOf(KEY_B));
  });

  it("puts the current key first, knows the previous ones, and drops repeats", () => {
    const keys = createMasterKeys(KEY_B, [KEY_A, KEY_B, KEY_C, KEY_A]);

    expect(keys.current.id).toBe(masterKeyIdOf(KEY_B));
    expect(keys.all.map((key) => key.id)).toEqual([KEY_B, KEY_A, KEY_C].map(masterKeyIdOf));
    expect(keys.byId(masterKeyIdOf(KEY_C))?.key.equals(KEY_C)).toBe(true);
    expect(keys.byId("0000000000000000")).toBeUndefined();
  });

  it("refuses a key that is not 32 bytes", () => {
    expect(() => createMasterKeys(KEY_A, [Buffer.alloc(16)])).toThrow(/32 bytes, got 16/);
  });
});

describe("ENCRYPTION_KEY_PREVIOUS", () => {
  it("is empty unless set", () => {
    expect(loadConfig({}).previousEncryptionKeys).toEqual([]);
    expect(loadConfig({ ENCRYPTION_KEY_PREVIOUS: " " }).previousEncryptionKeys).toEqual([]);
  });

  it("reads comma-separated base64 keys, spaces allowed", () => {
    const config = loadConfig({
      ...PRODUCTION,
      ENCRYPTION_KEY_PREVIOUS: `${KEY_A.toString("base64")}, ${KEY_C.toString("base64")}`,
    });

    expect(config.previousEncryptionKeys.map((key) => key.toString("hex"))).toEqual([
      KEY_A.toString("hex"),
      KEY_C.toString("hex"),
    ]);
    expect(Object.isFrozen(config.previousEncryptionKeys)).toBe(true);
  });

  it.each([
    ["a short key", "c2hvcnQ=", "entry 1 is 5 bytes"],
    ["text that is not base64", `${KEY_A.toString("base64")},not base64!`, "entry 2 is not base64"],
    ["an empty entry", `${KEY_A.toString("base64")},`, "entry 2 is empty"],
  ])("stops the start on %s, naming the variable and the entry", (_, value, entry) => {
    const load = () => loadConfig({ ENCRYPTION_KEY_PREVIOUS: value });

    expect(load).toThrow(ConfigError);
    expect(load).toThrow(
      `ENCRYPTION_KEY_PREVIOUS must list 32-byte base64 keys separated by commas; ${entry}.`,
    );
  });

  it("refuses the development key in production, as ENCRYPTION_KEY and as a previous key", () => {
    expect(() => loadConfig({ ...PRODUCTION, ENCRYPTION_KEY: DEVELOPMENT_ENCRYPTION_KEY })).toThrow(
      "ENCRYPTION_KEY is the development key; set a real one in production.",
    );
    expect(() =>
      loadConfig({ ...PRODUCTION, ENCRYPTION_KEY_PREVIOUS: DEVELOPMENT_ENCRYPTION_KEY }),
    ).toThrow(/ENCRYPTION_KEY_PREVIOUS entry 1 is the development key/);
    expect(
      loadConfig({ ENCRYPTION_KEY_PREVIOUS: DEVELOPMENT_ENCRYPTION_KEY }).previousEncryptionKeys,
    ).toHaveLength(1);
  });
});
