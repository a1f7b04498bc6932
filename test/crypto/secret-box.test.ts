import { describe, expect, it } from "vitest";
import { createSecretBox, SecretTamperedError } from "../../src/crypto/index.js";

const box = createSecretBox(Buffer.alloc(32, 3));
const CONTEXT = "tenant:acme:databaseSecret";
const SECRET = "postgresql://ogc_login_acme:s3cret-pass@db.internal:5432/ogc_tenant_acme";

describe("the secret box", () => {
  it("opens what it sealed", () => {
    expect(box.open(box.seal(SECRET, CONTEXT), CONTEXT)).toBe(SECRET);
  });

  it("never shows the secret, or the same ciphertext twice", () => {
    const first = box.seal(SECRET, CONTEXT);
    const second = box.seal(SECRET, CONTEXT);

    expect(first).not.toContain("s3cret");
    expect(first).not.toContain("postgresql");
    expect(first).not.toBe(second);
    expect(first).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it("refuses a value sealed for another tenant", () => {
    const sealed = box.seal(SECRET, CONTEXT);

    expect(() => box.open(sealed, "tenant:globex:databaseSecret")).toThrow(SecretTamperedError);
  });

  it("refuses a value sealed with another key", () => {
    const other = createSecretBox(Buffer.alloc(32, 4));

    expect(() => other.open(box.seal(SECRET, CONTEXT), CONTEXT)).toThrow(SecretTamperedError);
  });

  it.each([
    ["a flipped ciphertext byte", (parts: string[]) => flip(parts, 3)],
    ["a flipped tag byte", (parts: string[]) => flip(parts, 2)],
    ["a flipped nonce byte", (parts: string[]) => flip(parts, 1)],
    ["a truncated tag", (parts: string[]) => parts.map((p, i) => (i === 2 ? p.slice(0, 8) : p))],
    ["an unknown version", (parts: string[]) => ["v9", ...parts.slice(1)]],
    ["a missing part", (parts: string[]) => parts.slice(0, 3)],
  ])("detects %s instead of decrypting garbage", (_, tamper) => {
    const parts = box.seal(SECRET, CONTEXT).split(".");

    expect(() => box.open(tamper(parts).join("."), CONTEXT)).toThrow(SecretTamperedError);
  });

  it("refuses a key that is not 32 bytes", () => {
    expect(() => createSecretBox(Buffer.alloc(16))).toThrow(/32-byte key/);
  });
});

function flip(parts: string[], index: number): string[] {
  return parts.map((part, i) => {
    if (i !== index) return part;
    const bytes = Buffer.from(part, "base64url");
    bytes[0] = (bytes[0] ?? 0) ^ 0x01;
    return bytes.toString("base64url");
  });
}
