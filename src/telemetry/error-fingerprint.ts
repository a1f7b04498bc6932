import { createHash } from "node:crypto";
import {
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";

/** What an error is grouped by: the same four values give the same fingerprint. */
export interface ErrorShape {
  /** The contract code the client sees (INTERNAL_SERVER_ERROR for unexpected ones). */
  readonly code: string;
  /** The operation's metric label: a known name, `anonymous` or `other`. */
  readonly operation: string;
  /** The schema field path without list indices, `challenges.edges.node.author`; empty for request errors. */
  readonly path: string;
  /** The message with every value taken out (see {@link normaliseMessage}). */
  readonly message: string;
}

/** Longest message kept: enough to tell errors apart, too short to carry a payload. */
export const MESSAGE_MAX = 300;

/** Most fields of a path kept; deeper paths end in `…`. */
export const PATH_MAX_STEPS = 10;

/** Longest path kept (characters), `…` included. */
export const PATH_MAX = 200;

/** What a quoted value becomes. */
const STRING = "<str>";

// Quoted values go first (see removeQuoted), since they may hold anything below.
const VALUE_PATTERNS: readonly (readonly [RegExp, string])[] = [
  [/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, "<email>"],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<uuid>"],
  // Ids: words that mix letters with digits (tenant ids like acme-7f3a,
  // database names like ogc_tenant_acme_7f3a, hashes, keys).
  [/\b(?=[\w-]*[a-z_])(?=[\w-]*\d)[\w-]{2,}\b/gi, "<id>"],
  [/-?\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, "<n>"],
];

/** A quote pair: which of its characters may open a value and which may close one. */
interface QuoteKind {
  readonly opens: (text: string, at: number) => boolean;
  readonly closes: (text: string, at: number) => boolean;
}

const isWordChar = (char: string | undefined) => char !== undefined && /\w/.test(char);

const QUOTE_KINDS: readonly QuoteKind[] = [
  { opens: (t, i) => t[i] === '"', closes: (t, i) => t[i] === '"' },
  { opens: (t, i) => t[i] === "“", closes: (t, i) => t[i] === "”" },
  { opens: (t, i) => t[i] === "‘", closes: (t, i) => t[i] === "’" },
  // A single quote opens only after a non-word character and closes only
  // before one: `organization's` is an apostrophe, not a value. Backticks
  // stay: messages quote code with them (`prisma.user.findMany()`), not values.
  {
    opens: (t, i) => t[i] === "'" && !isWordChar(t[i - 1]),
    closes: (t, i) => t[i] === "'" && !isWordChar(t[i + 1]),
  },
];

/**
 * Takes every quoted value out whole, whatever quotes it holds itself:
 * from the first quote that may open a value to the last that may close
 * one becomes a single `<str>` (a value such as `Project "Falcon" takeover`
 * quoted in a message has quotes of its own, so pairing quotes one by one
 * would leave its words between two placeholders). An opening quote that
 * nothing closes cuts the message there.
 */
function removeQuoted(message: string): string {
  let text = message;
  for (const kind of QUOTE_KINDS) {
    let first = -1;
    for (let i = 0; i < text.length && first === -1; i += 1) if (kind.opens(text, i)) first = i;
    if (first === -1) continue;
    let last = -1;
    for (let i = text.length - 1; i > first && last === -1; i -= 1) {
      if (kind.closes(text, i)) last = i;
    }
    text =
      last === -1
        ? `${text.slice(0, first)}${STRING}`
        : `${text.slice(0, first)}${STRING}${text.slice(last + 1)}`;
  }

  return text;
}

/** Characters that continue a token around a tenant id; `_` separates words of identifiers. */
const TOKEN_CHAR = "A-Za-z0-9-";

/** `id` as a whole token: not inside a longer word (`this` is not in `thistle`). */
function wholeToken(id: string): RegExp {
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  return new RegExp(`(?<![${TOKEN_CHAR}])${escaped}(?![${TOKEN_CHAR}])`, "g");
}

/**
 * The message of an error with its values taken out: quoted values,
 * emails, uuids, ids and numbers become placeholders, and `tenantIds`
 * (the tenant the request was for, in either spelling, as whole tokens)
 * become `<tenant>`. Only the first line is kept: driver errors continue
 * with query arguments. What remains names the kind of error, never a
 * tenant's data, and reads the same for every tenant and every process.
 * At most {@link MESSAGE_MAX} characters.
 */
export function normaliseMessage(message: string, tenantIds: readonly string[] = []): string {
  let text = message.split("\n").find((line) => line.trim() !== "") ?? "";
  // Long enough for any message the gateway writes; a longer one is cut
  // before the patterns run, so they never scan a payload.
  text = text.slice(0, 4 * MESSAGE_MAX);
  for (const id of tenantIds) {
    for (const spelling of new Set([id, id.replaceAll("-", "_")])) {
      text = text.replace(wholeToken(spelling), "<tenant>");
    }
  }
  text = removeQuoted(text);
  for (const [pattern, placeholder] of VALUE_PATTERNS) text = text.replace(pattern, placeholder);
  text = text.replace(/\s+/g, " ").trim();

  return bounded(text, MESSAGE_MAX);
}

/** `text` cut to `max` characters, ending in `…` when cut. */
export function bounded(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A field path without list indices: `["users", 3, "email"]` → `users.email` (response keys). */
export function pathWithoutIndices(path: readonly (string | number)[] | undefined): string {
  return (path ?? []).filter((step) => typeof step === "string").join(".");
}

/** The operation an error's path is read against: its selections and the document's fragments. */
export interface PathSource {
  readonly operation: OperationDefinitionNode | null | undefined;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
}

/** The fields under `sets` whose response key (alias, else name) is `key`, through fragments. */
function fieldsAnswering(
  sets: readonly SelectionSetNode[],
  key: string,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): FieldNode[] {
  const found: FieldNode[] = [];
  const seenFragments = new Set<string>();
  const pending = [...sets];
  for (let set = pending.pop(); set; set = pending.pop()) {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if ((selection.alias ?? selection.name).value === key) found.push(selection);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        pending.push(selection.selectionSet);
      } else if (!seenFragments.has(selection.name.value)) {
        seenFragments.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) pending.push(fragment.selectionSet);
      }
    }
  }

  return found;
}

/**
 * An error's path by schema field names, not by the aliases the client
 * chose (`a1: users` and `a2: users` both read `users`), without list
 * indices, at most {@link PATH_MAX_STEPS} fields and {@link PATH_MAX}
 * characters. A step the document does not explain reads `?`.
 */
export function schemaPathOf(
  path: readonly (string | number)[] | undefined,
  source: PathSource,
): string {
  const names: string[] = [];
  let sets: SelectionSetNode[] = source.operation ? [source.operation.selectionSet] : [];
  for (const step of path ?? []) {
    if (typeof step !== "string") continue;
    if (names.length === PATH_MAX_STEPS) {
      names.push("…");
      break;
    }
    const fields = fieldsAnswering(sets, step, source.fragments);
    names.push(fields[0]?.name.value ?? "?");
    sets = fields.flatMap((field) => (field.selectionSet ? [field.selectionSet] : []));
  }

  return bounded(names.join("."), PATH_MAX);
}

/** The stable fingerprint of an error: sha256 over its four parts, hex. */
export function fingerprintOf(shape: ErrorShape): string {
  return createHash("sha256")
    .update([shape.code, shape.operation, shape.path, shape.message].join("\u0000"))
    .digest("hex");
}

/** What every overflow cluster says. */
export const OVERFLOW_MESSAGE =
  "Errors past the new-cluster limit of one flush, counted without their details.";

/**
 * The shape of the overflow cluster for `code`: where a tenant's errors go
 * once it added its share of new clusters in one flush window.
 */
export function overflowShape(code: string): ErrorShape {
  return { code, operation: "other", path: "", message: OVERFLOW_MESSAGE };
}

/**
 * The fingerprint of a tenant's overflow cluster for `code` (`tenantId`
 * null: requests that named no tenant): one per tenant and code, so one
 * tenant's flood never lands in another tenant's cluster.
 */
export function overflowFingerprint(tenantId: string | null, code: string): string {
  return createHash("sha256")
    .update(["overflow", tenantId ?? "", code].join("\u0000"))
    .digest("hex");
}
