import { GraphQLJSON } from "graphql-scalars";
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { Isolation } from "../../generated/prisma/enums.js";
import type { TenantRecord } from "../../tenancy/tenant-registry.js";
import { UserType } from "../identity/identity-types.js";
import { TenantType } from "../tenants/tenant-types.js";

export { Isolation };

registerEnumType(Isolation, {
  name: "Isolation",
  description:
    "How far a tenant's data is kept apart: shared tables, its own schema, or its own database.",
});

@InputType("ProvisionTenantInput")
export class ProvisionTenantInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Isolation)
  isolation!: Isolation;

  @Field(() => String, { nullable: true })
  region?: string | null;

  @Field(() => String, { nullable: true })
  tier?: string | null;

  @Field(() => String, {
    nullable: true,
    description: "Release channel for upgrades (`npm run migrate -- --channel`); default stable.",
  })
  releaseChannel?: string | null;

  @Field(() => String)
  adminEmail!: string;
}

@ObjectType("ProvisionResult")
export class ProvisionResultType {
  @Field(() => TenantType)
  tenant!: TenantType;

  @Field(() => UserType)
  adminUser!: UserType;
}

@ObjectType("TenantSummary")
export class TenantSummaryType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  status!: string;

  @Field(() => Isolation)
  isolation!: Isolation;

  @Field(() => String, { nullable: true })
  region!: string | null;

  @Field(() => String, { description: "Hardware tier, e.g. standard or premium." })
  tier!: string;

  @Field(() => String, { description: "Release channel its upgrades follow." })
  releaseChannel!: string;

  @Field(() => String, {
    description:
      "Where its tables live: shared, schema:<name> or database:<server>/<name> (no credentials).",
  })
  location!: string;

  @Field(() => String, {
    nullable: true,
    description: "The latest migration applied where its tables live.",
  })
  schemaVersion!: string | null;

  @Field(() => String, { nullable: true, description: "Where a running move is taking it." })
  movingTo!: string | null;

  @Field(() => String, { description: "The storage bucket holding its files." })
  storageBucket!: string;

  @Field(() => GraphQLJSON, { nullable: true })
  billing!: Record<string, unknown> | null;

  /**
   * The registry record it was made from (not a GraphQL field): `health`,
   * `usage` and the admin views are resolved from it when asked for (see
   * tenant-summary-resolver.ts and the observability module).
   */
  record!: TenantRecord;
}

@ObjectType("TableDigest", { description: "One table of a tenant: rows and content checksum." })
export class TableDigestType {
  @Field(() => String)
  name!: string;

  @Field(() => Int)
  rows!: number;

  @Field(() => String, { description: "md5 over each row's md5, in primary-key order." })
  checksum!: string;
}

@ObjectType("TenantMove")
export class TenantMoveType {
  @Field(() => TenantSummaryType)
  tenant!: TenantSummaryType;

  @Field(() => String, {
    description: "Where the tenant lived, e.g. shared or schema:tenant_acme.",
  })
  from!: string;

  @Field(() => String, { description: "Where it lives now." })
  to!: string;

  @Field(() => [TableDigestType], { description: "Verified equal at both ends before the switch." })
  tables!: TableDigestType[];

  @Field(() => Int)
  durationMs!: number;
}
