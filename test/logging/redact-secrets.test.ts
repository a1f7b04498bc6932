import { describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { issueDevelopmentToken } from "../../src/auth/index.js";
import { sealWith } from "../../src/crypto/aead.js";
import { createSecretBox } from "../../src/crypto/index.js";
import { ENVELOPE_VERSION } from "../../src/crypto/tenant-keyring.js";
import { REDACTED, redactSecrets } from "../../src/logging/index.js";
import { captureLines } from "./log-capture.js";

/** A line as pino would write it, then redacted; it must still be JSON. */
function redacted(fields: Record<string, unknown>): string {
  const line = redactSecrets(`${JSON.stringify(fields)}\n`);
  JSON.parse(line);

  return line;
}

describe("value redaction of a log line", () => {
  it("keeps the user but not the password of connection strings", () => {
    const line = redacted({
      msg: "connect to postgresql://ogc_app:Pa55-word@db.internal:5432/ogc failed",
      err: { stack: "Error: redis://:cache-secret@127.0.0.1:6379 refused\n    at connect" },
    });

    expect(line).not.toContain("Pa55-word");
    expect(line).not.toContain("cache-secret");
    expect(line).toContain(`postgresql://ogc_app:${REDACTED}@db.internal:5432/ogc`);
    expect(line).toContain(`redis://:${REDACTED}@127.0.0.1:6379`);
  });

  it("removes bearer tokens and JWTs wherever they are quoted", async () => {
    const jwt = await issueDevelopmentToken("a-test-secret-that-is-long-enough-for-hs256", {
      sub: "u1",
      tid: "acme",
    });
    const line = redacted({
      msg: `Variable "$first" got invalid value "${jwt}"`,
      headers: { Authorization: `Bearer ${jwt}` },
      note: `Authorization: Basic dXNlcjpodW50ZXIy sent`,
    });

    expect(line).not.toContain(jwt);
    expect(line).not.toContain(jwt.split(".")[2]);
    expect(line).not.toContain("dXNlcjpodW50ZXIy");
  });

  it("removes password=… and secret settings from text, quoted or not", () => {
    const line = redacted({
      msg: 'libpq: host=db user=app password=hunter2 dbname=x; JWT_SECRET="two words" left',
      nested: JSON.stringify({ password: 'quo"ted-pw', keep: 1 }),
    });

    expect(line).not.toContain("hunter2");
    expect(line).not.toContain("two words");
    expect(line).not.toContain("quo");
    expect(line).not.toContain("ted-pw");
    expect(line).toContain("dbname=x");
    expect(line).toContain("left");
  });

  it("removes secret fields at any depth, past what redaction paths reach", () => {
    const line = redacted({
      a: { b: { c: { d: { dbPassword: "deep-1", apiKey: "deep-2", authorization: "deep-3" } } } },
      list: [{ refresh_token: "deep-4" }],
    });

    for (const secret of ["deep-1", "deep-2", "deep-3", "deep-4"]) {
      expect(line).not.toContain(secret);
    }
  });

  it("removes sealed values, envelope (e1.) and master-sealed (v1.)", () => {
    const key = randomBytes(32);
    const envelope = sealWith(key, ENVELOPE_VERSION, "tenant:acme:x", "db-password-sealed");
    const master = createSecretBox(key).seal("another-secret", "context");
    const line = redacted({ msg: `stored ${envelope}`, value: master });

    expect(envelope.startsWith("e1.")).toBe(true);
    expect(master.startsWith("v1.")).toBe(true);
    for (const sealed of [envelope, master]) {
      expect(line).not.toContain(sealed.split(".")[3]);
    }
  });

  it("leaves ordinary lines exactly as they were", () => {
    const fields = {
      level: 30,
      requestId: "0b6f1c9e-6f65-4b7b-9d0b-1c2b3d4e5f60",
      tenantId: "acme",
      path: ["users", 0, "email"],
      url: "http://localhost:4000/graphql",
      file: "acme-20261204T101010123Z-ab12.tar.gz",
      msg: "Tenant acme moved to schema tenant_acme in 1.5 s",
    };
    const line = `${JSON.stringify(fields)}\n`;

    expect(redactSecrets(line)).toBe(line);
  });
});

describe("the logger", () => {
  it("redacts what a message, an error and bindings carry, on every line it writes", () => {
    const { logger, raw } = captureLines();
    const child = logger.child({
      requestId: "req-redact-1",
      connectionUrl: "postgres://u:b1nd@h/d",
    });

    child.error(
      { err: new Error("could not connect to postgresql://app:err0r-pw@10.0.0.1/ogc") },
      "password=in-msg failed",
    );

    const text = raw.join("");
    expect(text).toContain("req-redact-1");
    for (const secret of ["b1nd", "err0r-pw", "in-msg"]) expect(text).not.toContain(secret);
  });
});
