import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  codesOf,
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";

const NEUTRAL = "Something went wrong on our side. Quote the request id when you report it.";

/** Text that betrays internals: SQL, table names, driver names, stack frames. */
const INTERNALS = [
  /"Dashboard"/,
  /\bDashboard\b/,
  /does not exist/i,
  /relation/i,
  /\bSELECT\b/,
  /\bFROM\b/,
  /prisma/i,
  /postgres/i,
  /node_modules/,
  /\.ts:\d+/,
  /\bat \S+ \(/,
];

/** Makes the tenant's dashboards table vanish, so reading it fails inside. */
async function dropDashboards(gw: TestGateway): Promise<void> {
  const client = new pg.Client({ connectionString: gw.databaseUrl });
  await client.connect();
  try {
    await client.query('DROP TABLE "Dashboard" CASCADE');
  } finally {
    await client.end();
  }
}

/**
 * GET /graphql the way a browser asks for a page; `preflight` adds the header
 * that gets a GET past Apollo's CSRF check.
 */
async function browse(
  gw: TestGateway,
  preflight = false,
): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${gw.url}/graphql`, {
    headers: { accept: "text/html", ...(preflight ? { "apollo-require-preflight": "true" } : {}) },
  });

  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    text: await res.text(),
  };
}

/** Answers that carry an error of every kind a client meets. */
async function everyKindOfError(gw: TestGateway, fx: TenantFixture) {
  const member = await gw.tokenFor(fx.tenantId, fx.users.member);

  return {
    forbidden: await gw.request(
      'mutation { createRole(input: { name: "x1", permissions: ["users:read"] }) { name } }',
      {
        tenant: fx.tenantId,
        token: member,
      },
    ),
    unauthenticated: await gw.request("{ users { edges { node { id } } } }", {
      tenant: fx.tenantId,
    }),
    tenantNotFound: await gw.request("{ tenant { id } }", { tenant: uniqueTenantId("ghost") }),
    badToken: await gw.request("{ tenant { id } }", { tenant: fx.tenantId, token: "a.b.c" }),
    badInput: await gw.request("{ users(first: 1000) { edges { node { id } } } }", {
      tenant: fx.tenantId,
      token: member,
    }),
    parseError: await gw.request("{ users(", { tenant: fx.tenantId }),
  };
}

describe("a gateway in production", () => {
  let gw: TestGateway;
  let fx: TenantFixture;

  beforeAll(async () => {
    gw = await startTestGateway("masking-prod", { production: true });
    fx = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("mask-prod"));
  });
  afterAll(() => gw?.stop());

  it("sends no stacktrace extension with any error", async () => {
    const answers = await everyKindOfError(gw, fx);

    expect(Object.values(answers).map(codesOf)).toEqual([
      ["FORBIDDEN"],
      ["UNAUTHENTICATED"],
      ["TENANT_NOT_FOUND"],
      ["UNAUTHENTICATED"],
      ["BAD_USER_INPUT"],
      ["BAD_USER_INPUT"],
    ]);
    for (const answer of Object.values(answers)) {
      for (const error of answer.body.errors ?? []) {
        expect(error.extensions).not.toHaveProperty("stacktrace");
        expect(error.extensions).not.toHaveProperty("exception");
      }
    }
  });

  it("refuses introspection", async () => {
    const schema = await gw.request("{ __schema { types { name } } }", { tenant: fx.tenantId });
    const type = await gw.request('{ __type(name: "User") { fields { name } } }', {
      tenant: fx.tenantId,
    });

    for (const res of [schema, type]) {
      expect(res.body.data ?? null).toBeNull();
      expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
      expect(JSON.stringify(res.body)).not.toMatch(/TenantSummary|adminTenants/);
    }
  });

  it("suggests no field names for a mistyped field, which would leak the schema", async () => {
    const res = await gw.request("{ adminTenant { id } usr { id } }", { tenant: fx.tenantId });

    expect(codesOf(res)).toEqual(["BAD_USER_INPUT", "BAD_USER_INPUT"]);
    expect(JSON.stringify(res.body)).not.toMatch(/Did you mean|adminTenants|"users?"/);
  });

  it("does not serve the Sandbox page to a browser", async () => {
    for (const page of [await browse(gw), await browse(gw, true)]) {
      expect(page.status).toBeGreaterThanOrEqual(400);
      expect(page.type).not.toMatch(/text\/html/);
      expect(page.text).not.toMatch(/<html|sandbox|embeddable/i);
    }
  });

  describe("an internal failure", () => {
    let failure: GraphQLResponse<{ dashboards: unknown }>;
    let requestId: string | null;

    beforeAll(async () => {
      await dropDashboards(gw);
      const token = await gw.tokenFor(fx.tenantId, fx.users.member);
      const res = await fetch(`${gw.url}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-tenant-id": fx.tenantId,
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ query: "{ tenant { id } dashboards { id title } }" }),
      });
      requestId = res.headers.get("x-request-id");
      failure = {
        status: res.status,
        body: (await res.json()) as GraphQLResponse<{ dashboards: unknown }>["body"],
      };
    });

    it("answers INTERNAL_SERVER_ERROR with the neutral message", () => {
      expect(codesOf(failure)).toEqual(["INTERNAL_SERVER_ERROR"]);
      expect(failure.body.errors?.[0]?.message).toBe(NEUTRAL);
      expect(failure.body.errors?.[0]?.path).toEqual(["dashboards"]);
    });

    it("shows no SQL, table name, driver or stack anywhere in the answer", () => {
      const text = JSON.stringify(failure.body);

      for (const pattern of INTERNALS) expect(text).not.toMatch(pattern);
      expect(failure.body.errors?.[0]?.extensions).not.toHaveProperty("stacktrace");
    });

    it("gives the client the request id its message asks it to quote", () => {
      expect(requestId).toMatch(/^[A-Za-z0-9._-]{8,64}$/);
      expect(failure.body.errors?.[0]?.extensions?.requestId).toBe(requestId);
    });
  });
});

describe("a gateway in development", () => {
  let gw: TestGateway;
  let fx: TenantFixture;

  beforeAll(async () => {
    gw = await startTestGateway("masking-dev", { production: false });
    fx = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("mask-dev"));
  });
  afterAll(() => gw?.stop());

  it("serves the Sandbox landing page to a browser at GET /graphql", async () => {
    const page = await browse(gw);

    expect(page.status).toBe(200);
    expect(page.type).toMatch(/text\/html/);
    expect(page.text).toMatch(/<!DOCTYPE html>/i);
    expect(page.text).toMatch(/embeddable-sandbox/i);
  });

  it("answers introspection", async () => {
    const res = await gw.request<{ __type: { fields: { name: string }[] } }>(
      '{ __type(name: "User") { fields { name } } }',
      { tenant: fx.tenantId },
    );

    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.__type.fields.map((f) => f.name)).toContain("email");
  });

  it("sends a stacktrace with errors, which production never does", async () => {
    const answers = await everyKindOfError(gw, fx);

    expect(Object.values(answers).map(codesOf)).toEqual([
      ["FORBIDDEN"],
      ["UNAUTHENTICATED"],
      ["TENANT_NOT_FOUND"],
      ["UNAUTHENTICATED"],
      ["BAD_USER_INPUT"],
      ["BAD_USER_INPUT"],
    ]);
    const forbidden = answers.forbidden.body.errors?.[0]?.extensions?.stacktrace;
    expect(Array.isArray(forbidden)).toBe(true);
    expect((forbidden as string[]).length).toBeGreaterThan(1);
  });

  it("still masks an internal failure's message, with the stack for the developer", async () => {
    await dropDashboards(gw);
    const token = await gw.tokenFor(fx.tenantId, fx.users.member);
    const res = await gw.request("{ dashboards { id } }", { tenant: fx.tenantId, token });

    expect(codesOf(res)).toEqual(["INTERNAL_SERVER_ERROR"]);
    expect(res.body.errors?.[0]?.message).toBe(NEUTRAL);
    expect(Array.isArray(res.body.errors?.[0]?.extensions?.stacktrace)).toBe(true);
  });
});
