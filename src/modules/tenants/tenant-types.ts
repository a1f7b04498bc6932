import { GraphQLJSON } from "graphql-scalars";
import { Field, ID, InputType, ObjectType } from "type-graphql";

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
