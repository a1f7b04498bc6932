import type { TenantClient } from "../data/index.js";
import type { LoaderSource } from "../loaders/index.js";
import { createChallengeLoaders } from "../modules/challenges/challenge-loaders.js";
import { createDashboardLoaders } from "../modules/dashboards/dashboard-loaders.js";
import { createIdentityLoaders } from "../modules/identity/identity-loaders.js";
import { createOrganizationLoaders } from "../modules/organizations/organization-loaders.js";

/** Makes every module's loaders for one request of one tenant. */
export function createLoaders(db: TenantClient, source: LoaderSource) {
  return {
    ...createIdentityLoaders(db, source),
    ...createOrganizationLoaders(db, source),
    ...createDashboardLoaders(db, source),
    ...createChallengeLoaders(db, source),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
