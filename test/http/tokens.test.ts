import { SignJWT, base64url } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevelopmentToken } from "../../src/auth/index.js";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { provisionTenant } from "../../src/lifecycle/provision.js";
import {
  TEST_JWT_SECRET,
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";

const ISSUER = "https://id.newfinity.test/";
const AUDIENCE = "newfinity-gateway";
const KEY = new TextEncoder().encode(TEST_JWT_SECRET);
const now = () => Math.floor(Date.now() / 1000);

/** A token signed with exactly these claims and this algorithm. */
function signed(
  payload: Record<string, unknown>,
  options: { alg?: string; key?: Uint8Array } = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .sign(options.key ?? KEY);
}

/** An unsecured token (`alg: none`), built by hand as an attacker would. */
function unsecured(payload: Record<string, unknown>): string {
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));

  return `${encode({ alg: "none", typ: "JWT" })}.${encode(payload)}.`;
}

/** A tenant with one admin, enough for a token to be accepted. */
async function tenantWithAdmin(gw: TestGateway, prefix: string) {
  const tenantId = uniqueTenantId(prefix);
  const { adminUser } = await provisionTenant(
    gw.gateway.lifecycle,
    {
      id: tenantId,
      name: prefix,
      isolation: Isolation.SHARED,
      adminEmail: `admin@${tenantId}.test`,
    },
    "test:fixture",
  );

  return { tenantId, userId: adminUser.id };
}

const ME = "{ tenant { id } me { id } }";

/** Refused as a whole: 401, UNAUTHENTICATED, and no data at all. */
function expectUnauthenticated(res: GraphQLResponse<unknown>) {
  expect(res.status).toBe(401);
  expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
  expect(res.body).not.toHaveProperty("data");
}

describe("bearer tokens over HTTP", () => {
  let gw: TestGateway;
  let tenantId: string;
  let userId: string;

  const send = (authorization: string) =>
    gw.request(ME, { tenant: tenantId, headers: { authorization } });

  beforeAll(async () => {
    gw = await startTestGateway("tokens");
    ({ tenantId, userId } = await tenantWithAdmin(gw, "tokens"));
  });
  afterAll(() => gw?.stop());

  it("accepts a well-signed, current token (the control case)", async () => {
    const token = await signed({ sub: userId, tid: tenantId, exp: now() + 600 });
    const res = await send(`Bearer ${token}`);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { tenant: { id: tenantId }, me: { id: userId } } });
  });

  describe("a token that fails verification", () => {
    it("is refused when its algorithm is none", async () => {
      expectUnauthenticated(
        await send(`Bearer ${unsecured({ sub: userId, tid: tenantId, exp: now() + 600 })}`),
      );
    });

    it("is refused when its alg is none and the signature part is not empty", async () => {
      const token = unsecured({ sub: userId, tid: tenantId, exp: now() + 600 });

      expectUnauthenticated(await send(`Bearer ${token}c2ln`));
    });

    it("is refused when signed with another key", async () => {
      const forged = await signed(
        { sub: userId, tid: tenantId, exp: now() + 600 },
        { key: new TextEncoder().encode("another-secret-that-is-long-enough-for-hs256") },
      );

      expectUnauthenticated(await send(`Bearer ${forged}`));
    });

    it("is refused when its payload was changed after signing", async () => {
      const token = await signed({ sub: userId, tid: tenantId, exp: now() + 600 });
      const [head, , signature] = token.split(".");
      const payload = base64url.encode(
        JSON.stringify({ sub: userId, tid: tenantId, exp: now() + 99_999 }),
      );

      expectUnauthenticated(await send(`Bearer ${head}.${payload}.${signature}`));
    });

    it("is refused when signed with the right key but another HMAC algorithm", async () => {
      const token = await signed(
        { sub: userId, tid: tenantId, exp: now() + 600 },
        { alg: "HS512" },
      );

      expectUnauthenticated(await send(`Bearer ${token}`));
    });

    it("is refused when expired", async () => {
      const token = await signed({
        sub: userId,
        tid: tenantId,
        iat: now() - 7200,
        exp: now() - 3600,
      });
      const res = await send(`Bearer ${token}`);

      expectUnauthenticated(res);
      expect(res.body.errors?.[0]?.message).toBe("Your session has expired. Sign in again.");
    });

    it("is refused when it has no expiry", async () => {
      expectUnauthenticated(await send(`Bearer ${await signed({ sub: userId, tid: tenantId })}`));
    });

    it("is refused when it names a tenant and carries global_admin", async () => {
      const token = await signed({
        sub: userId,
        tid: tenantId,
        roles: ["global_admin"],
        exp: now() + 600,
      });

      expectUnauthenticated(await send(`Bearer ${token}`));
    });

    it("is refused on a field that needs no token, too", async () => {
      const token = await signed({ sub: userId, tid: tenantId, exp: now() - 3600 });
      const res = await gw.request("{ tenant { id } }", {
        tenant: tenantId,
        headers: { authorization: `Bearer ${token}` },
      });

      expectUnauthenticated(res);
    });
  });

  describe("a malformed Authorization header", () => {
    it.each([
      ["another scheme", "Basic dXNlcjpwYXNz"],
      ["the scheme alone", "Bearer"],
      ["the scheme and a space", "Bearer "],
      ["two words after the scheme", "Bearer abc def"],
      ["a token with no scheme", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"],
      ["characters no token has", "Bearer abc$def"],
      ["a non-JWT word", "Bearer not-a-jwt"],
    ])("is refused: %s", async (_label, header) => {
      expectUnauthenticated(await send(header));
    });
  });
});

describe("bearer tokens with a configured issuer and audience", () => {
  let gw: TestGateway;
  let tenantId: string;
  let userId: string;

  const send = (token: string) => gw.request(ME, { tenant: tenantId, token });

  beforeAll(async () => {
    gw = await startTestGateway("tokens-iss", {
      env: { JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE },
    });
    ({ tenantId, userId } = await tenantWithAdmin(gw, "tokens-iss"));
  });
  afterAll(() => gw?.stop());

  it("accepts a token from that issuer for that audience (the control case)", async () => {
    const token = await issueDevelopmentToken(
      TEST_JWT_SECRET,
      { sub: userId, tid: tenantId },
      { issuer: ISSUER, audience: AUDIENCE },
    );
    const res = await send(token);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { tenant: { id: tenantId }, me: { id: userId } } });
  });

  it("refuses a token from another issuer", async () => {
    const token = await issueDevelopmentToken(
      TEST_JWT_SECRET,
      { sub: userId, tid: tenantId },
      { issuer: "https://evil.test/", audience: AUDIENCE },
    );
    const res = await send(token);

    expectUnauthenticated(res);
    expect(res.body.errors?.[0]?.message).toBe(
      "The token was issued by a service this gateway does not trust.",
    );
  });

  it("refuses a token for another audience", async () => {
    const token = await issueDevelopmentToken(
      TEST_JWT_SECRET,
      { sub: userId, tid: tenantId },
      { issuer: ISSUER, audience: "another-service" },
    );
    const res = await send(token);

    expectUnauthenticated(res);
    expect(res.body.errors?.[0]?.message).toBe("The token was issued for another service.");
  });

  it("refuses a token that names no issuer or no audience", async () => {
    const noIssuer = await issueDevelopmentToken(
      TEST_JWT_SECRET,
      { sub: userId, tid: tenantId },
      { audience: AUDIENCE },
    );
    const noAudience = await issueDevelopmentToken(
      TEST_JWT_SECRET,
      { sub: userId, tid: tenantId },
      { issuer: ISSUER },
    );

    expectUnauthenticated(await send(noIssuer));
    expectUnauthenticated(await send(noAudience));
  });

  it("refuses a global admin token from another issuer", async () => {
    const token = await issueDevelopmentToken(
      TEST_JWT_SECRET,
      { sub: "staff-1", roles: ["global_admin"] },
      { issuer: "https://evil.test/", audience: AUDIENCE },
    );

    expectUnauthenticated(await gw.request("{ adminTenants { id } }", { token }));
  });
});
