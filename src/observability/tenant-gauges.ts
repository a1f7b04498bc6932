import { Gauge, type Registry } from "prom-client";
import type { TenantFigures, TenantFiguresReader } from "./tenant-figures.js";

/** A tenant is reported up or down only from a sample at most this old (seconds). */
const UP_SAMPLE_MAX_AGE_SECONDS = 10 * 60;

type Setter = (labels: Partial<Record<string, string>>, value: number) => void;

/**
 * Gauges read from the control plane at scrape time. Each one's `collect`
 * awaits the scrape's shared read, clears itself and sets one series per
 * row, for tenants in the Tenant table only; without figures (a slow or
 * failed read) it reports nothing rather than stale values.
 */
export function createTenantGauges(registry: Registry, reader: TenantFiguresReader) {
  function gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (figures: TenantFigures, set: Setter) => void,
  ): Gauge<L> {
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const figures = await reader.current();
        this.reset();
        if (!figures) return;
        fill(figures, (labels, value) => {
          if (figures.tenants.has(labels.tenant ?? "")) this.set(labels, value);
        });
      },
    });
  }

  gauge(
    "gateway_storage_bytes",
    "Bytes of stored files by tenant and storage area.",
    ["tenant", "area"],
    (figures, set) => {
      for (const row of figures.storage) set({ tenant: row.tenantId, area: row.area }, row.bytes);
    },
  );
  gauge(
    "gateway_job_queue_depth",
    "Background jobs waiting to run (status QUEUED), by tenant and kind.",
    ["tenant", "kind"],
    (figures, set) => {
      for (const row of figures.queues) set({ tenant: row.tenantId, kind: row.kind }, row.depth);
    },
  );
  gauge(
    "gateway_job_wait_seconds",
    "Age of the tenant's oldest queued background job, in seconds.",
    ["tenant"],
    (figures, set) => {
      const oldest = new Map<string, number>();
      for (const row of figures.queues) {
        oldest.set(row.tenantId, Math.max(oldest.get(row.tenantId) ?? 0, row.oldestSeconds));
      }
      for (const [tenant, seconds] of oldest) set({ tenant }, seconds);
    },
  );
  gauge(
    "gateway_job_recent_wait_seconds",
    "How long the tenant's jobs started in the last hour waited in the queue (average, max).",
    ["tenant", "stat"],
    (figures, set) => {
      for (const row of figures.waits) {
        set({ tenant: row.tenantId, stat: "average" }, row.averageSeconds);
        set({ tenant: row.tenantId, stat: "max" }, row.maxSeconds);
      }
    },
  );
  gauge(
    "gateway_tenant_up",
    "1 when the tenant's latest health probe minute (at most 10 minutes old) had no failure, else 0.",
    ["tenant"],
    (figures, set) => {
      for (const row of figures.health) {
        if (row.latestAgeSeconds > UP_SAMPLE_MAX_AGE_SECONDS) continue;
        set({ tenant: row.tenantId }, row.latestFailures === 0 ? 1 : 0);
      }
    },
  );
  gauge(
    "gateway_tenant_availability_ratio",
    "Share of the tenant's health probes that passed over the last 24 hours.",
    ["tenant"],
    (figures, set) => {
      for (const row of figures.health) set({ tenant: row.tenantId }, row.passed / row.probes);
    },
  );
  new Gauge({
    name: "gateway_metrics_tenant_figures_ok",
    help: "1 when this scrape read the per-tenant figures from the control plane in time, else 0.",
    registers: [registry],
    async collect() {
      this.set((await reader.current()) ? 1 : 0);
    },
  });
}
