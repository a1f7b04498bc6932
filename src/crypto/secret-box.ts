import { openWith, sealWith } from "./aead.js";
import { SecretTamperedError } from "./secret-tampered-error.js";

export { SecretTamperedError };

/**
 * Seals short secrets with the master key itself (AES-256-GCM). The
 * associated data binds a ciphertext to where it belongs (for example
 * `tenant:acme:databaseSecret`), so a value copied into another tenant's row
 * fails to open instead of decrypting.
 *
 * Sealed form: `v1.<iv>.<tag>.<ciphertext>`, each part base64url. This is the
 * format tenant connection strings had before envelope encryption (see
 * tenant-keyring.ts); new values are no longer sealed this way, and
 * `npm run keys:rotate` converts the old ones.
 */
export interface SecretBox {
  seal(plaintext: string, context: string): string;
  /** Throws {@link SecretTamperedError} when the value was altered or belongs elsewhere. */
  open(sealed: string, context: string): string;
}

/** The version prefix of master-sealed values. */
export const MASTER_SEALED_VERSION = "v1";

/** A box keyed by a 32-byte master key (`ENCRYPTION_KEY`). */
export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) {
    throw new TypeError(`A secret box needs a 32-byte key, got ${key.length} bytes.`);
  }

  return {
    seal: (plaintext, context) => sealWith(key, MASTER_SEALED_VERSION, context, plaintext),
    open: (sealed, context) =>
      openWith(key, MASTER_SEALED_VERSION, context, sealed).toString("utf8"),
  };
}
