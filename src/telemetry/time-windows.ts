/** Traffic is summed in windows of this length (ms): the chart's points. */
export const TRAFFIC_WINDOW_MS = 5 * 60_000;

/** Health probes are summed per minute. */
export const HEALTH_SAMPLE_MS = 60_000;

/** The start of the window of `length` ms holding `at` (UTC, aligned to the epoch). */
export function windowStart(at: Date | number, length: number): Date {
  const ms = typeof at === "number" ? at : at.getTime();

  return new Date(ms - (ms % length));
}

/** The billing period holding `at`: its UTC calendar month, `2026-12`. */
export function periodOf(at: Date | number): string {
  return new Date(at).toISOString().slice(0, 7);
}
