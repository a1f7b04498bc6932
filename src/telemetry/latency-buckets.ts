/**
 * The latency histogram every gateway process keeps per tenant and window,
 * stored as `TenantTraffic.latencyCounts`: one count per bucket, the last
 * counting everything slower than the largest bound. Processes add their
 * counts element by element and stored rows are read with these bounds, so
 * changing them means converting the stored counts too.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000,
];

/** Buckets per histogram: one per bound plus the overflow bucket. */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;

/** The bucket a duration falls in: the first bound it does not exceed. */
export function bucketOf(durationMs: number): number {
  const index = LATENCY_BOUNDS_MS.findIndex((bound) => durationMs <= bound);

  return index === -1 ? LATENCY_BOUNDS_MS.length : index;
}

/** An empty histogram. */
export function emptyHistogram(): number[] {
  return new Array<number>(LATENCY_BUCKETS).fill(0);
}

/** Adds `more` into `into`, bucket by bucket (arrays of any length). */
export function addHistogram(into: number[], more: readonly number[]): number[] {
  for (let i = 0; i < more.length; i += 1) into[i] = (into[i] ?? 0) + (more[i] ?? 0);

  return into;
}

/**
 * The latency below which `share` of the requests stayed, as the upper bound
 * of the bucket holding that request (nearest rank), so the answer never
 * understates it. A request in the overflow bucket reads as the largest
 * bound: "at least that". Null for an empty histogram.
 */
export function quantileOf(counts: readonly number[], share: number): number | null {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;

  const rank = Math.max(1, Math.ceil(share * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i += 1) {
    seen += counts[i] ?? 0;
    if (seen >= rank) return LATENCY_BOUNDS_MS[Math.min(i, LATENCY_BOUNDS_MS.length - 1)] ?? null;
  }

  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1] ?? null;
}
