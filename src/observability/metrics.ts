import { Registry, collectDefaultMetrics } from "prom-client";
import type { GatewayCache } from "../cache/index.js";
import type { Database } from "../data/index.js";
import type { Logger } from "../logging/index.js";
import { createOperationLabeller } from "./known-operations.js";
import { createRequestMetrics, NO_TENANT, REFUSED_TENANT } from "./request-metrics.js";
import { TenantSeries } from "./series-pruning.js";
import { createTenantCounters } from "./tenant-counters.js";
import { TenantFiguresReader } from "./tenant-figures.js";
import { createTenantGauges } from "./tenant-gauges.js";

export interface MetricsOptions {
  /** The control plane (scrape-time figures) and the statement counter. */
  readonly database: Pick<Database, "control" | "statements">;
  /** Cache reads are counted per tenant. */
  readonly cache: GatewayCache;
  /** Operation names with series of their own besides the built-in ones (`METRICS_OPERATIONS`). */
  readonly operations?: readonly string[];
  /** Longest a scrape waits for the control plane (ms, `METRICS_READ_TIMEOUT_MS`). */
  readonly readTimeoutMs: number;
  readonly logger: Logger;
}

/** Labels of series that belong to no registered tenant; never pruned. */
const SHARED_TENANT_LABELS: ReadonlySet<string> = new Set([NO_TENANT, REFUSED_TENANT]);

/**
 * The gateway's Prometheus registry. Series are labelled `tenant` only with
 * tenants in the Tenant table, so made-up tenant ids cannot create series,
 * and a removed tenant's series go at the next scrape.
 */
export function createMetrics(options: MetricsOptions) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "gateway_" });

  const series = new TenantSeries(SHARED_TENANT_LABELS);
  const requests = createRequestMetrics(
    registry,
    createOperationLabeller(options.operations),
    series,
  );
  createTenantCounters(
    registry,
    { cache: options.cache, statements: options.database.statements },
    series,
  );
  const figures = new TenantFiguresReader(options.database.control, {
    timeoutMs: options.readTimeoutMs,
    logger: options.logger.child({ component: "metrics" }),
  });
  createTenantGauges(registry, figures);

  /** One scrape: a fresh read of the control plane, then the text of every series. */
  async function render(): Promise<string> {
    const read = await figures.refresh();
    if (read) await series.prune(read.tenants);

    return registry.metrics();
  }

  return {
    registry,
    /** Counts every request whose context was built. */
    plugin: requests.plugin,
    /** Wraps the context factory: requests refused while it runs are counted too. */
    countRefusals: requests.countRefusals,
    render,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
