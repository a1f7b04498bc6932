import { createCache, type CacheOptions } from "../cache/index.js";
import type { GatewayConfig } from "../config/index.js";
import { createMasterKeys, type MasterKeys } from "../crypto/index.js";
import { openDatabase, type DatabaseOptions } from "../data/index.js";
import { TenantLogStore, type Logger } from "../logging/index.js";
import { StorageLayout } from "../storage/index.js";
import type { LifecycleServices } from "./lifecycle-services.js";

/** The master keys the configuration names: `ENCRYPTION_KEY`, then `ENCRYPTION_KEY_PREVIOUS`. */
export function masterKeysFrom(config: GatewayConfig): MasterKeys {
  return createMasterKeys(config.encryptionKey, config.previousEncryptionKeys);
}

/** The database options the configuration names; `poolMax` and the like can be narrowed. */
export function databaseOptionsFrom(
  config: GatewayConfig,
  logger: Logger,
  overrides: Partial<DatabaseOptions> = {},
): DatabaseOptions {
  return {
    url: config.databaseUrl,
    dataDir: config.dataDir,
    poolMax: config.databasePoolMax,
    tenantUrl: config.tenantDatabaseUrl,
    requireTenantLogin: config.production,
    servers: config.databaseServers,
    masterKeys: masterKeysFrom(config),
    databaseConnections: config.tenantDatabaseConnections,
    writeWaitMs: config.tenantWriteWaitMs,
    logger,
    ...overrides,
  };
}

/** The cache options the configuration names, owned by the control plane `owner`. */
export function cacheOptionsFrom(
  config: GatewayConfig,
  owner: string,
  logger: Logger,
): CacheOptions {
  return {
    redisUrl: config.redisUrl,
    timeoutMs: config.cacheTimeoutMs,
    ttlSeconds: config.cacheTtlSeconds,
    owner,
    logger,
  };
}

/**
 * Lifecycle services over an open database and cache, with the configured
 * storage, region and tenant logs (the gateway passes its own `logs`, whose
 * writer an erasure must reach; tools get a store over the directory).
 */
export function lifecycleServicesFrom(
  config: GatewayConfig,
  parts: Pick<LifecycleServices, "database" | "cache" | "logger" | "migrationsDir" | "logs">,
): LifecycleServices {
  return {
    ...parts,
    storage: new StorageLayout(config.storageDir),
    region: config.region,
    exportDir: config.exportDir,
    logs: parts.logs ?? new TenantLogStore({ directory: config.tenantLogDir }),
  };
}

/**
 * The services lifecycle work needs, as the gateway builds them, without
 * HTTP: for command-line tools. Close the database and the cache when done.
 */
export async function openLifecycleServices(
  config: GatewayConfig,
  logger: Logger,
): Promise<LifecycleServices> {
  // A tool does one job at a time: two connections are plenty.
  const database = await openDatabase(databaseOptionsFrom(config, logger, { poolMax: 2 }));
  try {
    const cache = await createCache(cacheOptionsFrom(config, database.deploymentId, logger));

    return lifecycleServicesFrom(config, { database, cache, logger });
  } catch (error) {
    await database.close();
    throw error;
  }
}
