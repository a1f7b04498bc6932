import type { ApolloServerPlugin } from "@apollo/server";
import { getOperationAST, type DocumentNode, type GraphQLError } from "graphql";
import type { GatewayContext } from "../context/gateway-context.js";
import { contractCodeOf, unwrap } from "../errors/index.js";
import { admittedCost } from "../server/query-cost.js";
import {
  fingerprintOf,
  normaliseMessage,
  pathWithoutIndices,
  type ErrorShape,
} from "./error-fingerprint.js";
import type { TelemetryBuffer } from "./telemetry-buffer.js";

/** A GraphQL name: anything else a client sends as `operationName` is not kept. */
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

const ANONYMOUS_OPERATION = "(anonymous)";

/** Driver and Prisma error codes (SQLSTATE `42P01`, Prisma `P2002`): they tell failures apart. */
const DRIVER_CODE = /^(?:[0-9A-Z]{5}|P\d{4})$/;

/**
 * The operation's name: as resolved, else as the parsed document names it
 * (a document that fails validation is parsed but never resolved), else as
 * the client sent it when that is a GraphQL name.
 */
export function operationOf(
  resolved: string | null | undefined,
  document: DocumentNode | undefined,
  requested: string | null | undefined,
): string {
  const named = document ? getOperationAST(document, requested)?.name?.value : undefined;
  const name = resolved ?? named ?? requested;

  return name && OPERATION_NAME.test(name) ? name : ANONYMOUS_OPERATION;
}

/**
 * What an unexpected error is grouped by: its original exception's class
 * and message (the client only saw a neutral message), plus a driver code
 * when it has one. Never its stack, and only the message's first line.
 */
function internalMessage(error: GraphQLError, tenantIds: readonly string[]): string {
  const original = unwrap(error);
  if (!(original instanceof Error)) return normaliseMessage(String(original), tenantIds);

  const code = (original as { code?: unknown }).code;
  const suffix = typeof code === "string" && DRIVER_CODE.test(code) ? ` [${code}]` : "";

  return `${original.name}: ${normaliseMessage(original.message, tenantIds)}${suffix}`;
}

/** The error as its cluster knows it, with the contract code the client saw. */
export function shapeOf(
  error: GraphQLError,
  operation: string,
  tenantIds: readonly string[],
): ErrorShape {
  const code = contractCodeOf(error.extensions?.code) ?? "INTERNAL_SERVER_ERROR";

  return {
    code,
    operation,
    path: pathWithoutIndices(error.path),
    message:
      code === "INTERNAL_SERVER_ERROR"
        ? internalMessage(error, tenantIds)
        : normaliseMessage(error.message, tenantIds),
  };
}

export interface TrafficPluginOptions {
  readonly buffer: TelemetryBuffer;
  /** The gateway's cost limit (`QUERY_MAX_COST`): an operation above it never ran. */
  readonly maxCost: number;
}

/**
 * Counts what the gateway served: each request of a registered tenant
 * (one whose context holds a tenant scope; a made-up id never gets that far)
 * with its duration, whether it failed, and the estimated cost of an
 * operation that ran; and every error under its fingerprint. Requests
 * that name no tenant still feed the error clusters, without a tenant share.
 */
export function createTrafficPlugin(
  options: TrafficPluginOptions,
): ApolloServerPlugin<GatewayContext> {
  const { buffer, maxCost } = options;

  return {
    async requestDidStart() {
      const started = performance.now();
      let queryCost = 0;
      let failed = false;

      return {
        async executionDidStart(requestContext) {
          // Only now is it certain the operation runs: the cost check and
          // the rate limits have both let it through.
          queryCost = admittedCost(requestContext, maxCost) ?? 0;
        },
        async didEncounterErrors({ contextValue, errors, operationName, document, request }) {
          failed = true;
          // The context is missing when its creation failed: no tenant, no request id worth keeping.
          if (!contextValue) return;
          const tenantId = contextValue.scope?.tenant.id ?? null;
          const operation = operationOf(operationName, document, request.operationName);
          const at = new Date();
          for (const error of errors) {
            const shape = shapeOf(error, operation, tenantId ? [tenantId] : []);
            buffer.recordError({
              fingerprint: fingerprintOf(shape),
              shape,
              tenantId,
              requestId: contextValue.requestId,
              at,
            });
          }
        },
        async willSendResponse({ contextValue, response }) {
          const tenantId = contextValue?.scope?.tenant.id;
          if (!tenantId) return;
          const answeredWithErrors =
            response.body.kind === "single" && (response.body.singleResult.errors?.length ?? 0) > 0;

          buffer.recordRequest({
            tenantId,
            at: new Date(),
            durationMs: performance.now() - started,
            failed: failed || answeredWithErrors,
            queryCost,
          });
        },
      };
    },
  };
}
