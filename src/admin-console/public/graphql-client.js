/* global fetch */

/** Codes that mean the token itself is no good for this console. */
export const SESSION_CODES = new Set(["UNAUTHENTICATED", "FORBIDDEN"]);

/** A request that produced no usable data: its code, message and request id. */
export class QueryError extends Error {
  constructor(message, code, requestId) {
    super(message);
    this.name = "QueryError";
    this.code = code;
    this.requestId = requestId;
  }
}

function toQueryError(error) {
  const extensions = error?.extensions ?? {};

  return new QueryError(
    typeof error?.message === "string" ? error.message : "The request failed.",
    typeof extensions.code === "string" ? extensions.code : "UNKNOWN",
    typeof extensions.requestId === "string" ? extensions.requestId : undefined,
  );
}

async function post(token, body) {
  try {
    return await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new QueryError("The gateway did not answer.", "NETWORK");
  }
}

/**
 * Runs one named operation and resolves with `{ data, errors }`. It rejects
 * with a {@link QueryError} when there is no data for `field`: the whole
 * request was refused (first error wins) or the field itself failed. Errors
 * of nested fields come back in `errors`, beside the data they spared.
 */
export async function runQuery(token, { query, field }, variables = {}) {
  const response = await post(token, { query, variables });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new QueryError(`The gateway answered ${response.status} without a result.`, "HTTP");
  }
  const errors = Array.isArray(body?.errors) ? body.errors.map(toQueryError) : [];
  const data = body?.data?.[field];
  if (data === undefined || data === null) {
    throw errors[0] ?? new QueryError(`The gateway returned no ${field}.`, "EMPTY");
  }

  return { data, errors };
}
