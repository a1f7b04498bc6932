import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import type { GatewayContext } from "../../context/gateway-context.js";
import { auditFailures } from "../platform/audit-failures.js";
import { exportTenantLogs, eraseTenantLogs, readTenantLogs } from "./tenant-log-service.js";
import { LogLineType, TenantLogExportType } from "./tenant-log-types.js";

/** Lines `tenantLogs` answers unless told otherwise. */
const DEFAULT_LOG_LINES = 100;

/** GraphQL's Int is 32-bit: a larger count is answered as this (the audit row has it whole). */
const MAX_INT = 2_147_483_647;

/** Each tenant's own log file: read, handed over and erased, by staff only. */
@Resolver()
export class TenantLogResolver {
  @Query(() => [LogLineType], {
    description:
      "Global admin only. The tenant's own log lines, newest first; `level` keeps lines at that level or more severe (trace, debug, info, warn, error, fatal). Audited.",
  })
  async tenantLogs(
    @Ctx() ctx: GatewayContext,
    @Arg("id", () => ID) id: string,
    @Arg("first", () => Int, {
      nullable: true,
      defaultValue: DEFAULT_LOG_LINES,
      description: "From 1 to 1,000 (null: 100).",
    })
    first?: number | null,
    @Arg("level", () => String, { nullable: true }) level?: string | null,
  ): Promise<LogLineType[]> {
    return auditFailures(ctx, "tenant.logs.read", { tenantId: id }, () =>
      readTenantLogs(ctx, id, first ?? DEFAULT_LOG_LINES, level),
    );
  }

  @Mutation(() => TenantLogExportType, {
    description:
      "Global admin only. Copies the tenant's log, as it is now, into the export directory: its rotated file (`<id>.log.1`), then its current one (an empty file when it has none). Audited with the copy's SHA-256.",
  })
  async exportTenantLogs(
    @Ctx() ctx: GatewayContext,
    @Arg("id", () => ID) id: string,
  ): Promise<TenantLogExportType> {
    return auditFailures(ctx, "tenant.logs.export", { tenantId: id }, () =>
      exportTenantLogs(ctx, id),
    );
  }

  @Mutation(() => Int, {
    description:
      "Global admin only. Removes the tenant's log files (the current one and the rotated one) and answers the bytes removed (at most 2,147,483,647; the audit row has the exact count). Other tenants' files are untouched; lines written later start a new file.",
  })
  async eraseTenantLogs(@Ctx() ctx: GatewayContext, @Arg("id", () => ID) id: string) {
    const bytes = await auditFailures(ctx, "tenant.logs.erase", { tenantId: id }, () =>
      eraseTenantLogs(ctx, id),
    );

    return Math.min(bytes, MAX_INT);
  }
}
