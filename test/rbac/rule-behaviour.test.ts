import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import type { GraphQLSchema } from "graphql";
import { applyMiddleware } from "graphql-middleware";
import { not, shield } from "graphql-shield";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forbidden } from "../../src/errors/index.js";
import { createLogger, type Logger } from "../../src/logging/index.js";
import { guard, negate, type Check } from "../../src/rbac/index.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

// graphql-shield and graphql-middleware load graphql's CommonJS build; a file
// vitest transforms would get the ESM build, a second copy they refuse.
const { buildSchema, execute, parse } = createRequire(import.meta.url)(
  "graphql",
) as typeof import("graphql");

interface LogLine {
  level: number;
  msg: string;
  requestId?: string;
  rule?: string;
  field?: string;
  err?: { message?: string; stack?: string };
}

/** A real pino logger whose lines stay in memory. */
function memoryLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger({
    level: "info",
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  });

  return { logger, lines };
}

const requestId = () => `rule-behaviour-${randomBytes(6).toString("hex")}`;

const NEUTRAL = "You are not allowed to do this.";

/** Text a denial must never carry to the client. */
const INTERNALS = [
  /Membership/,
  /does not exist/i,
  /relation/i,
  /SELECT/,
  /prisma/i,
  /\bat \S+:\d+/,
];

describe("authorization rules over HTTP", () => {
  const log = memoryLogger();
  let gw: TestGateway;
  let fx: TenantFixture;
  let admin: string;

  beforeAll(async () => {
    gw = await startTestGateway("rule-behaviour", { logger: log.logger });
    fx = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("rules"));
    admin = await gw.tokenFor(fx.tenantId, fx.users.admin);
  });
  afterAll(() => gw?.stop());

  async function createUser(email: string): Promise<string> {
    const res = await gw.request<{ createUser: { id: string } }>(
      "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
      { token: admin, variables: { input: { email, name: email } } },
    );
    expect(res.body.errors).toBeUndefined();

    return res.body.data!.createUser.id;
  }

  describe("a check that throws", () => {
    const ADD = `mutation($o: ID!, $u: ID!) {
      addMember(organizationId: $o, userId: $u, role: MEMBER) { role }
    }`;

    /** Runs `during` while the Membership table is out of sight. */
    async function withoutMembershipTable(during: () => Promise<void>): Promise<void> {
      const client = new pg.Client({ connectionString: gw.databaseUrl });
      await client.connect();
      try {
        await client.query('ALTER TABLE "Membership" RENAME TO "Membership_hidden"');
        try {
          await during();
        } finally {
          await client.query('ALTER TABLE "Membership_hidden" RENAME TO "Membership"');
        }
      } finally {
        await client.end();
      }
    }

    it("denies with FORBIDDEN, shows no internals, and logs the cause with the request id", async () => {
      // The org owner is allowed to add members: only the failing check can
      // deny here. Their memberships were never loaded, so the check must
      // reach the database, where the table is missing.
      const token = await gw.tokenFor(fx.tenantId, fx.users.orgOwner);
      const target = await createUser("throws@rules.test");
      const id = requestId();

      let body = "";
      await withoutMembershipTable(async () => {
        const res = await gw.request(ADD, {
          token,
          variables: { o: fx.organizationId, u: target },
          headers: { "x-request-id": id },
        });
        expect(codesOf(res)).toEqual(["FORBIDDEN"]);
        expect(res.body.errors?.[0]?.message).toBe(NEUTRAL);
        expect(res.body.data).toBeNull();
        body = JSON.stringify(res.body);
      });

      for (const pattern of INTERNALS) expect(body).not.toMatch(pattern);
      const logged = log.lines.filter((l) => l.msg === "authorization rule failed; denying");
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({
        level: 50,
        requestId: id,
        rule: "manages-organization",
        field: "Mutation.addMember",
      });
      expect(logged[0]?.err?.message).toMatch(/Membership/);
    });

    it("was the only reason for the denial: with the table back the same call is allowed", async () => {
      const token = await gw.tokenFor(fx.tenantId, fx.users.orgOwner);
      const target = await createUser("after@rules.test");
      const res = await gw.request(ADD, { token, variables: { o: fx.organizationId, u: target } });

      expect(res.body.errors).toBeUndefined();
      expect(res.body.data).toEqual({ addMember: { role: "MEMBER" } });
    });
  });

  describe("a rule scoped to its arguments", () => {
    let orgAdmin: string;

    beforeAll(async () => {
      orgAdmin = await gw.tokenFor(fx.tenantId, fx.users.orgAdmin);
    });

    async function membersOf(organizationId: string): Promise<string[]> {
      const res = await gw.request<{
        organizations: { id: string; members: { user: { id: string } }[] }[];
      }>("{ organizations { id members { user { id } } } }", { token: admin });
      const found = res.body.data?.organizations.find((o) => o.id === organizationId);

      return found?.members.map((m) => m.user.id) ?? [];
    }

    it("is decided again for each set of arguments within one request", async () => {
      const user = await createUser("args@rules.test");
      const res = await gw.request(
        `mutation($a: ID!, $b: ID!, $user: ID!) {
          a: addMember(organizationId: $a, userId: $user, role: MEMBER) { role }
          b: addMember(organizationId: $b, userId: $user, role: MEMBER) { role }
        }`,
        { token: orgAdmin, variables: { a: fx.organizationId, b: fx.otherOrganizationId, user } },
      );

      // Membership! is non-null, so the refused `b` nulls the whole answer;
      // `a` ran first and its change stands.
      expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([
        [["b"], "FORBIDDEN"],
      ]);
      expect(await membersOf(fx.organizationId)).toContain(user);
      expect(await membersOf(fx.otherOrganizationId)).not.toContain(user);
    });

    describe("over parent objects", () => {
      let keeper: string;
      let keeperId: string;
      let ownBoard: string;

      beforeAll(async () => {
        // Reads dashboards but not users: it sees only its own user record.
        const role = await gw.request(
          'mutation { createRole(input: { name: "board-keeper", permissions: ["dashboards:read", "dashboards:write"] }) { name } }',
          { token: admin },
        );
        expect(role.body.errors).toBeUndefined();
        const made = await gw.request<{ createUser: { id: string } }>(
          'mutation { createUser(input: { email: "keeper@rules.test", name: "Keeper", roles: ["board-keeper"] }) { id } }',
          { token: admin },
        );
        keeperId = made.body.data!.createUser.id;
        keeper = await gw.tokenFor(fx.tenantId, keeperId);
        const board = await gw.request<{ createDashboard: { id: string } }>(
          'mutation { createDashboard(input: { title: "Mine", modules: ["overview"] }) { id } }',
          { token: keeper },
        );
        expect(board.body.errors).toBeUndefined();
        ownBoard = board.body.data!.createDashboard.id;
      });

      const BOARDS = `query($first: ID!, $second: ID!) {
        first: dashboard(id: $first) { owner { id } }
        second: dashboard(id: $second) { owner { id } }
      }`;

      it("allows the caller's own user and refuses another, in that order", async () => {
        const res = await gw.request(BOARDS, {
          token: keeper,
          variables: { first: ownBoard, second: fx.dashboardId },
        });

        expect(res.body.data).toEqual({ first: { owner: { id: keeperId } }, second: null });
        expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([
          [["second", "owner", "id"], "FORBIDDEN"],
        ]);
      });

      it("refuses another user and allows the caller's own, in that order", async () => {
        const res = await gw.request(BOARDS, {
          token: keeper,
          variables: { first: fx.dashboardId, second: ownBoard },
        });

        expect(res.body.data).toEqual({ first: null, second: { owner: { id: keeperId } } });
        expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([
          [["first", "owner", "id"], "FORBIDDEN"],
        ]);
      });
    });
  });

  describe("a denied field next to allowed ones", () => {
    it("keeps HTTP 200, so clients read the allowed data", async () => {
      // GraphQL over HTTP: a response that carries data is a 200; a 403 makes
      // clients such as Apollo Client drop the partial data as a network error.
      const token = await gw.tokenFor(fx.tenantId, fx.users.analyst);
      const res = await gw.request<{ tenant: { id: string }; dashboard: unknown }>(
        "query($id: ID!) { tenant { id } dashboard(id: $id) { id } }",
        { token, variables: { id: fx.dashboardId } },
      );

      expect(res.body.data).toEqual({ tenant: { id: fx.tenantId }, dashboard: null });
      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
      expect(res.status).toBe(200);
    });
  });

  describe("rule results across requests", () => {
    const USERS = "{ users(first: 5) { edges { node { id } } } }";

    it("are not shared between callers whose requests run at the same time", async () => {
      const nobodyToken = await gw.tokenFor(fx.tenantId, fx.users.nobody);
      const calls = Array.from({ length: 6 }, (_, n) => (n % 2 === 0 ? admin : nobodyToken));
      const answers = await Promise.all(calls.map((token) => gw.request(USERS, { token })));

      expect(answers.map(codesOf)).toEqual([
        [],
        ["FORBIDDEN"],
        [],
        ["FORBIDDEN"],
        [],
        ["FORBIDDEN"],
      ]);
    });

    it("follow a permission granted between two requests with the same token", async () => {
      const token = await gw.tokenFor(fx.tenantId, fx.users.nobody);
      const before = await gw.request(USERS, { token });
      expect(codesOf(before)).toEqual(["FORBIDDEN"]);

      const granted = await gw.request(
        'mutation($id: ID!) { assignRole(userId: $id, role: "analyst") { id } }',
        { token: admin, variables: { id: fx.users.nobody } },
      );
      expect(granted.body.errors).toBeUndefined();

      const after = await gw.request<{ users: { edges: unknown[] } }>(USERS, { token });
      expect(after.body.errors).toBeUndefined();
      expect(after.body.data?.users.edges).toHaveLength(5);
    });
  });
});

describe("guard and negate", () => {
  const boom: Check = () => {
    throw new Error('relation "secret_table" does not exist: SELECT * FROM secret_table');
  };
  const allowAll: Check = () => true;
  const denyAll: Check = () => false;

  let schema: GraphQLSchema;
  let log: ReturnType<typeof memoryLogger>;

  beforeAll(() => {
    // The options of createPermissions, over a schema of one field per rule.
    const bare = buildSchema(`type Query {
      thrown: String
      negatedThrown: String
      negatedAllow: String
      negatedDeny: String
      shieldNotOfThrown: String
      shieldNotOfGuardedThrown: String
    }`);
    const rules = shield(
      {
        Query: {
          thrown: guard("thrown", "request", boom),
          negatedThrown: guard("negated-thrown", "request", negate(boom)),
          negatedAllow: guard("negated-allow", "request", negate(allowAll)),
          negatedDeny: guard("negated-deny", "request", negate(denyAll)),
          shieldNotOfThrown: not(guard("thrown-for-not", "request", boom)),
          shieldNotOfGuardedThrown: not(guard("thrown-guarded-for-not", "request", boom)),
        },
      },
      {
        fallbackRule: guard("deny-unlisted", "request", () => false),
        fallbackError: () => forbidden(),
        allowExternalErrors: true,
        debug: false,
      },
    );
    schema = applyMiddleware(bare, rules);
  });

  async function run(field: string) {
    log = memoryLogger();
    const id = requestId();
    const result = await execute({
      schema,
      document: parse(`{ ${field} }`),
      rootValue: { [field]: "secret" },
      contextValue: { requestId: id, logger: log.logger.child({ requestId: id }) },
    });

    return { id, result };
  }

  it("denies a throwing check with FORBIDDEN and a neutral message", async () => {
    const { result } = await run("thrown");

    expect(result.data).toEqual({ thrown: null });
    expect(result.errors?.map((e) => [e.extensions.code, e.message])).toEqual([
      ["FORBIDDEN", NEUTRAL],
    ]);
  });

  it("logs the thrown error with the request id, the rule and the field", async () => {
    const { id } = await run("thrown");

    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({
      msg: "authorization rule failed; denying",
      requestId: id,
      rule: "thrown",
      field: "Query.thrown",
    });
    expect(log.lines[0]?.err?.message).toContain("secret_table");
  });

  it("still denies when the throwing check is negated", async () => {
    const { id, result } = await run("negatedThrown");

    expect(result.data).toEqual({ negatedThrown: null });
    expect(result.errors?.map((e) => e.extensions.code)).toEqual(["FORBIDDEN"]);
    expect(log.lines.map((l) => [l.requestId, l.rule])).toEqual([[id, "negated-thrown"]]);
  });

  it("turns a check that allows into a denial and one that denies into a grant", async () => {
    const allowed = await run("negatedAllow");
    expect(allowed.result.errors?.map((e) => e.extensions.code)).toEqual(["FORBIDDEN"]);

    const denied = await run("negatedDeny");
    expect(denied.result.errors).toBeUndefined();
    expect(denied.result.data).toEqual({ negatedDeny: "secret" });
  });

  it("contrasts with graphql-shield's not, which grants when the rule under it throws", async () => {
    // Why negate() exists: shield's not() reads a failed rule as "false" and
    // flips it. Never wrap a guard in not().
    const bare = await run("shieldNotOfThrown");
    expect(bare.result.errors).toBeUndefined();
    expect(bare.result.data).toEqual({ shieldNotOfThrown: "secret" });

    const guarded = await run("shieldNotOfGuardedThrown");
    expect(guarded.result.errors).toBeUndefined();
    expect(guarded.result.data).toEqual({ shieldNotOfGuardedThrown: "secret" });
  });
});
