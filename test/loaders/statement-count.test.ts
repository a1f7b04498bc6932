import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoaderMode } from "../../src/loaders/index.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

/** The dashboard's heaviest read: every challenge, its submissions, their authors' teams. */
const CHALLENGES_QUERY =
  "{ challenges(first: 50) { edges { node { title submissions { score author { name organizations { name } } } } } } }";

const SMALL = { challenges: 5, submissionsPerChallenge: 2 };
const LARGE = { challenges: 50, submissionsPerChallenge: 20 };

interface Edges {
  challenges: { edges: { node: { submissions: unknown[] } }[] };
}

/** A gateway with a small and a large tenant, and a way to count one request's statements. */
class CountingGateway {
  gw!: TestGateway;
  small!: TenantFixture;
  large!: TenantFixture;
  readonly #tokens = new Map<string, string>();

  async start(label: string, loaderMode: LoaderMode): Promise<void> {
    // A generous cache timeout: a Redis call past the default 100 ms on a busy
    // machine would fall back to the database and change the count. Rate
    // limits off: these dashboards would spend a user's query-cost budget.
    // Feature flags are one process-wide snapshot, not per request: kept
    // for the whole file, so no count includes reading them again.
    this.gw = await startTestGateway(label, {
      loaderMode,
      // Health probes would add statements of their own to a count.
      env: {
        CACHE_TIMEOUT_MS: "5000",
        RATE_LIMITS: "false",
        CONFIG_CACHE_TTL_MS: "3600000",
        HEALTH_PROBE_MS: "0",
      },
    });
    this.small = await seedTenantFixture(
      this.gw.gateway.lifecycle,
      uniqueTenantId("stmt-s"),
      SMALL,
    );
    this.large = await seedTenantFixture(
      this.gw.gateway.lifecycle,
      uniqueTenantId("stmt-l"),
      LARGE,
    );
    for (const tenant of [this.small, this.large]) {
      this.#tokens.set(
        tenant.tenantId,
        await this.gw.tokenFor(tenant.tenantId, tenant.users.member),
      );
    }
    // Loads the flags snapshot before anything is counted.
    const warm = await this.gw.request("{ tenant { features } }", {
      tenant: this.small.tenantId,
      token: this.#tokens.get(this.small.tenantId),
    });
    expect(warm.body.errors).toBeUndefined();
  }

  /** Statements one CHALLENGES_QUERY costs; with `cold`, the tenant's keys go first. */
  async count(tenant: TenantFixture, { cold }: { cold: boolean }): Promise<number> {
    if (cold) await this.gw.gateway.cache.clearTenant(tenant.tenantId);

    const counter = this.gw.gateway.database.statements;
    const before = counter.count;
    const res = await this.gw.request<Edges>(CHALLENGES_QUERY, {
      tenant: tenant.tenantId,
      token: this.#tokens.get(tenant.tenantId),
    });
    const spent = counter.count - before;

    // A count of a failed or short answer would prove nothing.
    expect(res.body.errors).toBeUndefined();
    const edges = res.body.data?.challenges.edges ?? [];
    const sizes = tenant === this.large ? LARGE : SMALL;
    expect(edges).toHaveLength(sizes.challenges);
    expect(edges.every((e) => e.node.submissions.length === sizes.submissionsPerChallenge)).toBe(
      true,
    );

    return spent;
  }

  async stop(): Promise<void> {
    if (!this.gw) return;
    try {
      for (const tenant of [this.small, this.large]) {
        if (tenant) await this.gw.gateway.cache.clearTenant(tenant.tenantId);
      }
    } finally {
      // Also when clearing failed: the gateway owns a database of its own.
      await this.gw.stop();
    }
  }
}

describe("SQL statements of the challenges dashboard query", () => {
  const batched = new CountingGateway();
  const naive = new CountingGateway();

  beforeAll(async () => {
    await Promise.all([
      batched.start("stmt-batched", "batched"),
      naive.start("stmt-naive", "naive"),
    ]);
  });
  afterAll(async () => {
    await Promise.all([batched.stop(), naive.stop()]);
  });

  describe("with batched loaders", () => {
    it("costs the same with a cold cache for 5 x 2 and 50 x 20 challenges x submissions", async () => {
      const small = await batched.count(batched.small, { cold: true });
      const large = await batched.count(batched.large, { cold: true });

      process.stdout.write(`statements, cold cache: 5x2 ${small}, 50x20 ${large}\n`);
      expect(small).toBeGreaterThan(0);
      expect(large).toBe(small);
    });

    it("costs fewer with a warm cache than cold, and again the same for both sizes", async () => {
      const cold = await batched.count(batched.large, { cold: true });
      await batched.count(batched.small, { cold: true });
      const small = await batched.count(batched.small, { cold: false });
      const large = await batched.count(batched.large, { cold: false });

      process.stdout.write(`statements, warm cache: 5x2 ${small}, 50x20 ${large}\n`);
      expect(small).toBeLessThan(cold);
      expect(large).toBe(small);
    });

    it("costs the same again when the same request repeats", async () => {
      const first = await batched.count(batched.large, { cold: true });
      const second = await batched.count(batched.large, { cold: true });

      expect(second).toBe(first);
    });
  });

  describe("with naive loaders (the baseline)", () => {
    it("costs far more for 50 x 20 than for 5 x 2, so the counter can tell", async () => {
      const small = await naive.count(naive.small, { cold: true });
      const large = await naive.count(naive.large, { cold: true });
      const reference = await batched.count(batched.large, { cold: true });

      process.stdout.write(`statements, naive loaders: 5x2 ${small}, 50x20 ${large}\n`);
      expect(small).toBeGreaterThan(reference);
      expect(large).toBeGreaterThan(small * 10);
    });
  });
});
