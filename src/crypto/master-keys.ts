import { createHmac } from "node:crypto";

/**
 * The master keys a process knows: the current one (`ENCRYPTION_KEY`),
 * which wraps every new data key, and previous ones
 * (`ENCRYPTION_KEY_PREVIOUS`), which only unwrap data keys not yet
 * rewrapped. Each is named by a fingerprint stored beside what it wrapped.
 */
export interface MasterKey {
  /** {@link masterKeyIdOf} the key. */
  readonly id: string;
  readonly key: Buffer;
}

export interface MasterKeys {
  readonly current: MasterKey;
  /** Every known key, the current one first, each once. */
  readonly all: readonly MasterKey[];
  /** The key with this fingerprint, if this process has it. */
  byId(id: string): MasterKey | undefined;
}

/** What the fingerprint is an HMAC of; changing it renames every master key. */
const FINGERPRINT_LABEL = "newfinity master key id";

/**
 * A short name for a master key: the first 16 hex digits of
 * HMAC-SHA256(key, label). A keyed MAC rather than a plain hash, so the
 * stored name helps no one test guesses of the key faster than the cipher
 * itself would.
 */
export function masterKeyIdOf(key: Buffer): string {
  return createHmac("sha256", key).update(FINGERPRINT_LABEL).digest("hex").slice(0, 16);
}

/** The master keys from the configuration; previous keys equal to the current one are dropped. */
export function createMasterKeys(current: Buffer, previous: readonly Buffer[] = []): MasterKeys {
  for (const key of [current, ...previous]) {
    if (key.length !== 32) {
      throw new TypeError(`A master key is 32 bytes, got ${key.length} bytes.`);
    }
  }
  const byId = new Map<string, MasterKey>();
  for (const key of [current, ...previous]) {
    const id = masterKeyIdOf(key);
    if (!byId.has(id)) byId.set(id, Object.freeze({ id, key: Buffer.from(key) }));
  }
  const all = Object.freeze([...byId.values()]);

  return Object.freeze({
    current: all[0] as MasterKey,
    all,
    byId: (id: string) => byId.get(id),
  });
}
