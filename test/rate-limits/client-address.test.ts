import { describe, expect, it } from "vitest";
import { chargesFor } from "../../src/rate-limits/budgets.js";
import { addressGroup } from "../../src/rate-limits/client-address.js";
import { PLANS } from "../../src/tenant-config/plans.js";

describe("the client address an anonymous budget covers", () => {
  it("is an IPv4 address whole, also when Node reports it mapped into IPv6", () => {
    expect(addressGroup("203.0.113.7")).toBe("203.0.113.7");
    expect(addressGroup("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(addressGroup("::FFFF:cb00:7107")).toBe("203.0.113.7");
  });

  it("is an IPv6 address's /64, however the address is written", () => {
    const network = "2001:db8:0:1::/64";

    expect(addressGroup("2001:db8:0:1::1")).toBe(network);
    expect(addressGroup("2001:0db8:0000:0001:ffff:ffff:ffff:ffff")).toBe(network);
    expect(addressGroup("2001:db8::1:0:0:0:5")).toBe(network);
    expect(addressGroup("2001:db8:0:1:a::203.0.113.7")).toBe(network);
    expect(addressGroup("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressGroup("::1")).toBe("0:0:0:0::/64");
    expect(addressGroup("2001:db8:0:2::1")).toBe("2001:db8:0:2::/64");
  });

  it("is `unknown` when the request has no address", () => {
    expect(addressGroup(null)).toBe("unknown");
    expect(addressGroup("")).toBe("unknown");
  });

  it("gives every address of one IPv6 /64 the same counters", () => {
    const limits = PLANS.starter!.limits;
    const keysOf = (address: string) =>
      chargesFor("acme", "dep", limits, { kind: "client", address }, 1).own.map((c) => c.key);

    expect(keysOf("2001:db8:0:1::1")).toEqual(keysOf("2001:db8:0:1:dead:beef:0:42"));
    expect(keysOf("2001:db8:0:1::1")).toEqual([
      "ogc:acme:ratelimit:dep:requests:client:2001-db8-0-1--/64",
      "ogc:acme:ratelimit:dep:cost:client:2001-db8-0-1--/64",
    ]);
    expect(keysOf("2001:db8:0:2::1")).not.toEqual(keysOf("2001:db8:0:1::1"));
  });
});

describe("what an anonymous request is charged", () => {
  it("draws on the address's budgets and the anonymous pool, never on the tenant's", () => {
    const limits = PLANS.starter!.limits;
    const charges = chargesFor("acme", "dep", limits, { kind: "client", address: "::1" }, 7);

    expect(charges.own.map((c) => [c.budget, c.limit, c.points])).toEqual([
      // A tenth of the anonymous pool's 600: one address cannot spend it alone.
      ["USER_REQUESTS", 60, 1],
      ["USER_QUERY_COST", 250_000, 7],
    ]);
    expect(charges.pool).toEqual([
      {
        budget: "ANONYMOUS_REQUESTS",
        key: "ogc:acme:ratelimit:dep:requests:anonymous",
        limit: 600,
        points: 1,
      },
    ]);
  });

  it("leaves a signed-in user on their own budgets and the tenant's", () => {
    const limits = PLANS.starter!.limits;
    const charges = chargesFor("acme", "dep", limits, { kind: "user", userId: "u-1" }, 7);

    expect(charges.own.map((c) => [c.budget, c.limit, c.key])).toEqual([
      ["USER_REQUESTS", 240, "ogc:acme:ratelimit:dep:requests:user:u-1"],
      ["USER_QUERY_COST", 250_000, "ogc:acme:ratelimit:dep:cost:user:u-1"],
    ]);
    expect(charges.pool.map((c) => [c.budget, c.limit, c.points])).toEqual([
      ["TENANT_REQUESTS", 600, 1],
      ["TENANT_QUERY_COST", 1_000_000, 7],
    ]);
  });
});
