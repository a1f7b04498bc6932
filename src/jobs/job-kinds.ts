import type { TenantExport } from "../lifecycle/export-tenant.js";
import type { MoveReport, MoveRequest } from "../lifecycle/move-tenant.js";
import type { ProvisionRequest } from "../lifecycle/provision.js";
import type { TenantUpgrade } from "../lifecycle/upgrade-tenants.js";

/** What a background job does; stored as text in `BackgroundJob.kind`. */
export const JobKind = {
  /** Creates a tenant (provision.ts). */
  PROVISION: "PROVISION",
  /** Moves a tenant to another tier or server (move-tenant.ts). */
  MOVE: "MOVE",
  /** Writes a tenant's archive to the export directory (export-tenant.ts). */
  EXPORT: "EXPORT",
  /** Brings one tenant's tables to the latest migration (upgrade-tenants.ts). */
  MIGRATE: "MIGRATE",
} as const;

export type JobKind = (typeof JobKind)[keyof typeof JobKind];

export function isJobKind(value: string): value is JobKind {
  return Object.hasOwn(JobKind, value);
}

/** What a job of each kind is asked to do, as stored in `BackgroundJob.input`. */
export interface JobInputs {
  PROVISION: ProvisionRequest;
  MOVE: MoveRequest;
  EXPORT: Record<string, never>;
  /** The channel a `startMigrateTenants` call named, kept for the record. */
  MIGRATE: { channel?: string };
}

/** A provisioning's outcome without the access details only a live request has. */
export interface ProvisionJobResult {
  tenantId: string;
  adminUser: { id: string; email: string; name: string };
  /** False when the tenant was already whole before this job. */
  created: boolean;
}

/** An export's outcome; the archive's absolute path stays on the server. */
export type ExportJobResult = Omit<TenantExport, "path">;

/** A tenant whose location provisioning has yet to make has nothing to migrate. */
export interface SkippedUpgrade {
  tenantId: string;
  skipped: string;
}

/** What a job of each kind leaves in `BackgroundJob.result` when it succeeds. */
export interface JobResults {
  PROVISION: ProvisionJobResult;
  MOVE: MoveReport;
  EXPORT: ExportJobResult;
  MIGRATE: TenantUpgrade | SkippedUpgrade;
}

/** A job to run: its kind, the tenant it works on, its input and who asked. */
export type JobRequest<K extends JobKind = JobKind> = {
  [P in K]: {
    readonly kind: P;
    readonly tenantId: string;
    readonly input: JobInputs[P];
    /** Written to the record and the audit rows the work writes, e.g. `platform:staff-1`. */
    readonly requestedBy: string;
  };
}[K];

/** Kinds whose success changes the tenant's record, which every process must forget. */
export function changesTenant(kind: JobKind): boolean {
  switch (kind) {
    case JobKind.PROVISION:
    case JobKind.MOVE:
    case JobKind.MIGRATE:
      return true;
    case JobKind.EXPORT:
      return false;
    default: {
      const unknown: never = kind;
      throw new Error(`unhandled job kind ${String(unknown)}`);
    }
  }
}
