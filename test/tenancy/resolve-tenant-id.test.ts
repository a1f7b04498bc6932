import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/index.js";
import { resolveTenantId, type TenantSources } from "../../src/tenancy/index.js";

const BASE = "localhost";

function resolve(sources: Partial<TenantSources>, baseDomain = BASE): string | null {
  return resolveTenantId(
    {
      header: undefined,
      host: undefined,
      tokenTenantId: undefined,
      isGlobalAdmin: false,
      ...sources,
    },
    baseDomain,
  );
}

function failure(sources: Partial<TenantSources>, baseDomain = BASE): GatewayError {
  try {
    resolve(sources, baseDomain);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error("expected resolveTenantId to throw");
}

describe("resolveTenantId with one source", () => {
  it("returns null when nothing names a tenant", () => {
    expect(resolve({})).toBeNull();
    expect(resolve({ tokenTenantId: null })).toBeNull();
  });

  it("takes the X-Tenant-ID header", () => {
    expect(resolve({ header: "acme" })).toBe("acme");
  });

  it("trims spaces and tabs around the header", () => {
    expect(resolve({ header: "  acme\t" })).toBe("acme");
  });

  it("takes the host label under the base domain", () => {
    expect(resolve({ host: "acme.localhost" })).toBe("acme");
  });

  it("ignores the port and the case of the host", () => {
    expect(resolve({ host: "acme.localhost:4000" })).toBe("acme");
    expect(resolve({ host: "ACME.LocalHost:4000" })).toBe("acme");
  });

  it("takes the token's tid", () => {
    expect(resolve({ tokenTenantId: "acme" })).toBe("acme");
  });

  it("works under a multi-label base domain", () => {
    expect(resolve({ host: "acme.newfinity.example.com" }, "newfinity.example.com")).toBe("acme");
    expect(resolve({ host: "newfinity.example.com" }, "newfinity.example.com")).toBeNull();
  });
});

describe("resolveTenantId with agreeing sources", () => {
  it.each([
    ["header and host", { header: "acme", host: "acme.localhost:4000" }],
    ["header and token", { header: "acme", tokenTenantId: "acme" }],
    ["host and token", { host: "Acme.localhost", tokenTenantId: "acme" }],
    ["header, host and token", { header: "acme", host: "acme.localhost", tokenTenantId: "acme" }],
  ] satisfies [string, Partial<TenantSources>][])(
    "accepts %s naming the same tenant",
    (_, sources) => {
      expect(resolve(sources)).toBe("acme");
    },
  );
});

describe("resolveTenantId with disagreeing sources", () => {
  it.each([
    ["header and host", { header: "acme", host: "beta.localhost" }, ["header", "host"]],
    ["header and token", { header: "acme", tokenTenantId: "beta" }, ["header", "token"]],
    ["host and token", { host: "acme.localhost", tokenTenantId: "beta" }, ["host", "token"]],
    [
      "a token against agreeing header and host",
      { header: "acme", host: "acme.localhost", tokenTenantId: "beta" },
      ["header", "token"],
    ],
    [
      "a host against agreeing header and token",
      { header: "acme", host: "beta.localhost", tokenTenantId: "acme" },
      ["header", "host"],
    ],
    [
      "a header against agreeing host and token",
      { header: "beta", host: "acme.localhost", tokenTenantId: "acme" },
      ["header", "host"],
    ],
    [
      "three different tenants",
      { header: "acme", host: "beta.localhost", tokenTenantId: "gamma" },
      ["header", "host"],
    ],
  ] satisfies [string, Partial<TenantSources>, string[]][])(
    "refuses %s with TENANT_MISMATCH",
    (_, sources, pair) => {
      const error = failure(sources);
      expect(error.code).toBe("TENANT_MISMATCH");
      expect(error.extensions.sources).toEqual(pair);
    },
  );

  it("says which sources disagree without naming the tenants", () => {
    const error = failure({ header: "acme", tokenTenantId: "beta" });
    expect(error.message).toBe(
      "Your token belongs to a different tenant than the X-Tenant-ID header names.",
    );
    expect(error.message).not.toContain("beta");
  });
});

describe("resolveTenantId with a malformed header", () => {
  it.each([
    ["uppercase", "ACME"],
    ["mixed case", "Acme"],
    ["empty", ""],
    ["blank", "   "],
    ["too short (2 characters)", "ab"],
    ["too long (41 characters)", `a${"b".repeat(40)}`],
    ["a trailing hyphen", "acme-"],
    ["a leading hyphen", "-acme"],
    ["a leading digit", "1acme"],
    ["an underscore", "ac_me"],
    ["a dot", "acme.beta"],
    ["an encoded dot", "acme%2e"],
    ["a Cyrillic look-alike", "\u0430cme"],
    ["a fullwidth look-alike", "\uff41cme"],
    ["a no-break space around it", "acme\u00a0"],
    ["an inner space", "ac me"],
    ["two comma-joined values", "acme, beta"],
    ["a newline", "acme\nbeta"],
    ["a very long value", "a".repeat(100_000)],
  ])("refuses %s with TENANT_NOT_FOUND", (_, header) => {
    const error = failure({ header });
    expect(error.code).toBe("TENANT_NOT_FOUND");
    expect(error.extensions.source).toBe("header");
  });

  it("never echoes the value in the message", () => {
    const error = failure({ header: "<script>alert(1)</script>" });
    expect(error.message).not.toContain("<");
    expect(error.message.length).toBeLessThan(120);
  });

  it("reports a malformed header before a disagreement", () => {
    expect(failure({ header: "ACME", tokenTenantId: "beta" }).code).toBe("TENANT_NOT_FOUND");
  });
});

describe("resolveTenantId with a malformed host label", () => {
  it.each([
    ["a leading digit", "1acme.localhost"],
    ["too short", "ab.localhost"],
    ["a trailing hyphen", "acme-.localhost:4000"],
    ["an underscore", "ac_me.localhost"],
    ["an empty label", ".localhost"],
    ["a Kelvin sign that lowercases to k", "\u212acme.localhost"],
    ["an encoded dot", "acme%2e.localhost"],
    ["a very long label", `${"a".repeat(10_000)}.localhost`],
  ])("refuses %s with TENANT_NOT_FOUND", (_, host) => {
    const error = failure({ host });
    expect(error.code).toBe("TENANT_NOT_FOUND");
    expect(error.extensions.source).toBe("host");
    expect(error.message).not.toContain("localhost");
  });
});

describe("resolveTenantId with hosts that name no tenant", () => {
  it.each([
    ["the bare base domain", "localhost:4000"],
    ["two labels", "a.acme.localhost"],
    ["another domain", "acme.example.com"],
    ["a look-alike of the base domain", "acme.notlocalhost"],
    ["an IPv4 address", "127.0.0.1:4000"],
    ["a bracketed IPv6 address", "[::1]:4000"],
    ["a bare IPv6 address", "::1"],
    ["an empty host", ""],
  ])("treats %s as no tenant", (_, host) => {
    expect(resolve({ host })).toBeNull();
  });

  it("lets the header decide when the host names no tenant", () => {
    expect(resolve({ header: "acme", host: "127.0.0.1:4000" })).toBe("acme");
  });

  it("accepts a syntactically valid label such as www; the registry decides it exists", () => {
    expect(resolve({ host: "www.localhost" })).toBe("www");
  });
});

describe("resolveTenantId for a global admin", () => {
  it("lets the header name any tenant", () => {
    expect(resolve({ header: "acme", isGlobalAdmin: true, tokenTenantId: null })).toBe("acme");
  });

  it("lets the host name any tenant", () => {
    expect(resolve({ host: "beta.localhost", isGlobalAdmin: true })).toBe("beta");
  });

  it("still refuses a header and host that disagree", () => {
    const error = failure({ header: "acme", host: "beta.localhost", isGlobalAdmin: true });
    expect(error.code).toBe("TENANT_MISMATCH");
  });

  it("returns null when nothing names a tenant (platform scope)", () => {
    expect(resolve({ isGlobalAdmin: true, tokenTenantId: null })).toBeNull();
  });

  it("refuses a global admin principal that carries a tenant", () => {
    expect(failure({ isGlobalAdmin: true, tokenTenantId: "acme" }).code).toBe("UNAUTHENTICATED");
  });
});
