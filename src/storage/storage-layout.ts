import { mkdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Isolation } from "../generated/prisma/enums.js";
import { isTenantId } from "../tenancy/tenant-id.js";

/** The areas every tenant's prefix holds (see the contract's Storage section). */
export const STORAGE_AREAS = ["user-uploads", "ai-outputs", "challenge-data"] as const;
export type StorageArea = (typeof STORAGE_AREAS)[number];

/** The bucket SHARED and SCHEMA tenants share. */
export const DEFAULT_BUCKET = "default";

const BUCKET = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Where tenant files live on disk: `{root}/{bucket}/{tenantId}/{area}/`.
 * Buckets are directories under one root; DATABASE tenants get one of their
 * own, so their files can be handed over, backed up or erased alone.
 */
export class StorageLayout {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The bucket a new tenant gets. */
  bucketFor(tenantId: string, isolation: Isolation): string {
    return isolation === Isolation.DATABASE ? `tenant-${tenantId}` : DEFAULT_BUCKET;
  }

  /** The directory holding a tenant's areas. */
  tenantDirectory(bucket: string, tenantId: string): string {
    if (!BUCKET.test(bucket)) throw new Error(`refusing bucket name ${JSON.stringify(bucket)}`);
    if (!isTenantId(tenantId)) throw new Error(`refusing tenant id ${JSON.stringify(tenantId)}`);

    return join(this.root, bucket, tenantId);
  }

  /** Creates the tenant's prefix and its areas; nothing happens when they exist. */
  async ensureTenant(bucket: string, tenantId: string): Promise<void> {
    const base = this.tenantDirectory(bucket, tenantId);
    await Promise.all(STORAGE_AREAS.map((area) => mkdir(join(base, area), { recursive: true })));
  }

  /** Removes the tenant's prefix with every file in it. */
  async removeTenant(bucket: string, tenantId: string): Promise<void> {
    await rm(this.tenantDirectory(bucket, tenantId), { recursive: true, force: true });
  }
}
