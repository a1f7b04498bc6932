import "reflect-metadata";
import { createClient } from "@keyv/redis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../src/modules/common/ids.js";
import { TEST_REDIS_URL } from "../support/env.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  codesOf,
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";
import { scanKeys } from "../support/redis-keys.js";

/** What a dashboard shows: the caller, dashboards, challenges with authors and their teams. */
const DASHBOARD_QUERY = `{
  me { id roles }
  dashboards { id owner { id name } }
  challenges(first: 50) {
    edges { node { id submissions { id score author { id organizations { id } } } } }
  }
}`;

/** Every (service, entity) pair the loaders cache under. */
const CACHED_KINDS = [
  "identity:user",
  "identity:user-access",
  "organizations:organization",
  "organizations:organization-members",
  "organizations:user-memberships",
  "dashboards:dashboard",
  "challenges:challenge",
  "challenges:challenge-submissions",
];

type Data = Record<string, unknown>;
type Redis = ReturnType<typeof createClient>;

/** The deployment's claim on a tenant's entries (see CacheOwnership), not an entity. */
const isClaim = (key: string) => key.endsWith(":gateway:deployment:owner");

/** Every entity key matching `pattern`: the deployment's claim marker is tested in test/cache. */
async function entityKeys(redis: Redis, pattern: string): Promise<string[]> {
  return (await scanKeys(redis, pattern)).filter((key) => !isClaim(key));
}

function expectClean(res: GraphQLResponse<unknown>): void {
  expect(res.body.errors).toBeUndefined();
}

describe("the entity cache on Redis", () => {
  let gw: TestGateway;
  let redis: Redis;
  let admin: pg.Client;
  let a: TenantFixture;
  let b: TenantFixture;
  const tokens: Record<string, string> = {};

  /** Sends in tenant A as one of its seeded users. */
  function asA<T = Data>(user: keyof TenantFixture["users"], query: string, variables?: Data) {
    return gw.request<T>(query, { tenant: a.tenantId, token: tokens[`a:${user}`], variables });
  }

  async function rows<T extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<T[]> {
    return (await admin.query<T>(sql, params)).rows;
  }

  /** The keys the dashboard query must leave behind for a tenant, from its rows. */
  async function expectedKeys(tenant: TenantFixture): Promise<string[]> {
    const t = tenant.tenantId;
    const submissions = await rows<{ challengeId: string; authorId: string }>(
      `SELECT "challengeId", "authorId" FROM "Submission" WHERE "tenantId" = $1`,
      [t],
    );
    const authors = [...new Set(submissions.map((s) => s.authorId))];
    const memberships = await rows<{ userId: string; organizationId: string }>(
      `SELECT "userId", "organizationId" FROM "Membership"
        WHERE "tenantId" = $1 AND "userId" = ANY($2)`,
      [t, authors],
    );
    const owners = await rows<{ ownerId: string }>(
      `SELECT "ownerId" FROM "Dashboard" WHERE "tenantId" = $1`,
      [t],
    );

    // Lists come from the database and only prime the loaders; what the
    // loaders fetched, and found, is what gets cached.
    const users = new Set([tenant.users.admin, ...authors, ...owners.map((o) => o.ownerId)]);
    return [
      ...[...users].map((id) => `ogc:${t}:identity:user:${id}`),
      `ogc:${t}:identity:user-access:${tenant.users.admin}`,
      ...new Set(
        submissions.map((s) => `ogc:${t}:challenges:challenge-submissions:${s.challengeId}`),
      ),
      ...new Set(memberships.map((m) => `ogc:${t}:organizations:user-memberships:${m.userId}`)),
      ...new Set(memberships.map((m) => `ogc:${t}:organizations:organization:${m.organizationId}`)),
    ].sort();
  }

  beforeAll(async () => {
    // A generous cache timeout: under a busy test run, a Redis call past the
    // default 100 ms would count as a miss and leave a key unwritten. Rate
    // limits off: their counters live under the tenant's prefix too.
    gw = await startTestGateway("cache-keys", {
      env: { CACHE_TIMEOUT_MS: "5000", RATE_LIMITS: "false" },
    });
    a = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("keys-a"));
    b = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("keys-b"));
    for (const [name, fixture] of [
      ["a", a],
      ["b", b],
    ] as const) {
      for (const [role, id] of Object.entries(fixture.users)) {
        tokens[`${name}:${role}`] = await gw.tokenFor(fixture.tenantId, id);
      }
    }
    redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
    admin = new pg.Client({ connectionString: gw.databaseUrl });
    await admin.connect();
  });

  afterAll(async () => {
    try {
      for (const fixture of [a, b]) {
        if (fixture) await gw.gateway.cache.clearTenant(fixture.tenantId);
      }
    } finally {
      if (redis?.isOpen) redis.destroy();
      await admin?.end();
      await gw?.stop();
    }
  });

  describe("keys after a dashboard query", () => {
    it("are exactly the loaded entities, each as ogc:{tenantId}:{service}:{entity}:{id}", async () => {
      await gw.gateway.cache.clearTenant(a.tenantId);

      expectClean(await asA("admin", DASHBOARD_QUERY));

      const keys = await entityKeys(redis, `ogc:${a.tenantId}:*`);
      expect(keys).toEqual(await expectedKeys(a));
      const shape = new RegExp(`^ogc:${a.tenantId}:([a-z-]+:[a-z-]+):[0-9a-f-]{36}$`);
      for (const key of keys) {
        expect(key).toMatch(shape);
        expect(CACHED_KINDS).toContain(shape.exec(key)?.[1]);
      }
    });

    it("expire: every key carries a time to live", async () => {
      const keys = await entityKeys(redis, `ogc:${a.tenantId}:*`);

      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        const ttl = await redis.pTTL(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(300_000);
      }
    });

    it("lie under ogc:{tenantId}: only: no other key names the tenant's records", async () => {
      const ids = [a.tenantId, a.users.admin, a.organizationId, ...a.challengeIds];

      for (const id of ids) {
        const keys = await entityKeys(redis, `*${id}*`);
        expect(keys.length).toBeGreaterThan(0);
        expect(keys.filter((key) => !key.startsWith(`ogc:${a.tenantId}:`))).toEqual([]);
      }
    });
  });

  describe("two tenants", () => {
    it("never share a key, and neither tenant's keys name the other's records", async () => {
      await gw.gateway.cache.clearTenant(b.tenantId);
      expectClean(
        await gw.request(DASHBOARD_QUERY, { tenant: b.tenantId, token: tokens["b:admin"] }),
      );

      const aKeys = await entityKeys(redis, `ogc:${a.tenantId}:*`);
      const bKeys = await entityKeys(redis, `ogc:${b.tenantId}:*`);
      expect(bKeys).toEqual(await expectedKeys(b));
      expect(aKeys.filter((key) => bKeys.includes(key))).toEqual([]);
      const aIds = [...Object.values(a.users), ...a.challengeIds, a.organizationId];
      const bIds = [...Object.values(b.users), ...b.challengeIds, b.organizationId];
      expect(aKeys.filter((key) => bIds.some((id) => key.includes(id)))).toEqual([]);
      expect(bKeys.filter((key) => aIds.some((id) => key.includes(id)))).toEqual([]);
    });

    it("never read each other's keys: an entry planted under B for A's user is not served to A", async () => {
      const planted = `ogc:${b.tenantId}:identity:user:${a.users.analyst}`;
      await redis.set(
        planted,
        JSON.stringify({ id: a.users.analyst, email: "planted@b.test", name: "Planted by B" }),
        { PX: 60_000 },
      );

      const res = await asA<{ user: { name: string; email: string } }>(
        "admin",
        "query ($id: ID!) { user(id: $id) { name email } }",
        { id: a.users.analyst },
      );

      expectClean(res);
      expect(res.body.data?.user).toEqual({ name: "analyst", email: `analyst@${a.tenantId}.test` });
      await redis.unlink(planted);
    });
  });

  describe("a write", () => {
    it("createUser shows in the very next users page", async () => {
      const page = "{ users(first: 100) { edges { node { id roles } } } }";
      type Page = { users: { edges: { node: { id: string; roles: string[] } }[] } };
      expectClean(await asA("admin", page));

      const created = await asA<{ createUser: { id: string } }>(
        "admin",
        `mutation { createUser(input: { email: "fresh@a.test", name: "Fresh" }) { id } }`,
      );
      expectClean(created);
      const id = created.body.data?.createUser.id;

      const after = await asA<Page>("admin", page);
      expect(after.body.data?.users.edges.map((e) => e.node)).toContainEqual({
        id,
        roles: ["member"],
      });
    });

    it("assignRole shows in the user's very next me { roles }", async () => {
      const me = "{ me { roles } }";
      const warm = await asA<{ me: { roles: string[] } }>("member", me);
      expect(warm.body.data?.me.roles).toEqual(["member"]);
      const accessKey = `ogc:${a.tenantId}:identity:user-access:${a.users.member}`;
      expect(await redis.exists(accessKey)).toBe(1);

      expectClean(
        await asA(
          "admin",
          `mutation ($id: ID!) { assignRole(userId: $id, role: "analyst") { id } }`,
          {
            id: a.users.member,
          },
        ),
      );

      const after = await asA<{ me: { roles: string[] } }>("member", me);
      expect(after.body.data?.me.roles).toEqual(["analyst", "member"]);
    });

    it("addMember shows in the very next organization members and user organizations", async () => {
      type Orgs = {
        organizations: { id: string; members: { role: string; user: { id: string } }[] }[];
      };
      const orgs = "{ organizations { id members { role user { id } } } }";
      const userOrgs = "query ($id: ID!) { user(id: $id) { organizations { id } } }";
      expectClean(await asA("admin", orgs));
      expectClean(await asA("admin", userOrgs, { id: a.users.nobody }));
      const membersKey = `ogc:${a.tenantId}:organizations:organization-members:${a.organizationId}`;
      expect(await redis.exists(membersKey)).toBe(1);

      expectClean(
        await asA(
          "admin",
          `mutation ($org: ID!, $user: ID!) { addMember(organizationId: $org, userId: $user, role: MEMBER) { role } }`,
          { org: a.organizationId, user: a.users.nobody },
        ),
      );

      const after = await asA<Orgs>("admin", orgs);
      const research = after.body.data?.organizations.find((o) => o.id === a.organizationId);
      expect(research?.members).toContainEqual({ role: "MEMBER", user: { id: a.users.nobody } });
      const mine = await asA<{ user: { organizations: { id: string }[] } }>("admin", userOrgs, {
        id: a.users.nobody,
      });
      expect(mine.body.data?.user.organizations).toEqual([{ id: a.organizationId }]);
    });

    it("addMember that changes a role shows the new role at once", async () => {
      type Orgs = {
        organizations: { id: string; members: { role: string; user: { id: string } }[] }[];
      };
      const orgs = "{ organizations { id members { role user { id } } } }";
      expectClean(await asA("admin", orgs));

      expectClean(
        await asA(
          "admin",
          `mutation ($org: ID!, $user: ID!) { addMember(organizationId: $org, userId: $user, role: ADMIN) { role } }`,
          { org: a.organizationId, user: a.users.orgMember },
        ),
      );

      const after = await asA<Orgs>("admin", orgs);
      const research = after.body.data?.organizations.find((o) => o.id === a.organizationId);
      expect(research?.members).toContainEqual({ role: "ADMIN", user: { id: a.users.orgMember } });
    });

    it("createOrganization shows in the creator's very next me { organizations }", async () => {
      const me = "{ me { organizations { id } } }";
      // Give the admin a membership first, so that their list is cached.
      expectClean(
        await asA(
          "admin",
          `mutation ($org: ID!, $user: ID!) { addMember(organizationId: $org, userId: $user, role: OWNER) { role } }`,
          { org: a.otherOrganizationId, user: a.users.admin },
        ),
      );
      const warm = await asA<{ me: { organizations: { id: string }[] } }>("admin", me);
      expect(warm.body.data?.me.organizations).toEqual([{ id: a.otherOrganizationId }]);
      const key = `ogc:${a.tenantId}:organizations:user-memberships:${a.users.admin}`;
      expect(await redis.exists(key)).toBe(1);

      const created = await asA<{ createOrganization: { id: string } }>(
        "admin",
        `mutation { createOrganization(input: { name: "Brand new" }) { id } }`,
      );
      expectClean(created);

      const after = await asA<{ me: { organizations: { id: string }[] } }>("admin", me);
      expect(after.body.data?.me.organizations.map((o) => o.id).sort()).toEqual(
        [a.otherOrganizationId, created.body.data?.createOrganization.id].sort(),
      );
    });

    it("submitToChallenge shows in the very next challenges { submissions }", async () => {
      type Challenges = {
        challenges: { edges: { node: { id: string; submissions: { id: string }[] } }[] };
      };
      const list = "{ challenges(first: 50) { edges { node { id submissions { id } } } } }";
      const challengeId = a.challengeIds[0] as string;
      expectClean(await asA("participant", list));
      const key = `ogc:${a.tenantId}:challenges:challenge-submissions:${challengeId}`;
      expect(await redis.exists(key)).toBe(1);

      const submitted = await asA<{ submitToChallenge: { id: string } }>(
        "participant",
        `mutation ($id: ID!) { submitToChallenge(challengeId: $id, score: 99) { id } }`,
        { id: challengeId },
      );
      expectClean(submitted);

      const after = await asA<Challenges>("participant", list);
      const node = after.body.data?.challenges.edges.find((e) => e.node.id === challengeId)?.node;
      expect(node?.submissions.map((s) => s.id)).toContain(
        submitted.body.data?.submitToChallenge.id,
      );
    });
  });

  describe("errors and misses", () => {
    it("a NOT_FOUND leaves no key behind", async () => {
      const missing = newId();

      const assign = await asA(
        "admin",
        `mutation ($id: ID!) { assignRole(userId: $id, role: "member") { id } }`,
        { id: missing },
      );
      const submit = await asA(
        "participant",
        `mutation ($id: ID!) { submitToChallenge(challengeId: $id, score: 1) { id } }`,
        { id: missing },
      );

      expect(codesOf(assign)).toEqual(["NOT_FOUND"]);
      expect(codesOf(submit)).toEqual(["NOT_FOUND"]);
      expect(await entityKeys(redis, `*${missing}*`)).toEqual([]);
    });

    it("a miss is not remembered: a row added after a null is found by the next request", async () => {
      const id = newId();
      const query = "query ($id: ID!) { user(id: $id) { id name } }";
      const before = await asA("admin", query, { id });
      expect(before.body.data).toEqual({ user: null });

      await gw.gateway.database
        .forTenant(a.tenantId)
        .user.create({ data: { tenantId: a.tenantId, id, email: "late@a.test", name: "Late" } });

      const after = await asA("admin", query, { id });
      expect(after.body.data).toEqual({ user: { id, name: "Late" } });
    });

    it.each(["cold", "warm"])(
      "a batch with a missing and a foreign id nulls those two alone (%s cache)",
      async () => {
        const res = await asA(
          "admin",
          `query ($real: ID!, $missing: ID!, $foreign: ID!) {
            a: user(id: $real) { id name }
            b: user(id: $missing) { id name }
            c: user(id: $foreign) { id name }
          }`,
          { real: a.users.orgOwner, missing: newId(), foreign: b.users.orgOwner },
        );

        expectClean(res);
        expect(res.body.data).toEqual({
          a: { id: a.users.orgOwner, name: "owner" },
          b: null,
          c: null,
        });
        const foreignKeys = await entityKeys(redis, `*${b.users.orgOwner}*`);
        expect(foreignKeys.filter((key) => !key.startsWith(`ogc:${b.tenantId}:`))).toEqual([]);
      },
    );

    it.each([
      ["a colon", "x:y"],
      ["500 characters", "u".repeat(500)],
      ["a glob", "*"],
      ["a whole foreign key", "ogc:other:identity:user:1"],
      ["whitespace", "a b"],
      ["an empty string", ""],
    ])("an id with %s answers null without an error", async (_label, id) => {
      const res = await asA(
        "admin",
        "query ($id: ID!) { user(id: $id) { id } dashboard(id: $id) { id } }",
        { id },
      );

      expectClean(res);
      expect(res.body.data).toEqual({ user: null, dashboard: null });
    });

    it("an id with a colon in a mutation is a NOT_FOUND, not an internal error", async () => {
      const res = await asA(
        "participant",
        `mutation { submitToChallenge(challengeId: "x:y", score: 1) { id } }`,
      );

      expect(codesOf(res)).toEqual(["NOT_FOUND"]);
    });
  });
});
