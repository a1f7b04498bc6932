import { performance } from "node:perf_hooks";

/** How {@link drive} sends requests. */
export interface DriveOptions {
  /** Requests in flight at once. */
  concurrency: number;
  /** Requests to send in all; the drive stops by itself after them. */
  requests: number;
  /**
   * Untimed work before each request, in the same worker (for example clearing the cache).
   * Its time is left out of the latencies and out of the elapsed time.
   */
  prepare?: (index: number) => Promise<void>;
  /** Once aborted, no new request starts; those in flight finish. */
  signal?: AbortSignal;
}

/** One request that threw: its position and why. */
export interface DriveFailure {
  index: number;
  message: string;
}

export interface DriveResult {
  /** Requests that finished, right or wrong. */
  completed: number;
  /** Latency of every finished request in ms, ascending. */
  latenciesMs: number[];
  /**
   * Wall time of the drive in ms, less the `prepare` time divided by the concurrency. Exact
   * at concurrency 1, the only way the benchmark uses `prepare`.
   */
  elapsedMs: number;
  failures: DriveFailure[];
}

/**
 * Sends `options.requests` requests through `task`, `options.concurrency` at a time, and
 * times each. A task that throws counts as a failure, with its message kept; it does not
 * stop the drive.
 */
export async function drive(
  task: (index: number) => Promise<void>,
  options: DriveOptions,
): Promise<DriveResult> {
  const latenciesMs: number[] = [];
  const failures: DriveFailure[] = [];
  let next = 0;
  let preparedMs = 0;

  const worker = async () => {
    while (next < options.requests && !options.signal?.aborted) {
      const index = next++;
      if (options.prepare) {
        const prepared = performance.now();
        await options.prepare(index);
        preparedMs += performance.now() - prepared;
      }

      const started = performance.now();
      try {
        await task(index);
      } catch (error) {
        failures.push({ index, message: error instanceof Error ? error.message : String(error) });
      }
      latenciesMs.push(performance.now() - started);
    }
  };

  const started = performance.now();
  const workers = Math.min(options.concurrency, options.requests);
  await Promise.all(Array.from({ length: workers }, worker));
  const elapsedMs = performance.now() - started - preparedMs / workers;

  latenciesMs.sort((a, b) => a - b);
  return { completed: latenciesMs.length, latenciesMs, elapsedMs, failures };
}

/** The nearest-rank percentile `p` (0-100] of ascending `sorted`; NaN when it is empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);

  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}
