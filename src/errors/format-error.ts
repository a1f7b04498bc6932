import type { GraphQLFormattedError } from "graphql";
import type { Logger } from "../logging/index.js";
import { isErrorCode, type ErrorCode } from "./codes.js";

/** Codes Apollo Server or graphql-js raise on their own for malformed requests. */
const REQUEST_ERROR_CODES: Record<string, "BAD_USER_INPUT"> = {
  GRAPHQL_PARSE_FAILED: "BAD_USER_INPUT",
  GRAPHQL_VALIDATION_FAILED: "BAD_USER_INPUT",
  BAD_REQUEST: "BAD_USER_INPUT",
  OPERATION_RESOLUTION_FAILURE: "BAD_USER_INPUT",
  PERSISTED_QUERY_NOT_FOUND: "BAD_USER_INPUT",
  PERSISTED_QUERY_NOT_SUPPORTED: "BAD_USER_INPUT",
};

const CONTEXT_PREFIX = "Context creation failed: ";

/**
 * The contract code an error's raw `extensions.code` becomes for the client:
 * ours pass, Apollo's request codes turn into BAD_USER_INPUT, and anything
 * else (no code, or one we do not know) is undefined, which the formatter
 * masks as INTERNAL_SERVER_ERROR.
 */
export function contractCodeOf(rawCode: unknown): ErrorCode | undefined {
  if (isErrorCode(rawCode)) return rawCode;

  return typeof rawCode === "string" ? REQUEST_ERROR_CODES[rawCode] : undefined;
}

export interface FormatErrorOptions {
  production: boolean;
  logger: Logger;
}

/** `Variable "$first" got invalid value …`: GraphQL's coercion errors name the variable. */
const VARIABLE_ERROR = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)"/;

/** The field a request-level input error is about, when its message names one. */
function fieldOf(message: string): { field: string } | undefined {
  const variable = VARIABLE_ERROR.exec(message)?.[1];

  return variable === undefined ? undefined : { field: variable };
}

/**
 * The one place where any error becomes what a client sees. Known codes pass
 * with their message; everything else becomes `INTERNAL_SERVER_ERROR` with a
 * neutral message, and the original is logged. Outside development no stack
 * trace or SQL text ever leaves the process.
 */
export function createErrorFormatter(options: FormatErrorOptions) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = contractCodeOf(formatted.extensions?.code);

    const { stacktrace, http: _http, ...extensions } = formatted.extensions ?? {};
    const message = formatted.message.startsWith(CONTEXT_PREFIX)
      ? formatted.message.slice(CONTEXT_PREFIX.length)
      : formatted.message;

    if (code && code !== "INTERNAL_SERVER_ERROR") {
      return {
        ...formatted,
        message,
        extensions: {
          ...extensions,
          ...(code === "BAD_USER_INPUT" && extensions.field === undefined && fieldOf(message)),
          code,
          ...(options.production || stacktrace === undefined ? {} : { stacktrace }),
        },
      };
    }

    // Errors raised while executing were logged by the request's own logger
    // (see logUnexpectedErrors); this catches the rest, such as a failure
    // while the context was being built.
    const original = unwrap(error);
    if (!wasLogged(original)) {
      options.logger.error({ err: original, path: formatted.path }, "unexpected error");
    }
    return {
      message: "Something went wrong on our side. Quote the request id when you report it.",
      locations: formatted.locations,
      path: formatted.path,
      extensions: {
        code: "INTERNAL_SERVER_ERROR",
        ...(options.production || stacktrace === undefined ? {} : { stacktrace }),
      },
    };
  };
}

const logged = new WeakSet<object>();

/** Remembers that `error` has been logged with its request's logger. */
export function markLogged(error: unknown): void {
  if (error && typeof error === "object") logged.add(error);
}

function wasLogged(error: unknown): boolean {
  return !!error && typeof error === "object" && logged.has(error);
}

/** The error a GraphQLError wraps, or the error itself. */
export function unwrap(error: unknown): unknown {
  if (error && typeof error === "object" && "originalError" in error) {
    const original = (error as { originalError?: unknown }).originalError;
    if (original) return original;
  }
  return error;
}
