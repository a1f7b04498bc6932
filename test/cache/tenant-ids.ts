import { randomBytes } from "node:crypto";

/**
 * A tenant id no other test run uses, such as `cache-3f9a1c2e-a`: test files run in
 * parallel against one Redis, and each must only ever see its own keys.
 */
export function uniqueTenantId(label: string): string {
  return `cache-${randomBytes(4).toString("hex")}-${label}`;
}
