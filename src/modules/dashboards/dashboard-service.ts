import { actorOf, recordTenantAudit } from "../../audit/index.js";
import type { Principal } from "../../auth/index.js";
import type { TenantScope } from "../../context/gateway-context.js";
import { badInput, forbidden } from "../../errors/index.js";
import type { Access } from "../../rbac/access.js";
import { modulesOf } from "../../tenant-config/effective-config.js";
import { newId } from "../common/ids.js";
import { requireList, requireText } from "../common/validate.js";
import { DASHBOARD_SELECT } from "./dashboard-loaders.js";
import type { CreateDashboardInput, DashboardRecord } from "./dashboard-types.js";

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

/** Creates a dashboard owned by the caller, with modules the tenant's plan includes. */
export async function createDashboard(
  scope: TenantScope,
  caller: Caller,
  input: CreateDashboardInput,
): Promise<DashboardRecord> {
  const ownerId = caller.access.userId;
  if (!ownerId) throw forbidden("Only a user of this tenant can own a dashboard.");
  const title = requireText("title", input.title, 120);
  const modules = requireList(
    "modules",
    input.modules ?? [],
    (m) => /^[a-z][a-z0-9-]{0,39}$/.test(m),
    24,
  );

  const allowed = new Set(modulesOf(scope.tenant));
  const refused = modules.filter((module) => !allowed.has(module));
  if (refused.length > 0) {
    throw badInput(
      "modules",
      `Your plan does not include the module(s) ${refused.join(", ")}. Available: ${[...allowed].join(", ") || "none"}.`,
    );
  }

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
