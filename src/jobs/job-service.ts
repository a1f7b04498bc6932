import type { JobSettings } from "../config/index.js";
import { JobStatus } from "../generated/prisma/enums.js";
import type { JobDependencies } from "./job-attempt.js";
import { errorOfFailedJob, lostFailure } from "./job-failure.js";
import { JobKind, type JobRequest, type JobResults } from "./job-kinds.js";
import { checkJobRequest, selectMigrations, type MigrationSelection } from "./job-requests.js";
import type { JobRunner } from "./job-runner.js";
import { findJob, markFailed, recordJobs, type JobRow } from "./job-store.js";
import { createLocalRunner } from "./local-runner.js";
import { createQueueRunner } from "./queue-runner.js";

/** Longest wait for the queue to take a job; Redis being away must not hold a request. */
const ENQUEUE_TIMEOUT_MS = 5_000;

/**
 * Background jobs: provisioning, moves, exports and migrations, recorded in
 * `BackgroundJob` and run by BullMQ (with Redis) or in process (without).
 */
export interface JobService {
  /** Checks, records and queues a job; resolves with its QUEUED row. */
  start(request: JobRequest): Promise<JobRow>;
  /** One MIGRATE job per tenant the selection names; an empty list when it names none. */
  startMigrations(selection: MigrationSelection, requestedBy: string): Promise<JobRow[]>;
  /**
   * Runs a job for a caller that waits for it (the synchronous mutations):
   * one attempt, so a failure answers at once with its own code, message
   * and field. The job is recorded and queued like any other.
   */
  run<K extends JobKind>(request: JobRequest<K>): Promise<JobResults[K]>;
  /** Stops the runner; jobs still running are left to another process or the next start. */
  close(): Promise<void>;
}

export interface JobServiceOptions {
  /** BullMQ on this Redis; none runs jobs inside the process. */
  readonly redisUrl: string | undefined;
  readonly deploymentId: string;
  readonly settings: JobSettings;
  readonly deps: JobDependencies;
}

function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });

  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Opens the job service. Without Redis it takes up at once the jobs a
 * previous process left unfinished; with Redis, BullMQ's stalled-job check
 * and a pass over the unfinished rows do (see queue-runner.ts).
 */
export async function createJobService(options: JobServiceOptions): Promise<JobService> {
  const { settings, deps } = options;
  const services = deps.lifecycle;
  const control = services.database.control;
  let runner: JobRunner;
  if (options.redisUrl) {
    runner = createQueueRunner({
      redisUrl: options.redisUrl,
      deploymentId: options.deploymentId,
      settings,
      deps,
    });
  } else {
    const local = createLocalRunner(settings, deps);
    await local.resume();
    runner = local;
  }

  /** Records the jobs, then queues them; a job the queue did not take fails at once. */
  const queue = async (requests: readonly JobRequest[], maxAttempts: number) => {
    if (requests.length === 0) return [];
    const rows = await recordJobs(control, requests, maxAttempts);
    try {
      await withDeadline(
        runner.enqueue(rows),
        ENQUEUE_TIMEOUT_MS,
        `The job queue did not answer within ${ENQUEUE_TIMEOUT_MS} ms.`,
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      for (const row of rows) await markFailed(control, row.id, lostFailure(reason));
      throw error;
    }

    return rows;
  };

  return {
    start: async (request) => {
      await checkJobRequest(services, request);
      const [row] = await queue([request], settings.attempts);

      return row as JobRow;
    },
    startMigrations: async (selection, requestedBy) => {
      const tenantIds = await selectMigrations(services, selection);
      const channel = selection.channel ?? undefined;

      return queue(
        tenantIds.map((tenantId) => ({
          kind: JobKind.MIGRATE,
          tenantId,
          input: channel === undefined ? {} : { channel },
          requestedBy,
        })),
        settings.attempts,
      );
    },
    run: async <K extends JobKind>(typed: JobRequest<K>) => {
      // TypeScript does not see a JobRequest<K> as one of the union's members.
      const request = typed as unknown as JobRequest;
      await checkJobRequest(services, request);
      const [queued] = await queue([request], 1);
      const id = (queued as JobRow).id;
      await runner.finished(id);
      const row = await findJob(control, id);
      if (row?.status === JobStatus.SUCCEEDED) return row.result as unknown as JobResults[K];

      throw row ? errorOfFailedJob(row) : new Error(`job ${id} has no record`);
    },
    close: () => runner.close(),
  };
}
