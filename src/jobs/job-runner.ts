import type { JobRow } from "./job-store.js";

/**
 * What runs recorded jobs: BullMQ on Redis (queue-runner.ts) or, without
 * Redis, a runner inside the process (local-runner.ts). Either runs each
 * attempt through runAttempt, so a job's record reads the same whichever
 * ran it.
 */
export interface JobRunner {
  /** Hands recorded QUEUED rows to the runner; rejects when it could not take them. */
  enqueue(rows: readonly JobRow[]): Promise<void>;
  /** Resolves once the job's row has its outcome (SUCCEEDED or FAILED). */
  finished(id: string): Promise<void>;
  /** Stops taking jobs and lets running ones end (for a bounded time). */
  close(): Promise<void>;
}
