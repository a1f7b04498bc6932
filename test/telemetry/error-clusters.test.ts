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
const FORBIDDEN_WRITE = 'mutation Create { createChallenge(input: { title: "No" }) { id } }';
/** A read of a challenge that is not there: NOT_FOUND on `submitToChallenge`… */
const MISSING_CHALLENGE = `mutation Submit($id: ID!) { submitToChallenge(challengeId: $id, score: 1) { id } }`;

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

    const found = (await clusters({ code: "FORBIDDEN" })).filter((c) => c.operation === "Create");
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

    const submit = (await clusters()).filter((c) => c.operation === "Submit");
    expect(submit.map((c) => c.code).sort()).toEqual(["FORBIDDEN", "NOT_FOUND"]);
    const create = (await clusters({ code: "FORBIDDEN" })).find((c) => c.operation === "Create");
    const fingerprints = new Set([...submit, create].map((c) => c?.fingerprint));
    expect(fingerprints.size).toBe(3);
    expect(submit.find((c) => c.code === "NOT_FOUND")?.tenants).toEqual([a.tenantId]);
  });

  it("stores messages with no value a tenant sent", async () => {
    const secret = "Quarterly-Plan-42";
    const { res } = await send(a, "admin", "query Odd($id: ID!) { user(id: $id) { id } }", {
      id: { nested: secret },
    });
    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    await gw.gateway.telemetry.flush();

    const rows = await gw.gateway.database.control.errorCluster.findMany({
      where: { operation: "Odd" },
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.message).not.toContain(secret);
    expect(rows[0]?.message).not.toContain("42");
    expect(rows[0]?.message).toMatch(/^Variable <str> got invalid value/);
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
