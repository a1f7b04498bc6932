import { describe, expect, it } from "vitest";
import { cacheKey } from "../../src/cache/index.js";

describe("cacheKey", () => {
  it("builds ogc:{tenantId}:{service}:{entity}:{id}", () => {
    expect(cacheKey("acme", "identity", "user", "u1")).toBe("ogc:acme:identity:user:u1");
    expect(cacheKey("acme-2", "catalog", "course", "3f1c0e9a-7b1d-4a55-9a49-0c6b2b8f1e23")).toBe(
      "ogc:acme-2:catalog:course:3f1c0e9a-7b1d-4a55-9a49-0c6b2b8f1e23",
    );
  });

  type Parts = [tenantId: string, service: string, entity: string, id: string];

  it.each<[string, Parts]>([
    ["an empty tenant id", ["", "identity", "user", "u1"]],
    ["an empty id", ["acme", "identity", "user", ""]],
    ["a ':' in the id", ["acme", "identity", "user", "u:1"]],
    ["a ':' in the tenant id", ["acme:x", "identity", "user", "u1"]],
    ["a ':' in the service", ["acme", "iden:tity", "user", "u1"]],
    ["a space in the entity", ["acme", "identity", "us er", "u1"]],
    ["a newline in the id", ["acme", "identity", "user", "u1\n"]],
    ["a tab in the service", ["acme", "\tidentity", "user", "u1"]],
  ])("throws TypeError for %s", (_, parts) => {
    expect(() => cacheKey(...parts)).toThrow(TypeError);
  });

  it("names the part that is wrong", () => {
    expect(() => cacheKey("acme", "identity", "user", "a b")).toThrow(/"id"/);
  });
});
