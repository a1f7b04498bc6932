import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { chooseServer, type DatabaseServer } from "../../src/data/placement/database-servers.js";

const server = (id: string, region: string, tiers: string[] = []): DatabaseServer => ({
  id,
  region,
  tiers,
  adminUrl: `postgresql://postgres@${id}.internal/postgres`,
});

describe("DATABASE_SERVERS", () => {
  const base = { DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/control" };

  it("defaults to the control server as `primary` in REGION", () => {
    const config = loadConfig({ ...base, REGION: "eu-west" });

    expect(config.databaseServers).toEqual([
      { id: "primary", region: "eu-west", tiers: [], adminUrl: base.DATABASE_URL },
    ]);
  });

  it("reads a JSON list of servers with regions and tiers", () => {
    const servers = [
      { id: "eu-1", region: "eu", url: "postgresql://a@eu-1/postgres" },
      { id: "us-1", region: "us", tiers: ["premium"], url: "postgres://a@us-1/postgres" },
    ];
    const config = loadConfig({ ...base, DATABASE_SERVERS: JSON.stringify(servers) });

    expect(config.databaseServers.map((s) => [s.id, s.region, s.tiers])).toEqual([
      ["eu-1", "eu", []],
      ["us-1", "us", ["premium"]],
    ]);
  });

  it.each([
    ["not JSON", "eu-1=postgresql://x", /JSON array/],
    ["an object", '{"id":"a"}', /JSON array/],
    ["a bad id", '[{"id":"EU 1","region":"eu","url":"postgresql://x"}]', /\.id must be/],
    ["a missing region", '[{"id":"a","url":"postgresql://x"}]', /\.region must be/],
    ["another scheme", '[{"id":"a","region":"eu","url":"mysql://x"}]', /\.url must be/],
    [
      "a repeated id",
      '[{"id":"a","region":"eu","url":"postgresql://x"},{"id":"a","region":"us","url":"postgresql://y"}]',
      /twice/,
    ],
  ])("refuses %s with a message naming the setting", (_, raw, message) => {
    expect(() => loadConfig({ ...base, DATABASE_SERVERS: raw })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, DATABASE_SERVERS: raw })).toThrow(message);
  });

  it("refuses servers on the embedded database", () => {
    expect(() =>
      loadConfig({ DATABASE_SERVERS: '[{"id":"a","region":"eu","url":"postgresql://x"}]' }),
    ).toThrow(/needs DATABASE_URL/);
  });
});

describe("choosing a server for a new database tenant", () => {
  const servers = [server("eu-1", "eu"), server("eu-2", "eu"), server("eu-big", "eu", ["premium"])];

  it("takes the least loaded server of the region", () => {
    const load = new Map([
      ["eu-1", 3],
      ["eu-2", 1],
    ]);

    expect(chooseServer(servers, "eu", "standard", load)?.id).toBe("eu-2");
  });

  it("prefers a server that names the tenant's tier", () => {
    expect(chooseServer(servers, "eu", "premium", new Map([["eu-big", 50]]))?.id).toBe("eu-big");
  });

  it("keeps servers reserved for other tiers out of the choice", () => {
    const onlyPremium = [server("eu-big", "eu", ["premium"])];

    expect(chooseServer(onlyPremium, "eu", "standard", new Map())).toBeNull();
  });

  it("answers null for a region without servers", () => {
    expect(chooseServer(servers, "us", "standard", new Map())).toBeNull();
  });
});
