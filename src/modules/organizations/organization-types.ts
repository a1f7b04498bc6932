import { Field, ID, InputType, ObjectType, registerEnumType } from "type-graphql";
import { MembershipRole } from "../../generated/prisma/enums.js";
import { UserType } from "../identity/identity-types.js";

export { MembershipRole };

registerEnumType(MembershipRole, {
  name: "MembershipRole",
  description: "A user's place in an organization; owners and admins manage its members.",
});

export interface OrganizationRecord {
  id: string;
  name: string;
}

/** One membership seen from the organization's side. */
export interface MemberRecord {
  userId: string;
  role: MembershipRole;
}

/** One membership seen from the user's side. */
export interface UserMembershipRecord {
  organizationId: string;
  role: MembershipRole;
}

@ObjectType("Organization")
export class OrganizationType implements OrganizationRecord {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;
}

@ObjectType("Membership")
export class MembershipType {
  @Field(() => UserType)
  user!: UserType;

  @Field(() => MembershipRole)
  role!: MembershipRole;

  /** Resolved lazily through the user loader. */
  userId!: string;
}

@InputType("CreateOrganizationInput")
export class CreateOrganizationInput {
  @Field(() => String)
  name!: string;
}
