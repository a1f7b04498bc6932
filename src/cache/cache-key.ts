/** Every key the gateway writes starts with this, in Redis and in memory alike. */
const KEY_ROOT = "ogc";

/** The contract's tenant id: lower-case letters, digits and inner dashes, 3 to 40 long. */
const TENANT_ID = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;

/** A ':' would shift the parts of a key; whitespace never occurs in uuids or slugs. */
const FORBIDDEN = /[:\s]/;

function assertKeyPart(name: string, value: unknown): asserts value is string {
  if (typeof value !== "string" || value === "" || FORBIDDEN.test(value)) {
    throw new TypeError(
      `Cache key part "${name}" must be a non-empty string without ':' or whitespace, got ${JSON.stringify(value)}.`,
    );
  }
}

/**
 * Builds `ogc:{tenantId}:{service}:{entity}:{id}`, such as `ogc:acme:identity:user:u1`.
 * Throws TypeError if any part is empty or contains ':' or whitespace (ids are uuids or
 * slugs; tenant ids match `^[a-z][a-z0-9-]{1,38}[a-z0-9]$`).
 */
export function cacheKey(tenantId: string, service: string, entity: string, id: string): string {
  assertKeyPart("tenantId", tenantId);
  assertKeyPart("service", service);
  assertKeyPart("entity", entity);
  assertKeyPart("id", id);

  return `${KEY_ROOT}:${tenantId}:${service}:${entity}:${id}`;
}

/**
 * Throws TypeError unless `tenantId` is a tenant id of the contract. Stricter than
 * `cacheKey`, because a tenant id also goes into SCAN patterns, where `*`, `?` or `[`
 * would match other tenants' keys.
 */
export function assertTenantId(tenantId: unknown): asserts tenantId is string {
  if (typeof tenantId !== "string" || !TENANT_ID.test(tenantId)) {
    throw new TypeError(
      `Tenant id must match ${TENANT_ID.source}, got ${JSON.stringify(tenantId)}.`,
    );
  }
}

/**
 * The start of every key of a tenant, `ogc:{tenantId}:`. The closing ':' keeps tenant
 * `acme` from matching the keys of `acme-2`.
 */
export function tenantKeyPrefix(tenantId: string): string {
  assertTenantId(tenantId);

  return `${KEY_ROOT}:${tenantId}:`;
}
