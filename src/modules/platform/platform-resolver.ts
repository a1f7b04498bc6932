import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { actorOf } from "../../audit/index.js";
import type { GatewayContext } from "../../context/gateway-context.js";
import { TenantStatus } from "../../generated/prisma/enums.js";
import { BUILT_IN_ROLES, TENANT_ADMIN_ROLE } from "../../rbac/permissions.js";
import type { UserRecord } from "../identity/identity-types.js";
import { reloadTenant } from "../tenants/tenant-config-service.js";
import { toTenantView } from "../tenants/tenant-view.js";
import {
  Isolation,
  ProvisionResultType,
  ProvisionTenantInput,
  TenantMoveType,
  TenantSummaryType,
} from "./platform-types.js";
import { JobKind } from "../../jobs/index.js";
import { deprovisionTenant } from "../../lifecycle/deprovision.js";
import { auditFailures } from "./audit-failures.js";
import { listTenantSummaries, setTenantStatus, tenantSummary } from "./tenant-admin-service.js";

@Resolver()
export class PlatformResolver {
  @Query(() => [TenantSummaryType], { description: "Global admin only." })
  async adminTenants(@Ctx() ctx: GatewayContext) {
    return listTenantSummaries(ctx);
  }

  @Mutation(() => ProvisionResultType, { description: "Global admin only; idempotent." })
  async provisionTenant(
    @Ctx() ctx: GatewayContext,
    @Arg("input", () => ProvisionTenantInput) input: ProvisionTenantInput,
  ) {
    // Runs as a background job and waits for it: the job's record is kept.
    const outcome = await auditFailures(ctx, "tenant.provision", { tenantId: input.id }, () =>
      ctx.platform.jobs.run({
        kind: JobKind.PROVISION,
        tenantId: input.id.trim(),
        input: { ...input },
        requestedBy: actorOf(ctx.principal) ?? "unknown",
      }),
    );
    await ctx.platform.events.publish({ kind: "tenant", tenantId: outcome.tenantId });
    const tenant = await reloadTenant(ctx, outcome.tenantId);

    // The console usually calls this with no tenant named, so the new
    // admin's access is handed over here rather than loaded in a scope.
    const adminUser: UserRecord = {
      ...outcome.adminUser,
      knownAccess: {
        roles: [TENANT_ADMIN_ROLE],
        permissions: [...(BUILT_IN_ROLES[TENANT_ADMIN_ROLE] ?? [])].sort(),
        organizationIds: [],
      },
    };

    return {
      tenant: toTenantView(tenant, await ctx.platform.features.enabledFor(tenant)),
      adminUser,
    };
  }

  @Mutation(() => TenantSummaryType, { description: "Global admin only." })
  async suspendTenant(@Ctx() ctx: GatewayContext, @Arg("id", () => ID) id: string) {
    return auditFailures(ctx, "tenant.suspend", { tenantId: id }, () =>
      setTenantStatus(ctx, id, TenantStatus.SUSPENDED),
    );
  }

  @Mutation(() => TenantMoveType, {
    description:
      "Global admin only. Moves a tenant to another tier or database server; every row is verified at both ends before the switch, and writes wait while it runs.",
  })
  async moveTenant(
    @Ctx() ctx: GatewayContext,
    @Arg("id", () => ID) id: string,
    @Arg("isolation", () => Isolation) isolation: Isolation,
    @Arg("region", () => String, { nullable: true }) region?: string | null,
    @Arg("server", () => String, { nullable: true }) server?: string | null,
  ) {
    // Runs as a background job and waits for it: the job's record is kept.
    const report = await auditFailures(ctx, "tenant.move", { tenantId: id }, () =>
      ctx.platform.jobs.run({
        kind: JobKind.MOVE,
        tenantId: id,
        input: { isolation, region: region ?? null, server: server ?? null },
        requestedBy: actorOf(ctx.principal) ?? "unknown",
      }),
    );
    await ctx.platform.events.publish({ kind: "tenant", tenantId: id });
    const tenant = await tenantSummary(ctx, id);

    return {
      ...report,
      tenant,
      tables: report.tables.map(({ table, rows, checksum }) => ({ name: table, rows, checksum })),
    };
  }

  @Mutation(() => Boolean, {
    description:
      "Global admin only. Removes a suspended (or never finished) tenant with all its data, storage and cache; true when done.",
  })
  async deprovisionTenant(
    @Ctx() ctx: GatewayContext,
    @Arg("id", () => ID) id: string,
    @Arg("force", () => Boolean, {
      nullable: true,
      description:
        "Remove the tenant even when its database server does not answer; what is left there is named in the platform audit log.",
    })
    force?: boolean | null,
  ) {
    await auditFailures(ctx, "tenant.deprovision", { tenantId: id }, () =>
      deprovisionTenant(ctx.platform.lifecycle, id, actorOf(ctx.principal) ?? "unknown", {
        force: force ?? false,
      }),
    );
    await ctx.platform.events.publish({ kind: "tenant", tenantId: id });

    return true;
  }

  @Mutation(() => TenantSummaryType, { description: "Global admin only." })
  async resumeTenant(@Ctx() ctx: GatewayContext, @Arg("id", () => ID) id: string) {
    return auditFailures(ctx, "tenant.resume", { tenantId: id }, () =>
      setTenantStatus(ctx, id, TenantStatus.ACTIVE),
    );
  }
}
