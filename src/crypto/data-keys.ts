import { randomBytes } from "node:crypto";
import { openWith, sealWith } from "./aead.js";
import { dataKeyContext } from "./contexts.js";
import type { MasterKeys } from "./master-keys.js";
import { SecretTamperedError } from "./secret-tampered-error.js";

/**
 * Tenant data keys: 32 random bytes each, stored only wrapped (sealed with
 * a master key, bound to the tenant), as `k1.<iv>.<tag>.<ciphertext>`.
 */

/** A data key as the TenantKey table holds it. */
export interface WrappedDataKey {
  readonly wrappedKey: string;
  /** Fingerprint of the master key that wrapped it. */
  readonly masterKeyId: string;
}

const WRAPPED_VERSION = "k1";
const DATA_KEY_BYTES = 32;

export function generateDataKey(): Buffer {
  return randomBytes(DATA_KEY_BYTES);
}

/** Wraps `dataKey` for `tenantId` with the current master key. */
export function wrapDataKey(
  masterKeys: MasterKeys,
  tenantId: string,
  dataKey: Buffer,
): WrappedDataKey {
  const { id, key } = masterKeys.current;

  return {
    wrappedKey: sealWith(key, WRAPPED_VERSION, dataKeyContext(tenantId), dataKey),
    masterKeyId: id,
  };
}

/**
 * Unwraps a tenant's data key with the master key its row names. Throws
 * {@link SecretTamperedError} when this process lacks that master key, and
 * when the row was altered or copied from another tenant.
 */
export function unwrapDataKey(
  masterKeys: MasterKeys,
  tenantId: string,
  stored: WrappedDataKey,
): Buffer {
  const master = masterKeys.byId(stored.masterKeyId);
  if (!master) {
    throw new SecretTamperedError(
      `The data key of tenant "${tenantId}" is wrapped by master key ${stored.masterKeyId}, which this process does not have; add that key to ENCRYPTION_KEY_PREVIOUS until npm run keys:rotate has rewrapped every tenant key.`,
    );
  }
  let dataKey: Buffer;
  try {
    dataKey = openWith(master.key, WRAPPED_VERSION, dataKeyContext(tenantId), stored.wrappedKey);
  } catch (error) {
    throw new SecretTamperedError(
      `The data key of tenant "${tenantId}" failed to unwrap: its row was altered or copied from another tenant.`,
      { cause: error },
    );
  }
  if (dataKey.length !== DATA_KEY_BYTES) {
    throw new SecretTamperedError(`The data key of tenant "${tenantId}" has the wrong length.`);
  }

  return dataKey;
}
