import { allow, and, shield } from "graphql-shield";
import type { IRule, IRules } from "graphql-shield";
import { forbidden } from "../errors/index.js";
import {
  allOf,
  anyOf,
  featureOn,
  guard,
  hasTenantScope,
  holdsPermission,
  isGlobalAdmin,
  isSelf,
  isSignedIn,
  isTenantUser,
  managesOrganizationArgument,
} from "./rules.js";

// Shield tells rules apart by name, so each permission gets exactly one rule.
const permissionRules = new Map<string, IRule>();
function can(permission: string): IRule {
  let found = permissionRules.get(permission);
  if (!found) {
    found = guard(`can:${permission}`, "request", holdsPermission(permission));
    permissionRules.set(permission, found);
  }

  return found;
}

// One rule per feature, for the same reason.
const featureRules = new Map<string, IRule>();

/**
 * `rule`, and the tenant must have `feature` on. Shield's `and` answers the
 * first error among its rules, so an anonymous caller still hears
 * UNAUTHENTICATED first, and a caller allowed by `rule` hears
 * FEATURE_DISABLED when the feature is off.
 */
function gated(feature: string, rule: IRule): ReturnType<typeof and> {
  let featureRule = featureRules.get(feature);
  if (!featureRule) {
    featureRule = guard(`feature:${feature}`, "request", featureOn(feature));
    featureRules.set(feature, featureRule);
  }

  return and(rule, featureRule);
}

const tenantScoped = guard("tenant-scoped", "request", hasTenantScope);
const signedIn = guard("signed-in", "request", isSignedIn);
const globalAdmin = guard("global-admin", "request", isGlobalAdmin);
const tenantUserCan = (permission: string) =>
  guard(
    `tenant-user-can:${permission}`,
    "request",
    allOf(isTenantUser, holdsPermission(permission)),
  );

/**
 * Anyone with `users:read` sees users; everyone sees their own; platform
 * staff see users wherever an operation returns them (e.g. provisioning).
 */
const readsUser = guard(
  "reads-user",
  "arguments",
  anyOf(isGlobalAdmin, holdsPermission("users:read"), holdsPermission("users:write"), isSelf),
);

/**
 * Whoever may create a thing may read what the mutation returns: a write
 * that commits and then answers FORBIDDEN invites a retry and a duplicate.
 */
function readableWith(name: string, ...permissions: string[]): IRule {
  return guard(`readable:${name}`, "request", anyOf(...permissions.map(holdsPermission)));
}

/** Job status: staff anywhere; a tenant's config writers in their own tenant (the resolver narrows). */
const readsJobs = guard(
  "reads-jobs",
  "request",
  anyOf(isGlobalAdmin, holdsPermission("config:write")),
);

const managesOrganization = guard("manages-organization", "arguments", managesOrganizationArgument);

const organizationsReadable = readableWith(
  "organizations",
  "organizations:read",
  "organizations:write",
);
const challengesReadable = readableWith("challenges", "challenges:read", "challenges:write");
const storageReadable = readableWith("storage", "storage:read", "storage:write");

/**
 * Every field of the schema, with the rule that guards it. A type-wide rule
 * is written `"*"`. Anything missing here is denied by the fallback rule;
 * test/rbac/rule-coverage.test.ts fails when a field is missing.
 */
export const RULE_TREE: IRules = {
  Query: {
    me: tenantScoped,
    tenant: tenantScoped,
    users: can("users:read"),
    user: can("users:read"),
    organizations: can("organizations:read"),
    dashboards: gated("dashboards", can("dashboards:read")),
    dashboard: gated("dashboards", can("dashboards:read")),
    challenges: gated("challenges", can("challenges:read")),
    adminTenants: globalAdmin,
    files: gated("storage", can("storage:read")),
    storageUsage: gated("storage", can("storage:read")),
    featureFlags: globalAdmin,
    tenantConfig: can("config:write"),
    tenantConfigVersions: can("config:write"),
    job: readsJobs,
    jobs: globalAdmin,
    tenantJobs: can("config:write"),
    tenantLogs: globalAdmin,
    adminErrorClusters: globalAdmin,
    adminTraffic: globalAdmin,
  },
  Mutation: {
    createUser: can("users:write"),
    createRole: can("roles:write"),
    assignRole: can("roles:write"),
    createOrganization: can("organizations:write"),
    addMember: managesOrganization,
    createDashboard: gated("dashboards", tenantUserCan("dashboards:write")),
    updateDashboard: gated("dashboards", can("dashboards:write")),
    createChallenge: gated("challenges", can("challenges:write")),
    submitToChallenge: gated("challenges", tenantUserCan("challenges:submit")),
    updateTenantConfig: can("config:write"),
    restoreTenantConfig: can("config:write"),
    provisionTenant: globalAdmin,
    suspendTenant: globalAdmin,
    resumeTenant: globalAdmin,
    moveTenant: globalAdmin,
    deprovisionTenant: globalAdmin,
    exportTenant: globalAdmin,
    importTenant: globalAdmin,
    createUploadUrl: gated("storage", can("storage:write")),
    createDownloadUrl: gated("storage", can("storage:read")),
    deleteFile: gated("storage", can("storage:write")),
    setFeatureFlag: globalAdmin,
    setTenantFeature: globalAdmin,
    startProvisionTenant: globalAdmin,
    startMoveTenant: globalAdmin,
    startExportTenant: globalAdmin,
    startMigrateTenants: globalAdmin,
    exportTenantLogs: globalAdmin,
    eraseTenantLogs: globalAdmin,
  },

  // Name and branding are public: login pages show them before anyone signs
  // in. What the tenant pays for is not.
  Tenant: {
    id: allow,
    name: allow,
    branding: allow,
    features: signedIn,
    modules: signedIn,
    plan: signedIn,
  },
  User: { "*": readsUser },
  Role: { "*": signedIn },
  Organization: { "*": organizationsReadable },
  Membership: { "*": organizationsReadable },
  Dashboard: { "*": readableWith("dashboards", "dashboards:read", "dashboards:write") },
  Challenge: { "*": challengesReadable },
  Submission: { "*": readableWith("submissions", "challenges:read", "challenges:submit") },
  TenantSummary: { "*": globalAdmin },
  ProvisionResult: { "*": globalAdmin },
  TenantMove: { "*": globalAdmin },
  TableDigest: { "*": globalAdmin },
  TenantExport: { "*": globalAdmin },
  StoredFile: { "*": storageReadable },
  StorageUsage: { "*": storageReadable },
  StorageAreaUsage: { "*": storageReadable },
  SignedUrl: { "*": storageReadable },
  FeatureFlag: { "*": globalAdmin },
  TenantConfig: { "*": can("config:write") },
  TenantConfigVersion: { "*": can("config:write") },
  FeatureOverride: { "*": globalAdmin },
  Job: { "*": readsJobs },
  JobError: { "*": readsJobs },
  LogLine: { "*": globalAdmin },
  TenantLogExport: { "*": globalAdmin },
  // The admin views (TenantSummary.healthReport, usageReport, billingState).
  TenantHealth: { "*": globalAdmin },
  TenantLastError: { "*": globalAdmin },
  TenantUsageReport: { "*": globalAdmin },
  BillingState: { "*": globalAdmin },
  BillingLine: { "*": globalAdmin },
  ErrorCluster: { "*": globalAdmin },
  TenantTrafficSeries: { "*": globalAdmin },
  TrafficPoint: { "*": globalAdmin },

  // Page wrappers carry no data of their own; their root field is guarded.
  UserConnection: { "*": allow },
  UserEdge: { "*": allow },
  ChallengeConnection: { "*": allow },
  ChallengeEdge: { "*": allow },
  PageInfo: { "*": allow },
  StoredFileConnection: { "*": allow },
  StoredFileEdge: { "*": allow },
};

/** The shield middleware: deny by default, FORBIDDEN for every denial. */
export function createPermissions() {
  return shield(RULE_TREE, {
    fallbackRule: guard("deny-unlisted", "request", () => false),
    // Shield's own default is "Not Authorised!" as an internal error.
    fallbackError: () => forbidden(),
    // Resolver errors (NOT_FOUND, BAD_USER_INPUT…) must reach the client as
    // they are, not be swapped for the fallback error.
    allowExternalErrors: true,
    debug: false,
  });
}
