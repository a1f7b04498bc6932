/**
 * The operation an HTTP request asks for, read without parsing its document.
 * Requests refused while their context is built (unknown tenant, bad token)
 * never reach GraphQL's parser, yet their series still need an operation.
 */

/** What a refused request is labelled with. */
export interface RequestedOperation {
  /** `operationName`, else the name of the document's first operation, else null. */
  readonly name: string | null;
  /** `query`, `mutation` or `subscription`; `unknown` where the document does not say. */
  readonly type: string;
}

/** Only the document's opening is looked at: a refused request costs no more. */
const OPENING_CHARS = 2_000;

/**
 * The first definition of a document: ignored tokens (white space, commas,
 * comments), then `{` (an anonymous query) or a keyword and maybe a name.
 */
const FIRST_DEFINITION =
  /^(?:[\s,\uFEFF]|#[^\n\r]*)*(?:(\{)|(query|mutation|subscription)\b(?:[\s,]*([_A-Za-z][_0-9A-Za-z]*))?)/;

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
  const document = parameter(request, "query");
  const given = parameter(request, "operationName");
  const opening =
    typeof document === "string" ? FIRST_DEFINITION.exec(document.slice(0, OPENING_CHARS)) : null;
  const first = opening?.[3] ?? null;
  const name = typeof given === "string" && given !== "" ? given : first;
  // A document may hold several operations; the first one's type is the
  // chosen one's only when the names agree.
  if (!opening || name !== first) return { name, type: "unknown" };

  return { name, type: opening[1] ? "query" : (opening[2] ?? "unknown") };
}
