import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import internals from "@prisma/internals";
import { describe, expect, it } from "vitest";
import { NON_TENANT_MODELS, TENANT_TABLES } from "../../src/data/placement/tenant-tables.js";

const SCHEMA_PATH = fileURLToPath(new URL("../../prisma/schema.prisma", import.meta.url));
const { datamodel } = await internals.getDMMF({ datamodel: await readFile(SCHEMA_PATH, "utf8") });

/**
 * Moves and exports copy the tables in TENANT_TABLES, parents first: a model
 * left out of the list would be lost by a move, so the list must match
 * schema.prisma.
 */
describe("the list of tenant tables that moves and exports copy", () => {
  it("names every model of schema.prisma, as tenant data or as control plane", () => {
    const listed = [...TENANT_TABLES.map((table) => table.name), ...NON_TENANT_MODELS].sort();

    expect(listed).toEqual(datamodel.models.map((model) => model.name).sort());
  });

  it("gives each tenant table its primary key, tenantId first", () => {
    for (const table of TENANT_TABLES) {
      const model = datamodel.models.find((m) => m.name === table.name);
      const key =
        model?.primaryKey?.fields ?? model?.fields.filter((f) => f.isId).map((f) => f.name);

      expect(table.primaryKey, table.name).toEqual(key);
      expect(table.primaryKey[0], table.name).toBe("tenantId");
    }
  });

  it("lists every table after the tables its foreign keys point at", () => {
    const order = TENANT_TABLES.map((table) => table.name);
    for (const model of datamodel.models.filter((m) => order.includes(m.name))) {
      for (const field of model.fields) {
        if (field.kind !== "object" || !field.relationFromFields?.length) continue;

        expect(order.indexOf(field.type), `${model.name} → ${field.type}`).toBeLessThan(
          order.indexOf(model.name),
        );
      }
    }
  });
});
