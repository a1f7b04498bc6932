import type { ApolloServerPlugin } from "@apollo/server";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { GatewayContext } from "../context/gateway-context.js";

/** Label for requests that named no registered tenant. */
const NO_TENANT = "none";

/**
 * The gateway's Prometheus registry. Series are labelled `tenant` only with
 * tenants the registry knows, so made-up tenant ids cannot create series.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "gateway_" });

  const requests = new Counter({
    name: "gateway_graphql_requests_total",
    help: "GraphQL requests by tenant, operation type and outcome.",
    labelNames: ["tenant", "operation", "outcome"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "gateway_graphql_request_duration_seconds",
    help: "GraphQL request latency by tenant.",
    labelNames: ["tenant"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      const stop = Date.now();
      return {
        async willSendResponse({ contextValue, operation, errors, response }) {
          // The context may be missing when its creation failed.
          const tenant = contextValue?.scope?.tenant.id ?? NO_TENANT;
          const failed =
            (errors?.length ?? 0) > 0 ||
            (response.body.kind === "single" &&
              (response.body.singleResult.errors?.length ?? 0) > 0);
          requests.inc({
            tenant,
            operation: operation?.operation ?? "unknown",
            outcome: failed ? "error" : "ok",
          });
          duration.observe({ tenant }, (Date.now() - stop) / 1000);
        },
      };
    },
  };

  return { registry, plugin };
}

export type Metrics = ReturnType<typeof createMetrics>;
