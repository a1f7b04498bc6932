import {
  describeLocation,
  planLocation,
  quoteIdentifier,
  schemaOf,
  SHARED_LOCATION,
  type PlannedLocation,
} from "../data/placement/tenant-location.js";
import { Isolation } from "../generated/prisma/enums.js";
import { withLifecycleLockIfFree } from "./lifecycle-lock.js";
import type { LifecycleServices } from "./lifecycle-services.js";
import { dropLocation } from "./locations.js";

interface Copy {
  tenantId: string;
  copy: PlannedLocation;
}

/** Tenant ids have no '_', so the names' '_' for '-' reads back one to one. */
const idFrom = (name: string, prefix: string) => name.slice(prefix.length).replaceAll("_", "-");

/**
 * Removes old copies that a move switched away from but never removed,
 * because its process died between the registry switch and the removal.
 *
 * A copy is removed only when all of these hold: the tenant exists, no move
 * of it is under way, the registry places it elsewhere, and the copy carries
 * the tenant's fence (written just before the switch). Anything else, such
 * as a half-made target of a move that never switched, is left alone:
 * `settleInterruptedMove` knows that one through `movingTo`. Each removal
 * runs under the tenant's lifecycle lock. Answers what was removed.
 */
export async function sweepLeftCopies(services: LifecycleServices): Promise<string[]> {
  const { database } = services;
  const tenants = new Map(
    (
      await database.control.tenant.findMany({
        select: { id: true, isolation: true, databaseServer: true, movingTo: true },
      })
    ).map((t) => [t.id, t]),
  );
  const elsewhere = (candidate: Copy) => {
    const tenant = tenants.get(candidate.tenantId);
    if (!tenant || tenant.movingTo !== null) return false;
    const home = describeLocation(planLocation(tenant.id, tenant.isolation, tenant.databaseServer));
    return describeLocation(candidate.copy) !== home;
  };

  const candidates = [
    ...(await copiesInControl(services)),
    ...(await copiesOnServers(services)),
  ].filter(elsewhere);
  const removed: string[] = [];
  for (const candidate of candidates) {
    const { tenantId, copy } = candidate;
    const log = services.logger.child({ tenantId });
    await withLifecycleLockIfFree(database, tenantId, async () => {
      // Looked at again under the lock: a move may have begun meanwhile.
      const now = await database.control.tenant.findUnique({ where: { id: tenantId } });
      if (!now || now.movingTo !== null || !(await isFenced(services, candidate))) return;
      await dropLocation(database, tenantId, copy);
      removed.push(`${tenantId} at ${describeLocation(copy)}`);
      // One line per tenant: a line never carries two tenants' data.
      log.warn({ copy: describeLocation(copy) }, "removed a copy a move left");
    }).catch((err: unknown) => log.error({ err }, "could not remove a copy a move left"));
  }

  return removed;
}

/** Tenant schemas, and tenants with rows and a fence in the shared tables. */
async function copiesInControl(services: LifecycleServices): Promise<Copy[]> {
  return services.database.admin.atLocation(SHARED_LOCATION, async (session) => {
    const schemas = await session.query<{ name: string }>(
      `SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'`,
    );
    const shared = await session.query<{ tenantId: string }>(
      `SELECT DISTINCT f."tenantId" FROM "public"."TenantFence" f
        WHERE EXISTS (SELECT 1 FROM "public"."User" u WHERE u."tenantId" = f."tenantId")`,
    );

    return [
      ...schemas.map(({ name }) => {
        const tenantId = idFrom(name, "tenant_");
        return { tenantId, copy: planLocation(tenantId, Isolation.SCHEMA, null) };
      }),
      ...shared.map(({ tenantId }) => ({ tenantId, copy: { isolation: Isolation.SHARED } })),
    ];
  });
}

/** Tenant databases on every configured server that answers. */
async function copiesOnServers(services: LifecycleServices): Promise<Copy[]> {
  const found: Copy[] = [];
  for (const server of services.database.servers) {
    const names = await services.database.admin
      .atServer(server.id, (session) =>
        session.query<{ name: string }>(
          `SELECT datname AS name FROM pg_database WHERE datname LIKE 'ogc\\_tenant\\_%'`,
        ),
      )
      .catch(() => []); // a server that does not answer is swept another time
    for (const { name } of names) {
      const tenantId = idFrom(name, "ogc_tenant_");
      found.push({ tenantId, copy: planLocation(tenantId, Isolation.DATABASE, server.id) });
    }
  }

  return found;
}

/** Whether the copy carries the tenant's fence, the sign that a move left it. */
async function isFenced(services: LifecycleServices, { tenantId, copy }: Copy): Promise<boolean> {
  const rows = await services.database.admin.atLocation(copy, (session) =>
    session.query(
      `SELECT 1 FROM ${quoteIdentifier(schemaOf(copy))}."TenantFence" WHERE "tenantId" = $1`,
      [tenantId],
    ),
  );

  return rows.length > 0;
}
