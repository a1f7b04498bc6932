import { Counter, type Registry } from "prom-client";
import type { GatewayCache } from "../cache/index.js";
import type { StatementCounter } from "../data/index.js";
import type { TenantSeries } from "./series-pruning.js";

/**
 * Cache reads and SQL statements per tenant. Both are counted where the
 * tenant is certain: the cache view a request was given, and the tenant a
 * transaction was bound to; neither exists for a tenant the registry does
 * not hold.
 */
export function createTenantCounters(
  registry: Registry,
  sources: { cache: GatewayCache; statements: StatementCounter },
  series: TenantSeries,
): void {
  const cacheRequests = new Counter({
    name: "gateway_cache_requests_total",
    help: "Cached entities asked for by tenant: result hit (found) or miss (loaded from the database).",
    labelNames: ["tenant", "result"] as const,
    registers: [registry],
  });
  const statements = new Counter({
    name: "gateway_sql_statements_total",
    help: "SQL statements sent in transactions bound to the tenant, transaction control included.",
    labelNames: ["tenant"] as const,
    registers: [registry],
  });

  series.track(cacheRequests);
  series.track(statements);

  sources.cache.onLookup((tenant, hits, misses) => {
    series.note(tenant);
    if (hits > 0) cacheRequests.inc({ tenant, result: "hit" }, hits);
    if (misses > 0) cacheRequests.inc({ tenant, result: "miss" }, misses);
  });
  sources.statements.onTenantStatements((tenant, count) => {
    series.note(tenant);
    statements.inc({ tenant }, count);
  });
}
