import { createHash } from "node:crypto";

/** What an error is grouped by: the same four values give the same fingerprint. */
export interface ErrorShape {
  /** The contract code the client sees (INTERNAL_SERVER_ERROR for unexpected ones). */
  readonly code: string;
  /** The operation's name, or `(anonymous)`. */
  readonly operation: string;
  /** The field path without list indices, `challenges.edges.node.author`; empty for request errors. */
  readonly path: string;
  /** The message with every value taken out (see {@link normaliseMessage}). */
  readonly message: string;
}

/** Longest message kept: enough to tell errors apart, too short to carry a payload. */
const MESSAGE_MAX = 300;

// Order matters: quoted text goes first, since it may hold anything below.
const VALUE_PATTERNS: readonly (readonly [RegExp, string])[] = [
  // A single quote counts only around a word, not as an apostrophe. Backticks
  // stay: messages quote code with them (`prisma.user.findMany()`), not values.
  [/"(?:[^"\\]|\\.)*"|(?<!\w)'(?:[^'\\]|\\.)*'(?!\w)|“[^”]*”/g, "<str>"],
  [/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, "<email>"],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<uuid>"],
  // Ids: words that mix letters with digits (tenant ids like acme-7f3a,
  // database names like ogc_tenant_acme_7f3a, hashes, keys).
  [/\b(?=[\w-]*[a-z_])(?=[\w-]*\d)[\w-]{2,}\b/gi, "<id>"],
  [/-?\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, "<n>"],
];

/**
 * The message of an error with its values taken out: quoted strings,
 * emails, uuids, ids and numbers become placeholders, and `tenantIds`
 * (the tenant the request was for, in either spelling) become `<tenant>`.
 * Only the first line is kept: driver errors continue with query
 * arguments. What remains names the kind of error, never a tenant's data,
 * and reads the same for every tenant and every process.
 */
export function normaliseMessage(message: string, tenantIds: readonly string[] = []): string {
  let text = message.split("\n").find((line) => line.trim() !== "") ?? "";
  for (const id of tenantIds) {
    for (const spelling of new Set([id, id.replaceAll("-", "_")])) {
      text = text.replaceAll(spelling, "<tenant>");
    }
  }
  for (const [pattern, placeholder] of VALUE_PATTERNS) text = text.replace(pattern, placeholder);
  text = text.replace(/\s+/g, " ").trim();

  return text.length > MESSAGE_MAX ? `${text.slice(0, MESSAGE_MAX)}…` : text;
}

/** A field path without list indices: `["users", 3, "email"]` → `users.email`. */
export function pathWithoutIndices(path: readonly (string | number)[] | undefined): string {
  return (path ?? []).filter((step) => typeof step === "string").join(".");
}

/** The stable fingerprint of an error: sha256 over its four parts, hex. */
export function fingerprintOf(shape: ErrorShape): string {
  return createHash("sha256")
    .update([shape.code, shape.operation, shape.path, shape.message].join("\u0000"))
    .digest("hex");
}
