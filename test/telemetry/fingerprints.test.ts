import { GraphQLError, parse } from "graphql";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/index.js";
import { createOperationLabeller } from "../../src/observability/known-operations.js";
import {
  fingerprintOf,
  MESSAGE_MAX,
  normaliseMessage,
  OVERFLOW_MESSAGE,
  PATH_MAX_STEPS,
  pathWithoutIndices,
} from "../../src/telemetry/error-fingerprint.js";
import { bucketOf, LATENCY_BOUNDS_MS, quantileOf } from "../../src/telemetry/latency-buckets.js";
import {
  MAX_NEW_CLUSTERS_PER_WINDOW,
  TelemetryBuffer,
} from "../../src/telemetry/telemetry-buffer.js";
import { periodOf, TRAFFIC_WINDOW_MS, windowStart } from "../../src/telemetry/time-windows.js";
import { operationOf, pathSourceOf, shapeOf } from "../../src/telemetry/traffic-plugin.js";

const label = createOperationLabeller();

/** The path source of a document that asks for exactly `path`, as an executed operation would. */
function sourceFor(path: readonly (string | number)[]) {
  const body = path
    .filter((step) => typeof step === "string")
    .reduceRight((inner, field) => `{ ${field}${inner ? ` ${inner}` : ""} }`, "");
  return pathSourceOf(body ? parse(body) : undefined, undefined, undefined);
}

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

  it("takes out a quoted value whole, whatever quotes it holds", () => {
    const name = 'Project "Falcon" takeover of Initech, contact Jane Roe';
    expect(normaliseMessage(`An organization named "${name}" already exists.`)).toBe(
      "An organization named <str> already exists.",
    );
    expect(normaliseMessage(`A role named '${"Bob's \"x\" 'y'"}' already exists.`)).toBe(
      "A role named <str> already exists.",
    );
    expect(normaliseMessage(`Found “Jane ”Roe“ of Initech” twice.`)).toBe("Found <str> twice.");
  });

  it("cuts the message at a quote nothing closes", () => {
    expect(normaliseMessage('An organization named "Initech\nmerger secrets" exists.')).toBe(
      "An organization named <str>",
    );
    expect(normaliseMessage("Value 'Initech merger")).toBe("Value <str>");
  });

  it("replaces a tenant id only as a whole token", () => {
    expect(
      normaliseMessage("schema tenant_this of this-one is gone; thistle and this-x stay", [
        "this-one",
        "this",
      ]),
    ).toBe("schema tenant_<tenant> of <tenant> is gone; thistle and this-x stay");
    expect(normaliseMessage("Sign in to do this.", ["his"])).toBe("Sign in to do this.");
  });

  it("keeps at most MESSAGE_MAX characters", () => {
    const long = normaliseMessage(`Failed: ${"word ".repeat(5_000)}`);
    expect(long.length).toBeLessThanOrEqual(MESSAGE_MAX);
    expect(long.endsWith("…")).toBe(true);
  });
});

describe("the fingerprint of an error", () => {
  const shape = (error: GraphQLError, operation: string | null, tenant: string) =>
    shapeOf(
      error,
      label(operationOf(operation, undefined, undefined)),
      [tenant],
      sourceFor(error.path ?? []),
    );
  const notFound = (id: string, path: (string | number)[]) =>
    new GraphQLError(new GatewayError("NOT_FOUND", `Challenge "${id}" was not found.`).message, {
      path,
      extensions: { code: "NOT_FOUND" },
    });

  it("is the same for the same error met by two tenants with other values", () => {
    const a = shape(notFound("c-1a2b", ["challenge", "title"]), "Dashboard", "acme");
    const b = shape(notFound("c-9f8e", ["challenge", "title"]), "Dashboard", "globex");

    expect(a).toEqual({
      code: "NOT_FOUND",
      operation: "Dashboard",
      path: "challenge.title",
      message: "Challenge <str> was not found.",
    });
    expect(fingerprintOf(a)).toBe(fingerprintOf(b));
    expect(fingerprintOf(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("differs by path, by code and by operation", () => {
    const base = shape(notFound("x", ["challenge", "title"]), "Dashboard", "acme");
    const otherPath = shape(notFound("x", ["dashboard", "title"]), "Dashboard", "acme");
    const otherOperation = shape(notFound("x", ["challenge", "title"]), "Users", "acme");
    const otherCode = { ...base, code: "FORBIDDEN" };

    const prints = [base, otherPath, otherOperation, otherCode].map(fingerprintOf);
    expect(new Set(prints).size).toBe(4);
  });

  it("leaves the gateway's own messages alone for a tenant whose id is a word", () => {
    const signIn = () =>
      new GraphQLError("Sign in to do this.", {
        path: ["users"],
        extensions: { code: "UNAUTHENTICATED" },
      });
    const ofThis = shape(signIn(), null, "this");

    expect(ofThis.message).toBe("Sign in to do this.");
    expect(fingerprintOf(ofThis)).toBe(fingerprintOf(shape(signIn(), null, "acme")));
  });

  it("still takes the tenant's id out of an unexpected error's message", () => {
    const error = new GraphQLError("Unexpected error.", {
      originalError: new Error("database ogc_tenant_this is being dropped"),
      path: ["me"],
    });

    expect(shape(error, null, "this").message).toBe(
      "Error: database ogc_tenant_<tenant> is being dropped",
    );
  });

  it("reads the path by schema field names, not by the client's aliases", () => {
    const document = parse(`
      query G7 {
        ${"a".repeat(1_300)}: users(first: 1) { edges { node { ...F } } }
        b2: users(first: 1) { list: edges { ... on UserEdge { n: node { ...F } } } }
      }
      fragment F on User { e: email }`);
    const source = pathSourceOf(document, undefined, undefined);
    const paths = [
      ["a".repeat(1_300), "edges", 0, "node", "e"],
      ["b2", "list", 3, "n", "e"],
    ].map((path) =>
      shapeOf(
        new GraphQLError("Sign in to do this.", {
          path,
          extensions: { code: "UNAUTHENTICATED" },
        }),
        label(operationOf(undefined, document, undefined)),
        [],
        source,
      ),
    );

    expect(paths.map((p) => p.path)).toEqual(["users.edges.node.email", "users.edges.node.email"]);
    expect(paths[0]?.operation).toBe("other");
    expect(fingerprintOf(paths[0]!)).toBe(fingerprintOf(paths[1]!));
  });

  it("keeps at most PATH_MAX_STEPS fields of a path", () => {
    const deep = Array.from({ length: 15 }, (_, i) => `f${i}`);
    const error = new GraphQLError("Not here.", { path: deep, extensions: { code: "NOT_FOUND" } });

    expect(shape(error, null, "acme").path).toBe([...deep.slice(0, PATH_MAX_STEPS), "…"].join("."));
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
      operation: "anonymous",
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

  it("names the operation as resolved, else as the document names it, else as sent", () => {
    const document = parse("query Board { tenant { nope } }");

    expect(operationOf("Board", document, undefined)).toBe("Board");
    expect(operationOf(undefined, document, undefined)).toBe("Board");
    expect(operationOf(undefined, parse("{ tenant { id } }"), undefined)).toBeNull();
    expect(operationOf(undefined, undefined, "Sent")).toBe("Sent");
  });

  it("clusters operations by their metric label: known names, anonymous, else other", () => {
    const forbidden = new GraphQLError("You are not allowed to do this.", {
      path: ["createChallenge"],
      extensions: { code: "FORBIDDEN" },
    });
    const named = (name: string | null) => shape(forbidden, name, "acme");

    expect(named("CreateChallenge").operation).toBe("CreateChallenge");
    expect(named(null).operation).toBe("anonymous");
    // Made-up names, a secret sent as operationName: one cluster for all of them.
    const madeUp = ["G1", "G2", "G30", "my secret: acme@x.test"].map((name) => named(name));
    expect(new Set(madeUp.map((s) => s.operation))).toEqual(new Set(["other"]));
    expect(new Set(madeUp.map(fingerprintOf)).size).toBe(1);
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
    const request = { tenantId: "acme", at, serverFailed: false, billable: true };
    buffer.recordRequest({ ...request, durationMs: 7, failed: false, queryCost: 3 });
    buffer.recordRequest({ ...request, durationMs: 700, failed: true, queryCost: 0 });
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
        failures: 0,
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

  it("adds only billable requests to the month, and server-side failures apart", () => {
    const buffer = new TelemetryBuffer();
    const at = new Date("2026-12-01T00:00:00Z");
    const request = { tenantId: "acme", at, durationMs: 1, queryCost: 1 };
    buffer.recordRequest({ ...request, failed: true, serverFailed: false, billable: false });
    buffer.recordRequest({ ...request, failed: true, serverFailed: true, billable: false });
    buffer.recordRequest({ ...request, failed: false, serverFailed: false, billable: true });

    const batch = buffer.take();
    expect(batch.traffic).toEqual([
      expect.objectContaining({ requests: 3, errors: 2, failures: 1 }),
    ]);
    expect(batch.usage).toEqual([
      { tenantId: "acme", period: "2026-12", requests: 1, errors: 0, queryCost: 1 },
    ]);
  });

  it("caps new fingerprints per tenant and flush, counting the excess in one overflow cluster per tenant and code", () => {
    const buffer = new TelemetryBuffer();
    const at = new Date("2026-12-01T00:00:00Z");
    const record = (tenantId: string | null, n: number, code = "BAD_USER_INPUT") =>
      buffer.recordError({
        fingerprint: `${code}-${n}`,
        shape: { code, operation: "other", path: "", message: `m${n}` },
        tenantId,
        requestId: `r${n}`,
        at,
      });
    for (let n = 0; n < 30; n += 1) record("acme", n);
    record("acme", 99, "NOT_FOUND");
    for (let n = 100; n < 125; n += 1) record(null, n);
    // Fingerprints met before are not new, whatever the tenant.
    for (let n = 0; n < 5; n += 1) record("globex", n);

    const first = buffer.take();
    const overflow = first.clusters.filter((c) => c.shape.message === OVERFLOW_MESSAGE);
    expect(first.clusters).toHaveLength(2 * MAX_NEW_CLUSTERS_PER_WINDOW + overflow.length);
    expect(
      overflow
        .map((c) => [c.shape.code, c.count])
        .sort((a, b) => String(a).localeCompare(String(b))),
    ).toEqual([
      ["BAD_USER_INPUT", 10],
      ["BAD_USER_INPUT", 5],
      ["NOT_FOUND", 1],
    ]);
    const shares = (fingerprint: string) =>
      first.clusterTenants.filter((s) => s.fingerprint === fingerprint).map((s) => s.tenantId);
    expect(overflow.map((c) => shares(c.fingerprint))).toEqual(
      expect.arrayContaining([["acme"], [], ["acme"]]),
    );
    expect(first.clusterTenants.filter((s) => s.tenantId === "globex")).toHaveLength(5);

    // The next flush window admits new ones again; known ones never count.
    for (let n = 0; n < 30; n += 1) record("acme", n);
    for (let n = 200; n < 200 + MAX_NEW_CLUSTERS_PER_WINDOW; n += 1) record("acme", n);
    record("acme", 300);
    const second = buffer.take();
    expect(second.clusters.find((c) => c.shape.message === OVERFLOW_MESSAGE)?.count).toBe(10 + 1);
  });

  it("takes a failed batch back, adding it to what was counted meanwhile", () => {
    const buffer = new TelemetryBuffer();
    const at = new Date("2026-12-01T00:00:00Z");
    const request = { tenantId: "acme", at, durationMs: 1, serverFailed: false, billable: true };
    buffer.recordRequest({ ...request, failed: false, queryCost: 1 });
    const failed = buffer.take();
    buffer.recordRequest({ ...request, failed: true, queryCost: 2 });
    buffer.restore(failed);

    expect(buffer.take().usage).toEqual([
      { tenantId: "acme", period: periodOf(at), requests: 2, errors: 1, queryCost: 3 },
    ]);
  });
});
