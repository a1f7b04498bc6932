import type {
  ApolloServerPlugin,
  BaseContext,
  GraphQLRequestContextDidResolveOperation,
} from "@apollo/server";
import { getNamedType, getNullableType, isCompositeType, isListType } from "graphql";
import { getComplexity, type ComplexityEstimatorArgs } from "graphql-query-complexity";
import { GatewayError } from "../errors/index.js";

/** How many items a list without a `first` argument is assumed to hold. */
export const ASSUMED_LIST_SIZE = 10;

/**
 * Estimates how many objects a field makes the gateway resolve. One item
 * costs 1 when it is an object (0 for a scalar) plus its children. A list
 * with `first` (given or defaulted) holds that many; a paged field's `first`
 * counts its edges, which are then not counted again; any other list is
 * assumed to hold {@link ASSUMED_LIST_SIZE}.
 */
export function estimateFieldCost({
  type,
  field,
  args,
  childComplexity,
}: ComplexityEstimatorArgs): number {
  const returned = getNullableType(field.type);
  const item = (isCompositeType(getNamedType(returned)) ? 1 : 0) + childComplexity;
  const first = typeof args.first === "number" ? Math.max(args.first, 1) : undefined;
  if (first !== undefined) return isListType(returned) ? first * item : 1 + first * childComplexity;
  if (!isListType(returned)) return item;
  if (type.name.endsWith("Connection") && field.name === "edges") return item;

  return ASSUMED_LIST_SIZE * item;
}

/** What the estimate needs: the schema, the parsed document and the request's variables. */
export type CostInputs = Pick<
  GraphQLRequestContextDidResolveOperation<BaseContext>,
  "schema" | "document" | "request"
>;

type Estimate = { readonly cost: number } | { readonly error: GatewayError };

/** Each request's estimate, keyed by its request object, which lives as long as the request. */
const estimates = new WeakMap<object, Estimate>();

function estimate({ schema, document, request }: CostInputs): Estimate {
  const known = estimates.get(request);
  if (known) return known;

  let worked: Estimate;
  try {
    worked = {
      cost: getComplexity({
        schema,
        query: document,
        variables: request.variables,
        operationName: request.operationName,
        estimators: [estimateFieldCost],
      }),
    };
  } catch (error) {
    // getComplexity coerces the variables itself, so a variable of the
    // wrong type fails here first, as an error without a code.
    worked = { error: new GatewayError("BAD_USER_INPUT", (error as Error).message) };
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
