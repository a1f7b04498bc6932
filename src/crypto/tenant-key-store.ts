import type { PrismaClient } from "../generated/prisma/client.js";
import { GatewayError } from "../errors/index.js";
import type { WrappedDataKey } from "./data-keys.js";

/** A TenantKey row as the keyring and the rotation read it. */
export interface StoredTenantKey extends WrappedDataKey {
  readonly tenantId: string;
}

const KEY_COLUMNS = { tenantId: true, wrappedKey: true, masterKeyId: true } as const;

/**
 * The TenantKey table of the control plane. Every write is one statement,
 * so none needs a transaction of its own; none holds a lock past it.
 */
export class TenantKeyStore {
  readonly #control: PrismaClient;

  constructor(control: PrismaClient) {
    this.#control = control;
  }

  read(tenantId: string): Promise<StoredTenantKey | null> {
    return this.#control.tenantKey.findUnique({ where: { tenantId }, select: KEY_COLUMNS });
  }

  /**
   * The tenant's key, made with `make` when it has none. Processes racing to
   * make the first key all insert with ON CONFLICT DO NOTHING and then read
   * back, so every one of them uses the key that won.
   */
  async readOrCreate(tenantId: string, make: () => WrappedDataKey): Promise<StoredTenantKey> {
    const existing = await this.read(tenantId);
    if (existing) return existing;

    try {
      await this.#control.tenantKey.createMany({
        data: [{ tenantId, ...make() }],
        skipDuplicates: true,
      });
    } catch (error) {
      if ((error as { code?: unknown }).code === "P2003") {
        throw new GatewayError("TENANT_NOT_FOUND", `There is no tenant "${tenantId}".`);
      }
      throw error;
    }
    const stored = await this.read(tenantId);
    // Only a removal of the tenant between the two statements gets here.
    if (!stored) throw new GatewayError("TENANT_NOT_FOUND", `There is no tenant "${tenantId}".`);

    return stored;
  }

  /**
   * Replaces the tenant's wrapped key with `next` only while the row still
   * holds `expected` (compare-and-swap): a writer that changed it meanwhile
   * is never overwritten. Answers whether the swap happened.
   */
  async swap(tenantId: string, expected: string, next: WrappedDataKey): Promise<boolean> {
    const { count } = await this.#control.tenantKey.updateMany({
      where: { tenantId, wrappedKey: expected },
      data: { ...next, rotatedAt: new Date() },
    });

    return count === 1;
  }

  /** Up to `limit` keys not wrapped by `masterKeyId`, in tenant order after `after`. */
  listWrappedByOthers(
    masterKeyId: string,
    after: string | null,
    limit: number,
  ): Promise<StoredTenantKey[]> {
    return this.#control.tenantKey.findMany({
      where: {
        masterKeyId: { not: masterKeyId },
        ...(after === null ? {} : { tenantId: { gt: after } }),
      },
      select: KEY_COLUMNS,
      orderBy: { tenantId: "asc" },
      take: limit,
    });
  }

  countWrappedBy(masterKeyId: string): Promise<number> {
    return this.#control.tenantKey.count({ where: { masterKeyId } });
  }
}
