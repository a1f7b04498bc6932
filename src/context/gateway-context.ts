import type { CacheOwnership, GatewayCache, TenantCache } from "../cache/index.js";
import type { TenantKeyring } from "../crypto/index.js";
import type { Database, TenantClient } from "../data/index.js";
import { GatewayError } from "../errors/index.js";
import type { InvalidationBus } from "../events/invalidation-bus.js";
import type { FeatureDirectory } from "../features/feature-directory.js";
import type { JobService } from "../jobs/index.js";
import type { LifecycleServices } from "../lifecycle/lifecycle-services.js";
import type { Logger, TenantLogStore } from "../logging/index.js";
import type { StorageService } from "../storage/index.js";
import type { Telemetry } from "../telemetry/index.js";
import type { Access } from "../rbac/access.js";
import type { TenantRecord, TenantRegistry } from "../tenancy/tenant-registry.js";
import type { Loaders } from "./loaders.js";

/** Everything a request does inside its tenant goes through this. */
export interface TenantScope {
  readonly tenant: TenantRecord;
  /** Data handle bound to the tenant: every statement is the tenant's. */
  readonly db: TenantClient;
  /** The tenant's view of the cache (keys `ogc:{tenantId}:…`). */
  readonly cache: TenantCache;
  /** DataLoaders made for this request and this tenant only. */
  readonly loaders: Loaders;
}

/** Process-wide services that platform operations (global admin) use. */
export interface PlatformServices {
  readonly database: Database;
  readonly cache: GatewayCache;
  readonly registry: TenantRegistry;
  readonly lifecycle: LifecycleServices;
  /** Hands out a tenant's cache view only where this deployment holds its entries. */
  readonly cacheOwnership: CacheOwnership;
  /** Tenant files: signed URLs, usage and quotas. */
  readonly storage: StorageService;
  /** Seals and opens tenant metadata with each tenant's data key (envelope encryption). */
  readonly keyring: TenantKeyring;
  /** Feature flags and per-tenant overrides. */
  readonly features: FeatureDirectory;
  /** Tells every gateway process to forget a changed tenant or flag. */
  readonly events: InvalidationBus;
  /** Background jobs: provisioning, moves, exports and migrations on a queue. */
  readonly jobs: JobService;
  /** Each tenant's own log file: read, handed over and erased by staff. */
  readonly logs: TenantLogStore;
  /** Counted usage, error clusters and health probes; the admin views read what it wrote. */
  readonly telemetry: Telemetry;
}

/** The per-request context Apollo Server hands every resolver and rule. */
export interface GatewayContext {
  readonly requestId: string;
  /**
   * The address the request came from (Express's `req.ip`: the peer, or
   * what `X-Forwarded-For` says where the app trusts a proxy); null when
   * unknown. Anonymous callers' rate limits are counted by it.
   */
  readonly clientAddress: string | null;
  /** Logger bound to the request id and tenant id. */
  readonly logger: Logger;
  /** Verified token subject, or null for an anonymous request. */
  readonly principal: import("../auth/index.js").Principal | null;
  /** Roles and permissions of the principal inside the tenant. */
  readonly access: Access;
  /** The request's tenant, or null when none was named (platform calls). */
  readonly scope: TenantScope | null;
  readonly platform: PlatformServices;
}

/** The request's tenant scope; TENANT_REQUIRED when the request named none. */
export function requireScope(ctx: GatewayContext): TenantScope {
  if (!ctx.scope) {
    throw new GatewayError(
      "TENANT_REQUIRED",
      "Name a tenant with the X-Tenant-ID header, a tenant subdomain, or a tenant token.",
    );
  }

  return ctx.scope;
}
