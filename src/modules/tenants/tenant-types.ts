import { GraphQLJSON } from "graphql-scalars";
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";

@ObjectType("Tenant")
export class TenantType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => GraphQLJSON, { nullable: true })
  branding!: Record<string, unknown> | null;

  @Field(() => [String])
  features!: string[];

  @Field(() => [String])
  modules!: string[];

  @Field(() => String, { nullable: true })
  plan!: string | null;
}

@InputType("UpdateTenantConfigInput", {
  description:
    "Tenant admins edit name, settings and branding; limits and billing are for global admins.",
})
export class UpdateTenantConfigInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => GraphQLJSON, { nullable: true })
  settings?: Record<string, unknown> | null;

  @Field(() => GraphQLJSON, { nullable: true })
  branding?: Record<string, unknown> | null;

  @Field(() => GraphQLJSON, { nullable: true })
  limits?: Record<string, unknown> | null;

  @Field(() => GraphQLJSON, { nullable: true })
  billing?: Record<string, unknown> | null;
}

@ObjectType("TenantConfig", {
  description:
    "A tenant's configuration documents for those who may change them. Secrets are write-only: only their names are shown.",
})
export class TenantConfigType {
  @Field(() => Int, { description: "Grows by one with every change." })
  version!: number;

  @Field(() => Date)
  updatedAt!: Date;

  @Field(() => String, { description: "Who made the latest change." })
  updatedBy!: string;

  @Field(() => GraphQLJSON)
  settings!: Record<string, unknown>;

  @Field(() => [String], { description: "Names of the secrets in settings.secrets." })
  secretNames!: string[];

  @Field(() => GraphQLJSON)
  branding!: Record<string, unknown>;

  @Field(() => GraphQLJSON, { description: "The tenant's own limits, laid over its plan's." })
  limits!: Record<string, unknown>;

  @Field(() => GraphQLJSON, {
    description: "The limits in force: the plan's with `limits` over them.",
  })
  effectiveLimits!: Record<string, unknown>;

  @Field(() => GraphQLJSON, { description: "Billing, with its sealed `details` opened." })
  billing!: Record<string, unknown>;
}

@ObjectType("TenantConfigVersion", {
  description: "One entry of the configuration's history. Sealed parts are never shown.",
})
export class TenantConfigVersionType {
  @Field(() => Int)
  version!: number;

  @Field(() => String, { description: "provision, import, update or restore." })
  action!: string;

  @Field(() => String)
  actorId!: string;

  @Field(() => Int, { nullable: true })
  restoredFrom!: number | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => GraphQLJSON)
  settings!: Record<string, unknown>;

  @Field(() => GraphQLJSON)
  branding!: Record<string, unknown>;

  @Field(() => GraphQLJSON)
  limits!: Record<string, unknown>;

  @Field(() => GraphQLJSON)
  billing!: Record<string, unknown>;
}

export enum ConfigDocument {
  SETTINGS = "settings",
  BRANDING = "branding",
  LIMITS = "limits",
  BILLING = "billing",
}

registerEnumType(ConfigDocument, {
  name: "ConfigDocument",
  description: "One of the four documents of a tenant's configuration.",
});
