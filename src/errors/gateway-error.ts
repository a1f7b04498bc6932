import { GraphQLError } from "graphql";
import { ERROR_CODES, type ErrorCode } from "./codes.js";

/**
 * A client-facing error: a message fit to show a person and one of the
 * contract's codes. Anything else thrown inside the gateway is masked.
 */
export class GatewayError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, {
      extensions: { ...extensions, code, http: { status: ERROR_CODES[code].status } },
    });
    this.name = "GatewayError";
  }

  get code(): ErrorCode {
    return this.extensions.code as ErrorCode;
  }
}

export const unauthenticated = (message = "Sign in to do this.") =>
  new GatewayError("UNAUTHENTICATED", message);

export const forbidden = (message = "You are not allowed to do this.") =>
  new GatewayError("FORBIDDEN", message);

export const notFound = (what: string) => new GatewayError("NOT_FOUND", `${what} was not found.`);

export const badInput = (field: string, message: string) =>
  new GatewayError("BAD_USER_INPUT", message, { field });
