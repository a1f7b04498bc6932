/**
 * Operation names that get a metric series of their own. Any client may name
 * its operations anything, so an open set would let one client create series
 * without end; names outside this set share the label `other`.
 */

/**
 * What the gateway's own clients send: the Sandbox's default document
 * (src/server/gateway.ts), the documents in test/operations that dashboards
 * and the console are typed from, and the admin console's own reads.
 */
export const BUILT_IN_OPERATIONS: readonly string[] = Object.freeze([
  // Sandbox default document, and the dashboard's own query.
  "Dashboard",
  // test/operations/*.graphql
  "CreateChallenge",
  "SubmitToChallenge",
  "Dashboards",
  "DashboardById",
  "CreateDashboard",
  "Me",
  "Users",
  "User",
  "CreateUser",
  "CreateRole",
  "AssignRole",
  "Organizations",
  "CreateOrganization",
  "AddMember",
  "AdminTenants",
  "ProvisionTenant",
  "SuspendTenant",
  "ResumeTenant",
  "Tenant",
  "UpdateTenantConfig",
  "AdminTenantReports",
  "AdminTraffic",
  "AdminErrorClusters",
  // The global admin console.
  "AdminConsoleTenants",
  "AdminConsoleTraffic",
  "AdminConsoleErrorClusters",
]);

/** Label of a request that named no operation. */
export const ANONYMOUS_OPERATION = "anonymous";

/** Label of every operation name outside the known set. */
export const OTHER_OPERATION = "other";

/** Most names `METRICS_OPERATIONS` may add (checked in src/config). */
export const MAX_EXTRA_OPERATIONS = 100;

/** Turns a client's operation name into its `operation` label. */
export type OperationLabeller = (name: string | null | undefined) => string;

/**
 * The labeller for the built-in names plus `extra` (`METRICS_OPERATIONS`).
 * At most {@link MAX_EXTRA_OPERATIONS} extra names are taken, so the label
 * has a fixed upper bound of values whatever the configuration says.
 */
export function createOperationLabeller(extra: readonly string[] = []): OperationLabeller {
  const known = new Set([...BUILT_IN_OPERATIONS, ...extra.slice(0, MAX_EXTRA_OPERATIONS)]);

  return (name) => {
    if (name === null || name === undefined || name === "") return ANONYMOUS_OPERATION;

    return known.has(name) ? name : OTHER_OPERATION;
  };
}
