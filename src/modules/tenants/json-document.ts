import { badInput } from "../../errors/index.js";

/** Largest JSON document a tenant may store, in bytes. */
const MAX_DOCUMENT_BYTES = 16_384;

/** Deepest nesting of objects and arrays a document may have; the document itself is 1. */
const MAX_DOCUMENT_DEPTH = 16;

/**
 * True when objects and arrays in `value` nest deeper than `limit`. Walks
 * with a stack of its own, never recursion: a request body may nest
 * documents thousands deep, past what the call stack (and JSON.stringify)
 * can hold. Stops at the first container past the limit.
 */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: { node: unknown; depth: number }[] = [{ node: value, depth: 1 }];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const { node, depth } = item;
    if (node === null || typeof node !== "object") continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) pending.push({ node: child, depth: depth + 1 });
  }

  return false;
}

/**
 * Checks that `value` is a JSON object small and shallow enough to store,
 * before any schema looks at it: BAD_USER_INPUT naming `field` otherwise.
 */
export function requireDocument(field: string, value: unknown): Record<string, unknown> {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw badInput(field, `${field} must be a JSON object.`);
  }
  // Depth first: only a document of bounded depth is safe to stringify.
  if (nestsDeeperThan(value, MAX_DOCUMENT_DEPTH)) {
    throw badInput(
      field,
      `${field} may nest objects and arrays at most ${MAX_DOCUMENT_DEPTH} levels deep.`,
    );
  }
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES) {
    throw badInput(field, `${field} must be at most ${MAX_DOCUMENT_BYTES} bytes of JSON.`);
  }
  if (hasUnstorableEscape(text)) {
    throw badInput(field, `${field} holds a NUL character or a broken Unicode surrogate.`);
  }

  return value as Record<string, unknown>;
}

/**
 * True when `text` (JSON) escapes a NUL or a surrogate that has no partner:
 * PostgreSQL's jsonb refuses both. The escape must follow an odd run of
 * backslashes, or it is a user's literal backslash followed by "u0000".
 */
function hasUnstorableEscape(text: string): boolean {
  if (/(?<!\\)(?:\\\\)*\\u0000/.test(text)) return true;
  // Paired surrogates are written as characters, not escapes, by
  // JSON.stringify; an escaped one is therefore always unpaired.
  return /(?<!\\)(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/i.test(text);
}
