import type { TenantClient } from "../../data/index.js";
import { createEntityLoader, type LoaderSource } from "../../loaders/index.js";
import type { DashboardRecord } from "./dashboard-types.js";

/** Cache service name: `ogc:{tenant}:dashboards:…`. */
export const DASHBOARDS_SERVICE = "dashboards";

export const DASHBOARD_SELECT = { id: true, title: true, ownerId: true, modules: true } as const;

export function createDashboardLoaders(db: TenantClient, source: LoaderSource) {
  return {
    dashboard: createEntityLoader<DashboardRecord | null>(source, {
      service: DASHBOARDS_SERVICE,
      entity: "dashboard",
      missing: null,
      fetch: async (ids) => {
        const rows = await db.dashboard.findMany({
          where: { tenantId: db.tenantId, id: { in: [...ids] } },
          select: DASHBOARD_SELECT,
        });
        return new Map(rows.map((row) => [row.id, row]));
      },
    }),
  };
}

export type DashboardLoaders = ReturnType<typeof createDashboardLoaders>;
