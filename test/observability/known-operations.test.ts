import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Kind, parse } from "graphql";
import { describe, expect, it } from "vitest";
import {
  BUILT_IN_OPERATIONS,
  createOperationLabeller,
  MAX_EXTRA_OPERATIONS,
} from "../../src/observability/known-operations.js";
import { requestedOperation } from "../../src/observability/requested-operation.js";

const OPERATIONS_DIR = join(import.meta.dirname, "..", "operations");

describe("operation labels", () => {
  it("knows every operation the typed client documents send", async () => {
    const files = (await readdir(OPERATIONS_DIR)).filter((file) => file.endsWith(".graphql"));
    const names: string[] = [];
    for (const file of files) {
      const document = parse(await readFile(join(OPERATIONS_DIR, file), "utf8"));
      for (const definition of document.definitions) {
        if (definition.kind === Kind.OPERATION_DEFINITION && definition.name) {
          names.push(definition.name.value);
        }
      }
    }

    expect(names.length).toBeGreaterThan(10);
    const missing = names.filter((name) => !BUILT_IN_OPERATIONS.includes(name));
    expect(missing, "add them to src/observability/known-operations.ts").toEqual([]);
    for (const name of [
      "AdminConsoleTenants",
      "AdminConsoleTraffic",
      "AdminConsoleErrorClusters",
    ]) {
      expect(BUILT_IN_OPERATIONS).toContain(name);
    }
  });

  it("labels known names as themselves, unnamed as anonymous and the rest as other", () => {
    const label = createOperationLabeller(["NightlyReport"]);

    expect(label("Dashboard")).toBe("Dashboard");
    expect(label("NightlyReport")).toBe("NightlyReport");
    expect(label("nightlyreport")).toBe("other");
    expect(label("AnythingAClientMadeUp")).toBe("other");
    expect(label(null)).toBe("anonymous");
    expect(label(undefined)).toBe("anonymous");
    expect(label("")).toBe("anonymous");
  });

  it("takes no more extra names than the bound, whatever it is given", () => {
    const extra = Array.from({ length: MAX_EXTRA_OPERATIONS + 5 }, (_, i) => `Extra${i}`);
    const label = createOperationLabeller(extra);

    expect(label(`Extra${MAX_EXTRA_OPERATIONS - 1}`)).toBe(`Extra${MAX_EXTRA_OPERATIONS - 1}`);
    expect(label(`Extra${MAX_EXTRA_OPERATIONS}`)).toBe("other");
  });
});

describe("the operation a refused request asked for", () => {
  it("takes operationName, else the first operation's name", () => {
    expect(requestedOperation({ body: { query: "query Me { me { id } }" } })).toEqual({
      name: "Me",
    });
    expect(
      requestedOperation({ body: { query: "# a comment\n, mutation Go($a: Int) { x }" } }),
    ).toEqual({ name: "Go" });
    expect(requestedOperation({ body: { query: "{ me { id } }" } })).toEqual({ name: null });
    expect(requestedOperation({ body: { query: "query { me { id } }" } })).toEqual({
      name: null,
    });
    expect(
      requestedOperation({
        body: { query: "query A { a } mutation B { b }", operationName: "B" },
      }),
    ).toEqual({ name: "B" });
  });

  it("reads a GET request's query string and survives bodies that are not documents", () => {
    expect(requestedOperation({ query: { query: "query Me { me { id } }" } })).toEqual({
      name: "Me",
    });
    expect(requestedOperation({ body: undefined })).toEqual({ name: null });
    expect(requestedOperation({ body: [{ query: "{ a }" }] })).toEqual({ name: null });
    expect(requestedOperation({ body: { query: 42, operationName: ["x"] } })).toEqual({
      name: null,
    });
  });
});
