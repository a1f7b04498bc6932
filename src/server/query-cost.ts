import type {
  ApolloServerPlugin,
  BaseContext,
  GraphQLRequestContextDidResolveOperation,
} from "@apollo/server";
import { GraphQLError, getNamedType, getNullableType, isCompositeType, isListType } from "graphql";
import { getComplexity, type ComplexityEstimatorArgs } from "graphql-query-complexity";
import { GatewayError } from "../errors/index.js";
import { NESTED_LIST_MAX } from "../modules/common/nested-list.js";
import { MAX_PAGE_SIZE } from "../modules/common/pagination.js";
import { MAX_LOG_LINES } from "../modules/logs/tenant-log-service.js";
import { MAX_CLUSTERS } from "../modules/observability/observability-resolver.js";

/** How many items a list without a `first` argument is assumed to hold. */
export const ASSUMED_LIST_SIZE = 10;

/**
 * The most items each field's `first` may ask for (`Type.field`), as its
 * resolver checks: a larger `first` is refused there, with BAD_USER_INPUT
 * naming `first`. The estimate counts no more items than this, so an
 * out-of-range page size gets that answer rather than a cost refusal. A
 * field missing here is counted at whatever `first` says (never less than
 * it may cost); test/server/query-limits.test.ts lists every field with a
 * `first` argument and checks each one is here.
 *
 * Read when called: these modules need not be loaded before this one.
 */
export function firstLimits(): Readonly<Record<string, number>> {
  return {
    "Query.challenges": MAX_PAGE_SIZE,
    "Query.users": MAX_PAGE_SIZE,
    "Query.files": MAX_PAGE_SIZE,
    "Query.adminErrorClusters": MAX_CLUSTERS,
    "Query.tenantLogs": MAX_LOG_LINES,
    // src/modules/jobs/job-resolver.ts (MAX_FIRST).
    "Query.jobs": 100,
    "Query.tenantJobs": 100,
    // src/modules/tenants/tenant-config-view.ts (MAX_VERSIONS).
    "Query.tenantConfigVersions": 100,
    "Challenge.submissions": NESTED_LIST_MAX,
    "Organization.members": NESTED_LIST_MAX,
    "User.organizations": NESTED_LIST_MAX,
  };
}

let limits: Readonly<Record<string, number>> | undefined;

/** How many items `first` counts for on `field` of `type`. */
function countedFirst(type: string, field: string, first: number): number {
  limits ??= firstLimits();
  const limit = limits[`${type}.${field}`];

  return Math.max(limit === undefined ? first : Math.min(first, limit), 1);
}

/**
 * Estimates how many objects a field makes the gateway resolve. One item
 * costs 1 when it is an object (0 for a scalar) plus its children. A list
 * with `first` (given or defaulted) holds that many, at most the field's
 * limit ({@link firstLimits}); a paged field's `first` counts its edges,
 * which are then not counted again; any other list is assumed to hold
 * {@link ASSUMED_LIST_SIZE}.
 */
export function estimateFieldCost({
  type,
  field,
  args,
  childComplexity,
}: ComplexityEstimatorArgs): number {
  const returned = getNullableType(field.type);
  const item = (isCompositeType(getNamedType(returned)) ? 1 : 0) + childComplexity;
  const first =
    typeof args.first === "number" ? countedFirst(type.name, field.name, args.first) : undefined;
  if (first !== undefined) return isListType(returned) ? first * item : 1 + first * childComplexity;
  if (!isListType(returned)) return item;
  if (type.name.endsWith("Connection") && field.name === "edges") return item;

  return ASSUMED_LIST_SIZE * item;
}

/**
 * What the estimate needs: the schema, the parsed document, the operation
 * Apollo picked from it (none when `operationName` names none) and the
 * request's variables.
 */
export type CostInputs = Pick<
  GraphQLRequestContextDidResolveOperation<BaseContext>,
  "schema" | "document" | "operation" | "request"
>;

type Estimate = { readonly cost: number } | { readonly error: unknown };

/** Each request's estimate, keyed by its request object, which lives as long as the request. */
const estimates = new WeakMap<object, Estimate>();

function estimate({ schema, document, operation, request }: CostInputs): Estimate {
  const known = estimates.get(request);
  if (known) return known;

  let worked: Estimate;
  if (!operation) {
    // `operationName` names no operation of the document (or it has several
    // and names none): nothing runs, and Apollo answers `Unknown operation
    // named "…"` (BAD_USER_INPUT) itself.
    worked = { cost: 0 };
  } else {
    try {
      worked = {
        cost: getComplexity({
          schema,
          query: document,
          variables: request.variables,
          // The operation Apollo picked; an anonymous one has no name to match.
          operationName: operation.name?.value,
          estimators: [estimateFieldCost],
        }),
      };
    } catch (error) {
      // getComplexity coerces the variables itself, so a variable of the
      // wrong type fails here first, as a GraphQLError without a code.
      // Anything else is a fault of ours: masked and logged as internal.
      worked = {
        error:
          error instanceof GraphQLError ? new GatewayError("BAD_USER_INPUT", error.message) : error,
      };
    }
  }
  estimates.set(request, worked);

  return worked;
}

/**
 * The estimated cost of the request's operation, worked out once per request:
 * the cost check below and the tenant's rate limits both need it, and Apollo
 * runs their `didResolveOperation` hooks side by side, so whichever asks
 * first pays for it. Throws BAD_USER_INPUT when the variables do not fit.
 */
export function operationCost(inputs: CostInputs): number {
  const worked = estimate(inputs);
  if ("error" in worked) throw worked.error;

  return worked.cost;
}

/**
 * The cost at which the operation runs, or null when the cost check refuses
 * it (variables that do not fit, or an estimate above `maxCost`).
 */
export function admittedCost(inputs: CostInputs, maxCost: number): number | null {
  const worked = estimate(inputs);

  return "cost" in worked && worked.cost <= maxCost ? worked.cost : null;
}

/**
 * Refuses an operation whose estimated cost passes `maxCost` before any of
 * it runs. The estimate needs the variables (`first: $first`), which only
 * a plugin sees, not a validation rule.
 */
export function createQueryCostPlugin(maxCost: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          const cost = operationCost(requestContext);
          if (cost > maxCost) {
            throw new GatewayError(
              "BAD_USER_INPUT",
              `This query would resolve about ${cost} objects; the limit is ${maxCost}. Ask for fewer items or fewer nested lists.`,
              { cost, maxCost },
            );
          }
        },
      };
    },
  };
}
