import { LRUCache } from "lru-cache";
import type { PrismaClient } from "../generated/prisma/client.js";
import { openWith, sealWith, versionOf } from "./aead.js";
import { fieldContext } from "./contexts.js";
import { generateDataKey, unwrapDataKey, wrapDataKey } from "./data-keys.js";
import { isLegacySealed, LEGACY_SEALED_FIELDS, openLegacySealed } from "./legacy-secrets.js";
import type { MasterKeys } from "./master-keys.js";
import { SecretTamperedError } from "./secret-tampered-error.js";
import { TenantKeyStore, type StoredTenantKey } from "./tenant-key-store.js";

/**
 * Envelope encryption of tenant metadata. Each tenant has a data key of
 * its own (32 random bytes), stored in the TenantKey table wrapped by the
 * master key; values are sealed with the data key (AES-256-GCM) as
 * `e1.<iv>.<tag>.<ciphertext>`, bound to `tenant:<id>:<field>`.
 *
 * Call it outside control-plane transactions: it reads the TenantKey table
 * on its own connection, which on the embedded PGlite (one connection)
 * would wait for the open transaction forever.
 */
export interface TenantKeyring {
  /** Seals `plaintext` with the tenant's data key, bound to `field`; makes the key on first use. */
  seal(tenantId: string, field: string, plaintext: string): Promise<string>;
  /** Opens a value `seal` made; SecretTamperedError when altered, moved to another tenant or field, or unreadable. */
  open(tenantId: string, field: string, sealed: string): Promise<string>;
  /** Drops what this process remembers of the tenant's key (after deprovisioning). */
  forget(tenantId: string): void;
}

export interface TenantKeyringOptions {
  /** The control-plane client, home of the TenantKey table. */
  control: PrismaClient;
  masterKeys: MasterKeys;
  /** Unwrapped data keys kept in memory, least recently used dropped first (default 10,000). */
  cacheSize?: number;
}

/** The version prefix of envelope-sealed values. */
export const ENVELOPE_VERSION = "e1";

interface CachedKey {
  /** The row the key was unwrapped from: a changed row means look again. */
  readonly wrappedKey: string;
  readonly key: Buffer;
}

/**
 * A keyring over the control plane's TenantKey table.
 *
 * `open` is served from an in-process LRU of unwrapped keys, so a request
 * reads a tenant's key row at most once however many values it opens
 * (concurrent first reads share one query). `seal` reads the row every time
 * (one primary-key lookup, and no unwrap while it is unchanged): a tenant
 * removed and provisioned again by another process has a new key, and a
 * value sealed with the old one would be lost. For the same reason an
 * `open` that fails with a remembered key reads the row again before it
 * gives up.
 *
 * Master-sealed `v1` values of {@link LEGACY_SEALED_FIELDS} still open, with
 * whichever known master key sealed them, until the rotation converts them.
 */
export function createTenantKeyring(options: TenantKeyringOptions): TenantKeyring {
  const { masterKeys } = options;
  const store = new TenantKeyStore(options.control);
  const cache = new LRUCache<string, CachedKey>({ max: options.cacheSize ?? 10_000 });
  const loads = new Map<string, Promise<Buffer>>();

  /** The unwrapped key of `stored`, unwrapping only when the row changed. */
  const keyOf = (tenantId: string, stored: StoredTenantKey): Buffer => {
    const cached = cache.get(tenantId);
    if (cached?.wrappedKey === stored.wrappedKey) return cached.key;

    const key = unwrapDataKey(masterKeys, tenantId, stored);
    cache.set(tenantId, { wrappedKey: stored.wrappedKey, key });

    return key;
  };

  const load = (tenantId: string): Promise<Buffer> => {
    const running = loads.get(tenantId);
    if (running) return running;

    const loading = store
      .read(tenantId)
      .then((stored) => {
        if (!stored) {
          throw new SecretTamperedError(
            `Tenant "${tenantId}" has no data key, so nothing sealed for it can be opened.`,
          );
        }
        return keyOf(tenantId, stored);
      })
      .finally(() => {
        if (loads.get(tenantId) === loading) loads.delete(tenantId);
      });
    loads.set(tenantId, loading);

    return loading;
  };

  const openWithKey = (key: Buffer, tenantId: string, field: string, sealed: string) => {
    try {
      return openWith(key, ENVELOPE_VERSION, fieldContext(tenantId, field), sealed).toString(
        "utf8",
      );
    } catch (error) {
      if (!(error instanceof SecretTamperedError)) throw error;
      throw new SecretTamperedError(
        `The sealed ${field} of tenant "${tenantId}" failed to open. ${error.message}`,
        { cause: error },
      );
    }
  };

  return {
    async seal(tenantId, field, plaintext) {
      const context = fieldContext(tenantId, field);
      const stored = await store.readOrCreate(tenantId, () =>
        wrapDataKey(masterKeys, tenantId, generateDataKey()),
      );

      return sealWith(keyOf(tenantId, stored), ENVELOPE_VERSION, context, plaintext);
    },

    async open(tenantId, field, sealed) {
      fieldContext(tenantId, field);
      if (isLegacySealed(sealed) && LEGACY_SEALED_FIELDS.has(field)) {
        return openLegacySealed(masterKeys, tenantId, field, sealed);
      }
      if (versionOf(sealed) !== ENVELOPE_VERSION) {
        throw new SecretTamperedError(
          `The sealed ${field} of tenant "${tenantId}" is not in a known format (expected ${ENVELOPE_VERSION}.…).`,
        );
      }

      const cached = cache.get(tenantId);
      if (cached) {
        try {
          return openWithKey(cached.key, tenantId, field, sealed);
        } catch (error) {
          // A remembered key may be stale (the tenant was made again elsewhere).
          const stored = await store.read(tenantId);
          if (!stored || stored.wrappedKey === cached.wrappedKey) throw error;
          cache.delete(tenantId);
        }
      }

      return openWithKey(await load(tenantId), tenantId, field, sealed);
    },

    forget(tenantId) {
      cache.delete(tenantId);
      loads.delete(tenantId);
    },
  };
}
