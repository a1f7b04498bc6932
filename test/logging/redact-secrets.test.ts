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

  it("removes the values of pass, cookie, session and other secret names, keeping look-alikes", () => {
    const secrets = {
      pass: "s-pass",
      passwd: "s-passwd",
      pwd: "s-pwd",
      dbPass: "s-dbpass",
      DB_PASS: "s-db-pass",
      cookie: "sid=s-cookie",
      "set-cookie": "sid=s-set-cookie",
      "Set-Cookie": "sid=s-set-cookie-2",
      session: "s-session",
      sessionId: "s-session-id",
      credentials: "s-credentials",
      privateKey: "s-private-key",
      apiKey: "s-api-key",
      clientSecret: "s-client-secret",
    };
    const line = redacted({ msg: "login", headers: secrets, deeper: { list: [secrets] } });

    for (const value of Object.values(secrets)) expect(line).not.toContain(value);
    const kept = { passed: "kept-1", bypass: "kept-2", compass: "kept-3", passengers: "kept-4" };
    expect(redacted(kept)).toBe(`${JSON.stringify(kept)}\n`);
  });

  it("replaces secret fields whole whatever their value: numbers, objects, lists", () => {
    const line = redacted({
      a: { b: { password: 918273645, pin: { pwd: 5647382910 } } },
      secrets: { signing: "obj-secret-1", nested: { deeper: ["obj-secret-2"] } },
      settings: { theme: "dark", secrets: { webhook: "obj-secret-3" } },
      credentials: [{ user: "obj-user", key: "obj-secret-4" }],
      session: { id: "obj-secret-5" },
      cleared: { password: null },
      after: "still here",
    });
    const parsed = JSON.parse(line) as Record<string, Record<string, unknown>>;

    for (const secret of ["918273645", "5647382910", "obj-secret-", "obj-user"]) {
      expect(line).not.toContain(secret);
    }
    expect(parsed.secrets).toBe(REDACTED);
    expect(parsed.settings).toEqual({ theme: "dark", secrets: REDACTED });
    expect(parsed.credentials).toBe(REDACTED);
    expect(parsed.a).toEqual({ b: { password: REDACTED, pin: { pwd: REDACTED } } });
    expect(parsed.cleared).toEqual({ password: null });
    expect(parsed.after).toBe("still here");
  });

  it("removes PEM private keys from text, whole or cut short", () => {
    const body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7PemBodyBytes";
    const pem = (kind: string) =>
      `-----BEGIN ${kind}PRIVATE KEY-----\n${body}\n${body}\n-----END ${kind}PRIVATE KEY-----`;
    const line = redacted({
      msg: `loaded ${pem("")} from the vault, then ${pem("RSA ")} and ${pem("OPENSSH ")}`,
      err: { stack: `Error: bad key -----BEGIN EC PRIVATE KEY-----\n${body}` },
      cert: "-----BEGIN CERTIFICATE-----\nMIIBpublic\n-----END CERTIFICATE-----",
    });
    const parsed = JSON.parse(line) as { msg: string; err: { stack: string }; cert: string };

    expect(line).not.toContain(body);
    expect(parsed.msg).toBe(`loaded ${REDACTED} from the vault, then ${REDACTED} and ${REDACTED}`);
    expect(parsed.err.stack).toBe(`Error: bad key ${REDACTED}`);
    expect(parsed.cert).toContain("MIIBpublic");
  });

  it("removes secret values GraphQL echoes in a message, objects whole", () => {
    const line = redacted({
      msg:
        'Variable "$input" got invalid value { email: "a@b.test", pass: "PassValue99", ' +
        'cookie: "sid=abc123", secrets: { hook: "txt-secret-1", list: ["}", "txt-secret-2"] }, ' +
        'pwd: 4242424242 }; Field "pass" is not defined by type "CreateUserInput".',
    });
    const parsed = JSON.parse(line) as { msg: string };

    for (const secret of ["PassValue99", "abc123", "txt-secret-", "4242424242"]) {
      expect(line).not.toContain(secret);
    }
    expect(parsed.msg).toContain('email: "a@b.test"');
    expect(parsed.msg).toContain(`secrets: ${REDACTED}, pwd: ${REDACTED} }`);
    expect(parsed.msg).toContain('Field "pass" is not defined by type "CreateUserInput".');
  });

  it("removes the credential after any Authorization scheme, and after Bearer:", () => {
    const parsed = JSON.parse(
      redacted({
        msg:
          "Authorization: Token tok-secret-0001 then authorization=Custom cst-secret-0002 " +
          "and Proxy-Authorization: raw-secret-0003 ok, Bearer: brr-secret-0004 done",
        header: 'Syntax Error: Unexpected "Authorization: Digest dig-secret-0005".',
        then:
          "Authorization: Token tok-secret-0006 postgres://u:pw-secret-0007@db, " +
          "Authorization: Custom cst-secret-0008 redis://:pw-secret-0009@cache",
      }),
    ) as { msg: string; header: string; then: string };

    expect(JSON.stringify(parsed)).not.toMatch(/secret-000/);
    expect(parsed.msg).toBe(
      `Authorization: Token ${REDACTED} then authorization=${REDACTED} ` +
        `and Proxy-Authorization: ${REDACTED} ok, Bearer: ${REDACTED} done`,
    );
    expect(parsed.header).toBe(`Syntax Error: Unexpected "Authorization: Digest ${REDACTED}".`);
    // What follows the credential is redacted by what it is.
    expect(parsed.then).toBe(
      `Authorization: Token ${REDACTED} postgres://u:${REDACTED}@db, ` +
        `Authorization: ${REDACTED} redis://:${REDACTED}@cache`,
    );
  });

  it("removes a quoted value whole, spaces, escaped quotes and all, or to its string's end", () => {
    const parsed = JSON.parse(
      redacted({
        libpq: "host=db password='hunter 2 with spaces' dbname=x",
        key: "apiKey='k k' next=1",
        escaped: String.raw`password='it\'s a secret' user=u`,
        python: "{'password': 'py secret value', 'user': 'u'}",
        double: 'token="dbl \\"quoted\\" words" left',
        open: "password='cut off here",
      }),
    ) as Record<string, string>;

    expect(JSON.stringify(parsed)).not.toMatch(/hunter|spaces|k k|secret|py |dbl|words|cut off/);
    expect(parsed.libpq).toBe(`host=db password=${REDACTED} dbname=x`);
    expect(parsed.key).toBe(`apiKey=${REDACTED} next=1`);
    expect(parsed.escaped).toBe(`password=${REDACTED} user=u`);
    expect(parsed.python).toBe(`{'password': ${REDACTED}, 'user': 'u'}`);
    expect(parsed.double).toBe(`token=${REDACTED} left`);
    expect(parsed.open).toBe(`password=${REDACTED}`);
  });

  it("removes sessionid values, as a key and in text", () => {
    const parsed = JSON.parse(
      redacted({ sessionid: "sid-value-1", msg: "cookie jar: sessionid=sid-value-2; path=/" }),
    ) as Record<string, string>;

    expect(parsed.sessionid).toBe(REDACTED);
    expect(parsed.msg).toBe(`cookie jar: sessionid=${REDACTED}; path=/`);
  });

  it("sees any whitespace between a scheme and its credential, newlines and tabs too", () => {
    const parsed = JSON.parse(
      redacted({
        tab: "Bearer\ttab-secret-0001",
        newline: "Authorization:\nBearer nl-secret-0002",
        spread: "Authorization:\r\n  Bearer\n\tspread-secret-0003",
        custom: "authorization=\nCustom\ncst-secret-0004",
        setting: "token:\n  set-secret-0005",
      }),
    ) as Record<string, string>;

    expect(JSON.stringify(parsed)).not.toMatch(/secret-000/);
    expect(parsed.tab).toBe(`Bearer\t${REDACTED}`);
    expect(parsed.newline).toBe(`Authorization:\nBearer ${REDACTED}`);
    expect(parsed.spread).toBe(`Authorization:\r\n  Bearer\n\t${REDACTED}`);
  });

  it("removes a PEM private key with no END line to the end of a line cut short", () => {
    const body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7PemBodyBytes";
    const cut = redactSecrets(`{"msg":"key -----BEGIN PRIVATE KEY-----\\n${body}\\n${body}`);

    expect(cut).toBe(`{"msg":"key ${REDACTED}`);
  });

  it("takes a connection string's password to the last @ before the host", () => {
    const parsed = JSON.parse(
      redacted({ msg: "connect postgres://u:p@ss@db:5432/x and redis://:a@b@c@cache failed" }),
    ) as { msg: string };

    expect(parsed.msg).toBe(
      `connect postgres://u:${REDACTED}@db:5432/x and redis://:${REDACTED}@cache failed`,
    );
  });

  it("removes API keys of known formats, in GraphQL's echo too, and keeps look-alikes", () => {
    const keys = [
      `sk_live_${"a1B2".repeat(6)}`,
      `sk_test_${"c3D4".repeat(6)}`,
      `rk_live_${"e5F6".repeat(6)}`,
      "AKIAIOSFODNN7EXAMPLE",
      `ghp_${"G7h8".repeat(9)}`,
      `gho_${"I9j0".repeat(9)}`,
      `github_pat_11ABCDEFG0${"k1L2".repeat(6)}_${"m3N4".repeat(6)}`,
      "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp",
      "xoxp-123456789012-abcdefabcdef",
      `\nsk_live_${"o5P6".repeat(6)}`,
      `AIza${"SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5".slice(0, 35)}`,
    ];
    const msg = `Variable "$input" got invalid value { name: "n", ${keys
      .map((key, n) => `k${n}: "${key}"`)
      .join(", ")} } at "input.name".`;
    const plain =
      "regions AsiaPacificNortheast, AsiaPacificSoutheast1, task_live_1234567890, ghp_short";
    const parsed = JSON.parse(redacted({ msg, plain })) as { msg: string; plain: string };

    for (const key of keys) expect(JSON.stringify(parsed)).not.toContain(key);
    expect(parsed.msg).toContain(`k0: "${REDACTED}"`);
    expect(parsed.msg).toContain(`k10: "${REDACTED}" } at "input.name".`);
    expect(parsed.plain).toBe(plain);
  });

  // A scan that went back and forth over such text would take minutes (the test times out).
  it("gets through text built to make the scan go back and forth", () => {
    const line = `${JSON.stringify({
      msg: 'token\\"'.repeat(20_000) + "x".repeat(50_000) + "pass".repeat(20_000),
      [`${"k".repeat(10_000)}password`]: 1,
      stack: "-----BEGIN ".repeat(10_000),
      quoted: "password='".repeat(10_000) + 'password=\\"'.repeat(10_000),
      spaced: "Authorization:" + "\n\t ".repeat(10_000) + "Bearer\t".repeat(10_000),
      pem: "-----BEGIN PRIVATE KEY-----".repeat(10_000),
    })}\n`;

    const parsed = JSON.parse(redactSecrets(line)) as Record<string, unknown>;

    expect(Object.values(parsed)).toContain(REDACTED);
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

    child.info(
      {
        secrets: { signing: "log-secret-1" },
        settings: { secrets: { webhook: "log-secret-2" } },
        user: { password: 31415926 },
        key: "-----BEGIN PRIVATE KEY-----\nlog-secret-3\n-----END PRIVATE KEY-----",
      },
      "settings saved",
    );
    logger
      .child({ tenantId: "acme", session: "log-secret-4" })
      .warn({ cookie: "sid=log-secret-5" }, "hi");

    const text = raw.join("");
    expect(text).toContain("req-redact-1");
    for (const secret of ["b1nd", "err0r-pw", "in-msg", "log-secret-", "31415926"]) {
      expect(text).not.toContain(secret);
    }
    for (const line of raw) JSON.parse(line);
  });
});
