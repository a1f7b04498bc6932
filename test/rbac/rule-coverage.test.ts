import { createRequire } from "node:module";
import type { GraphQLObjectType, GraphQLSchema } from "graphql";
import { applyMiddleware } from "graphql-middleware";
import { beforeAll, describe, expect, it } from "vitest";
import { createPermissions, RULE_TREE } from "../../src/rbac/index.js";
import { buildBareSchema } from "../../src/server/schema.js";

// type-graphql and graphql-shield load graphql's CommonJS build, while a file
// vitest transforms would get its ESM build: a second copy whose type checks
// (`isObjectType`) refuse the first copy's types. Take the one they use.
const graphql = createRequire(import.meta.url)("graphql") as typeof import("graphql");
const { execute, extendSchema, isObjectType, parse } = graphql;

/** The rule tree as type name → field name → rule (`"*"` for type-wide). */
const tree = RULE_TREE as Record<string, Record<string, unknown>>;

/** `Type.field` for every field of every object type the schema declares. */
function schemaFields(schema: GraphQLSchema): string[] {
  return Object.values(schema.getTypeMap())
    .filter((type) => isObjectType(type) && !type.name.startsWith("__"))
    .flatMap((type) =>
      Object.keys((type as GraphQLObjectType).getFields()).map((field) => `${type.name}.${field}`),
    );
}

describe("the rule tree covers the schema", () => {
  let schema: GraphQLSchema;

  beforeAll(async () => {
    schema = await buildBareSchema();
  });

  it("walks the contract's root fields, so the walk itself is not empty", () => {
    const fields = schemaFields(schema);

    expect(fields).toEqual(
      expect.arrayContaining([
        "Query.me",
        "Query.adminTenants",
        "Mutation.addMember",
        "Mutation.resumeTenant",
        "User.permissions",
        "TenantSummary.billing",
      ]),
    );
  });

  it("gives every field of every object type a rule, by name or type-wide", () => {
    const unguarded = schemaFields(schema).filter((path) => {
      const [type, field] = path.split(".") as [string, string];
      const rules = tree[type];

      return rules === undefined || (rules["*"] === undefined && rules[field] === undefined);
    });

    expect(unguarded).toEqual([]);
  });

  it("names no type that the schema lacks", () => {
    const missing = Object.keys(tree).filter((type) => !isObjectType(schema.getType(type)));

    expect(missing).toEqual([]);
  });

  it("names no field that its type lacks", () => {
    const missing = Object.entries(tree).flatMap(([type, rules]) => {
      const found = schema.getType(type);
      if (!isObjectType(found)) return [];
      const fields = found.getFields();

      return Object.keys(rules)
        .filter((field) => field !== "*" && fields[field] === undefined)
        .map((field) => `${type}.${field}`);
    });

    expect(missing).toEqual([]);
  });

  it("never mixes a type-wide rule with per-field rules, which would be ambiguous", () => {
    const mixed = Object.entries(tree)
      .filter(([, rules]) => "*" in rules && Object.keys(rules).length > 1)
      .map(([type]) => type);

    expect(mixed).toEqual([]);
  });
});

/**
 * The real schema extended with fields the rule tree does not know:
 * `Query.unlisted` (a root field), `Query.probe` returning a type the tree
 * never names, and `Tenant.extra` on a type whose fields are listed one by one. `Query.tenant`
 * answers from a stub so the check runs without a database.
 */
async function schemaWithUnlistedFields(calls: string[]): Promise<GraphQLSchema> {
  const schema = extendSchema(
    await buildBareSchema(),
    parse(`
      extend type Query { unlisted: String  probe: Probe }
      type Probe { secret: String }
      extend type Tenant { extra: String }
    `),
  );
  const answer = (type: string, field: string, value: unknown) => {
    const found = (schema.getType(type) as GraphQLObjectType).getFields()[field]!;
    found.resolve = () => {
      calls.push(`${type}.${field}`);
      return value;
    };
  };
  answer("Query", "tenant", { id: "t", name: "T" });
  answer("Query", "unlisted", "leaked");
  answer("Query", "probe", {});
  answer("Probe", "secret", "leaked");
  answer("Tenant", "extra", "extra");

  return applyMiddleware(schema, createPermissions());
}

describe("a field missing from the rule tree", () => {
  const calls: string[] = [];
  let schema: GraphQLSchema;
  // Enough context for the rules this document reaches: `tenant` only asks
  // whether a tenant scope exists.
  const context = () => ({ requestId: "coverage-test", scope: {}, principal: null });

  beforeAll(async () => {
    schema = await schemaWithUnlistedFields(calls);
  });

  it("is denied with FORBIDDEN by the fallback rule, without running its resolver", async () => {
    calls.length = 0;
    const result = await execute({
      schema,
      document: parse("{ unlisted }"),
      contextValue: context(),
    });

    expect(result.data).toEqual({ unlisted: null });
    expect(result.errors?.map((e) => [e.path, e.extensions.code, e.message])).toEqual([
      [["unlisted"], "FORBIDDEN", "You are not allowed to do this."],
    ]);
    expect(calls).toEqual([]);
  });

  it("is denied on a type the tree never names, field by field", async () => {
    calls.length = 0;
    const result = await execute({
      schema,
      document: parse("{ probe { secret } }"),
      contextValue: context(),
    });

    expect(result.data).toEqual({ probe: null });
    expect(result.errors?.map((e) => e.extensions.code)).toEqual(["FORBIDDEN"]);
    expect(calls).toEqual([]);
  });

  it("is denied on a type whose fields are listed one by one", async () => {
    calls.length = 0;
    const result = await execute({
      schema,
      document: parse("{ tenant { id extra } }"),
      contextValue: context(),
    });

    expect(result.data).toEqual({ tenant: { id: "t", extra: null } });
    expect(result.errors?.map((e) => [e.path, e.extensions.code])).toEqual([
      [["tenant", "extra"], "FORBIDDEN"],
    ]);
    expect(calls).toEqual(["Query.tenant"]);
  });
});
