import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

const CLUSTERS = `query (
  $first: Int
  $tenantId: ID
  $code: String
  $orderBy: ErrorClusterOrder
  $seenWithinHours: Int
) {
  adminErrorClusters(
    first: $first
    tenantId: $tenantId
    code: $code
    orderBy: $orderBy
    seenWithinHours: $seenWithinHours
  ) {
    fingerprint code operation path message count firstSeen lastSeen
    tenants tenantCount sampleRequestIds
  }
}`;

interface Cluster {
  fingerprint: string;
  code: string;
  operation: string;
  path: string;
  message: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  tenants: string[];
  tenantCount: number;
  sampleRequestIds: string[];
}

/** A mutation a member may not run: FORBIDDEN on `createChallenge`. */
const FORBIDDEN_WRITE =
  'mutation CreateChallenge { createChallenge(input: { title: "No" }) { id } }';
/** A read of a challenge that is not there: NOT_FOUND on `submitToChallenge`… */
const MISSING_CHALLENGE = `mutation SubmitToChallenge($id: ID!) { submitToChallenge(challengeId: $id, score: 1) { id } }`;

describe("error clusters", () => {
  let gw: TestGateway;
  let a: TenantFixture;
  let b: TenantFixture;
  let staff: string;
  const tokens = new Map<string, string>();
  let requestCounter = 0;

  /** Sends as a tenant user with a request id of our own, and returns that id. */
  async function send(
    tenant: TenantFixture,
    user: keyof TenantFixture["users"],
    query: string,
    variables?: Record<string, unknown>,
  ) {
    const key = `${tenant.tenantId}:${user}`;
    if (!tokens.has(key)) tokens.set(key, await gw.tokenFor(tenant.tenantId, tenant.users[user]));
    requestCounter += 1;
    const requestId = `cluster-test-${requestCounter}-${tenant.tenantId}`;
    const res = await gw.request(query, {
      token: tokens.get(key),
      variables,
      headers: { "x-request-id": requestId },
    });

    return { res, requestId };
  }

  async function clusters(variables: Record<string, unknown> = {}) {
    const res = await gw.request<{ adminErrorClusters: Cluster[] }>(CLUSTERS, {
      token: staff,
      variables,
    });
    expect(res.body.errors).toBeUndefined();

    return res.body.data?.adminErrorClusters ?? [];
  }

  beforeAll(async () => {
    gw = await startTestGateway("error-clusters", {
      env: { RATE_LIMITS: "false", HEALTH_PROBE_MS: "0", TELEMETRY_FLUSH_MS: "600000" },
    });
    a = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("ec-a"));
    b = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("ec-b"));
    staff = await gw.globalAdminToken();
  });
  afterAll(() => gw?.stop());

  it("groups the same error of two tenants into one cluster naming both, with their request ids", async () => {
    const sent = [
      await send(a, "member", FORBIDDEN_WRITE),
      await send(b, "member", FORBIDDEN_WRITE),
      await send(a, "member", FORBIDDEN_WRITE),
    ];
    for (const { res } of sent) expect(codesOf(res)).toEqual(["FORBIDDEN"]);
    await gw.gateway.telemetry.flush();

    const found = (await clusters({ code: "FORBIDDEN" })).filter(
      (c) => c.operation === "CreateChallenge",
    );
    expect(found).toHaveLength(1);
    const [cluster] = found as [Cluster];
    expect(cluster).toMatchObject({
      code: "FORBIDDEN",
      path: "createChallenge",
      message: "You are not allowed to do this.",
      count: 3,
      tenantCount: 2,
    });
    expect([...cluster.tenants].sort()).toEqual([a.tenantId, b.tenantId].sort());
    expect(cluster.tenants[0]).toBe(a.tenantId);
    expect(cluster.sampleRequestIds).toEqual(sent.map((s) => s.requestId).reverse());
    expect(Date.parse(cluster.firstSeen)).toBeLessThanOrEqual(Date.parse(cluster.lastSeen));
  });

  it("keeps different paths and codes apart", async () => {
    const missing = await send(a, "participant", MISSING_CHALLENGE, {
      id: "00000000-0000-7000-8000-000000000000",
    });
    const forbidden = await send(b, "member", MISSING_CHALLENGE, {
      id: "00000000-0000-7000-8000-000000000001",
    });
    expect(codesOf(missing.res)).toEqual(["NOT_FOUND"]);
    expect(codesOf(forbidden.res)).toEqual(["FORBIDDEN"]);
    await gw.gateway.telemetry.flush();

    const submit = (await clusters()).filter((c) => c.operation === "SubmitToChallenge");
    expect(submit.map((c) => c.code).sort()).toEqual(["FORBIDDEN", "NOT_FOUND"]);
    const create = (await clusters({ code: "FORBIDDEN" })).find(
      (c) => c.operation === "CreateChallenge",
    );
    const fingerprints = new Set([...submit, create].map((c) => c?.fingerprint));
    expect(fingerprints.size).toBe(3);
    expect(submit.find((c) => c.code === "NOT_FOUND")?.tenants).toEqual([a.tenantId]);
  });

  it("stores messages with no value a tenant sent", async () => {
    const secret = "Quarterly-Plan-42";
    const { res } = await send(a, "admin", "query User($id: ID!) { user(id: $id) { id } }", {
      id: { nested: secret },
    });
    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    await gw.gateway.telemetry.flush();

    const rows = await gw.gateway.database.control.errorCluster.findMany({
      where: { operation: "User" },
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.message).not.toContain(secret);
    expect(rows[0]?.message).not.toContain("42");
    // A refused variable's message echoes its value: it is replaced whole.
    expect(rows[0]?.message).toBe("A variable's value was refused.");
  });

  it("filters by tenant and code, newest first, and caps the list", async () => {
    const ofB = await clusters({ tenantId: b.tenantId });
    expect(ofB.length).toBeGreaterThanOrEqual(2);
    expect(ofB.every((c) => c.tenants.includes(b.tenantId))).toBe(true);
    const seen = ofB.map((c) => Date.parse(c.lastSeen));
    expect(seen).toEqual([...seen].sort((x, y) => y - x));

    expect(await clusters({ first: 1 })).toHaveLength(1);
    expect(await clusters({ code: "TENANT_SUSPENDED" })).toEqual([]);
  });

  it("puts the most frequent first when asked, and keeps only those seen within the window", async () => {
    const control = gw.gateway.database.control;
    const old = new Date(Date.now() - 3 * 3_600_000);
    // A frequent cluster last seen three hours ago: first by count, but
    // outside a window of two hours.
    await control.errorCluster.create({
      data: {
        fingerprint: "f".repeat(64),
        code: "INTERNAL_SERVER_ERROR",
        operation: "Old",
        path: "old",
        message: "an old failure",
        count: 1_000_000n,
        firstSeen: old,
        lastSeen: old,
        sampleRequestIds: [],
      },
    });
    const all = await clusters({ first: 100 });
    const frequent = await clusters({ first: 100, orderBy: "MOST_FREQUENT" });
    expect(frequent[0]?.operation).toBe("Old");
    const counts = frequent.map((c) => c.count);
    expect(counts).toEqual([...counts].sort((x, y) => y - x));
    expect(new Set(frequent.map((c) => c.fingerprint))).toEqual(
      new Set(all.map((c) => c.fingerprint)),
    );

    const recent = await clusters({ first: 100, orderBy: "MOST_FREQUENT", seenWithinHours: 2 });
    expect(recent.map((c) => c.operation)).not.toContain("Old");
    expect(recent).toHaveLength(all.length - 1);
  });

  it("refuses a bad first, code or tenant id with BAD_USER_INPUT naming the argument", async () => {
    for (const [variables, field] of [
      [{ seenWithinHours: 0 }, "seenWithinHours"],
      [{ seenWithinHours: 169 }, "seenWithinHours"],
      [{ first: 0 }, "first"],
      [{ first: 101 }, "first"],
      [{ code: "TEAPOT" }, "code"],
      [{ tenantId: "Not A Tenant" }, "tenantId"],
    ] as const) {
      const res = await gw.request(CLUSTERS, { token: staff, variables });
      expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
      expect(res.body.errors?.[0]?.extensions?.field).toBe(field);
    }
  });

  it("is refused to tenant admins and members", async () => {
    for (const user of ["admin", "member"] as const) {
      const { res } = await send(a, user, "{ adminErrorClusters { fingerprint } }");
      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
    }
  });
});

/** What anyone can send without a token, and what the error clusters make of it. */
describe("error clusters under a flood", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;
  let staff: string;

  /** Letters only, so no value pattern takes them out: 0 → "qa", 12 → "qbc". */
  const word = (n: number) =>
    `q${[...String(n)].map((digit) => String.fromCharCode(97 + Number(digit))).join("")}`;

  /** Sent without a token, to the tenant or (null) to none. */
  async function anonymous(query: string, tenantId: string | null = tenant.tenantId) {
    return gw.request(query, { tenant: tenantId ?? undefined });
  }

  async function clustersOf(tenantId: string | null, code?: string) {
    return gw.gateway.database.control.errorCluster.findMany({
      where: {
        ...(code ? { code } : {}),
        tenants: tenantId ? { some: { tenantId } } : { none: {} },
      },
      include: { tenants: true },
    });
  }

  beforeAll(async () => {
    gw = await startTestGateway("error-cluster-flood", {
      env: { RATE_LIMITS: "false", HEALTH_PROBE_MS: "0", TELEMETRY_FLUSH_MS: "600000" },
    });
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("ec-flood"));
    staff = await gw.globalAdminToken();
  });
  afterAll(() => gw?.stop());

  it("folds made-up operation names into one cluster", async () => {
    for (let i = 1; i <= 30; i += 1) {
      const res = await anonymous(`query G${i} { users(first: 1) { edges { node { id } } } }`);
      expect(codesOf(res)).toEqual(["UNAUTHENTICATED"]);
    }
    await gw.gateway.telemetry.flush();

    const found = await clustersOf(tenant.tenantId, "UNAUTHENTICATED");
    expect(found.map((c) => [c.operation, c.path, Number(c.count)])).toEqual([
      ["other", "users", 30],
    ]);
  });

  it("reads paths by field name, so long aliases make neither new clusters nor long paths", async () => {
    // As many as the document's token limit lets through, each 1,300 characters long.
    const aliases = Array.from({ length: 400 }, (_, i) => `${"a".repeat(1_300)}${word(i)}`);
    const res = await gw.request(
      `query ($id: ID!) { ${aliases.map((alias) => `${alias}: user(id: $id) { id }`).join(" ")} }`,
      { tenant: tenant.tenantId, variables: { id: "00000000-0000-7000-8000-000000000000" } },
    );
    expect(res.body.errors).toHaveLength(400);
    expect(new Set(codesOf(res))).toEqual(new Set(["UNAUTHENTICATED"]));
    await gw.gateway.telemetry.flush();

    const found = (await clustersOf(tenant.tenantId, "UNAUTHENTICATED")).filter(
      (c) => c.operation === "anonymous",
    );
    expect(found.map((c) => [c.path, Number(c.count)])).toEqual([["user", 400]]);
  });

  it("keeps documents refused with made-up literals in one cluster, whose message holds none of them", async () => {
    // graphql-js prints these literals unquoted in its messages; each would
    // be a cluster of its own (the per-flush cap is tested in fingerprints.test.ts).
    for (const [tenantId, from] of [
      [tenant.tenantId, 0],
      [null, 100],
    ] as const) {
      for (let i = from; i < from + 30; i += 1) {
        const res = await anonymous(
          `{ users(first: ${word(i)}) { edges { node { id } } } }`,
          tenantId,
        );
        expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
        expect(res.body.errors?.[0]?.message).toContain(word(i));
      }
    }
    await gw.gateway.telemetry.flush();

    // One cluster for both: 30 from the tenant (its share) and 30 from no tenant.
    const found = await clustersOf(tenant.tenantId, "BAD_USER_INPUT");
    expect(
      found.map((c) => [
        c.operation,
        c.path,
        c.message,
        Number(c.count),
        c.tenants.map((share) => [share.tenantId, Number(share.count)]),
      ]),
    ).toEqual([["anonymous", "", "The document failed validation.", 60, [[tenant.tenantId, 30]]]]);
  });

  it("stores an organization name with quotes of its own as one placeholder", async () => {
    const token = await gw.tokenFor(tenant.tenantId, tenant.users.admin);
    const create = `mutation CreateOrganization($name: String!) {
      createOrganization(input: { name: $name }) { id }
    }`;
    const name = 'Project "Falcon" takeover of Initech, contact Jane Roe';
    const first = await gw.request(create, { token, variables: { name } });
    expect(first.body.errors).toBeUndefined();
    const again = await gw.request(create, { token, variables: { name } });
    expect(codesOf(again)).toEqual(["BAD_USER_INPUT"]);
    await gw.gateway.telemetry.flush();

    const [cluster, ...rest] = await gw.gateway.database.control.errorCluster.findMany({
      where: { operation: "CreateOrganization" },
    });
    expect(rest).toEqual([]);
    expect(cluster?.message).toBe("An organization named <str> already exists.");
    expect(cluster?.path).toBe("createOrganization");
  });

  it("shows a tenant's own count, first and last time and order when filtered by that tenant", async () => {
    const control = gw.gateway.database.control;
    const other = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("ec-other"));
    const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);
    // "busy" is frequent and recent overall, but rare and old for our tenant;
    // "ours" is the other way round.
    for (const [fingerprint, count, seen, share] of [
      ["1".repeat(64), 1_000n, hoursAgo(0.1), { count: 1n, first: hoursAgo(5), last: hoursAgo(3) }],
      ["2".repeat(64), 10n, hoursAgo(0.5), { count: 7n, first: hoursAgo(2), last: hoursAgo(0.5) }],
    ] as const) {
      await control.errorCluster.create({
        data: {
          fingerprint,
          code: "NOT_FOUND",
          operation: "other",
          path: "challenge",
          message: `share test ${count}`,
          count,
          firstSeen: hoursAgo(100),
          lastSeen: seen,
          sampleRequestIds: ["someone-elses-request"],
          tenants: {
            create: [
              {
                tenantId: tenant.tenantId,
                count: share.count,
                firstSeen: share.first,
                lastSeen: share.last,
                lastRequestId: `ours-${count}`,
              },
              {
                tenantId: other.tenantId,
                count: count - share.count,
                firstSeen: hoursAgo(100),
                lastSeen: seen,
                lastRequestId: "theirs",
              },
            ],
          },
        },
      });
    }
    const list = async (variables: Record<string, unknown>) => {
      const res = await gw.request<{ adminErrorClusters: Cluster[] }>(CLUSTERS, {
        token: staff,
        variables: { code: "NOT_FOUND", ...variables },
      });
      expect(res.body.errors).toBeUndefined();
      return (res.body.data?.adminErrorClusters ?? []).filter((c) =>
        c.message.startsWith("share test"),
      );
    };

    const frequent = await list({ tenantId: tenant.tenantId, orderBy: "MOST_FREQUENT" });
    expect(frequent.map((c) => [c.count, c.sampleRequestIds])).toEqual([
      [7, ["ours-10"]],
      [1, ["ours-1000"]],
    ]);
    expect(frequent.map((c) => c.tenantCount)).toEqual([2, 2]);
    const recent = await list({ tenantId: tenant.tenantId });
    expect(recent.map((c) => c.count)).toEqual([7, 1]);
    // Seen by this tenant within two hours: only the one it met 30 minutes ago.
    expect(
      (await list({ tenantId: tenant.tenantId, seenWithinHours: 2 })).map((c) => c.count),
    ).toEqual([7]);
    // Unfiltered, the global figures and order.
    expect((await list({ orderBy: "MOST_FREQUENT" })).map((c) => c.count)).toEqual([1_000, 10]);

    const shares = await control.errorClusterTenant.findMany({
      where: { tenantId: tenant.tenantId, lastRequestId: { startsWith: "ours-" } },
      orderBy: { count: "desc" },
    });
    expect(frequent.map((c) => [Date.parse(c.firstSeen), Date.parse(c.lastSeen)])).toEqual(
      shares.map((s) => [s.firstSeen.getTime(), s.lastSeen.getTime()]),
    );
  });
});
