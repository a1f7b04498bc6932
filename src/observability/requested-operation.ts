/**
 * The operation an HTTP request asks for, read without parsing its document.
 * Requests refused while their context is built (unknown tenant, bad token)
 * never reach GraphQL's parser, yet their series still need an operation.
 */

/** What a refused request is labelled with. */
export interface RequestedOperation {
  /** `operationName`, else the name of the document's first operation, else null. */
  readonly name: string | null;
}

/** Only the document's opening is looked at: a refused request costs no more. */
const OPENING_CHARS = 2_000;

/**
 * The first definition of a document when it is a named operation: ignored
 * tokens (white space, commas, comments), a keyword, then the name.
 */
const FIRST_NAMED_OPERATION =
  /^(?:[\s,\uFEFF]|#[^\n\r]*)*(?:query|mutation|subscription)\b[\s,]*([_A-Za-z][_0-9A-Za-z]*)/;

/** The parameters of a GraphQL request: the JSON body, or the query string of a GET. */
export interface RequestParameters {
  readonly body?: unknown;
  readonly query?: unknown;
}

function parameter(request: RequestParameters, key: string): unknown {
  for (const source of [request.body, request.query]) {
    if (source && typeof source === "object" && key in source) {
      return (source as Record<string, unknown>)[key];
    }
  }

  return undefined;
}

/** The operation `request` names, as far as its parameters tell without parsing. */
export function requestedOperation(request: RequestParameters): RequestedOperation {
  const given = parameter(request, "operationName");
  if (typeof given === "string" && given !== "") return { name: given };
  const document = parameter(request, "query");
  const opening =
    typeof document === "string"
      ? FIRST_NAMED_OPERATION.exec(document.slice(0, OPENING_CHARS))
      : null;

  return { name: opening?.[1] ?? null };
}
