import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/errors/codes.js";
import { BUILT_IN_OPERATIONS } from "../../src/observability/known-operations.js";
import { seedTenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import { scrape, type Scrape } from "./prometheus-text.js";

/**
 * What one tenant's request series may cost at most, however its traffic is
 * shaped: every known operation name plus `anonymous` and `other`, each ok
 * and failing; every error code once; one latency histogram (11 buckets,
 * +Inf, _sum and _count).
 */
const OPERATION_LABELS = BUILT_IN_OPERATIONS.length + 2;
const REQUEST_SERIES_PER_TENANT = OPERATION_LABELS * 2 + Object.keys(ERROR_CODES).length + (11 + 3);

/** The request series (gateway_graphql_*) labelled with `tenant`. */
function requestSeriesOf(metrics: Scrape, tenant: string): string[] {
  return metrics.samples
    .filter((sample) => sample.name.startsWith("gateway_graphql_"))
    .filter((sample) => sample.labels.tenant === tenant)
    .map((sample) => `${sample.name}${JSON.stringify(sample.labels)}`);
}

/** The request series that name no tenant: shared by all tenants. */
function sharedSeries(metrics: Scrape): string[] {
  return metrics.samples
    .filter((sample) => sample.name.startsWith("gateway_graphql_"))
    .filter((sample) => sample.labels.tenant === undefined)
    .map((sample) => `${sample.name}${JSON.stringify(sample.labels)}`)
    .sort();
}

/**
 * Anonymous traffic that names every known operation (and one made-up name,
 * and none) in every shape a client can send: a query that answers, a query
 * that fails validation, a mutation, a subscription, a document that does
 * not parse. All of it is what anyone on the internet may send a tenant.
 */
function everyShape(): { query: string; operationName?: string }[] {
  const names = [...BUILT_IN_OPERATIONS, "ClientMadeThisUp"];
  const bodies: { query: string; operationName?: string }[] = [];
  for (const name of names) {
    bodies.push(
      { query: `query ${name} { tenant { id } }` },
      { query: `query ${name} { nope }` },
      { query: `mutation ${name} { tenant { id } }` },
      { query: `subscription ${name} { tenant { id } }` },
      { query: `query ${name} { tenant {`, operationName: name },
      { query: `query ${name} { me { id } }` },
    );
  }
  bodies.push({ query: "{ tenant { id } }" }, { query: "{ nope }" }, { query: "mutation { x }" });

  return bodies;
}

describe("/metrics: series per tenant stay few, whatever a client sends", () => {
  let gw: TestGateway;

  beforeAll(async () => {
    // Rate limits off: every request reaches GraphQL and adds what it can.
    gw = await startTestGateway("metrics-bound", { env: { RATE_LIMITS: "false" } });
  });
  afterAll(() => gw?.stop());

  async function flood(tenant: string): Promise<number> {
    const bodies = everyShape();
    for (let i = 0; i < bodies.length; i += 40) {
      await Promise.all(
        bodies.slice(i, i + 40).map((body) =>
          fetch(`${gw.url}/graphql`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-tenant-id": tenant },
            body: JSON.stringify(body),
          }).then((response) => response.arrayBuffer()),
        ),
      );
    }
    return bodies.length;
  }

  it(`holds one tenant hit by every known operation to ${REQUEST_SERIES_PER_TENANT} request series`, async () => {
    const first = uniqueTenantId("bound-a");
    const second = uniqueTenantId("bound-b");
    await seedTenantFixture(gw.gateway.lifecycle, first, { challenges: 0 });
    await seedTenantFixture(gw.gateway.lifecycle, second, { challenges: 0 });

    const before = await scrape(gw.url);
    const sent = await flood(first);
    const afterFirst = await scrape(gw.url);
    await flood(second);
    const afterSecond = await scrape(gw.url);

    const counted = requestSeriesOf(afterFirst, first).length;
    console.info(
      `metrics: ${sent} anonymous requests to one tenant: request series of the tenant ` +
        `${requestSeriesOf(before, first).length} before, ${counted} after ` +
        `(bound ${REQUEST_SERIES_PER_TENANT}); shared series ${sharedSeries(afterFirst).length}`,
    );

    expect(counted).toBeGreaterThan(0);
    expect(counted).toBeLessThanOrEqual(REQUEST_SERIES_PER_TENANT);
    // The per-operation series name no tenant: a second tenant adds none of them.
    expect(requestSeriesOf(afterSecond, second).length).toBe(counted);
    expect(sharedSeries(afterSecond)).toEqual(sharedSeries(afterFirst));
    // Each tenant has exactly one latency histogram, by tenant alone.
    const histogram = afterFirst.matching("gateway_graphql_request_duration_seconds_count", {
      tenant: first,
    });
    expect(histogram.map((sample) => sample.labels)).toEqual([{ tenant: first }]);
    expect(histogram[0]?.value).toBe(sent);
  });
});
