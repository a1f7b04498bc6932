import { actorOf, recordTenantAudit } from "../../audit/index.js";
import type { Principal } from "../../auth/index.js";
import type { TenantScope } from "../../context/gateway-context.js";
import { badInput, forbidden, notFound } from "../../errors/index.js";
import type { Access } from "../../rbac/access.js";
import { modulesOf } from "../../tenant-config/effective-config.js";
import { newId } from "../common/ids.js";
import { requireList, requireText } from "../common/validate.js";
import { DASHBOARD_SELECT, DASHBOARDS_SERVICE } from "./dashboard-loaders.js";
import type {
  CreateDashboardInput,
  DashboardRecord,
  UpdateDashboardInput,
} from "./dashboard-types.js";

interface Caller {
  principal: Principal | null;
  access: Access;
}

export async function listDashboards(scope: TenantScope): Promise<DashboardRecord[]> {
  return scope.db.dashboard.findMany({
    where: { tenantId: scope.tenant.id },
    select: DASHBOARD_SELECT,
    orderBy: { id: "asc" },
    take: 500,
  });
}

/**
 * The modules named, checked: well-formed, and every one included in the
 * tenant's plan (or sold to it on top); BAD_USER_INPUT naming `modules` else.
 */
function requirePlanModules(scope: TenantScope, given: readonly string[]): string[] {
  const modules = requireList("modules", [...given], (m) => /^[a-z][a-z0-9-]{0,39}$/.test(m), 24);
  const allowed = modulesOf(scope.tenant);
  const refused = modules.filter((module) => !allowed.includes(module));
  if (refused.length > 0) {
    throw badInput(
      "modules",
      `Your plan does not include the module(s) ${refused.join(", ")}. Available: ${allowed.join(", ") || "none"}.`,
    );
  }

  return modules;
}

/** Creates a dashboard owned by the caller, with modules the tenant's plan includes. */
export async function createDashboard(
  scope: TenantScope,
  caller: Caller,
  input: CreateDashboardInput,
): Promise<DashboardRecord> {
  const ownerId = caller.access.userId;
  if (!ownerId) throw forbidden("Only a user of this tenant can own a dashboard.");
  const title = requireText("title", input.title, 120);
  const modules = requirePlanModules(scope, input.modules ?? []);

  const tenantId = scope.tenant.id;
  const dashboard = { id: newId(), title, ownerId, modules };
  await scope.db.transaction(async (tx) => {
    await tx.dashboard.create({ data: { tenantId, ...dashboard } });
    await recordTenantAudit(tx, tenantId, {
      actorId: actorOf(caller.principal),
      action: "dashboard.create",
      target: dashboard.id,
    });
  });

  return dashboard;
}

/** Changes a dashboard's title or modules; NOT_FOUND for another tenant's id. */
export async function updateDashboard(
  scope: TenantScope,
  caller: Caller,
  id: string,
  input: UpdateDashboardInput,
): Promise<DashboardRecord> {
  const title = input.title == null ? undefined : requireText("title", input.title, 120);
  const modules = input.modules == null ? undefined : requirePlanModules(scope, input.modules);

  const tenantId = scope.tenant.id;
  const updated = await scope.db.transaction(async (tx) => {
    const changed = await tx.dashboard.updateMany({
      where: { tenantId, id },
      data: { ...(title !== undefined && { title }), ...(modules !== undefined && { modules }) },
    });
    if (changed.count === 0) return null;
    await recordTenantAudit(tx, tenantId, {
      actorId: actorOf(caller.principal),
      action: "dashboard.update",
      target: id,
    });
    return tx.dashboard.findUnique({
      where: { tenantId_id: { tenantId, id } },
      select: DASHBOARD_SELECT,
    });
  });
  if (!updated) throw notFound("Dashboard");
  await scope.cache.delete(DASHBOARDS_SERVICE, "dashboard", [id]);
  scope.loaders.dashboard.clear(id);

  return updated;
}
