/**
 * The contract's tenant id: 3 to 40 characters, lowercase ASCII letters, digits and hyphens,
 * starting with a letter and ending with a letter or digit. Ids appear in cache keys, storage
 * prefixes and schema names, so this is the one place their syntax is decided.
 *
 * No `g` or `y` flag: a shared stateful regex would make `test()` depend on the previous call.
 */
export const TENANT_ID_PATTERN: RegExp = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;

/** Whether `value` is a well-formed tenant id; says nothing about whether the tenant exists. */
export function isTenantId(value: string): boolean {
  // Callers pass request data; a non-string must not reach the regex and be stringified.
  return typeof value === "string" && TENANT_ID_PATTERN.test(value);
}
