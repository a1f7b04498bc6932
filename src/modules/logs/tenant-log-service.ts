import { actorOf, recordPlatformAudit } from "../../audit/index.js";
import type { GatewayContext } from "../../context/gateway-context.js";
import { badInput, GatewayError } from "../../errors/index.js";
import { LOG_LEVELS, type TenantLogExport, type TenantLogLine } from "../../logging/index.js";
import { isTenantId } from "../../tenancy/index.js";

/** Most lines one `tenantLogs` call answers. */
export const MAX_LOG_LINES = 1_000;

/** The level names `tenantLogs` filters by, least severe first. */
const LEVEL_NAMES = [...LOG_LEVELS.keys()].join(", ");

/** BAD_USER_INPUT for a malformed id, TENANT_NOT_FOUND for one that is not registered. */
async function checkTenant(ctx: GatewayContext, id: string): Promise<void> {
  if (!isTenantId(id)) throw badInput("id", "id is not a tenant id.");
  const found = await ctx.platform.database.control.tenant.findUnique({
    where: { id },
    select: { id: true },
  });
  if (!found) throw new GatewayError("TENANT_NOT_FOUND", `There is no tenant "${id}".`);
}

/** pino's number for a level name; BAD_USER_INPUT for any other name. */
function minLevelOf(level: string | null | undefined): number | undefined {
  if (level === null || level === undefined) return undefined;
  const value = LOG_LEVELS.get(level.trim().toLowerCase());
  if (value === undefined) throw badInput("level", `level must be one of ${LEVEL_NAMES}.`);

  return value;
}

/**
 * The newest `first` lines of the tenant's log, newest first, at `level`
 * or above. Audited before it is read: staff reading a tenant's logs is
 * always on the record.
 */
export async function readTenantLogs(
  ctx: GatewayContext,
  id: string,
  first: number,
  level: string | null | undefined,
): Promise<TenantLogLine[]> {
  if (!Number.isInteger(first) || first < 1 || first > MAX_LOG_LINES) {
    throw badInput("first", `first must be from 1 to ${MAX_LOG_LINES}.`);
  }
  const minLevel = minLevelOf(level);
  await checkTenant(ctx, id);

  await recordPlatformAudit(ctx.platform.database.control, {
    actorId: actorOf(ctx.principal),
    action: "tenant.logs.read",
    tenantId: id,
    detail: { requestId: ctx.requestId, first, level: level ?? null },
  });

  return ctx.platform.logs.read(id, { first, minLevel });
}

/** Copies the tenant's log file into the export directory, and records the copy's hash. */
export async function exportTenantLogs(
  ctx: GatewayContext,
  id: string,
): Promise<TenantLogExport & { tenantId: string }> {
  await checkTenant(ctx, id);

  const copy = await ctx.platform.logs.export(id, ctx.platform.lifecycle.exportDir);
  await recordPlatformAudit(ctx.platform.database.control, {
    actorId: actorOf(ctx.principal),
    action: "tenant.logs.export",
    tenantId: id,
    detail: {
      requestId: ctx.requestId,
      file: copy.file,
      bytes: copy.bytes,
      lines: copy.lines,
      sha256: copy.sha256,
    },
  });

  return { ...copy, tenantId: id };
}

/** Removes the tenant's log file; answers the bytes removed. */
export async function eraseTenantLogs(ctx: GatewayContext, id: string): Promise<number> {
  await checkTenant(ctx, id);

  const bytes = await ctx.platform.logs.erase(id);
  await recordPlatformAudit(ctx.platform.database.control, {
    actorId: actorOf(ctx.principal),
    action: "tenant.logs.erase",
    tenantId: id,
    detail: { requestId: ctx.requestId, bytes },
  });

  return bytes;
}
