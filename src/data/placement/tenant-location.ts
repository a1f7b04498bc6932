import { Isolation } from "../../generated/prisma/enums.js";

/**
 * Where one tenant's tables live, by name. Every tier holds the same tables
 * (the whole migration set), so a handle bound to any location behaves alike.
 * Admin sessions, names and schemas need no more than this.
 */
export type PlannedLocation =
  /** The control database's `public` schema, rows told apart by `tenantId`. */
  | { readonly isolation: typeof Isolation.SHARED }
  /** A schema of its own in the control database. */
  | { readonly isolation: typeof Isolation.SCHEMA; readonly schema: string }
  /** A database of its own on one of the configured servers. */
  | {
      readonly isolation: typeof Isolation.DATABASE;
      readonly server: string;
      readonly database: string;
    };

/** A location that exists: for a database, with the tenant login's connection string. */
export type TenantLocation =
  | Exclude<PlannedLocation, { isolation: typeof Isolation.DATABASE }>
  | (Extract<PlannedLocation, { isolation: typeof Isolation.DATABASE }> & {
      /** Connection string of the tenant's own login (unsealed, never logged). */
      readonly url: string;
    });

export const SHARED_LOCATION: TenantLocation = { isolation: Isolation.SHARED };

/** The names a tenant gets in a tier: fixed by its id, so a retry finds them again. */
export function planLocation(
  tenantId: string,
  isolation: Isolation,
  server: string | null,
): PlannedLocation {
  switch (isolation) {
    case Isolation.SHARED:
      return { isolation };
    case Isolation.SCHEMA:
      return { isolation, schema: schemaNameFor(tenantId) };
    case Isolation.DATABASE:
      if (!server) throw new Error("a DATABASE location needs a server");
      return { isolation, server, database: databaseNameFor(tenantId) };
    default: {
      const unknown: never = isolation;
      throw new Error(`unhandled isolation ${String(unknown)}`);
    }
  }
}

/** The registry columns that name a planned location. */
export function plannedColumns(planned: PlannedLocation) {
  return {
    isolation: planned.isolation,
    schemaName: planned.isolation === Isolation.SCHEMA ? planned.schema : null,
    databaseServer: planned.isolation === Isolation.DATABASE ? planned.server : null,
    databaseName: planned.isolation === Isolation.DATABASE ? planned.database : null,
  };
}

/**
 * Reads back what {@link describeLocation} wrote (the registry's `movingTo`).
 * Names are fixed by the tenant id, so only the tier and server matter.
 */
export function parsePlanned(tenantId: string, text: string): PlannedLocation {
  const [kind, rest = ""] = text.split(":", 2);
  let planned: PlannedLocation | null = null;
  if (kind === "shared" && rest === "") planned = { isolation: Isolation.SHARED };
  if (kind === "schema") planned = planLocation(tenantId, Isolation.SCHEMA, null);
  if (kind === "database")
    planned = planLocation(tenantId, Isolation.DATABASE, rest.split("/")[0] ?? "");
  if (!planned || describeLocation(planned) !== text) {
    throw new Error(`"${text}" is not a location of tenant ${tenantId}`);
  }

  return planned;
}

/** The schema a location's tables are in. */
export function schemaOf(location: PlannedLocation): string {
  switch (location.isolation) {
    case Isolation.SHARED:
    case Isolation.DATABASE:
      return "public";
    case Isolation.SCHEMA:
      return location.schema;
    default: {
      const unknown: never = location;
      throw new Error(`unhandled location ${JSON.stringify(unknown)}`);
    }
  }
}

/** A stable name for a location, fit for logs and map keys (no credentials). */
export function describeLocation(location: PlannedLocation): string {
  switch (location.isolation) {
    case Isolation.SHARED:
      return "shared";
    case Isolation.SCHEMA:
      return `schema:${location.schema}`;
    case Isolation.DATABASE:
      return `database:${location.server}/${location.database}`;
    default: {
      const unknown: never = location;
      throw new Error(`unhandled location ${JSON.stringify(unknown)}`);
    }
  }
}

// Tenant ids are `[a-z][a-z0-9-]*`, so swapping '-' for '_' is one-to-one and
// the names below need no quoting rules beyond the usual double quotes.
const identifierPart = (tenantId: string) => tenantId.replaceAll("-", "_");

/** The schema a SCHEMA tenant gets. */
export function schemaNameFor(tenantId: string): string {
  return `tenant_${identifierPart(tenantId)}`;
}

/** The database a DATABASE tenant gets on its server. */
export function databaseNameFor(tenantId: string): string {
  return `ogc_tenant_${identifierPart(tenantId)}`;
}

/** The login role a DATABASE tenant's connections use. */
export function loginRoleFor(tenantId: string): string {
  return `ogc_login_${identifierPart(tenantId)}`;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Double-quotes a name the gateway made; refuses anything else. */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER.test(name))
    throw new Error(`refusing to quote identifier ${JSON.stringify(name)}`);

  return `"${name}"`;
}
