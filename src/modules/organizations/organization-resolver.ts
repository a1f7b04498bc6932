import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { requireScope, type GatewayContext } from "../../context/gateway-context.js";
import { notFound } from "../../errors/index.js";
import { nestedListSize } from "../common/nested-list.js";
import { UserType, type UserRecord } from "../identity/identity-types.js";
import * as organizations from "./organization-service.js";
import {
  CreateOrganizationInput,
  MembershipRole,
  MembershipType,
  OrganizationType,
  type MemberRecord,
  type OrganizationRecord,
} from "./organization-types.js";

@Resolver(() => OrganizationType)
export class OrganizationResolver {
  @Query(() => [OrganizationType])
  async organizations(@Ctx() ctx: GatewayContext) {
    const scope = requireScope(ctx);
    const rows = await organizations.listOrganizations(scope);
    for (const row of rows) scope.loaders.organization.prime(row.id, row);

    return rows;
  }

  @Mutation(() => OrganizationType)
  async createOrganization(
    @Ctx() ctx: GatewayContext,
    @Arg("input", () => CreateOrganizationInput) input: CreateOrganizationInput,
  ) {
    return organizations.createOrganization(requireScope(ctx), ctx, input);
  }

  @Mutation(() => MembershipType)
  async addMember(
    @Ctx() ctx: GatewayContext,
    @Arg("organizationId", () => ID) organizationId: string,
    @Arg("userId", () => ID) userId: string,
    @Arg("role", () => MembershipRole) role: MembershipRole,
  ) {
    return organizations.addMember(requireScope(ctx), ctx, organizationId, userId, role);
  }

  @FieldResolver(() => [MembershipType], { description: "The first members, earliest first." })
  async members(
    @Root() organization: OrganizationRecord,
    @Ctx() ctx: GatewayContext,
    @Arg("first", () => Int, { defaultValue: 50, description: "At most 100." }) first: number,
  ) {
    const size = nestedListSize(first);
    const members = await requireScope(ctx).loaders.organizationMembers.load(organization.id);

    return members.slice(0, size);
  }
}

@Resolver(() => MembershipType)
export class MembershipResolver {
  @FieldResolver(() => UserType)
  async user(@Root() membership: MemberRecord, @Ctx() ctx: GatewayContext): Promise<UserRecord> {
    const user = await requireScope(ctx).loaders.user.load(membership.userId);
    if (!user) throw notFound("User");

    return user;
  }
}

@Resolver(() => UserType)
export class UserOrganizationsResolver {
  @FieldResolver(() => [OrganizationType], { description: "The first organizations joined." })
  async organizations(
    @Root() user: UserRecord,
    @Ctx() ctx: GatewayContext,
    @Arg("first", () => Int, { defaultValue: 20, description: "At most 100." }) first: number,
  ) {
    const size = nestedListSize(first);
    if (user.knownAccess?.organizationIds.length === 0 || size === 0) return [];
    const { loaders } = requireScope(ctx);
    const ids = user.knownAccess
      ? user.knownAccess.organizationIds
      : (await loaders.userMemberships.load(user.id)).map((m) => m.organizationId);
    const found = await loaders.organization.loadMany(ids.slice(0, size));

    return found.filter((org): org is OrganizationRecord => !!org && !(org instanceof Error));
  }
}
