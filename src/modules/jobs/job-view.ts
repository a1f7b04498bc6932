import type { GatewayContext } from "../../context/gateway-context.js";
import { JobStatus } from "../../generated/prisma/enums.js";
import { failedField, isJobKind, type JobRow } from "../../jobs/index.js";
import type { JobErrorType, JobType } from "./job-types.js";

/** What a tenant is told of a failure inside the gateway; staff see the cause. */
const INTERNAL_MESSAGE = "The job failed inside the gateway; quote its id to support.";

function errorOf(row: JobRow, staff: boolean): JobErrorType | null {
  if (row.errorCode === null) return null;
  const internal = row.errorCode === "INTERNAL_SERVER_ERROR";

  return {
    code: row.errorCode,
    message: internal && !staff ? INTERNAL_MESSAGE : (row.errorMessage ?? ""),
    field: row.status === JobStatus.FAILED ? (failedField(row) ?? null) : null,
  };
}

/**
 * A job as its caller may see it. Global admins see everything; a tenant's
 * admin sees the job without what belongs to the platform: which staff
 * member asked for it, and the internals of a failure inside the gateway.
 */
export function jobView(ctx: GatewayContext, row: JobRow): JobType {
  const staff = ctx.principal?.isGlobalAdmin === true;
  if (!isJobKind(row.kind)) throw new Error(`job ${row.id} has an unknown kind "${row.kind}"`);

  return {
    id: row.id,
    tenantId: row.tenantId,
    kind: row.kind,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    requestedBy: !staff && row.requestedBy.startsWith("platform:") ? "platform" : row.requestedBy,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    result: row.status === JobStatus.SUCCEEDED ? row.result : null,
    error: errorOf(row, staff),
  };
}
