import type { InvalidationBus } from "../events/invalidation-bus.js";
import type { LifecycleServices } from "../lifecycle/lifecycle-services.js";
import type { Logger } from "../logging/index.js";
import { describeFailure, type JobFailure } from "./job-failure.js";
import { changesTenant, isJobKind } from "./job-kinds.js";
import {
  isFinished,
  markFailed,
  markRetrying,
  markRunning,
  markSucceeded,
  type JobRow,
} from "./job-store.js";
import { performJob } from "./perform-job.js";

/** What an attempt needs besides the job: the lifecycle, the invalidation bus and a logger. */
export interface JobDependencies {
  readonly lifecycle: LifecycleServices;
  readonly events: InvalidationBus;
  readonly logger: Logger;
}

/** How an attempt ended, once its row says so. */
export type AttemptOutcome =
  /** Another run recorded the job's outcome: before this attempt could start, or as it ran. */
  | { readonly kind: "finished-before" }
  | { readonly kind: "succeeded" }
  /** `retry`: the row is QUEUED again and the runner owes it another attempt. */
  | { readonly kind: "failed"; readonly failure: JobFailure; readonly retry: boolean };

export interface AttemptNumbers {
  /** This attempt's number, from 1. */
  readonly attempt: number;
  readonly maxAttempts: number;
}

/**
 * Runs one attempt of `row` and records its outcome in the row, in the same
 * way for every runner. The row is re-read first: a job that finished
 * (its outcome recorded just before a crash) is not run again. A deliberate
 * refusal fails the job at once; an unexpected failure leaves it QUEUED for
 * a retry while attempts remain. After a success that changes a tenant,
 * every gateway process is told to forget the tenant's record.
 *
 * Throws only when the row itself cannot be written (the database is
 * away); the runner then treats the attempt as failed without a record.
 */
export async function runAttempt(
  deps: JobDependencies,
  row: JobRow,
  numbers: AttemptNumbers,
): Promise<AttemptOutcome> {
  const control = deps.lifecycle.database.control;
  const logger = deps.logger.child({ jobId: row.id, kind: row.kind, tenantId: row.tenantId });
  // An earlier run began: part of the work, or all of it, may be done.
  const resumed = row.startedAt !== null;
  if (isFinished(row) || !(await markRunning(control, row.id, numbers.attempt))) {
    return { kind: "finished-before" };
  }
  logger.info({ attempt: numbers.attempt, resumed }, "job started");

  let result: unknown;
  try {
    result = await performJob(deps.lifecycle, row, resumed);
  } catch (error) {
    const failure = describeFailure(error);
    const retry = !failure.deliberate && numbers.attempt < numbers.maxAttempts;
    if (failure.deliberate) {
      logger.info({ code: failure.code, field: failure.field }, `job refused: ${failure.message}`);
    } else {
      logger.error({ err: error, attempt: numbers.attempt, retry }, "job attempt failed");
    }
    await (retry ? markRetrying : markFailed)(control, row.id, failure);

    return { kind: "failed", failure, retry };
  }

  if (!(await markSucceeded(control, row.id, result))) {
    // Another run (its lock lost and the job handed out again) finished first.
    logger.info("job run ended; another run of it had recorded its outcome already");
    return { kind: "finished-before" };
  }
  logger.info("job succeeded");
  if (isJobKind(row.kind) && changesTenant(row.kind)) {
    await deps.events.publish({ kind: "tenant", tenantId: row.tenantId });
  }

  return { kind: "succeeded" };
}
