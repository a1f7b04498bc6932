import { Field, InputType, Int, ObjectType } from "type-graphql";

@ObjectType("FeatureOverride", { description: "A flag forced on or off for one tenant." })
export class FeatureOverrideType {
  @Field(() => String)
  tenantId!: string;

  @Field(() => Boolean)
  enabled!: boolean;
}

@ObjectType("FeatureFlag", {
  description:
    "A feature and who has it: a tenant has it when an override says so, or else when any rule includes it.",
})
export class FeatureFlagType {
  @Field(() => String)
  key!: string;

  @Field(() => String)
  description!: string;

  @Field(() => Boolean, { description: "On for every tenant (overrides aside)." })
  enabledByDefault!: boolean;

  @Field(() => [String], { description: "Plans whose tenants have it." })
  plans!: string[];

  @Field(() => [String], { description: "Release channels whose tenants have it." })
  releaseChannels!: string[];

  @Field(() => Int, {
    description:
      "Share of tenants (0–100), chosen by a stable hash of flag and tenant: raising it keeps those already in.",
  })
  rolloutPercent!: number;

  @Field(() => [FeatureOverrideType])
  overrides!: FeatureOverrideType[];
}

@InputType("FeatureFlagInput", {
  description: "Creates a flag or changes the fields given; omitted fields keep their value.",
})
export class FeatureFlagInput {
  @Field(() => String)
  key!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => Boolean, { nullable: true })
  enabledByDefault?: boolean | null;

  @Field(() => [String], { nullable: true })
  plans?: string[] | null;

  @Field(() => [String], { nullable: true })
  releaseChannels?: string[] | null;

  @Field(() => Int, { nullable: true })
  rolloutPercent?: number | null;
}
