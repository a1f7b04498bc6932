import type { GatewayCache } from "../cache/index.js";
import type { Database } from "../data/index.js";
import type { Logger, TenantLogStore } from "../logging/index.js";
import type { StorageLayout } from "../storage/index.js";

/** What provisioning, moves, upgrades, exports and removals work with. */
export interface LifecycleServices {
  readonly database: Database;
  readonly cache: GatewayCache;
  readonly storage: StorageLayout;
  /** Region of the control database; the default for new tenants. */
  readonly region: string;
  /** Where tenant export archives are written and read. */
  readonly exportDir: string;
  /** Migrations to apply to new locations (default: the repository's). */
  readonly migrationsDir?: string;
  readonly logger: Logger;
  /**
   * Each tenant's log file; removing a tenant erases it. Always set by
   * `lifecycleServicesFrom`; absent only where a test builds services by hand.
   */
  readonly logs?: TenantLogStore;
}
