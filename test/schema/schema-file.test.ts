import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import * as graphql from "graphql";
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isObjectType,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLSchema,
} from "graphql";
import { GraphQLJSON } from "graphql-scalars";
import { beforeAll, describe, expect, it } from "vitest";
import { buildBareSchema, printGatewaySchema } from "../../src/server/schema.js";

const SCHEMA_FILE = new URL("../../schema.graphql", import.meta.url);

/**
 * The contract's SDL ("GraphQL operations the clients use"), one field per
 * line as `Type.field(arg: T): Result`. Names and types here are binding for
 * dashboards, the admin console and client code: change a line only when the
 * contract changes. The schema may add fields and arguments.
 */
const CONTRACT_FIELDS = [
  "Query.me: User",
  "Query.tenant: Tenant!",
  "Query.users(first: Int, after: String): UserConnection!",
  "Query.user(id: ID!): User",
  "Query.organizations: [Organization!]!",
  "Query.dashboards: [Dashboard!]!",
  "Query.dashboard(id: ID!): Dashboard",
  "Query.challenges(first: Int, after: String): ChallengeConnection!",
  "Query.adminTenants: [TenantSummary!]!",

  "Mutation.createUser(input: CreateUserInput!): User!",
  "Mutation.createRole(input: CreateRoleInput!): Role!",
  "Mutation.assignRole(userId: ID!, role: String!): User!",
  "Mutation.createOrganization(input: CreateOrganizationInput!): Organization!",
  "Mutation.addMember(organizationId: ID!, userId: ID!, role: MembershipRole!): Membership!",
  "Mutation.createDashboard(input: CreateDashboardInput!): Dashboard!",
  "Mutation.createChallenge(input: CreateChallengeInput!): Challenge!",
  "Mutation.submitToChallenge(challengeId: ID!, score: Float!): Submission!",
  "Mutation.updateTenantConfig(input: UpdateTenantConfigInput!): Tenant!",
  "Mutation.provisionTenant(input: ProvisionTenantInput!): ProvisionResult!",
  "Mutation.suspendTenant(id: ID!): TenantSummary!",
  "Mutation.resumeTenant(id: ID!): TenantSummary!",

  "ProvisionResult.tenant: Tenant!",
  "ProvisionResult.adminUser: User!",

  "Tenant.id: ID!",
  "Tenant.name: String!",
  "Tenant.branding: JSON",
  "Tenant.features: [String!]!",
  "Tenant.modules: [String!]!",
  "Tenant.plan: String",

  "User.id: ID!",
  "User.email: String!",
  "User.name: String!",
  "User.roles: [String!]!",
  "User.permissions: [String!]!",
  "User.organizations: [Organization!]!",

  "Role.name: String!",
  "Role.permissions: [String!]!",

  "Organization.id: ID!",
  "Organization.name: String!",
  "Organization.members: [Membership!]!",

  "Membership.user: User!",
  "Membership.role: MembershipRole!",

  "Dashboard.id: ID!",
  "Dashboard.title: String!",
  "Dashboard.owner: User!",
  "Dashboard.modules: [String!]!",

  "Challenge.id: ID!",
  "Challenge.title: String!",
  "Challenge.submissions: [Submission!]!",

  "Submission.id: ID!",
  "Submission.score: Float!",
  "Submission.author: User!",

  "TenantSummary.id: ID!",
  "TenantSummary.name: String!",
  "TenantSummary.status: String!",
  "TenantSummary.isolation: Isolation!",
  "TenantSummary.region: String",
  "TenantSummary.health: String!",
  "TenantSummary.usage: JSON",
  "TenantSummary.billing: JSON",
];

/**
 * Input fields: those the contract's SDL declares, and those its comments
 * name (`# {email, name, roles: [String!]}`), where the comment gives a type.
 */
const CONTRACT_INPUT_FIELDS = [
  "ProvisionTenantInput.id: ID!",
  "ProvisionTenantInput.name: String!",
  "ProvisionTenantInput.isolation: Isolation!",
  "ProvisionTenantInput.region: String",
  "ProvisionTenantInput.tier: String",
  "ProvisionTenantInput.adminEmail: String!",
  "CreateUserInput.email",
  "CreateUserInput.name",
  "CreateUserInput.roles: [String!]",
  "CreateRoleInput.name",
  "CreateRoleInput.permissions: [String!]!",
  "CreateOrganizationInput.name",
  "CreateDashboardInput.title",
  "CreateDashboardInput.modules: [String!]",
  "CreateChallengeInput.title",
];

/** Inputs the contract names without listing their fields. */
const CONTRACT_INPUT_TYPES = ["UpdateTenantConfigInput"];

const CONTRACT_ENUMS: Record<string, string[]> = {
  Isolation: ["SHARED", "SCHEMA", "DATABASE"],
  MembershipRole: ["OWNER", "ADMIN", "MEMBER"],
};

/** Connections follow the usual shape: `edges { cursor node }`, `pageInfo`. */
const CONTRACT_CONNECTIONS: Record<string, string> = {
  UserConnection: "User",
  ChallengeConnection: "Challenge",
};

interface Coordinate {
  type: string;
  field: string;
  args: Map<string, string>;
  result: string | undefined;
}

const COORDINATE = /^(\w+)\.(\w+)(?:\(([^)]*)\))?(?:: (.+))?$/;

function parseCoordinate(line: string): Coordinate {
  const match = COORDINATE.exec(line);
  if (!match) throw new Error(`Not a contract coordinate: ${line}`);
  const [, type = "", field = "", args, result] = match;
  const pairs = (args ?? "")
    .split(",")
    .filter((arg) => arg.trim() !== "")
    .map((arg) => arg.split(":").map((part) => part.trim()) as [string, string]);

  return { type, field, args: new Map(pairs), result };
}

/** What the schema lacks of one contract field, as sentences (none when it fits). */
function compareField(
  where: string,
  found: GraphQLField<unknown, unknown> | GraphQLInputField | undefined,
  want: Coordinate,
): string[] {
  if (!found) return [`${where} is missing`];
  const problems: string[] = [];
  if (want.result !== undefined && String(found.type) !== want.result) {
    problems.push(`${where} is ${String(found.type)}, the contract says ${want.result}`);
  }
  const args = "args" in found ? found.args : [];
  for (const [name, type] of want.args) {
    const arg = args.find((candidate) => candidate.name === name);
    if (!arg) problems.push(`${where} lacks the argument ${name}`);
    else if (String(arg.type) !== type) {
      problems.push(`${where}(${name}:) is ${String(arg.type)}, the contract says ${type}`);
    }
  }

  return problems;
}

describe("schema.graphql", () => {
  let schema: GraphQLSchema;

  beforeAll(async () => {
    schema = await buildBareSchema();
  });

  // type-graphql loads graphql through Node (`main`: the CommonJS build);
  // if Vite resolves our own imports to `module` (index.mjs), the schema and
  // printSchema come from two copies and printing throws "another realm".
  it("shares one graphql module with type-graphql", () => {
    const nodeGraphql = createRequire(import.meta.url)("graphql") as typeof graphql;

    expect(
      graphql.GraphQLSchema === nodeGraphql.GraphQLSchema,
      "two copies of graphql are loaded: alias `graphql` to graphql/index.js in vitest.config.ts",
    ).toBe(true);
  });

  it("is the schema the code declares", async () => {
    const committed = await readFile(SCHEMA_FILE, "utf8").catch(() => "(missing)");

    expect(committed, "schema.graphql is stale: run `npm run schema` and commit the file.").toBe(
      printGatewaySchema(schema),
    );
  });

  describe("the contract's SDL", () => {
    it("declares every object field and argument with the contract's type", () => {
      const problems = CONTRACT_FIELDS.map(parseCoordinate).flatMap((want) => {
        const type = schema.getType(want.type);
        if (!isObjectType(type)) return [`type ${want.type} is missing`];

        return compareField(`${want.type}.${want.field}`, type.getFields()[want.field], want);
      });

      expect(problems).toEqual([]);
    });

    it("declares every input and input field the contract names", () => {
      const wanted = CONTRACT_INPUT_FIELDS.map(parseCoordinate);
      const names = new Set([...wanted.map((want) => want.type), ...CONTRACT_INPUT_TYPES]);
      const missingInputs = [...names].filter((name) => !isInputObjectType(schema.getType(name)));
      const problems = wanted.flatMap((want) => {
        const type = schema.getType(want.type);
        if (!isInputObjectType(type)) return [];

        return compareField(`${want.type}.${want.field}`, type.getFields()[want.field], want);
      });

      expect(missingInputs.map((name) => `input ${name} is missing`)).toEqual([]);
      expect(problems).toEqual([]);
    });

    it.each(Object.entries(CONTRACT_ENUMS))("declares the enum %s with %j", (name, values) => {
      const type = schema.getType(name);

      expect(isEnumType(type), `enum ${name}`).toBe(true);
      if (!isEnumType(type)) return;
      expect(type.getValues().map((value) => value.name)).toEqual(expect.arrayContaining(values));
    });

    it.each(Object.entries(CONTRACT_CONNECTIONS))(
      "gives %s the connection shape over %s",
      (name, node) => {
        const connection = schema.getType(name);
        if (!isObjectType(connection)) throw new Error(`type ${name} is missing`);
        const { edges, pageInfo } = connection.getFields();
        const edge = edges && getNamedType(edges.type);
        const page = pageInfo && getNamedType(pageInfo.type);
        if (!isObjectType(edge) || !isObjectType(page)) {
          throw new Error(`${name} needs edges and pageInfo objects`);
        }

        expect(String(edges?.type)).toMatch(/^\[\w+!\]!$/);
        expect(String(edge.getFields().cursor?.type)).toBe("String!");
        expect(String(edge.getFields().node?.type)).toBe(`${node}!`);
        expect(String(page.getFields().hasNextPage?.type)).toBe("Boolean!");
        expect(String(page.getFields().endCursor?.type)).toBe("String");
      },
    );

    it("uses graphql-scalars' GraphQLJSON as the JSON scalar", () => {
      expect(schema.getType("JSON")).toBe(GraphQLJSON);
      const tenant = schema.getType("Tenant");
      if (!isObjectType(tenant)) throw new Error("type Tenant is missing");
      expect(getNamedType(tenant.getFields().branding?.type)).toBe(GraphQLJSON);
    });
  });
});
