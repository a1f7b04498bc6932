import type { BackgroundJob, Prisma, PrismaClient } from "../generated/prisma/client.js";
import { JobStatus } from "../generated/prisma/enums.js";
import { newId } from "../modules/common/ids.js";
import type { JobFailure } from "./job-failure.js";
import type { JobRequest } from "./job-kinds.js";

/**
 * The `BackgroundJob` rows: the durable record of every job, whichever
 * runner runs it. The queue only says what to run next; the row says what
 * happened, and a runner reads it before doing anything, so a job whose
 * outcome is recorded is never run again.
 *
 * - `createdAt`: when the job was queued;
 * - `startedAt`: when its current attempt started (null until one has);
 * - `attempts`: the number of the current or last attempt (an attempt cut
 *   short by a crash and resumed keeps its number);
 * - `errorCode` / `errorMessage`: the last failure, kept while a retry
 *   waits (status QUEUED) and cleared by success;
 * - `result`: what a job that SUCCEEDED produced. A FAILED job keeps the
 *   input field its error names here, as `{ error: { field } }`, so a
 *   caller in another process hears the same BAD_USER_INPUT it would have.
 */
export type JobRow = BackgroundJob;

/** Statuses a job ends in; a row in either is never changed again. */
export const FINISHED_STATUSES: readonly JobStatus[] = [JobStatus.SUCCEEDED, JobStatus.FAILED];

const UNFINISHED = { in: [JobStatus.QUEUED, JobStatus.RUNNING] };

export function isFinished(row: Pick<JobRow, "status">): boolean {
  return FINISHED_STATUSES.includes(row.status);
}

/** Writes QUEUED rows for `requests`, each allowed `maxAttempts` runs; one insert for all. */
export async function recordJobs(
  control: PrismaClient,
  requests: readonly JobRequest[],
  maxAttempts: number,
): Promise<JobRow[]> {
  const createdAt = new Date();
  const rows = requests.map((request) => ({
    id: newId(),
    tenantId: request.tenantId,
    kind: request.kind,
    status: JobStatus.QUEUED,
    input: request.input as Prisma.InputJsonObject,
    attempts: 0,
    maxAttempts,
    requestedBy: request.requestedBy,
    createdAt,
  }));
  await control.backgroundJob.createMany({ data: rows });

  return control.backgroundJob.findMany({
    where: { id: { in: rows.map((row) => row.id) } },
    orderBy: { id: "asc" },
  });
}

export function findJob(control: PrismaClient, id: string): Promise<JobRow | null> {
  return control.backgroundJob.findUnique({ where: { id } });
}

/** Jobs queued or running, oldest first: what a restart must make sure runs. */
export function unfinishedJobs(control: PrismaClient): Promise<JobRow[]> {
  return control.backgroundJob.findMany({
    where: { status: UNFINISHED },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
}

export interface JobFilter {
  tenantId?: string;
  status?: JobStatus;
  /** Only jobs queued at or after this time. */
  since?: Date;
  /** At most this many, newest first. */
  first: number;
}

export function listJobs(control: PrismaClient, filter: JobFilter): Promise<JobRow[]> {
  return control.backgroundJob.findMany({
    where: {
      ...(filter.tenantId === undefined ? {} : { tenantId: filter.tenantId }),
      ...(filter.status === undefined ? {} : { status: filter.status }),
      ...(filter.since === undefined ? {} : { createdAt: { gte: filter.since } }),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: filter.first,
  });
}

/**
 * Changes a job that has not finished; false when it has (another process
 * recorded its outcome), which then stays as it is.
 */
async function updateUnfinished(
  control: PrismaClient,
  id: string,
  data: Prisma.BackgroundJobUpdateManyMutationInput,
): Promise<boolean> {
  const { count } = await control.backgroundJob.updateMany({
    where: { id, status: UNFINISHED },
    data,
  });

  return count === 1;
}

/**
 * Marks attempt `attempt` as started now; false when the job has finished
 * meanwhile (another process recorded its outcome), and then nothing runs.
 */
export async function markRunning(
  control: PrismaClient,
  id: string,
  attempt: number,
): Promise<boolean> {
  return updateUnfinished(control, id, {
    status: JobStatus.RUNNING,
    attempts: attempt,
    startedAt: new Date(),
    finishedAt: null,
  });
}

/**
 * Records the job's success; false when its outcome was recorded already
 * (a second run of it, in another process, finished first), which stays.
 */
export async function markSucceeded(
  control: PrismaClient,
  id: string,
  result: unknown,
): Promise<boolean> {
  return updateUnfinished(control, id, {
    status: JobStatus.SUCCEEDED,
    result: result as Prisma.InputJsonValue,
    errorCode: null,
    errorMessage: null,
    finishedAt: new Date(),
  });
}

/** Back to QUEUED after a failed attempt that will be retried; the failure stays visible. */
export async function markRetrying(
  control: PrismaClient,
  id: string,
  failure: JobFailure,
): Promise<void> {
  await updateUnfinished(control, id, {
    status: JobStatus.QUEUED,
    errorCode: failure.code,
    errorMessage: failure.message,
  });
}

/** Records a failure for good; a job that already finished keeps its outcome. */
export async function markFailed(
  control: PrismaClient,
  id: string,
  failure: JobFailure,
): Promise<void> {
  await updateUnfinished(control, id, {
    status: JobStatus.FAILED,
    errorCode: failure.code,
    errorMessage: failure.message,
    result: failure.field ? { error: { field: failure.field } } : undefined,
    finishedAt: new Date(),
  });
}

/**
 * When the tenant that now holds `tenantId` began: the removal of an
 * earlier tenant of that id (its `tenant.deprovision` audit row), or null
 * when the id never had one. Jobs queued before it were that tenant's; its
 * removal deletes them (deprovision.ts), and reads by the new tenant skip
 * any left. Not the tenant row's `createdAt`: its provisioning job is
 * queued before the row exists.
 */
export async function tenantEpoch(control: PrismaClient, tenantId: string): Promise<Date | null> {
  const removal = await control.platformAuditLog.findFirst({
    where: { tenantId, action: "tenant.deprovision" },
    orderBy: { createdAt: "desc" },
    select: { createdAt: true },
  });

  return removal?.createdAt ?? null;
}
