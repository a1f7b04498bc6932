import { describe, expect, it } from "vitest";
import { BenchOptionsError } from "../../src/bench/bench-options.js";
import type { SeededTenant } from "../../src/bench/fleet-provisioning.js";
import { judgeAnswer } from "../../src/bench/tenant-answer.js";
import { HelpRequested, loadTenantBenchOptions } from "../../src/bench/tenant-bench-options.js";
import { planFleet, runNames } from "../../src/bench/tenant-fleet.js";
import { Isolation } from "../../src/generated/prisma/enums.js";

function seeded(id: string, ordinal: number): SeededTenant {
  return {
    id,
    ordinal,
    isolation: Isolation.SHARED,
    region: "local",
    server: "control",
    name: `Bench tenant ${id}`,
    callerId: `caller-${id}`,
    callerEmail: `reader@${id}.test`,
    challengeTitle: `Challenge of ${id}`,
    score: ordinal + 0.5,
    token: "token",
  };
}

/** The answer the gateway gives for `tenant` when all is well. */
function answerOf(tenant: SeededTenant) {
  return {
    data: {
      tenant: { id: tenant.id, name: tenant.name },
      me: { id: tenant.callerId, email: tenant.callerEmail },
      challenges: {
        edges: [
          {
            node: {
              title: tenant.challengeTitle,
              submissions: [{ score: tenant.score, author: { email: tenant.callerEmail } }],
            },
          },
        ],
      },
    },
  };
}

describe("the scale benchmark's fleet plan", () => {
  it("spreads every tier evenly over the round-robin order", () => {
    const plan = planFleet("tb000001", { shared: 8, schema: 2, database: 2 });

    expect(plan).toHaveLength(12);
    expect(plan.map((tenant) => tenant.ordinal)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // Neither half of the order holds a tier alone.
    for (const half of [plan.slice(0, 6), plan.slice(6)]) {
      expect(half.filter((t) => t.isolation === Isolation.SCHEMA)).toHaveLength(1);
      expect(half.filter((t) => t.isolation === Isolation.DATABASE)).toHaveLength(1);
    }
  });

  it("puts DATABASE tenants on both servers, half each", () => {
    const plan = planFleet("tb000001", { shared: 0, schema: 0, database: 50 });

    expect(plan.filter((t) => t.server === "primary" && t.region === "local")).toHaveLength(25);
    expect(plan.filter((t) => t.server === "second" && t.region === "eu")).toHaveLength(25);
  });

  it("names every database and login of the run after its tag", () => {
    const names = runNames("tb00abcd");
    const [tenant] = planFleet("tb00abcd", { shared: 0, schema: 0, database: 1 });

    expect(tenant?.id).toBe("tb00abcd-db-0001");
    expect(`ogc_tenant_${tenant?.id.replaceAll("-", "_")}`.startsWith(names.database)).toBe(true);
    expect(names.scratch).toBe("ogc_bench_tb00abcd");
  });
});

describe("judging an answer", () => {
  const mine = seeded("tb000001-shared-0001", 1);
  const other = seeded("tb000001-shared-0002", 2);

  it("accepts the tenant's own rows", () => {
    expect(judgeAnswer(200, answerOf(mine), mine)).toEqual({ kind: "right" });
  });

  it("calls another tenant's rows a wrong-tenant answer, naming what differs", () => {
    const verdict = judgeAnswer(200, answerOf(other), mine);

    expect(verdict.kind).toBe("wrong");
    expect(verdict).toMatchObject({ message: expect.stringContaining(other.id) });
  });

  it("catches one foreign value among the tenant's own", () => {
    const answer = answerOf(mine);
    answer.data.challenges.edges[0]!.node.submissions[0]!.score = other.score;

    expect(judgeAnswer(200, answer, mine)).toMatchObject({ kind: "wrong" });
  });

  it("counts GraphQL errors and bad statuses as errors, not as wrong tenants", () => {
    const refused = { errors: [{ message: "no", extensions: { code: "TENANT_NOT_FOUND" } }] };

    expect(judgeAnswer(200, refused, mine)).toMatchObject({ kind: "error" });
    expect(judgeAnswer(502, {}, mine)).toMatchObject({ kind: "error" });
  });
});

describe("the scale benchmark's options", () => {
  it("defaults to 800 SHARED, 150 SCHEMA and 50 DATABASE tenants at concurrency 16", () => {
    const options = loadTenantBenchOptions([], {});

    expect(options).toMatchObject({ shared: 800, schema: 150, database: 50, concurrency: 16 });
    expect(options.removeRun).toBeNull();
  });

  it("reads the flags", () => {
    const options = loadTenantBenchOptions(
      ["--shared", "8", "--schema", "2", "--database", "0", "--requests", "50"],
      {},
    );

    expect(options).toMatchObject({ shared: 8, schema: 2, database: 0, requests: 50 });
  });

  it("refuses a bad count, an empty fleet, an unknown flag and a remote server", () => {
    expect(() => loadTenantBenchOptions(["--shared", "x"], {})).toThrow(/--shared/);
    expect(() =>
      loadTenantBenchOptions(["--shared", "0", "--schema", "0", "--database", "0"], {}),
    ).toThrow(BenchOptionsError);
    expect(() => loadTenantBenchOptions(["--tenants", "5"], {})).toThrow(BenchOptionsError);
    expect(() =>
      loadTenantBenchOptions([], { SECOND_DATABASE_URL: "postgresql://db.example.com/x" }),
    ).toThrow(/SECOND_DATABASE_URL/);
    expect(() => loadTenantBenchOptions(["--remove-run", "x; drop"], {})).toThrow(/run tag/);
  });

  it("answers --help with HelpRequested", () => {
    expect(() => loadTenantBenchOptions(["--help"], {})).toThrow(HelpRequested);
  });
});
