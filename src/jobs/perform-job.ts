import { readdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { exportTenant } from "../lifecycle/export-tenant.js";
import { withLifecycleLock } from "../lifecycle/lifecycle-lock.js";
import type { LifecycleServices } from "../lifecycle/lifecycle-services.js";
import {
  moveTenant,
  settleInterruptedMove,
  type MoveReport,
  type MoveRequest,
} from "../lifecycle/move-tenant.js";
import { provisionTenant, type ProvisionRequest } from "../lifecycle/provision.js";
import { upgradeTenants } from "../lifecycle/upgrade-tenants.js";
import { isJobKind, JobKind, type JobResults } from "./job-kinds.js";
import type { JobRow } from "./job-store.js";

/**
 * Does a job's work. `resumed` says an earlier run of this job began and
 * may have done some or all of it before its process died or it failed;
 * every kind then finishes what is left and reports the job's own outcome,
 * never a refusal of work that is already done:
 *
 * - PROVISION: provisioning completes a half-made tenant; a tenant made
 *   whole by the earlier run still counts as created by this job;
 * - MOVE: a move cut short is settled first (finished when the copy was
 *   verified and fenced, else undone); a move the earlier run finished is
 *   reported from its audit row instead of refused as "already there";
 * - EXPORT: each job writes one archive under a name of its own, so a
 *   second run replaces what the first may have left, never adds a copy;
 * - MIGRATE: migrations are recorded as they apply; a second run applies
 *   what is left.
 */
export async function performJob(
  services: LifecycleServices,
  row: JobRow,
  resumed: boolean,
): Promise<JobResults[JobKind]> {
  if (!isJobKind(row.kind)) throw new Error(`job ${row.id} has an unknown kind "${row.kind}"`);

  switch (row.kind) {
    case JobKind.PROVISION:
      return provision(services, row, resumed);
    case JobKind.MOVE:
      return move(services, row, resumed);
    case JobKind.EXPORT:
      return exportArchive(services, row, resumed);
    case JobKind.MIGRATE:
      return migrate(services, row);
    default: {
      const unknown: never = row.kind;
      throw new Error(`unhandled job kind ${String(unknown)}`);
    }
  }
}

/** The stored input, which this code wrote; a row edited by hand fails plainly. */
function inputOf<T>(row: JobRow): T {
  const input = row.input;
  if (!input || typeof input !== "object" || Array.isArray(input)) {
    throw new Error(`job ${row.id} has no input object`);
  }

  return input as T;
}

async function provision(
  services: LifecycleServices,
  row: JobRow,
  resumed: boolean,
): Promise<JobResults["PROVISION"]> {
  const outcome = await provisionTenant(services, inputOf<ProvisionRequest>(row), row.requestedBy);
  const { id, email, name } = outcome.adminUser;
  // A run after a crash finds the tenant whole; the provision row since
  // the job was queued says who made it so.
  const created =
    outcome.created ||
    (resumed &&
      (await services.database.control.platformAuditLog.count({
        where: {
          tenantId: row.tenantId,
          action: "tenant.provision",
          createdAt: { gte: row.createdAt },
        },
      })) > 0);

  return { tenantId: outcome.tenantId, adminUser: { id, email, name }, created };
}

/** Audit actions that record a finished move: the move's own, or the settling of one cut short. */
const MOVE_DONE_ACTIONS = ["tenant.move", "tenant.move.completed"];

async function move(
  services: LifecycleServices,
  row: JobRow,
  resumed: boolean,
): Promise<MoveReport> {
  const request = inputOf<MoveRequest>(row);
  if (resumed) {
    const done = await finishedMove(services, row);
    if (done) return done;
  }

  return moveTenant(services, row.tenantId, request, row.requestedBy);
}

/**
 * The report of a move an earlier run of this job finished, from its audit
 * row; null when no move finished since the job was queued. A move left
 * half-done is settled first, under the tenant's lifecycle lock.
 */
async function finishedMove(services: LifecycleServices, row: JobRow): Promise<MoveReport | null> {
  const { database } = services;
  await withLifecycleLock(database, row.tenantId, () =>
    settleInterruptedMove(services, row.tenantId, row.requestedBy),
  );
  const tenant = await database.control.tenant.findUnique({
    where: { id: row.tenantId },
    select: { movingTo: true },
  });
  if (!tenant || tenant.movingTo) return null;

  const record = await database.control.platformAuditLog.findFirst({
    where: {
      tenantId: row.tenantId,
      action: { in: MOVE_DONE_ACTIONS },
      createdAt: { gte: row.createdAt },
    },
    orderBy: { createdAt: "desc" },
  });
  if (!record) return null;
  const detail = record.detail as Partial<Pick<MoveReport, "from" | "to" | "tables">>;
  const began = row.startedAt ?? row.createdAt;

  return {
    tenantId: row.tenantId,
    from: String(detail.from ?? ""),
    to: String(detail.to ?? ""),
    tables: Array.isArray(detail.tables) ? detail.tables : [],
    durationMs: Math.max(0, record.createdAt.getTime() - began.getTime()),
  };
}

/** `acme-20260105T101112345Z-3f9a0c1d2e4b.tar.gz`: sortable by time, one name per job. */
function archiveName(row: JobRow): string {
  const stamp = row.createdAt.toISOString().replace(/[-:.]/g, "");

  return `${row.tenantId}-${stamp}-${row.id.replaceAll("-", "").slice(-12)}.tar.gz`;
}

async function exportArchive(
  services: LifecycleServices,
  row: JobRow,
  resumed: boolean,
): Promise<JobResults["EXPORT"]> {
  const name = archiveName(row);
  if (resumed) await removeLeftovers(services, row.tenantId, name);
  const target = join(resolve(services.exportDir), name);
  const { path: _path, ...result } = await exportTenant(services, row.tenantId, row.requestedBy, {
    target,
  });

  return result;
}

/**
 * Removes what a dead export of the tenant left in the export directory:
 * spool folders (`.spool-<tenant>-XXXXXX`, see export-tenant.ts) and this
 * job's half-written archive (`<name>.partial-…`, see archive-writer.ts).
 * Under the tenant's lifecycle lock no export of it runs anywhere, so none
 * of them is in use.
 */
async function removeLeftovers(
  services: LifecycleServices,
  tenantId: string,
  archive: string,
): Promise<void> {
  const exportDir = resolve(services.exportDir);
  const spool = `.spool-${tenantId}-`;
  // mkdtemp adds six characters: "acme-" must not take "acme-corp-"'s folders.
  const isLeftover = (name: string) =>
    (name.startsWith(spool) && name.length === spool.length + 6) ||
    name.startsWith(`${archive}.partial-`);

  await withLifecycleLock(services.database, tenantId, async () => {
    const names = await readdir(exportDir).catch(() => [] as string[]);
    for (const name of names.filter(isLeftover)) {
      await rm(join(exportDir, name), { recursive: true, force: true });
    }
  });
}

async function migrate(services: LifecycleServices, row: JobRow): Promise<JobResults["MIGRATE"]> {
  const report = await upgradeTenants(services.database, {
    tenantId: row.tenantId,
    migrationsDir: services.migrationsDir,
    // One tenant: one location to migrate.
    concurrency: 1,
  });
  const [upgrade] = report.tenants;
  if (!upgrade) {
    const skipped = report.skipped[0]?.reason ?? "nothing to migrate";
    return { tenantId: row.tenantId, skipped };
  }
  // A failed migration was rolled back: another attempt may find the cause gone.
  if (!upgrade.ok) throw new Error(upgrade.error ?? `tenant ${row.tenantId} was not migrated`);

  return upgrade;
}
