import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { applyMiddleware } from "graphql-middleware";
import { buildSchema } from "type-graphql";
import { ChallengeResolver, SubmissionResolver } from "../modules/challenges/challenge-resolver.js";
import { DashboardResolver } from "../modules/dashboards/dashboard-resolver.js";
import { FeatureResolver } from "../modules/features/feature-resolver.js";
import { IdentityResolver } from "../modules/identity/identity-resolver.js";
import { JobResolver } from "../modules/jobs/job-resolver.js";
import { TenantLogResolver } from "../modules/logs/tenant-log-resolver.js";
import {
  MembershipResolver,
  OrganizationResolver,
  UserOrganizationsResolver,
} from "../modules/organizations/organization-resolver.js";
import { ObservabilityResolver } from "../modules/observability/observability-resolver.js";
import { TenantReportResolver } from "../modules/observability/tenant-report-resolver.js";
import { PlatformResolver } from "../modules/platform/platform-resolver.js";
import { TenantSummaryResolver } from "../modules/platform/tenant-summary-resolver.js";
import { TenantArchiveResolver } from "../modules/platform/tenant-archive-resolver.js";
import { StorageResolver } from "../modules/storage/storage-resolver.js";
import { TenantResolver } from "../modules/tenants/tenant-resolver.js";
import { createPermissions } from "../rbac/index.js";

const RESOLVERS = [
  IdentityResolver,
  OrganizationResolver,
  MembershipResolver,
  UserOrganizationsResolver,
  DashboardResolver,
  ChallengeResolver,
  SubmissionResolver,
  TenantResolver,
  PlatformResolver,
  TenantArchiveResolver,
  StorageResolver,
  FeatureResolver,
  JobResolver,
  TenantLogResolver,
  ObservabilityResolver,
  TenantReportResolver,
  TenantSummaryResolver,
] as const;

/** The schema as type-graphql declares it, without authorization. */
export async function buildBareSchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: RESOLVERS, validate: false });
}

/** The schema every request runs against: bare schema plus the shield rules. */
export async function buildGatewaySchema(): Promise<GraphQLSchema> {
  return applyMiddleware(await buildBareSchema(), createPermissions());
}

/** The SDL committed as `schema.graphql` (sorted, so diffs stay small). */
export function printGatewaySchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
