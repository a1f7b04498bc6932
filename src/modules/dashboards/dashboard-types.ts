import { Field, ID, InputType, ObjectType } from "type-graphql";

export interface DashboardRecord {
  id: string;
  title: string;
  ownerId: string;
  modules: string[];
}

@ObjectType("Dashboard")
export class DashboardType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  title!: string;

  @Field(() => [String])
  modules!: string[];
}

@InputType("CreateDashboardInput")
export class CreateDashboardInput {
  @Field(() => String)
  title!: string;

  @Field(() => [String], { nullable: true, description: "Modules from the tenant's plan." })
  modules?: string[] | null;
}

@InputType("UpdateDashboardInput", { description: "Fields left out keep their value." })
export class UpdateDashboardInput {
  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => [String], { nullable: true, description: "Modules from the tenant's plan." })
  modules?: string[] | null;
}
