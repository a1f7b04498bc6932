import { Field, ID, InputType, ObjectType } from "type-graphql";
import { createConnectionType } from "../common/pagination.js";

/** A user row as loaders return and the cache stores it. */
export interface UserRecord {
  id: string;
  email: string;
  name: string;
  /**
   * Access already known to the caller, for users returned outside their
   * tenant's scope (a global admin provisioning a tenant names none).
   */
  knownAccess?: UserAccessRecord & { organizationIds: string[] };
}

/** The roles of a user and the permissions they add up to. */
export interface UserAccessRecord {
  roles: string[];
  permissions: string[];
}

@ObjectType("User")
export class UserType implements UserRecord {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String)
  name!: string;
}

export const UserConnection = createConnectionType("User", UserType);

@ObjectType("Role")
export class RoleType {
  @Field(() => String)
  name!: string;

  @Field(() => [String])
  permissions!: string[];
}

@InputType("CreateUserInput")
export class CreateUserInput {
  @Field(() => String)
  email!: string;

  @Field(() => String)
  name!: string;

  @Field(() => [String], { nullable: true, description: 'Role names; default ["member"].' })
  roles?: string[] | null;
}

@InputType("CreateRoleInput")
export class CreateRoleInput {
  @Field(() => String)
  name!: string;

  @Field(() => [String])
  permissions!: string[];
}
