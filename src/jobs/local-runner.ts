import type { JobSettings } from "../config/index.js";
import { JobStatus } from "../generated/prisma/enums.js";
import { runAttempt, type JobDependencies } from "./job-attempt.js";
import type { JobRunner } from "./job-runner.js";
import { findJob, isFinished, unfinishedJobs, type JobRow } from "./job-store.js";
import { untilFinished } from "./until-finished.js";

/** Longest wait at stop for running jobs; past it they resume at the next start. */
const CLOSE_WAIT_MS = 10_000;

interface Pending {
  readonly id: string;
  readonly tenantId: string;
  /** Attempts that failed so far. */
  readonly failures: number;
}

/**
 * Failed attempts a recorded job has behind it: a RUNNING row's attempt was
 * cut short and runs again under its number; a QUEUED row with an error
 * waits for the attempt after it.
 */
function failuresOf(row: JobRow): number {
  if (row.status === JobStatus.RUNNING) return Math.max(row.attempts - 1, 0);

  return row.errorCode === null ? Math.max(row.attempts - 1, 0) : row.attempts;
}

/**
 * Runs jobs inside this process, for a gateway without Redis (the embedded
 * default of `npm start`), which is then the only process on its database:
 * the same limits (per process, per tenant), retries with exponential
 * backoff, and the `BackgroundJob` rows as the record. Nothing is kept
 * outside the rows, so a restart picks up every job still QUEUED or
 * RUNNING, where the last process left it.
 */
export function createLocalRunner(
  settings: JobSettings,
  deps: JobDependencies,
): JobRunner & { resume(): Promise<void> } {
  const control = deps.lifecycle.database.control;
  const logger = deps.logger.child({ component: "job-runner" });
  const pending: Pending[] = [];
  const running = new Map<string, Promise<void>>();
  const perTenant = new Map<string, number>();
  const retryTimers = new Set<NodeJS.Timeout>();
  /** Who waits for a job to end, by job id. */
  const endings = new Map<string, (() => void)[]>();
  let closed = false;

  const ended = (id: string) => {
    for (const wake of endings.get(id) ?? []) wake();
    endings.delete(id);
  };

  /** Starts what the limits allow, oldest first; a tenant at its limit lets others pass. */
  const pump = () => {
    for (let i = 0; i < pending.length && running.size < settings.concurrency && !closed;) {
      const next = pending[i] as Pending;
      if ((perTenant.get(next.tenantId) ?? 0) >= settings.perTenant) {
        i += 1;
        continue;
      }
      pending.splice(i, 1);
      perTenant.set(next.tenantId, (perTenant.get(next.tenantId) ?? 0) + 1);
      const run = attempt(next).finally(() => {
        const left = (perTenant.get(next.tenantId) ?? 1) - 1;
        if (left > 0) perTenant.set(next.tenantId, left);
        else perTenant.delete(next.tenantId);
        running.delete(next.id);
        pump();
      });
      running.set(next.id, run);
    }
  };

  const retryLater = (job: Pending) => {
    const delay = settings.backoffMs * 2 ** (job.failures - 1);
    const timer = setTimeout(() => {
      retryTimers.delete(timer);
      pending.push(job);
      pump();
    }, delay);
    retryTimers.add(timer);
  };

  async function attempt(job: Pending): Promise<void> {
    try {
      const row = await findJob(control, job.id);
      if (!row || isFinished(row)) return ended(job.id);
      const outcome = await runAttempt(deps, row, {
        attempt: job.failures + 1,
        maxAttempts: row.maxAttempts,
      });
      if (outcome.kind === "failed" && outcome.retry && !closed) {
        return retryLater({ ...job, failures: job.failures + 1 });
      }
      ended(job.id);
    } catch (err) {
      // The row could not be read or written (the database is away): try
      // again later, as often as a failure would be; after that, the next
      // start finds the job unfinished.
      logger.error({ err, jobId: job.id }, "a job's outcome could not be recorded");
      if (!closed && job.failures + 1 < settings.attempts) {
        retryLater({ ...job, failures: job.failures + 1 });
      }
    }
  }

  return {
    enqueue: async (rows) => {
      if (closed) throw new Error("The job runner is stopping; the job was not queued.");
      for (const row of rows) {
        pending.push({ id: row.id, tenantId: row.tenantId, failures: failuresOf(row) });
      }
      pump();
    },
    /** Takes up the jobs a previous process left QUEUED or RUNNING. */
    resume: async () => {
      const rows = await unfinishedJobs(control);
      if (rows.length > 0) logger.info({ jobs: rows.length }, "resuming recorded jobs");
      for (const row of rows) {
        pending.push({ id: row.id, tenantId: row.tenantId, failures: failuresOf(row) });
      }
      pump();
    },
    finished: (id) => {
      const hint = new Promise<void>((resolve) =>
        endings.set(id, [...(endings.get(id) ?? []), resolve]),
      );

      return untilFinished(control, id, { stopping: () => closed, hint });
    },
    close: async () => {
      closed = true;
      for (const timer of retryTimers) clearTimeout(timer);
      retryTimers.clear();
      pending.length = 0;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)));
      await Promise.race([Promise.allSettled(running.values()), deadline]);
      clearTimeout(timer);
      if (running.size > 0) logger.warn("jobs still running at stop resume at the next start");
    },
  };
}
