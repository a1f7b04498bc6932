import type { ApolloServerPlugin } from "@apollo/server";
import {
  getOperationAST,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  type OperationDefinitionNode,
} from "graphql";
import type { GatewayContext } from "../context/gateway-context.js";
import { contractCodeOf, unwrap, type ErrorCode } from "../errors/index.js";
import type { OperationLabeller } from "../observability/known-operations.js";
import { admittedCost } from "../server/query-cost.js";
import {
  bounded,
  fingerprintOf,
  MESSAGE_MAX,
  normaliseMessage,
  schemaPathOf,
  type ErrorShape,
  type PathSource,
} from "./error-fingerprint.js";
import { isServerFailure } from "./server-failures.js";
import type { TelemetryBuffer } from "./telemetry-buffer.js";

/** Driver and Prisma error codes (SQLSTATE `42P01`, Prisma `P2002`): they tell failures apart. */
const DRIVER_CODE = /^(?:[0-9A-Z]{5}|P\d{4})$/;

/** Longest exception class name kept in an internal error's message. */
const CLASS_NAME_MAX = 60;

/** The contract code a raw error reaches the client with. */
function clientCodeOf(error: GraphQLError): ErrorCode {
  return contractCodeOf(error.extensions?.code) ?? "INTERNAL_SERVER_ERROR";
}

/**
 * The operation's name: as resolved, else as the parsed document names it
 * (a document that fails validation is parsed but never resolved), else as
 * the client sent it; null when none names one.
 */
export function operationOf(
  resolved: string | null | undefined,
  document: DocumentNode | undefined,
  requested: string | null | undefined,
): string | null {
  const named = document ? getOperationAST(document, requested)?.name?.value : undefined;

  return resolved ?? named ?? requested ?? null;
}

/** The operation and fragments an error path is read against. */
export function pathSourceOf(
  document: DocumentNode | undefined,
  operation: OperationDefinitionNode | undefined,
  requested: string | null | undefined,
): PathSource {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document?.definitions ?? []) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }

  return {
    operation: operation ?? (document ? getOperationAST(document, requested) : null),
    fragments,
  };
}

const NO_PATH_SOURCE: PathSource = { operation: null, fragments: new Map() };

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
  const name = bounded(normaliseMessage(original.name), CLASS_NAME_MAX);

  return bounded(`${name}: ${normaliseMessage(original.message, tenantIds)}${suffix}`, MESSAGE_MAX);
}

/**
 * Messages of documents refused before anything ran. graphql-js prints
 * literals the caller wrote unquoted (`… non boolean value: Falcon`), so
 * such messages are replaced whole: every made-up literal would otherwise
 * be a cluster of its own, and its text the caller's. The request ids kept
 * with the cluster lead to the full message in the logs.
 */
const DOCUMENT_MESSAGES: Readonly<Record<string, string>> = {
  GRAPHQL_PARSE_FAILED: "The document could not be parsed.",
  GRAPHQL_VALIDATION_FAILED: "The document failed validation.",
};
const VARIABLE_REFUSED = /^Variable "\$[_A-Za-z][_0-9A-Za-z]*" /;

/** A client error's message as clustered: values out, and whole where the caller wrote it. */
function clientMessage(error: GraphQLError): string {
  const raw = error.extensions?.code;
  const document = typeof raw === "string" ? DOCUMENT_MESSAGES[raw] : undefined;
  if (document) return document;
  if (!error.path && VARIABLE_REFUSED.test(error.message)) {
    return "A variable's value was refused.";
  }

  return normaliseMessage(error.message);
}

/**
 * The error as its cluster knows it, with the contract code the client
 * saw. `operation` is the operation's metric label (a known name,
 * `anonymous` or `other`), so made-up names make no new clusters, and the
 * path is read by schema field names against `source`, so aliases do not
 * either. `tenantIds` are taken out of unexpected errors' messages (driver
 * messages name tenant schemas and databases); the gateway's own messages
 * quote every value they hold, and quoted values are taken out whole.
 */
export function shapeOf(
  error: GraphQLError,
  operation: string,
  tenantIds: readonly string[],
  source: PathSource = NO_PATH_SOURCE,
): ErrorShape {
  const code = clientCodeOf(error);

  return {
    code,
    operation,
    path: schemaPathOf(error.path, source),
    message:
      code === "INTERNAL_SERVER_ERROR" ? internalMessage(error, tenantIds) : clientMessage(error),
  };
}

export interface TrafficPluginOptions {
  readonly buffer: TelemetryBuffer;
  /** The gateway's cost limit (`QUERY_MAX_COST`): an operation above it never ran. */
  readonly maxCost: number;
  /** Folds operation names as the metrics do: known names, `anonymous`, else `other`. */
  readonly labelOperation: OperationLabeller;
}

/**
 * Whether a request counts towards the tenant's bill: its operation ran
 * (not refused by the rate limits, the cost check, parsing or validation)
 * and a signed-in user of the tenant itself made it (not an anonymous
 * caller, not platform staff acting in the tenant).
 */
function isBillable(context: GatewayContext, tenantId: string, executed: boolean): boolean {
  const { access, principal } = context;

  return (
    executed &&
    access.userId !== null &&
    !access.isGlobalAdmin &&
    principal !== null &&
    principal.tenantId === tenantId
  );
}

/**
 * Counts what the gateway served: each request of a registered tenant
 * (one whose context holds a tenant scope; a made-up id never gets that far)
 * with its duration, whether it failed, whether it failed on the server's
 * side, whether it is billable, and the estimated cost of an operation that
 * ran; and every error under its fingerprint. Requests that name no tenant
 * still feed the error clusters, without a tenant share.
 */
export function createTrafficPlugin(
  options: TrafficPluginOptions,
): ApolloServerPlugin<GatewayContext> {
  const { buffer, maxCost, labelOperation } = options;

  return {
    async requestDidStart() {
      const started = performance.now();
      let queryCost = 0;
      let executed = false;
      let failed = false;
      let serverFailed = false;

      return {
        async executionDidStart(requestContext) {
          // Only now is it certain the operation runs: the cost check and
          // the rate limits have both let it through.
          executed = true;
          queryCost = admittedCost(requestContext, maxCost) ?? 0;
        },
        async didEncounterErrors(requestContext) {
          const { contextValue, errors, operationName, document, request } = requestContext;
          failed = true;
          if (errors.some((error) => isServerFailure(clientCodeOf(error)))) serverFailed = true;
          // The context is missing when its creation failed: no tenant, no request id worth keeping.
          if (!contextValue) return;
          const tenantId = contextValue.scope?.tenant.id ?? null;
          const operation = labelOperation(
            operationOf(operationName, document, request.operationName),
          );
          const source = pathSourceOf(document, requestContext.operation, request.operationName);
          const at = new Date();
          for (const error of errors) {
            const shape = shapeOf(error, operation, tenantId ? [tenantId] : [], source);
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
          const sent = response.body.kind === "single" ? response.body.singleResult.errors : [];
          const sentServerFailure = (sent ?? []).some((error) => {
            const code = contractCodeOf(error.extensions?.code);
            return code !== undefined && isServerFailure(code);
          });

          buffer.recordRequest({
            tenantId,
            at: new Date(),
            durationMs: performance.now() - started,
            failed: failed || (sent?.length ?? 0) > 0,
            serverFailed: serverFailed || sentServerFailure,
            billable: isBillable(contextValue, tenantId, executed),
            queryCost,
          });
        },
      };
    },
  };
}
