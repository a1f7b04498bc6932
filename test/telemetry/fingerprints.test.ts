import { GraphQLError, parse } from "graphql";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/index.js";
import {
  fingerprintOf,
  normaliseMessage,
  pathWithoutIndices,
} from "../../src/telemetry/error-fingerprint.js";
import { bucketOf, LATENCY_BOUNDS_MS, quantileOf } from "../../src/telemetry/latency-buckets.js";
import { TelemetryBuffer } from "../../src/telemetry/telemetry-buffer.js";
import { periodOf, TRAFFIC_WINDOW_MS, windowStart } from "../../src/telemetry/time-windows.js";
import { operationOf, shapeOf } from "../../src/telemetry/traffic-plugin.js";

describe("normalising an error message", () => {
  it("takes out quoted strings, emails, uuids, ids and numbers", () => {
    expect(
      normaliseMessage(
        'User "Ada" (ada@acme.test, 0190f3a2-7c4d-7e11-9a3b-5f0c2d1e4b6a) has 3 roles in org-7f3a2b',
      ),
    ).toBe("User <str> (<email>, <uuid>) has <n> roles in <id>");
  });

  it("replaces the request's tenant id in both spellings, even without digits", () => {
    expect(
      normaliseMessage("tenant globex-labs is fenced at database:eu/ogc_tenant_globex_labs", [
        "globex-labs",
      ]),
    ).toBe("tenant <tenant> is fenced at database:eu/ogc_tenant_<tenant>");
  });

  it("keeps only the first line, which never holds a driver's query arguments", () => {
    expect(
      normaliseMessage("Invalid `prisma.user.findMany()` invocation:\n\n{ where: { email: 'x' } }"),
    ).toBe("Invalid `prisma.user.findMany()` invocation:");
  });

  it("reads an apostrophe as text, not as the start of a quoted value", () => {
    expect(
      normaliseMessage("This organization's data is being moved; the tenant's writes wait."),
    ).toBe("This organization's data is being moved; the tenant's writes wait.");
  });
});

describe("the fingerprint of an error", () => {
  const shape = (error: GraphQLError, operation: string | null, tenant: string) =>
    shapeOf(error, operationOf(operation, undefined, undefined), [tenant]);
  const notFound = (id: string, path: (string | number)[]) =>
    new GraphQLError(new GatewayError("NOT_FOUND", `Challenge "${id}" was not found.`).message, {
      path,
      extensions: { code: "NOT_FOUND" },
    });

  it("is the same for the same error met by two tenants with other values", () => {
    const a = shape(notFound("c-1a2b", ["challenge", "title"]), "Board", "acme");
    const b = shape(notFound("c-9f8e", ["challenge", "title"]), "Board", "globex");

    expect(a).toEqual({
      code: "NOT_FOUND",
      operation: "Board",
      path: "challenge.title",
      message: "Challenge <str> was not found.",
    });
    expect(fingerprintOf(a)).toBe(fingerprintOf(b));
    expect(fingerprintOf(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("differs by path, by code and by operation", () => {
    const base = shape(notFound("x", ["challenge", "title"]), "Board", "acme");
    const otherPath = shape(notFound("x", ["dashboard", "title"]), "Board", "acme");
    const otherOperation = shape(notFound("x", ["challenge", "title"]), "List", "acme");
    const otherCode = { ...base, code: "FORBIDDEN" };

    const prints = [base, otherPath, otherOperation, otherCode].map(fingerprintOf);
    expect(new Set(prints).size).toBe(4);
  });

  it("ignores list indices in the path", () => {
    expect(pathWithoutIndices(["challenges", "edges", 3, "node", "author"])).toBe(
      "challenges.edges.node.author",
    );
  });

  it("groups an unexpected error by its original exception, never its stack", () => {
    const original = Object.assign(new Error('relation "tenant_acme_2.User" does not exist'), {
      code: "42P01",
    });
    const error = new GraphQLError("Unexpected error.", { originalError: original, path: ["me"] });

    expect(shape(error, null, "acme-2")).toEqual({
      code: "INTERNAL_SERVER_ERROR",
      operation: "(anonymous)",
      path: "me",
      message: "Error: relation <str> does not exist [42P01]",
    });
  });

  it("maps Apollo's request codes to the contract's, as the client sees them", () => {
    const error = new GraphQLError('Cannot query field "nope" on type "Query".', {
      extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
    });

    expect(shape(error, "Bad", "acme").code).toBe("BAD_USER_INPUT");
  });

  it("names the operation as resolved, else as the document names it, else (anonymous)", () => {
    const document = parse("query Board { tenant { nope } }");

    expect(operationOf("Board", document, undefined)).toBe("Board");
    expect(operationOf(undefined, document, undefined)).toBe("Board");
    expect(operationOf(undefined, parse("{ tenant { id } }"), undefined)).toBe("(anonymous)");
    // What a client sends as operationName is kept only when it is a GraphQL name.
    expect(operationOf(undefined, undefined, "my secret: acme@x.test")).toBe("(anonymous)");
    expect(operationOf(undefined, undefined, "Sent")).toBe("Sent");
  });
});

describe("latency buckets", () => {
  it("puts a duration in the first bucket whose bound it does not exceed", () => {
    expect(bucketOf(0.4)).toBe(0);
    expect(bucketOf(5)).toBe(0);
    expect(bucketOf(5.1)).toBe(1);
    expect(bucketOf(60_000)).toBe(LATENCY_BOUNDS_MS.length);
  });

  it("answers p95 as the upper bound of the bucket holding the 95th percentile request", () => {
    const counts = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
    counts[1] = 95; // ≤ 10 ms
    counts[6] = 5; // ≤ 500 ms
    expect(quantileOf(counts, 0.95)).toBe(10);
    counts[1] = 94;
    expect(quantileOf(counts, 0.95)).toBe(500);
    expect(quantileOf([], 0.95)).toBeNull();
  });
});

describe("the telemetry buffer", () => {
  it("sums requests per tenant, window and month, and errors per cluster and tenant", () => {
    const buffer = new TelemetryBuffer();
    const at = new Date("2026-12-31T23:58:00Z");
    buffer.recordRequest({ tenantId: "acme", at, durationMs: 7, failed: false, queryCost: 3 });
    buffer.recordRequest({ tenantId: "acme", at, durationMs: 700, failed: true, queryCost: 0 });
    const shape = { code: "FORBIDDEN", operation: "X", path: "x", message: "m" };
    for (const requestId of ["r1", "r2", "r3", "r4", "r5", "r6"]) {
      buffer.recordError({ fingerprint: "f", shape, tenantId: "acme", requestId, at });
    }

    const batch = buffer.take();
    expect(buffer.isEmpty).toBe(true);
    expect(batch.traffic).toEqual([
      expect.objectContaining({
        tenantId: "acme",
        windowStart: windowStart(at, TRAFFIC_WINDOW_MS),
        requests: 2,
        errors: 1,
        durationMsSum: 707,
      }),
    ]);
    expect(batch.usage).toEqual([
      { tenantId: "acme", period: "2026-12", requests: 2, errors: 1, queryCost: 3 },
    ]);
    expect(batch.clusters[0]?.count).toBe(6);
    expect(batch.clusters[0]?.sampleRequestIds).toEqual(["r6", "r5", "r4", "r3", "r2"]);
    expect(batch.clusterTenants[0]).toMatchObject({ count: 6, lastRequestId: "r6" });
  });

  it("takes a failed batch back, adding it to what was counted meanwhile", () => {
    const buffer = new TelemetryBuffer();
    const at = new Date("2026-12-01T00:00:00Z");
    buffer.recordRequest({ tenantId: "acme", at, durationMs: 1, failed: false, queryCost: 1 });
    const failed = buffer.take();
    buffer.recordRequest({ tenantId: "acme", at, durationMs: 1, failed: true, queryCost: 2 });
    buffer.restore(failed);

    expect(buffer.take().usage).toEqual([
      { tenantId: "acme", period: periodOf(at), requests: 2, errors: 1, queryCost: 3 },
    ]);
  });
});
