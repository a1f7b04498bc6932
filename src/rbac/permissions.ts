/**
 * Tenant permissions are written `resource:action`. The gateway knows the
 * built-in ones below; a tenant admin may also mint its own for roles it
 * defines, as long as they follow the same shape.
 */
export const BUILT_IN_PERMISSIONS = [
  "users:read",
  "users:write",
  "roles:write",
  "organizations:read",
  "organizations:write",
  "dashboards:read",
  "dashboards:write",
  "challenges:read",
  "challenges:write",
  "challenges:submit",
  "config:write",
  "storage:read",
  "storage:write",
] as const;

export type BuiltInPermission = (typeof BUILT_IN_PERMISSIONS)[number];

/** The role that holds every tenant permission, defined or not. */
export const TENANT_ADMIN_ROLE = "tenant_admin";

/** The role that holds every built-in `:read` permission. */
export const MEMBER_ROLE = "member";

export const BUILT_IN_ROLES: Readonly<Record<string, readonly string[]>> = {
  [TENANT_ADMIN_ROLE]: BUILT_IN_PERMISSIONS,
  [MEMBER_ROLE]: BUILT_IN_PERMISSIONS.filter((p) => p.endsWith(":read")),
};

/** The platform role carried by staff tokens. */
export const GLOBAL_ADMIN_ROLE = "global_admin";

const PERMISSION_PATTERN = /^[a-z][a-z0-9-]{0,31}:[a-z][a-z0-9-]{0,31}$/;

export function isPermission(value: string): boolean {
  return PERMISSION_PATTERN.test(value);
}

const ROLE_NAME_PATTERN = /^[a-z][a-z0-9_-]{1,39}$/;

export function isRoleName(value: string): boolean {
  return ROLE_NAME_PATTERN.test(value);
}
