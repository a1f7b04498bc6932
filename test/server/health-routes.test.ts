import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  startTestGateway,
  TEST_METRICS_TOKEN,
  uniqueTenantId,
  type TestGateway,
} from "../support/gateway.js";

describe("health, readiness and metrics routes", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;

  beforeAll(async () => {
    gw = await startTestGateway("health", { env: { METRICS_TOKEN: "metrics-secret-for-tests" } });
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("health"));
  });
  afterAll(() => gw?.stop());

  it("answers /healthz while the process runs", async () => {
    const res = await fetch(`${gw.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("answers /readyz with both dependencies up", async () => {
    const res = await fetch(`${gw.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: "ready",
      checks: { database: "up", cache: "up" },
      down: [],
    });
  });

  it("keeps /metrics behind the metrics token when one is set", async () => {
    const refused = await fetch(`${gw.url}/metrics`);
    expect(refused.status).toBe(401);
    const wrong = await fetch(`${gw.url}/metrics`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    const extra = await fetch(`${gw.url}/metrics`, {
      headers: { authorization: "Bearer metrics-secret-for-tests x" },
    });
    expect(extra.status).toBe(401);
  });

  it("takes the bearer scheme in any case", async () => {
    const lower = await fetch(`${gw.url}/metrics`, {
      headers: { authorization: "bearer metrics-secret-for-tests" },
    });
    expect(lower.status).toBe(200);
  });

  it("labels request series with registered tenants only", async () => {
    await gw.request("{ tenant { id } }", { tenant: tenant.tenantId });
    await gw.request("{ tenant { id } }", { tenant: "made-up-tenant" });

    const res = await fetch(`${gw.url}/metrics`, {
      headers: { authorization: "Bearer metrics-secret-for-tests" },
    });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toMatch(
      new RegExp(
        `gateway_graphql_requests_total\\{tenant="${tenant.tenantId}",operation="anonymous",outcome="ok"\\} 1`,
      ),
    );
    expect(text).not.toContain("made-up-tenant");
  });
});

describe("/metrics in production", () => {
  let gw: TestGateway;

  beforeAll(async () => {
    // Production needs METRICS_TOKEN to start (see the config test); the test
    // support sets TEST_METRICS_TOKEN.
    gw = await startTestGateway("health-prod", { production: true, redis: false });
  });
  afterAll(() => gw?.stop());

  it("is never open: it answers only the metrics token", async () => {
    await gw.request("{ __typename }");
    const refused = await fetch(`${gw.url}/metrics`);
    expect(refused.status).toBe(401);
    expect(await refused.text()).not.toContain("gateway_");

    const res = await fetch(`${gw.url}/metrics`, {
      headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^gateway_graphql_requests_total\{tenant="_none"/m);
  });
});
