type Labels = Partial<Record<string, string | number>>;

/** A counter or histogram whose series are labelled `tenant`. */
export interface TenantLabelled {
  get(): Promise<{ values: { labels: Labels; metricName?: string }[] }>;
  remove(labels: Labels): void;
}

/**
 * Knows which tenants have series, and removes the series of tenants that
 * are gone (deprovisioned since they were counted), so removed tenants do
 * not pile up series for the life of the process. A scrape where every
 * labelled tenant still exists costs one pass over this small set, not over
 * the series.
 */
export class TenantSeries {
  readonly #metrics: TenantLabelled[] = [];
  readonly #labelled = new Set<string>();
  /** Labels that name no tenant; never removed. */
  readonly #shared: ReadonlySet<string>;

  constructor(shared: ReadonlySet<string>) {
    this.#shared = shared;
  }

  /** Registers a metric whose series carry a `tenant` label. */
  track<M extends TenantLabelled>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }

  /** Records that `tenant` has series now. */
  note(tenant: string): void {
    if (!this.#shared.has(tenant)) this.#labelled.add(tenant);
  }

  /** Removes every series of a labelled tenant that is not in `tenants`. */
  async prune(tenants: ReadonlySet<string>): Promise<void> {
    const departed = new Set([...this.#labelled].filter((tenant) => !tenants.has(tenant)));
    if (departed.size === 0) return;

    for (const metric of this.#metrics) {
      const { values } = await metric.get();
      for (const { labels, metricName } of values) {
        // A histogram lists each series once per bucket, then _sum and _count.
        if (metricName !== undefined && !metricName.endsWith("_count")) continue;
        if (departed.has(String(labels.tenant))) metric.remove(labels);
      }
    }
    for (const tenant of departed) this.#labelled.delete(tenant);
  }
}
