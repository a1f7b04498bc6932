import { Arg, Ctx, ID, Mutation, Resolver } from "type-graphql";
import { actorOf } from "../../audit/index.js";
import type { GatewayContext } from "../../context/gateway-context.js";
import { resolveArchivePath } from "../../lifecycle/archive-path.js";
import { JobKind } from "../../jobs/index.js";
import { importTenant } from "../../lifecycle/import-tenant.js";
import { auditFailures } from "./audit-failures.js";
import { Isolation, TenantSummaryType } from "./platform-types.js";
import { tenantSummary } from "./tenant-admin-service.js";
import { TenantExportType } from "./tenant-archive-types.js";

/** Tenant archives: taking a tenant out of one gateway or tier and into another. */
@Resolver()
export class TenantArchiveResolver {
  @Mutation(() => TenantExportType, {
    description:
      "Global admin only. Writes the tenant's rows (one consistent snapshot), config and a manifest with checksums to an archive in the export directory.",
  })
  async exportTenant(
    @Ctx() ctx: GatewayContext,
    @Arg("id", () => ID) id: string,
  ): Promise<TenantExportType> {
    // Runs as a background job and waits for it: the job's record is kept.
    const result = await auditFailures(ctx, "tenant.export", { tenantId: id }, () =>
      ctx.platform.jobs.run({
        kind: JobKind.EXPORT,
        tenantId: id,
        input: {},
        requestedBy: actorOf(ctx.principal) ?? "unknown",
      }),
    );

    return {
      ...result,
      tables: result.tables.map(({ table, rows, checksum }) => ({ name: table, rows, checksum })),
    };
  }

  @Mutation(() => TenantSummaryType, {
    description:
      "Global admin only. Creates the tenant of an archive in the export directory (default: SHARED, in the archive's region), after checking every file against the manifest; refused when the tenant exists.",
  })
  async importTenant(
    @Ctx() ctx: GatewayContext,
    @Arg("file", () => String) file: string,
    @Arg("isolation", () => Isolation, { nullable: true }) isolation?: Isolation | null,
    @Arg("region", () => String, { nullable: true }) region?: string | null,
  ): Promise<TenantSummaryType> {
    const services = ctx.platform.lifecycle;
    const outcome = await auditFailures(ctx, "tenant.import", { file }, async () =>
      importTenant(
        services,
        { path: await resolveArchivePath(services.exportDir, file), name: file, isolation, region },
        actorOf(ctx.principal) ?? "unknown",
      ),
    );

    return tenantSummary(ctx, outcome.tenantId);
  }
}
