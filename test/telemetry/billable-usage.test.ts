import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

const REPORTS = `{
  adminTenants {
    id
    healthReport {
      status requestsLastHour errorsLastHour failuresLastHour errorRate
      lastError { code message requestId }
    }
    usageReport { requests errors queryCost }
    billingState { overage lines { metric used included over } }
  }
}`;

interface Report {
  id: string;
  healthReport: {
    status: string;
    requestsLastHour: number;
    errorsLastHour: number;
    failuresLastHour: number;
    errorRate: number;
    lastError: { code: string; message: string; requestId: string } | null;
  };
  usageReport: { requests: number; errors: number; queryCost: number };
  billingState: {
    overage: boolean;
    lines: { metric: string; used: number; included: number; over: number }[];
  };
}

/** Cost 1: one object. */
const READ = "query Tenant { tenant { name } }";
/** UNAUTHENTICATED for anyone without a token, once it runs. */
const USERS = "query Users { users(first: 5) { edges { node { id } } } }";
/** Runs and fails: FORBIDDEN for a member, cost 1. */
const FORBIDDEN_WRITE =
  'mutation CreateChallenge { createChallenge(input: { title: "No" }) { id } }';
/** Fails validation: never runs. */
const INVALID = "query Tenant { tenant { nope } }";
const SUBSCRIPTION = "subscription { __typename }";
/** Reads the tenant's Challenge table. */
const CHALLENGES = "query Dashboard { challenges(first: 5) { edges { node { id title } } } }";

/** How many answers carried each code ("ok" for none). */
function tally(codes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}

/**
 * Who pays and what hurts health: billing counts the operations a
 * tenant's own signed-in users ran, and the error rate counts failures
 * that are the platform's fault. Anonymous floods, rate-limited and
 * refused requests and client errors move neither.
 */
describe("billable usage and server-side failures", () => {
  let gw: TestGateway;
  let flooded: TenantFixture;
  let broken: TenantFixture;
  let staff: string;
  let reports: Map<string, Report>;
  const sent = { anonymous: [] as string[], member: [] as string[], staff: 0 };
  let lastFailure = "";

  async function ask(query: string, options: { token?: string; tenant: string; id?: string }) {
    const res = await gw.request(query, {
      token: options.token,
      tenant: options.tenant,
      headers: options.id ? { "x-request-id": options.id } : {},
    });
    return String(codesOf(res)[0] ?? "ok");
  }

  beforeAll(async () => {
    gw = await startTestGateway("billable-usage", {
      // Rate limits on (the flood meets them); probes never run, so uptime
      // cannot make anyone degraded; flushes only when asked.
      env: { HEALTH_PROBE_MS: "0", TELEMETRY_FLUSH_MS: "600000" },
    });
    [flooded, broken] = await Promise.all([
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("flooded")),
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("broken"), {
        isolation: Isolation.SCHEMA,
      }),
    ]);
    staff = await gw.globalAdminToken();

    // A small monthly deal, and 8 requests a minute for one user or one
    // anonymous address. Staff's change is not billed.
    const configured = await gw.request(
      `mutation { updateTenantConfig(input: { limits: {
        requestsPerMonth: 10, anonymousRequestsPerMinute: 300, userRequestsPerMinute: 8
      } }) { id } }`,
      { token: staff, tenant: flooded.tenantId },
    );
    expect(configured.body.errors).toBeUndefined();
    sent.staff += 1;

    // Anyone without a token: 6 reads of users (UNAUTHENTICATED), 2 reads
    // that pass, then 52 past the address's budget (RATE_LIMITED).
    for (const query of [...Array<string>(6).fill(USERS), ...Array<string>(54).fill(READ)]) {
      sent.anonymous.push(await ask(query, { tenant: flooded.tenantId }));
    }
    // A member: reads, a refused write and an invalid document (the rate
    // limits count all three), then past their own budget of 8.
    const member = await gw.tokenFor(flooded.tenantId, flooded.users.member);
    const reads = (n: number) => Array<string>(n).fill(READ);
    for (const query of [...reads(3), FORBIDDEN_WRITE, INVALID, ...reads(5)]) {
      sent.member.push(await ask(query, { token: member, tenant: flooded.tenantId }));
    }
    // Staff reading inside the tenant: counted as traffic, never billed.
    for (let i = 0; i < 2; i += 1) {
      expect(await ask(READ, { token: staff, tenant: flooded.tenantId })).toBe("ok");
      sent.staff += 1;
    }

    // A real failure of the platform: the SCHEMA tenant's Challenge table
    // goes missing, so its users' reads of challenges fail inside the gateway.
    const schema = `tenant_${broken.tenantId.replaceAll("-", "_")}`;
    const control = gw.gateway.database.control;
    const brokenMember = await gw.tokenFor(broken.tenantId, broken.users.member);
    await control.$executeRawUnsafe(`ALTER TABLE "${schema}"."Challenge" RENAME TO "Away"`);
    try {
      for (let i = 0; i < 20; i += 1) {
        lastFailure = `broken-${i}`;
        const code = await ask(CHALLENGES, {
          token: brokenMember,
          tenant: broken.tenantId,
          id: lastFailure,
        });
        expect(code).toBe("INTERNAL_SERVER_ERROR");
      }
    } finally {
      await control.$executeRawUnsafe(`ALTER TABLE "${schema}"."Away" RENAME TO "Challenge"`);
    }
    // Client errors from anyone still do not count as failures there.
    for (let i = 0; i < 5; i += 1) {
      expect(await ask(USERS, { tenant: broken.tenantId })).toBe("UNAUTHENTICATED");
    }
    // Nor do subscriptions, which the schema lacks: refused while
    // validating, never run into graphql-js's internal error.
    for (let i = 0; i < 3; i += 1) {
      expect(await ask(SUBSCRIPTION, { tenant: broken.tenantId })).toBe("BAD_USER_INPUT");
    }

    await gw.gateway.telemetry.flush();
    const res = await gw.request<{ adminTenants: Report[] }>(REPORTS, { token: staff });
    expect(res.body.errors).toBeUndefined();
    reports = new Map((res.body.data?.adminTenants ?? []).map((r) => [r.id, r]));
  });

  afterAll(() => gw?.stop());

  it("sent what the scenario needs: anonymous client errors, rate limits and a member past their budget", () => {
    expect(tally(sent.anonymous)).toEqual({ UNAUTHENTICATED: 6, ok: 2, RATE_LIMITED: 52 });
    expect(sent.member).toEqual([
      "ok",
      "ok",
      "ok",
      "FORBIDDEN",
      "BAD_USER_INPUT",
      "ok",
      "ok",
      "ok",
      "RATE_LIMITED",
      "RATE_LIMITED",
    ]);
  });

  it("bills only the operations the tenant's own signed-in users ran, exactly", () => {
    const report = reports.get(flooded.tenantId);
    // Six reads and the refused write ran; the invalid document and the
    // two rate-limited requests did not; anonymous and staff requests are not billed.
    expect(report?.usageReport).toEqual({ requests: 7, errors: 1, queryCost: 7 });
    expect(report?.billingState).toEqual({
      overage: false,
      lines: [
        { metric: "requests", used: 7, included: 10, over: 0 },
        expect.objectContaining({ metric: "storageBytes", over: 0 }),
      ],
    });
  });

  it("keeps a tenant flooded with client errors healthy, while its traffic still shows them", () => {
    const report = reports.get(flooded.tenantId)?.healthReport;
    const requests = sent.anonymous.length + sent.member.length + sent.staff;
    const errors = [...sent.anonymous, ...sent.member].filter((code) => code !== "ok").length;

    expect(report).toEqual({
      status: "ok",
      requestsLastHour: requests,
      errorsLastHour: errors,
      failuresLastHour: 0,
      errorRate: 0,
      lastError: null,
    });
  });

  it("still shows real server-side failures as degraded, naming the last one", () => {
    const report = reports.get(broken.tenantId);

    expect(report?.healthReport).toMatchObject({
      status: "degraded",
      requestsLastHour: 28,
      errorsLastHour: 28,
      failuresLastHour: 20,
      lastError: { code: "INTERNAL_SERVER_ERROR", requestId: lastFailure },
    });
    expect(report?.healthReport.errorRate).toBeCloseTo(20 / 28, 6);
    expect(report?.healthReport.lastError?.message).toMatch(/\[P2021\]|\[42P01\]/);
    // Its users' reads ran, failed or not: they are billed.
    expect(report?.usageReport).toMatchObject({ requests: 20, errors: 20 });
  });

  it("keeps counting every request and every error in the five-minute windows", async () => {
    const windows = await gw.gateway.database.control.tenantTraffic.findMany({
      where: { tenantId: { in: [flooded.tenantId, broken.tenantId] } },
    });
    const sum = (tenantId: string, key: "requests" | "errors" | "failures") =>
      windows.filter((w) => w.tenantId === tenantId).reduce((total, w) => total + w[key], 0);

    expect(sum(broken.tenantId, "requests")).toBe(28);
    expect(sum(broken.tenantId, "errors")).toBe(28);
    expect(sum(broken.tenantId, "failures")).toBe(20);
    expect(sum(flooded.tenantId, "failures")).toBe(0);
  });
});
