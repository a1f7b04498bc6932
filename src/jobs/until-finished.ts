import type { PrismaClient } from "../generated/prisma/client.js";
import { findJob, isFinished } from "./job-store.js";

/** Longest pause between two reads of a job's row (ms). */
const MAX_POLL_MS = 1_000;

export interface UntilFinishedOptions {
  /** True once the runner is closing: a caller then stops waiting. */
  readonly stopping: () => boolean;
  /** Settles when the runner hears the job end, so the row is read at once. */
  readonly hint?: Promise<unknown>;
}

/**
 * Resolves once the job's row records its outcome. The row is the truth:
 * the runner's own signal (`hint`) only shortens the wait, and reads every
 * second at most cover a signal that never comes (another process ran the
 * job and the message was lost).
 */
export async function untilFinished(
  control: PrismaClient,
  id: string,
  options: UntilFinishedOptions,
): Promise<void> {
  let hint: Promise<unknown> | undefined = options.hint?.catch(() => undefined);
  for (let pause = 50; ; pause = Math.min(pause * 2, MAX_POLL_MS)) {
    const row = await findJob(control, id);
    if (!row) throw new Error(`job ${id} has no record`);
    if (isFinished(row)) return;
    if (options.stopping()) {
      throw new Error(
        `The gateway is stopping before job ${id} ended; it goes on after the restart.`,
      );
    }

    let timer: NodeJS.Timeout | undefined;
    const slept = new Promise((resolve) => (timer = setTimeout(resolve, pause)));
    const woke = await Promise.race([
      slept.then(() => false),
      ...(hint ? [hint.then(() => true)] : []),
    ]);
    clearTimeout(timer);
    // A hint wakes once; after it only the reads remain.
    if (woke) hint = undefined;
  }
}
