import {
  DelayedError,
  isNotConnectionError,
  Job,
  Queue,
  QueueEvents,
  UnrecoverableError,
  Worker,
} from "bullmq";
import type { JobSettings } from "../config/index.js";
import { runAttempt, type JobDependencies } from "./job-attempt.js";
import { lostFailure } from "./job-failure.js";
import { findJob, isFinished, markFailed, unfinishedJobs, type JobRow } from "./job-store.js";
import type { JobRunner } from "./job-runner.js";
import { QueueConnections } from "./queue-connections.js";
import { TenantSlots, type TenantLease } from "./tenant-slots.js";
import { untilFinished } from "./until-finished.js";

/** The one queue every lifecycle job goes through. */
const QUEUE_NAME = "lifecycle";

/** BullMQ keeps finished jobs this long; the `BackgroundJob` row is the lasting record. */
const KEEP_COMPLETED = { age: 24 * 60 * 60, count: 1_000 };
const KEEP_FAILED = { age: 7 * 24 * 60 * 60, count: 5_000 };

/** Times a job may be found stalled (its process gone) and run again before it fails. */
const MAX_STALLED = 2;

/** How the queue is timed from `JOB_LOCK_MS`. */
export interface QueueTimings {
  /** BullMQ's lock on a running job; its worker renews it about every half. */
  readonly lockDuration: number;
  /** Between two of BullMQ's checks for jobs whose lock ran out. */
  readonly stalledInterval: number;
  /** A tenant slot's lease (see tenant-slots.ts), and how often its holder renews it. */
  readonly slotLeaseMs: number;
  readonly slotRenewMs: number;
  /** Latest a dead process's job is back in the queue for another worker, after the death. */
  readonly pickUpWithinMs: number;
}

/**
 * The times that decide how soon a job whose process died runs again.
 * BullMQ moves a job back to wait only when a stalled check finds its lock
 * gone and the check before found it active; checks of all processes share
 * one pause (a key with the interval as its TTL), so two of them can be up to
 * two intervals apart. With checks every `lockMs / 4`, a job is back in the
 * queue at most `lockMs` (its lock running out) plus half that after its
 * process died, instead of up to three or four times `lockMs` with checks
 * every `lockMs`. Its tenant slot outlives that, so the job run again finds
 * the slot still its own rather than taken by a job that waited for it.
 */
export function queueTimings(lockMs: number): QueueTimings {
  const stalledInterval = Math.max(100, Math.floor(lockMs / 4));

  return {
    lockDuration: lockMs,
    stalledInterval,
    slotLeaseMs: 2 * lockMs,
    slotRenewMs: Math.max(1, Math.floor(lockMs / 4)),
    pickUpWithinMs: lockMs + 2 * stalledInterval,
  };
}

/** Longest wait at stop for running jobs; past it they are left to another process. */
const CLOSE_WAIT_MS = 10_000;

/**
 * Longest wait at stop for BullMQ to close its connections cleanly while
 * Redis answers, and again once they are cut.
 */
const CLOSE_GRACE_MS = 2_000;

/** Pause between attempts to re-queue recorded jobs at start while Redis is away. */
const RECOVERY_RETRY_MS = 5_000;

export interface QueueRunnerOptions {
  readonly redisUrl: string;
  /** Keys live under `ogc-jobs:<deploymentId>`: deployments sharing a Redis never meet. */
  readonly deploymentId: string;
  readonly settings: JobSettings;
  readonly deps: JobDependencies;
}

interface JobData {
  tenantId: string;
}

/** Whether `work` settled within `ms`; it goes on either way. */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)));
  const settled = await Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    deadline,
  ]);
  clearTimeout(timer);

  return settled;
}

/**
 * Runs jobs on BullMQ over Redis, shared by every gateway process of the
 * deployment: whichever process has a free worker slot runs the next job.
 *
 * - Concurrency: `concurrency` jobs per process; per tenant, `perTenant`
 *   across all processes (see tenant-slots.ts).
 * - Retries: BullMQ's exponential backoff from `backoffMs`, for unexpected
 *   failures; a deliberate refusal fails at once (UnrecoverableError).
 * - Crashes: a job whose process dies loses its lock within `lockMs`, and
 *   BullMQ's stalled-job check moves it back to wait for another process
 *   within half that again (see queueTimings).
 *   A row recorded but never queued (a crash between the two) is queued
 *   again at start, under its own id, which BullMQ adds only once.
 * - A lock lost by a live process (Redis stalled longer than `lockMs`):
 *   BullMQ hands the job out again while its first run goes on. A process
 *   never runs one job twice at once: given a job it is still running, it
 *   waits for that run and answers with its outcome. Another process may
 *   start a second run; the tenant's lifecycle lock makes the two take
 *   turns, and the row keeps the first outcome recorded (see job-store.ts).
 * - Redis away: jobs wait; one line is logged when it goes and one when
 *   it is back (see queue-connections.ts). A stop waits for the jobs
 *   running here, not for Redis.
 */
export function createQueueRunner(options: QueueRunnerOptions): JobRunner {
  const { settings, deps } = options;
  const timings = queueTimings(settings.lockMs);
  const control = deps.lifecycle.database.control;
  const logger = deps.logger.child({ component: "job-queue" });
  const prefix = `ogc-jobs:${options.deploymentId}`;

  // BullMQ in an ES module takes clients, not options.
  const connections = new QueueConnections(options.redisUrl, logger);
  const commands = connections.open();
  const listening = connections.open();
  const slots = new TenantSlots({
    redis: commands,
    prefix,
    limit: settings.perTenant,
    leaseMs: timings.slotLeaseMs,
    renewMs: timings.slotRenewMs,
    logger,
  });

  /**
   * Logs what BullMQ reports. While Redis is away every command fails,
   * over and over: that outage is logged once, by `connections`.
   */
  const reportError = (message: string) => (err: Error) => {
    if (connections.up && isNotConnectionError(err)) logger.warn({ err }, message);
    else logger.debug({ err }, message);
  };

  const queue = new Queue<JobData>(QUEUE_NAME, { connection: commands, prefix });
  queue.on("error", reportError("job queue error"));
  const events = new QueueEvents(QUEUE_NAME, { connection: listening, prefix });
  events.on("error", reportError("job queue events error"));

  const add = (rows: readonly JobRow[]) =>
    queue.addBulk(
      rows.map((row) => ({
        name: row.kind,
        data: { tenantId: row.tenantId },
        opts: {
          jobId: row.id,
          attempts: row.maxAttempts,
          backoff: { type: "exponential", delay: settings.backoffMs },
          removeOnComplete: KEEP_COMPLETED,
          removeOnFail: KEEP_FAILED,
        },
      })),
    );

  /** Wakes jobs that waited for a slot of the tenant; a job not delayed any more is skipped. */
  const wake = async (ids: readonly string[]) => {
    for (const id of ids) {
      const job = await Job.fromId(queue, id).catch(() => undefined);
      await job?.promote().catch(() => undefined);
    }
  };

  /**
   * The runs of this process, by job id, from the job's delivery until its
   * attempt has ended (the slot's release comes after): what a stop waits
   * for, and what a second delivery of a job waits for instead of running
   * it beside the first.
   */
  const runs = new Map<string, Promise<void>>();

  /** One delivery's run; settles as BullMQ is to hear of it. `held` gets the slot it takes. */
  const run = async (job: Job<JobData>, token: string | undefined, held: TenantLease[]) => {
    const id = job.id ?? "";
    const row = await findJob(control, id);
    // Queued by this deployment, so recorded in its database.
    if (!row) throw new UnrecoverableError(`job ${id} has no record in this deployment`);
    if (isFinished(row)) return;

    const lease = await slots.acquire(row.tenantId, id);
    if (!lease) {
      // Back to delayed until a slot frees (the holder wakes it) or, at
      // the latest, a lease's length: a holder that died wakes nobody.
      await job.moveToDelayed(Date.now() + settings.lockMs, token);
      // The holder may have finished between our look and the move.
      if (await slots.hasRoom(row.tenantId)) await job.promote().catch(() => undefined);
      throw new DelayedError();
    }
    held.push(lease);

    const outcome = await runAttempt(deps, row, {
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? row.maxAttempts,
    });
    if (outcome.kind === "failed") {
      const { message } = outcome.failure;
      throw outcome.retry ? new Error(message) : new UnrecoverableError(message);
    }
  };

  const processJob = async (job: Job<JobData>, token?: string): Promise<void> => {
    const id = job.id ?? "";
    const earlier = runs.get(id);
    if (earlier) {
      // Its lock ran out while it ran here (Redis stalled), and BullMQ
      // handed it out again: the run under way answers for both.
      logger.warn(
        { jobId: id },
        "the queue handed out again a job this process is still running; waiting for that run",
      );
      const failure = await earlier.then(
        () => null,
        (error: unknown) => error,
      );
      // That run only put the job back to wait for a slot: this one waits its turn.
      if (!(failure instanceof DelayedError)) {
        if (failure !== null) throw failure;
        return;
      }
    }

    const held: TenantLease[] = [];
    const current = run(job, token, held);
    runs.set(id, current);
    try {
      await current;
    } finally {
      if (runs.get(id) === current) runs.delete(id);
      for (const lease of held) await wake(await lease.release().catch(() => []));
    }
  };

  const worker = new Worker<JobData>(QUEUE_NAME, processJob, {
    connection: commands,
    prefix,
    concurrency: settings.concurrency,
    lockDuration: timings.lockDuration,
    stalledInterval: timings.stalledInterval,
    maxStalledCount: MAX_STALLED,
  });
  worker.on("error", reportError("job worker error"));
  worker.on("stalled", (jobId) =>
    logger.warn({ jobId }, "a job's process stopped renewing its lock; it runs again"),
  );
  // A job BullMQ gives up without an attempt recording it (stalled too
  // often) still needs its row closed; recorded failures stay as they are.
  worker.on("failed", (job, error) => {
    if (!job?.id) return;
    void job
      .getState()
      .then(async (state) => {
        if (state === "failed") await markFailed(control, job.id ?? "", lostFailure(error.message));
      })
      .catch((err: unknown) => logger.warn({ err, jobId: job.id }, "could not close a lost job"));
  });

  let closed = false;
  let stopWaiting = () => {};
  const recovery = recover();

  /** Queues every recorded job that is not finished, and closes those BullMQ gave up. */
  async function recover(): Promise<void> {
    while (!closed) {
      try {
        for (const row of await unfinishedJobs(control)) {
          const job = await Job.fromId(queue, row.id);
          if (!job) {
            await add([row]);
            logger.warn({ jobId: row.id }, "queued a recorded job the queue did not hold");
          } else if ((await job.getState()) === "failed") {
            await markFailed(control, row.id, lostFailure(job.failedReason));
          }
        }
        return;
      } catch (err) {
        if (closed) return;
        logger.warn({ err }, "could not re-queue recorded jobs; trying again");
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, RECOVERY_RETRY_MS);
          stopWaiting = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  return {
    enqueue: async (rows) => {
      await add(rows);
    },
    finished: async (id) => {
      // BullMQ's event only hints that the row has its outcome now; with
      // Redis away it never comes, and the row is read all the same.
      const hint = Job.fromId(queue, id).then((job) => job?.waitUntilFinished(events));
      await untilFinished(control, id, { stopping: () => closed, hint });
    },
    close: async () => {
      closed = true;
      stopWaiting();
      // Takes no more jobs; BullMQ's close also waits for Redis to answer.
      const closing = worker.close();
      // The runs of this process end without Redis: they are what a stop waits for.
      if (!(await settledWithin(Promise.allSettled(runs.values()), CLOSE_WAIT_MS))) {
        logger.warn("jobs still running at stop are left to another process");
      }
      const closings = Promise.allSettled([closing, recovery, events.close(), queue.close()]);
      if (connections.up) await settledWithin(closings, CLOSE_GRACE_MS);
      // Whatever still waits for Redis (it is away, or a job runs on) fails now.
      connections.disconnect();
      await settledWithin(closings, CLOSE_GRACE_MS);
    },
  };
}
