import { describe, expect, it } from "vitest";
import { TENANT_ID_PATTERN, isTenantId, tenantFromHost } from "../../src/tenancy/index.js";

describe("isTenantId", () => {
  it.each(["acme", "abc", "a1b", "acme-corp", "a-b-c", `a${"b".repeat(39)}`])(
    "accepts %s",
    (value) => {
      expect(isTenantId(value)).toBe(true);
    },
  );

  it.each(["", "ab", `a${"b".repeat(40)}`, "Acme", "1acme", "-acme", "acme-", "ac.me", "acme\n"])(
    "refuses %j",
    (value) => {
      expect(isTenantId(value)).toBe(false);
    },
  );

  it("refuses a value that is not a string at run time", () => {
    expect(isTenantId(42 as unknown as string)).toBe(false);
    expect(isTenantId(["acme"] as unknown as string)).toBe(false);
  });

  it("exposes the contract's pattern", () => {
    expect(TENANT_ID_PATTERN.source).toBe("^[a-z][a-z0-9-]{1,38}[a-z0-9]$");
    expect(TENANT_ID_PATTERN.global || TENANT_ID_PATTERN.sticky).toBe(false);
  });
});

describe("tenantFromHost", () => {
  it.each([
    ["acme.localhost", "localhost", "acme"],
    ["acme.localhost:4000", "localhost", "acme"],
    ["ACME.LOCALHOST", "localhost", "acme"],
    ["acme.localhost.", "localhost", "acme"],
    ["acme.example.com:443", "example.com", "acme"],
    ["acme.example.com", "EXAMPLE.com", "acme"],
    ["ac_me.localhost", "localhost", "ac_me"],
  ])("reads %s under %s as %s", (host, base, label) => {
    expect(tenantFromHost(host, base)).toBe(label);
  });

  it.each([
    [undefined, "localhost"],
    ["", "localhost"],
    ["localhost", "localhost"],
    ["localhost:4000", "localhost"],
    ["a.b.localhost", "localhost"],
    ["acme.example.com", "localhost"],
    ["acmelocalhost", "localhost"],
    ["127.0.0.1:4000", "localhost"],
    ["[::1]:4000", "localhost"],
    ["[::1]", "localhost"],
    ["[acme.localhost]", "localhost"],
    ["example.com", "example.com"],
  ])("finds no tenant in %j under %s", (host, base) => {
    expect(tenantFromHost(host, base)).toBeUndefined();
  });
});
