import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  SignJWT,
  base64url,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type CryptoKey,
  type JWK,
} from "jose";
import {
  createTokenVerifier,
  issueDevelopmentToken,
  type TokenVerifier,
} from "../../src/auth/index.js";
import { GatewayError } from "../../src/errors/index.js";

const SECRET = "test-secret-that-is-at-least-32-characters-long";
const KEY = new TextEncoder().encode(SECRET);

const INVALID = "The token could not be verified.";
const EXPIRED = "Your session has expired. Sign in again.";

function hsConfig(overrides: { issuer?: string; audience?: string } = {}) {
  return {
    secret: SECRET,
    usingDevelopmentSecret: false,
    jwksUrl: undefined,
    issuer: overrides.issuer,
    audience: overrides.audience,
  };
}

const now = () => Math.floor(Date.now() / 1000);

/** A signed HS256 token with exactly these claims (no defaults). */
function hs256(payload: Record<string, unknown>, key: Uint8Array = KEY): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(key);
}

/** An unsecured token (`alg: none`), built by hand as an attacker would. */
function unsigned(payload: Record<string, unknown>): string {
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));

  return `${encode({ alg: "none", typ: "JWT" })}.${encode(payload)}.`;
}

async function refusal(verifier: TokenVerifier, token: string): Promise<GatewayError> {
  const error = await verifier.verify(token).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GatewayError);
  expect((error as GatewayError).code).toBe("UNAUTHENTICATED");

  return error as GatewayError;
}

describe("createTokenVerifier with a shared secret (HS256)", () => {
  const verifier = createTokenVerifier(hsConfig());

  it("accepts a tenant user's token", async () => {
    const token = await issueDevelopmentToken(SECRET, { sub: "u1", tid: "acme" });

    await expect(verifier.verify(token)).resolves.toEqual({
      userId: "u1",
      tenantId: "acme",
      platformRoles: [],
      isGlobalAdmin: false,
    });
  });

  it("accepts a global admin's token without tid", async () => {
    const token = await issueDevelopmentToken(SECRET, { sub: "staff", roles: ["global_admin"] });

    await expect(verifier.verify(token)).resolves.toEqual({
      userId: "staff",
      tenantId: null,
      platformRoles: ["global_admin"],
      isGlobalAdmin: true,
    });
  });

  it("keeps other platform roles without making the caller a global admin", async () => {
    const token = await hs256({ sub: "u1", tid: "acme", roles: ["support"], exp: now() + 60 });

    const principal = await verifier.verify(token);
    expect(principal.platformRoles).toEqual(["support"]);
    expect(principal.isGlobalAdmin).toBe(false);
  });

  it("refuses an unsigned token (alg none)", async () => {
    const token = unsigned({ sub: "u1", tid: "acme", exp: now() + 60 });

    expect((await refusal(verifier, token)).message).toBe(INVALID);
  });

  it("refuses an unsigned global admin token (alg none)", async () => {
    const token = unsigned({ sub: "staff", roles: ["global_admin"], exp: now() + 60 });

    expect((await refusal(verifier, token)).message).toBe(INVALID);
  });

  it("refuses a token signed with another secret", async () => {
    const other = new TextEncoder().encode("another-secret-that-is-32-characters-long!");
    const token = await hs256({ sub: "u1", tid: "acme", exp: now() + 60 }, other);

    expect((await refusal(verifier, token)).message).toBe(INVALID);
  });

  it("refuses a token whose payload was altered after signing", async () => {
    const token = await issueDevelopmentToken(SECRET, { sub: "u1", tid: "acme" });
    const [header, , signature] = token.split(".");
    const forged = base64url.encode(JSON.stringify({ sub: "u1", roles: ["global_admin"] }));

    expect((await refusal(verifier, `${header}.${forged}.${signature}`)).message).toBe(INVALID);
  });

  it("refuses an expired token", async () => {
    const token = await hs256({ sub: "u1", tid: "acme", exp: now() - 60 });

    expect((await refusal(verifier, token)).message).toBe(EXPIRED);
  });

  it("tolerates a few seconds of clock drift", async () => {
    const token = await hs256({ sub: "u1", tid: "acme", exp: now() - 2 });

    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: "u1" });
  });

  it("refuses a token that is not valid yet", async () => {
    const token = await hs256({ sub: "u1", tid: "acme", nbf: now() + 600, exp: now() + 900 });

    await refusal(verifier, token);
  });

  it("refuses a token without exp", async () => {
    const token = await hs256({ sub: "u1", tid: "acme" });

    expect((await refusal(verifier, token)).message).toBe("The token has no valid expiry time.");
  });

  it.each([
    ["missing", {}],
    ["empty", { sub: "" }],
    ["blank", { sub: "   " }],
    ["a number", { sub: 42 }],
    ["too long", { sub: "u".repeat(256) }],
  ])("refuses a token whose sub is %s", async (_, claims) => {
    const token = await hs256({ tid: "acme", exp: now() + 60, ...claims });

    expect((await refusal(verifier, token)).message).toBe("The token does not name a user.");
  });

  it.each([
    ["uppercase", "ACME"],
    ["too short", "ab"],
    ["a leading digit", "1acme"],
    ["empty", ""],
    ["null", null],
    ["a number", 7],
    ["a list", ["acme"]],
  ])("refuses a token whose tid is %s", async (_, tid) => {
    const token = await hs256({ sub: "u1", tid, exp: now() + 60 });

    expect((await refusal(verifier, token)).message).toBe(
      "The token names a tenant id that is not valid.",
    );
  });

  it.each([
    ["a string", "global_admin"],
    ["a list with a number", ["global_admin", 1]],
    ["an object", { global_admin: true }],
    ["null", null],
  ])("refuses a token whose roles are %s", async (_, roles) => {
    const token = await hs256({ sub: "u1", roles, exp: now() + 60 });

    await refusal(verifier, token);
  });

  it("refuses a token that names a tenant and the global_admin role", async () => {
    const token = await hs256({ sub: "u1", tid: "acme", roles: ["global_admin"], exp: now() + 60 });

    expect((await refusal(verifier, token)).message).toBe(
      "A global admin token must not name a tenant.",
    );
  });

  it("refuses an RS256 token", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const token = await new SignJWT({ sub: "u1", tid: "acme" })
      .setProtectedHeader({ alg: "RS256" })
      .setExpirationTime("1h")
      .sign(privateKey);

    expect((await refusal(verifier, token)).message).toBe(INVALID);
  });

  it.each([
    ["an empty string", ""],
    ["garbage", "not-a-jwt"],
    ["two parts", "abc.def"],
    ["an oversized token", `${"a".repeat(9000)}.b.c`],
  ])("refuses %s", async (_, token) => {
    expect((await refusal(verifier, token)).message).toBe(INVALID);
  });

  it("refuses a secret-less configuration at creation", () => {
    expect(() => createTokenVerifier({ ...hsConfig(), secret: "" })).toThrow(TypeError);
  });
});

describe("createTokenVerifier with issuer and audience", () => {
  const verifier = createTokenVerifier(
    hsConfig({ issuer: "https://id.newfinity.test", audience: "gateway" }),
  );
  const trusted = { issuer: "https://id.newfinity.test", audience: "gateway" };

  it("accepts a token with the configured issuer and audience", async () => {
    const token = await issueDevelopmentToken(SECRET, { sub: "u1", tid: "acme" }, trusted);

    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: "u1" });
  });

  it("refuses a token from another issuer", async () => {
    const token = await issueDevelopmentToken(
      SECRET,
      { sub: "u1", tid: "acme" },
      { ...trusted, issuer: "https://evil.test" },
    );

    expect((await refusal(verifier, token)).message).toBe(
      "The token was issued by a service this gateway does not trust.",
    );
  });

  it("refuses a token without an issuer", async () => {
    const token = await issueDevelopmentToken(
      SECRET,
      { sub: "u1", tid: "acme" },
      { audience: "gateway" },
    );

    await refusal(verifier, token);
  });

  it("refuses a token for another audience", async () => {
    const token = await issueDevelopmentToken(
      SECRET,
      { sub: "u1", tid: "acme" },
      { ...trusted, audience: "billing" },
    );

    expect((await refusal(verifier, token)).message).toBe(
      "The token was issued for another service.",
    );
  });

  it("refuses a token without an audience", async () => {
    const token = await issueDevelopmentToken(
      SECRET,
      { sub: "u1", tid: "acme" },
      { issuer: trusted.issuer },
    );

    await refusal(verifier, token);
  });
});

describe("createTokenVerifier with a JWKS", () => {
  let server: Server;
  let jwksUrl: string;
  let verifier: TokenVerifier;
  let rsaKey: CryptoKey;
  let rsaPublicJwk: JWK;
  let rsaPublicPem: string;
  let ecKey: CryptoKey;
  let failing = false;

  beforeAll(async () => {
    const rsa = await generateKeyPair("RS256", { extractable: true });
    const ec = await generateKeyPair("ES256");
    rsaKey = rsa.privateKey;
    ecKey = ec.privateKey;
    rsaPublicPem = await exportSPKI(rsa.publicKey);
    rsaPublicJwk = { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" };
    const ecPublicJwk = { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256" };
    const body = JSON.stringify({ keys: [rsaPublicJwk, ecPublicJwk] });

    server = createServer((_request, response) => {
      if (failing) {
        response.writeHead(500).end();
        return;
      }
      response.writeHead(200, { "content-type": "application/json" }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    jwksUrl = `http://127.0.0.1:${port}/.well-known/jwks.json`;
    verifier = createTokenVerifier({ ...hsConfig(), jwksUrl });
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const sign = (alg: string, kid: string, key: CryptoKey | Uint8Array) =>
    new SignJWT({ tid: "acme" })
      .setProtectedHeader({ alg, kid })
      .setSubject("u1")
      .setExpirationTime("1h")
      .sign(key);

  it("accepts an RS256 token signed by a published key", async () => {
    const token = await sign("RS256", "rsa-1", rsaKey);

    await expect(verifier.verify(token)).resolves.toEqual({
      userId: "u1",
      tenantId: "acme",
      platformRoles: [],
      isGlobalAdmin: false,
    });
  });

  it("accepts an ES256 token signed by a published key", async () => {
    const token = await sign("ES256", "ec-1", ecKey);

    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: "u1" });
  });

  it("refuses an HS256 token signed with the configured secret", async () => {
    const token = await sign("HS256", "rsa-1", KEY);

    expect((await refusal(verifier, token)).message).toBe(INVALID);
  });

  it("refuses an HS256 token keyed with the published public key", async () => {
    const pem = new TextEncoder().encode(rsaPublicPem);
    const jwkText = new TextEncoder().encode(JSON.stringify(rsaPublicJwk));

    await refusal(verifier, await sign("HS256", "rsa-1", pem));
    await refusal(verifier, await sign("HS256", "rsa-1", jwkText));
  });

  it("refuses an unsigned token (alg none)", async () => {
    const token = unsigned({ sub: "u1", tid: "acme", exp: now() + 60 });

    expect((await refusal(verifier, token)).message).toBe(INVALID);
  });

  it("refuses a token signed by an unpublished key", async () => {
    const { privateKey } = await generateKeyPair("RS256");

    expect((await refusal(verifier, await sign("RS256", "rsa-1", privateKey))).message).toBe(
      INVALID,
    );
    expect((await refusal(verifier, await sign("RS256", "unknown", privateKey))).message).toBe(
      INVALID,
    );
  });

  it("does not blame the caller when the key server fails", async () => {
    failing = true;
    try {
      const fresh = createTokenVerifier({ ...hsConfig(), jwksUrl });
      const error = await fresh.verify(await sign("RS256", "rsa-1", rsaKey)).catch((e) => e);

      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(GatewayError);
      expect((error as Error).message).toContain("JWKS_URL");
    } finally {
      failing = false;
    }
  });

  it("does not blame the caller when the key server is unreachable", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));

    const unreachable = createTokenVerifier({
      ...hsConfig(),
      jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
    });
    const error = await unreachable.verify(await sign("RS256", "rsa-1", rsaKey)).catch((e) => e);

    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(GatewayError);
  });
});
