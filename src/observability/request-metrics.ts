import { performance } from "node:perf_hooks";
import type { ApolloServerPlugin } from "@apollo/server";
import type { GraphQLFormattedError } from "graphql";
import { Counter, Histogram, type Registry } from "prom-client";
import type { GatewayContext } from "../context/gateway-context.js";
import { isErrorCode } from "../errors/index.js";
import type { OperationLabeller } from "./known-operations.js";
import { requestedOperation, type RequestParameters } from "./requested-operation.js";
import type { TenantSeries } from "./series-pruning.js";

/**
 * `tenant` of a request that named no tenant (platform calls). Tenant ids
 * never start with `_`, so neither shared label can be a tenant's.
 */
export const NO_TENANT = "_none";

/**
 * `tenant` of a request refused before its tenant was established: unknown
 * or malformed ids, suspended tenants, bad tokens, mismatched sources. A
 * flood of made-up tenant ids all lands here, so it creates no series.
 */
export const REFUSED_TENANT = "_unknown";

/** Latency buckets (seconds): a cached read to a slow report. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The contract code an error is counted under; anything else was masked as internal. */
function codeOf(code: unknown): string {
  return isErrorCode(code) ? code : "INTERNAL_SERVER_ERROR";
}

function secondsSince(start: number): number {
  return (performance.now() - start) / 1_000;
}

interface Outcome {
  readonly tenant: string;
  readonly operation: string;
  /** One code per error the client received. */
  readonly codes: readonly string[];
  readonly seconds: number;
}

/**
 * Requests, errors and latency per tenant, and per operation. The Apollo
 * plugin counts every request whose context was built; `countRefusals`
 * wraps the context factory to count the ones refused while it ran, which
 * Apollo answers without starting a request.
 *
 * Series labelled `tenant` multiply by the number of tenants, so they stay
 * few: requests by operation and outcome, errors by code, one latency
 * histogram. Errors and latency by operation are counted once for all
 * tenants. A tenant's request series are at most 2 × (operation labels)
 * + (error codes) + 14, whatever its clients send.
 */
export function createRequestMetrics(
  registry: Registry,
  labelOperation: OperationLabeller,
  series: TenantSeries,
) {
  const requests = new Counter({
    name: "gateway_graphql_requests_total",
    help: "GraphQL requests by tenant, operation name and outcome (ok or error).",
    labelNames: ["tenant", "operation", "outcome"] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: "gateway_graphql_errors_total",
    help: "GraphQL errors sent to clients, by tenant and error code.",
    labelNames: ["tenant", "code"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "gateway_graphql_request_duration_seconds",
    help: "GraphQL request latency by tenant, from the request's arrival.",
    labelNames: ["tenant"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const operationErrors = new Counter({
    name: "gateway_graphql_operation_errors_total",
    help: "GraphQL errors sent to clients, by operation name and error code (all tenants).",
    labelNames: ["operation", "code"] as const,
    registers: [registry],
  });
  const operationDuration = new Histogram({
    name: "gateway_graphql_operation_duration_seconds",
    help: "GraphQL request latency by operation name (all tenants), from the request's arrival.",
    labelNames: ["operation"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  /** When each context started to be built: latency includes auth and tenant lookup. */
  const arrivals = new WeakMap<GatewayContext, number>();

  series.track(requests);
  series.track(errors);
  series.track(duration);

  function record({ tenant, operation, codes, seconds }: Outcome): void {
    series.note(tenant);
    requests.inc({ tenant, operation, outcome: codes.length > 0 ? "error" : "ok" });
    for (const code of codes) {
      errors.inc({ tenant, code });
      operationErrors.inc({ operation, code });
    }
    duration.observe({ tenant }, seconds);
    operationDuration.observe({ operation }, seconds);
  }

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart({ contextValue }) {
      const start = arrivals.get(contextValue) ?? performance.now();

      return {
        async willSendResponse({ contextValue, operationName, request, response }) {
          const body = response.body;
          const sent: readonly GraphQLFormattedError[] =
            (body.kind === "single" ? body.singleResult.errors : body.initialResult.errors) ?? [];
          record({
            tenant: contextValue.scope?.tenant.id ?? NO_TENANT,
            operation: labelOperation(operationName ?? requestedOperation({ body: request }).name),
            codes: sent.map((error) => codeOf(error.extensions?.code)),
            seconds: secondsSince(start),
          });
        },
      };
    },
  };

  function countRefusals<A extends object>(
    createContext: (args: A) => Promise<GatewayContext>,
  ): (args: A & { req: RequestParameters }) => Promise<GatewayContext> {
    return async (args) => {
      const start = performance.now();
      try {
        const context = await createContext(args);
        arrivals.set(context, start);
        return context;
      } catch (error) {
        record({
          tenant: REFUSED_TENANT,
          operation: labelOperation(requestedOperation(args.req).name),
          codes: [codeOf((error as { extensions?: { code?: unknown } } | null)?.extensions?.code)],
          seconds: secondsSince(start),
        });
        throw error;
      }
    };
  }

  return { plugin, countRefusals };
}

export type RequestMetrics = ReturnType<typeof createRequestMetrics>;
