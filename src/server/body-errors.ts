import type { ErrorRequestHandler } from "express";
import { requestIdOf } from "../context/create-context.js";
import { ERROR_CODES, type ErrorCode } from "../errors/index.js";
import type { Logger } from "../logging/index.js";

export interface BodyErrorOptions {
  logger: Logger;
}

/**
 * What the JSON body parser (body-parser, through raw-body) attaches to the
 * errors it raises: an `http-errors` error with a status, and a `type` for
 * the ones it names (`entity.parse.failed`, `entity.too.large`, …).
 */
interface BodyParserError {
  status: number;
  type?: string;
  limit?: number;
  body?: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  if (!error || typeof error !== "object") return false;
  const { status, type, expose } = error as Record<string, unknown>;
  if (typeof status !== "number") return false;

  // http-errors marks 4xx errors as safe to expose; body-parser builds
  // every error it passes on through http-errors.
  return typeof type === "string" || (expose === true && status >= 400 && status < 500);
}

/** `1048576` → `1 MB`; other sizes in kB or bytes. */
function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} kB`;

  return `${bytes} bytes`;
}

/** True when `text` is JSON, just not the object a GraphQL request is. */
function isJsonButNotObject(text: string | undefined): boolean {
  if (text === undefined) return false;
  try {
    const value: unknown = JSON.parse(text);
    return value === null || typeof value !== "object";
  } catch {
    return false;
  }
}

function describeBodyError(error: BodyParserError): { status: number; message: string } {
  switch (error.type) {
    case "entity.parse.failed":
      // The parser is strict: a bare string, number or `null` is refused
      // here too, before Apollo Server would see it.
      return {
        status: 400,
        message: isJsonButNotObject(error.body)
          ? "The request body must be a JSON object with a `query`."
          : "The request body is not valid JSON.",
      };
    case "entity.too.large": {
      const limit = typeof error.limit === "number" ? ` of ${describeBytes(error.limit)}` : "";
      return { status: 413, message: `The request body is larger than the limit${limit}.` };
    }
    case "charset.unsupported":
    case "encoding.unsupported":
      return {
        status: 400,
        message: "The request body must be JSON in UTF-8, optionally gzip, deflate or br encoded.",
      };
    default:
      return { status: 400, message: "The request body could not be read." };
  }
}

function graphQLErrorBody(message: string, code: ErrorCode) {
  return { errors: [{ message, extensions: { code } }] };
}

/**
 * Express error middleware for the GraphQL route. Errors raised before
 * Apollo Server runs (mostly by the JSON body parser) would otherwise reach
 * express's default handler, which answers with an HTML page and, outside
 * production, a stack trace. This answers them as the contract wants every
 * error: a GraphQL error with `extensions.code`, as JSON, without a stack.
 */
export function createBodyErrorHandler(options: BodyErrorOptions): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    // Part of a response is out: all express can still do is drop the socket.
    if (res.headersSent) return next(error);
    // Refused before a context exists: the line and the answer still share an id.
    const requestId = requestIdOf(req.headers);
    res.setHeader("x-request-id", requestId);
    const logger = options.logger.child({ requestId });

    if (isBodyParserError(error)) {
      const { status, message } = describeBodyError(error);
      logger.info({ code: "BAD_USER_INPUT", type: error.type, status }, message);
      res.status(status).json(graphQLErrorBody(message, "BAD_USER_INPUT"));
      return;
    }

    logger.error({ err: error }, "unexpected error before GraphQL execution");
    res
      .status(ERROR_CODES.INTERNAL_SERVER_ERROR.status)
      .json(
        graphQLErrorBody(
          "Something went wrong on our side. Try again, or report the time of the request.",
          "INTERNAL_SERVER_ERROR",
        ),
      );
  };
}
