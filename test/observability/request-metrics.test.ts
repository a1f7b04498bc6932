import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantStatus } from "../../src/generated/prisma/enums.js";
import { deprovisionTenant } from "../../src/lifecycle/deprovision.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import { scrape, type Scrape } from "./prometheus-text.js";

const ME = "query Me { me { id name } }";
const CREATE_CHALLENGE = `mutation CreateChallenge($input: CreateChallengeInput!) {
  createChallenge(input: $input) { id }
}`;
const CREATE_ROLE = `mutation CreateRole($input: CreateRoleInput!) {
  createRole(input: $input) { name }
}`;

const REQUESTS = "gateway_graphql_requests_total";
const ERRORS = "gateway_graphql_errors_total";
const LATENCY_COUNT = "gateway_graphql_request_duration_seconds_count";
const OPERATION_ERRORS = "gateway_graphql_operation_errors_total";
const OPERATION_LATENCY_COUNT = "gateway_graphql_operation_duration_seconds_count";

/** Series of the per-request and per-tenant metrics (process metrics left out). */
function tenantSeries(metrics: Scrape): string[] {
  return [...metrics.seriesKeys()].filter((key) => key.includes('"tenant"'));
}

describe("/metrics: requests and errors per tenant and operation", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;
  let admin: string;
  let member: string;

  beforeAll(async () => {
    gw = await startTestGateway("metrics-requests", {
      env: { METRICS_OPERATIONS: "NightlyReport, WeeklyDigest" },
    });
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("metrics-req"));
    admin = await gw.tokenFor(tenant.tenantId, tenant.users.admin);
    member = await gw.tokenFor(tenant.tenantId, tenant.users.member);
  });
  afterAll(() => gw?.stop());

  it("counts requests by operation and outcome, and errors by code", async () => {
    const t = tenant.tenantId;
    for (let i = 0; i < 3; i += 1) {
      expect((await gw.request(ME, { tenant: t, token: admin })).body.errors).toBeUndefined();
    }
    const forbidden = await gw.request(CREATE_CHALLENGE, {
      tenant: t,
      token: member,
      variables: { input: { title: "Not allowed" } },
    });
    expect(forbidden.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const badInput = await gw.request(CREATE_ROLE, {
      tenant: t,
      token: admin,
      variables: { input: { name: "empty", permissions: [] } },
    });
    expect(badInput.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");

    const metrics = await scrape(gw.url);
    const labels = (operation: string, outcome: string) => ({ tenant: t, operation, outcome });
    expect(metrics.value(REQUESTS, labels("Me", "ok"))).toBe(3);
    expect(metrics.value(REQUESTS, labels("CreateChallenge", "error"))).toBe(1);
    expect(metrics.value(REQUESTS, labels("CreateRole", "error"))).toBe(1);
    expect(metrics.value(REQUESTS, labels("Me", "error"))).toBeUndefined();
    // Errors per tenant by code; by operation and code for all tenants together.
    expect(metrics.value(ERRORS, { tenant: t, code: "FORBIDDEN" })).toBe(1);
    expect(metrics.value(ERRORS, { tenant: t, code: "BAD_USER_INPUT" })).toBe(1);
    expect(metrics.sum(ERRORS, { tenant: t })).toBe(2);
    expect(
      metrics.value(OPERATION_ERRORS, { operation: "CreateChallenge", code: "FORBIDDEN" }),
    ).toBe(1);
    expect(
      metrics.value(OPERATION_ERRORS, { operation: "CreateRole", code: "BAD_USER_INPUT" }),
    ).toBe(1);

    // One latency observation per request: in the tenant's histogram and in the operation's.
    expect(metrics.value(LATENCY_COUNT, { tenant: t })).toBe(5);
    expect(metrics.value(OPERATION_LATENCY_COUNT, { operation: "Me" })).toBeGreaterThanOrEqual(3);
    expect(metrics.sum(REQUESTS, { tenant: t })).toBe(5);
  });

  it("folds unknown operation names into `other` and unnamed ones into `anonymous`", async () => {
    const t = uniqueTenantId("metrics-ops");
    await seedTenantFixture(gw.gateway.lifecycle, t, { challenges: 0 });
    for (const name of ["Probe1", "Probe2", "Probe3", "ClientMadeThisUp"]) {
      await gw.request(`query ${name} { tenant { id } }`, { tenant: t });
    }
    await gw.request("{ tenant { id } }", { tenant: t });
    await gw.request("query { tenant { id } }", { tenant: t });
    // Names from METRICS_OPERATIONS get series of their own.
    await gw.request("query NightlyReport { tenant { id } }", { tenant: t });
    // operationName picks one of several operations; it names the series.
    await fetch(`${gw.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tenant-id": t },
      body: JSON.stringify({
        query: "query Skipped { tenant { id } } query WeeklyDigest { tenant { name } }",
        operationName: "WeeklyDigest",
      }),
    });

    const metrics = await scrape(gw.url);
    const ok = (operation: string) =>
      metrics.value(REQUESTS, { tenant: t, operation, outcome: "ok" });
    expect(ok("other")).toBe(4);
    expect(ok("anonymous")).toBe(2);
    expect(ok("NightlyReport")).toBe(1);
    expect(ok("WeeklyDigest")).toBe(1);
    expect(metrics.labelValues(REQUESTS, "operation")).not.toContain("ClientMadeThisUp");
    expect(metrics.labelValues(OPERATION_LATENCY_COUNT, "operation")).not.toContain(
      "ClientMadeThisUp",
    );
    expect(metrics.value(LATENCY_COUNT, { tenant: t })).toBe(8);
  });

  it("puts requests that name no tenant under _none", async () => {
    const before = (await scrape(gw.url)).sum(REQUESTS, { tenant: "_none", operation: "Me" });
    const res = await gw.request(ME, { token: await gw.globalAdminToken() });
    expect(res.status).toBe(200);

    const after = await scrape(gw.url);
    expect(after.sum(REQUESTS, { tenant: "_none", operation: "Me" }) - before).toBe(1);
  });

  it("counts hundreds of made-up tenant ids under one label, with no new series", async () => {
    const madeUp = (i: number) => `nobody-${randomBytes(4).toString("hex")}-${i}`;
    const send = async (count: number) => {
      const ids = Array.from({ length: count }, (_, i) => madeUp(i));
      for (let i = 0; i < ids.length; i += 50) {
        const answers = await Promise.all(
          ids.slice(i, i + 50).map((id) => gw.request(ME, { tenant: id })),
        );
        for (const answer of answers) expect(answer.status).toBe(404);
      }
      return ids;
    };
    const refused = { tenant: "_unknown", operation: "Me", outcome: "error" };
    const notFound = { tenant: "_unknown", code: "TENANT_NOT_FOUND" };

    // A first few make the shared series exist; the flood must add none.
    await send(5);
    const before = await scrape(gw.url);
    const ids = await send(300);
    const after = await scrape(gw.url);

    expect(tenantSeries(after).sort()).toEqual(tenantSeries(before).sort());
    expect((after.value(REQUESTS, refused) ?? 0) - (before.value(REQUESTS, refused) ?? 0)).toBe(
      300,
    );
    expect((after.value(ERRORS, notFound) ?? 0) - (before.value(ERRORS, notFound) ?? 0)).toBe(300);
    const tenants = after.samples.map((sample) => sample.labels.tenant);
    expect(ids.some((id) => tenants.includes(id))).toBe(false);
  });

  it("removes a tenant's series once the tenant is deprovisioned", async () => {
    const gone = uniqueTenantId("metrics-gone");
    const fixture = await seedTenantFixture(gw.gateway.lifecycle, gone, { challenges: 0 });
    const token = await gw.tokenFor(gone, fixture.users.admin);
    await gw.request(ME, { tenant: gone, token });
    expect(
      (await scrape(gw.url)).value(REQUESTS, { tenant: gone, operation: "Me", outcome: "ok" }),
    ).toBe(1);

    await gw.gateway.database.control.tenant.update({
      where: { id: gone },
      data: { status: TenantStatus.SUSPENDED },
    });
    await deprovisionTenant(gw.gateway.lifecycle, gone, "test:metrics");

    const after = await scrape(gw.url);
    expect(after.samples.filter((sample) => sample.labels.tenant === gone)).toEqual([]);
    // The other tenant keeps its series.
    expect(after.sum(REQUESTS, { tenant: tenant.tenantId })).toBe(5);
  });
});
