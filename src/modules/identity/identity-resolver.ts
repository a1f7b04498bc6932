import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { requireScope, type GatewayContext } from "../../context/gateway-context.js";
import { notFound } from "../../errors/index.js";
import { parsePageRequest, toConnection } from "../common/pagination.js";
import * as identity from "./identity-service.js";
import {
  CreateRoleInput,
  CreateUserInput,
  RoleType,
  UserConnection,
  UserType,
  type UserRecord,
} from "./identity-types.js";

@Resolver(() => UserType)
export class IdentityResolver {
  @Query(() => UserType, {
    nullable: true,
    description: "The signed-in tenant user; null without a token.",
  })
  async me(@Ctx() ctx: GatewayContext): Promise<UserRecord | null> {
    const scope = requireScope(ctx);
    if (!ctx.access.userId) return null;

    return scope.loaders.user.load(ctx.access.userId);
  }

  @Query(() => UserConnection)
  async users(
    @Ctx() ctx: GatewayContext,
    @Arg("first", () => Int, { nullable: true }) first?: number | null,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
  ) {
    const scope = requireScope(ctx);
    const page = parsePageRequest(first, after);
    const rows = await identity.listUsers(scope, page.take, page.afterId);
    for (const row of rows) scope.loaders.user.prime(row.id, row);

    return toConnection(rows, page.take);
  }

  @Query(() => UserType, { nullable: true })
  async user(@Ctx() ctx: GatewayContext, @Arg("id", () => ID) id: string) {
    return requireScope(ctx).loaders.user.load(id);
  }

  @Mutation(() => UserType)
  async createUser(
    @Ctx() ctx: GatewayContext,
    @Arg("input", () => CreateUserInput) input: CreateUserInput,
  ) {
    return identity.createUser(requireScope(ctx), ctx, input);
  }

  @Mutation(() => RoleType)
  async createRole(
    @Ctx() ctx: GatewayContext,
    @Arg("input", () => CreateRoleInput) input: CreateRoleInput,
  ) {
    return identity.createRole(requireScope(ctx), ctx, input);
  }

  @Mutation(() => UserType)
  async assignRole(
    @Ctx() ctx: GatewayContext,
    @Arg("userId", () => ID) userId: string,
    @Arg("role", () => String) role: string,
  ) {
    return identity.assignRole(requireScope(ctx), ctx, userId, role);
  }

  @FieldResolver(() => [String])
  async roles(@Root() user: UserRecord, @Ctx() ctx: GatewayContext): Promise<string[]> {
    if (user.knownAccess) return user.knownAccess.roles;

    return (await requireScope(ctx).loaders.userAccess.load(user.id)).roles;
  }

  @FieldResolver(() => [String])
  async permissions(@Root() user: UserRecord, @Ctx() ctx: GatewayContext): Promise<string[]> {
    if (user.knownAccess) return user.knownAccess.permissions;

    return (await requireScope(ctx).loaders.userAccess.load(user.id)).permissions;
  }
}

/** Loads a user the caller named, NOT_FOUND when it is not the tenant's. */
export async function loadUserOrFail(ctx: GatewayContext, id: string): Promise<UserRecord> {
  const user = await requireScope(ctx).loaders.user.load(id);
  if (!user) throw notFound("User");

  return user;
}
