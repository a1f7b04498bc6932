import type { z } from "zod";
import { badInput } from "../../errors/index.js";

/** `settings.webhooks.0.url` from a zod issue path under `field`. */
function pathOf(field: string, path: readonly PropertyKey[]): string {
  return [field, ...path.map(String)].join(".");
}

/**
 * Checks `value` against `schema` and returns the parsed value, or throws
 * BAD_USER_INPUT naming the first offending field, e.g. `branding.logoUrl`.
 * Unknown keys of strict objects are named one by one.
 */
export function parseInput<S extends z.ZodType>(
  field: string,
  schema: S,
  value: unknown,
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;

  const issue = firstIssue(result.error.issues);
  if (!issue) throw badInput(field, `${field} is not valid.`);
  if (issue.code === "unrecognized_keys") {
    const named = pathOf(field, [...issue.path, issue.keys[0] ?? ""]);
    throw badInput(named, `${named} is not a known setting.`);
  }
  const named = pathOf(field, issue.path);

  throw badInput(named, `${named} ${describeIssue(issue)}.`);
}

/**
 * The issue to report: the first, except that a number past both the safe
 * integer range and a field's own maximum is told the field's maximum.
 */
function firstIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue | undefined {
  const [first] = issues;
  if (first?.code !== "too_big") return first;
  const samePath = (other: z.core.$ZodIssue) => other.path.join(".") === first.path.join(".");

  return issues
    .filter((other) => other.code === "too_big" && samePath(other))
    .reduce((low, other) =>
      Number((other as { maximum: unknown }).maximum) <
      Number((low as { maximum: unknown }).maximum)
        ? other
        : low,
    );
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      // zod leaves the input out of its issues; its message says what came.
      return issue.message.endsWith("received undefined")
        ? "is required"
        : `must be ${article(issue.expected)}`;
    case "invalid_key":
      return `has a name that is not allowed: ${issue.issues[0]?.message ?? "see the documentation"}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_big":
      return issue.origin === "string"
        ? `must be at most ${issue.maximum} characters`
        : issue.origin === "array"
          ? `may hold at most ${issue.maximum} items`
          : `must be at most ${issue.maximum}`;
    case "too_small":
      return issue.origin === "string"
        ? issue.minimum === 1
          ? "must not be empty"
          : `must be at least ${issue.minimum} characters`
        : `must be at least ${issue.minimum}`;
    default:
      // Custom messages ("must be an https:// URL") read after the name.
      return issue.message;
  }
}

function article(expected: string): string {
  switch (expected) {
    case "int":
    case "safeint":
      return "a whole number";
    case "object":
      return "an object";
    case "array":
      return "a list";
    default:
      return `a ${expected}`;
  }
}
