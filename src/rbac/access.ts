import { TENANT_ADMIN_ROLE } from "./permissions.js";

/**
 * What the caller may do inside the request's tenant. Roles and permissions
 * come from the tenant's own rows, never from the token.
 */
export interface Access {
  /** The tenant user behind the request, or null (anonymous or staff). */
  readonly userId: string | null;
  readonly isGlobalAdmin: boolean;
  readonly roles: readonly string[];
  readonly permissions: ReadonlySet<string>;
}

export const ANONYMOUS: Access = Object.freeze({
  userId: null,
  isGlobalAdmin: false,
  roles: [],
  permissions: new Set<string>(),
});

export function isTenantAdmin(access: Access): boolean {
  return access.roles.includes(TENANT_ADMIN_ROLE);
}

/**
 * True when the caller holds `permission`. Global admins and tenant admins
 * hold every tenant permission.
 */
export function hasPermission(access: Access, permission: string): boolean {
  return access.isGlobalAdmin || isTenantAdmin(access) || access.permissions.has(permission);
}

/**
 * True when the caller holds every permission of `wanted`: nobody may hand
 * out a permission they do not hold themselves.
 */
export function holdsAll(access: Access, wanted: Iterable<string>): boolean {
  for (const permission of wanted) {
    if (!hasPermission(access, permission)) return false;
  }

  return true;
}
