import { describe, expect, it } from "vitest";
import { createTokenVerifier } from "../../src/auth/index.js";
import { DEVELOPMENT_JWT_SECRET, loadConfig } from "../../src/config/index.js";
import { main } from "../../src/scripts/token.js";

const SECRET = "script-test-secret-at-least-32-characters";
const ENV = { JWT_SECRET: SECRET };

function verifierFor(env: Record<string, string | undefined>) {
  return createTokenVerifier(loadConfig(env).jwt);
}

describe("the token script", () => {
  it("prints only a token for a tenant user, which verifies with the right claims", async () => {
    const result = await main(["--tenant", "acme", "--user", "u1"], ENV);

    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    await expect(verifierFor(ENV).verify(result.stdout.trim())).resolves.toEqual({
      userId: "u1",
      tenantId: "acme",
      platformRoles: [],
      isGlobalAdmin: false,
    });
  });

  it("prints a global admin token without a tenant", async () => {
    const result = await main(["--user", "staff", "--role", "global_admin"], ENV);

    expect(result.exitCode).toBe(0);
    await expect(verifierFor(ENV).verify(result.stdout.trim())).resolves.toEqual({
      userId: "staff",
      tenantId: null,
      platformRoles: ["global_admin"],
      isGlobalAdmin: true,
    });
  });

  it("takes --role more than once", async () => {
    const argv = ["--user", "staff", "--role", "global_admin", "--role", "support"];
    const result = await main(argv, ENV);

    const principal = await verifierFor(ENV).verify(result.stdout.trim());
    expect(principal.platformRoles).toEqual(["global_admin", "support"]);
  });

  it("sets the lifetime from --expires", async () => {
    const result = await main(["--tenant", "acme", "--user", "u1", "--expires", "30m"], ENV);
    const [, payload] = result.stdout.trim().split(".");
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as {
      iat: number;
      exp: number;
    };

    expect(claims.exp - claims.iat).toBe(30 * 60);
  });

  it("defaults to eight hours", async () => {
    const result = await main(["--tenant", "acme", "--user", "u1"], ENV);
    const [, payload] = result.stdout.trim().split(".");
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as {
      iat: number;
      exp: number;
    };

    expect(claims.exp - claims.iat).toBe(8 * 60 * 60);
  });

  it("signs with the development key, with a warning on stderr, when JWT_SECRET is unset", async () => {
    const result = await main(["--tenant", "acme", "--user", "u1"], {});

    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("JWT_SECRET is not set");
    expect(result.stdout).not.toContain("warning");
    const verifier = createTokenVerifier({
      secret: DEVELOPMENT_JWT_SECRET,
      usingDevelopmentSecret: true,
      jwksUrl: undefined,
      issuer: undefined,
      audience: undefined,
    });
    await expect(verifier.verify(result.stdout.trim())).resolves.toMatchObject({ userId: "u1" });
  });

  it("stamps the configured issuer and audience so the gateway accepts the token", async () => {
    const env = { ...ENV, JWT_ISSUER: "https://id.newfinity.test", JWT_AUDIENCE: "gateway" };
    const result = await main(["--tenant", "acme", "--user", "u1"], env);

    await expect(verifierFor(env).verify(result.stdout.trim())).resolves.toMatchObject({
      tenantId: "acme",
    });
  });

  it("warns that a JWKS gateway will not accept the token", async () => {
    const env = { ...ENV, JWKS_URL: "http://127.0.0.1:1/jwks.json" };
    const result = await main(["--tenant", "acme", "--user", "u1"], env);

    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("JWKS_URL");
  });

  it("prints the usage and fails without --user", async () => {
    const result = await main(["--tenant", "acme"], ENV);

    expect(result).toMatchObject({ stdout: "", exitCode: 1 });
    expect(result.stderr).toContain("Usage: npm run token");
  });

  it("prints the usage and succeeds with --help", async () => {
    const result = await main(["--help"], ENV);

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("Usage: npm run token");
  });

  it("refuses --tenant together with --role global_admin", async () => {
    const argv = ["--tenant", "acme", "--user", "staff", "--role", "global_admin"];
    const result = await main(argv, ENV);

    expect(result).toMatchObject({ stdout: "", exitCode: 1 });
    expect(result.stderr).toContain("drop --tenant");
  });

  it("requires --tenant for a user who is not a global admin", async () => {
    const result = await main(["--user", "u1"], ENV);

    expect(result).toMatchObject({ stdout: "", exitCode: 1 });
    expect(result.stderr).toContain("--tenant is required");
  });

  it.each([["ACME"], ["ab"], ["1acme"]])("refuses the malformed tenant id %s", async (tenant) => {
    const result = await main(["--tenant", tenant, "--user", "u1"], ENV);

    expect(result).toMatchObject({ stdout: "", exitCode: 1 });
    expect(result.stderr).toContain("--tenant must be");
  });

  it("refuses an unreadable --expires", async () => {
    const result = await main(["--tenant", "acme", "--user", "u1", "--expires", "soon"], ENV);

    expect(result).toMatchObject({ stdout: "", exitCode: 1 });
    expect(result.stderr).toContain("Could not sign the token");
  });

  it("refuses unknown options and positional arguments", async () => {
    expect((await main(["--tenant", "acme", "--user", "u1", "--admin"], ENV)).exitCode).toBe(1);
    expect((await main(["--user", "u1", "acme"], ENV)).exitCode).toBe(1);
  });

  it("reports a bad JWT_SECRET instead of signing with it", async () => {
    const result = await main(["--tenant", "acme", "--user", "u1"], { JWT_SECRET: "short" });

    expect(result).toMatchObject({ stdout: "", exitCode: 1 });
    expect(result.stderr).toContain("JWT_SECRET");
  });
});
