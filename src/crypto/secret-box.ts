import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * Seals short secrets (connection strings, API keys) for storage in the
 * control plane with AES-256-GCM. The associated data binds a ciphertext to
 * where it belongs (for example `tenant:acme:databaseSecret`), so a value
 * copied into another tenant's row fails to open instead of decrypting.
 *
 * Sealed form: `v1.<iv>.<tag>.<ciphertext>`, each part base64url.
 */
export interface SecretBox {
  seal(plaintext: string, context: string): string;
  /** Throws {@link SecretTamperedError} when the value was altered or belongs elsewhere. */
  open(sealed: string, context: string): string;
}

export class SecretTamperedError extends Error {
  override name = "SecretTamperedError";
}

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A box keyed by a 32-byte master key (`ENCRYPTION_KEY`). */
export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) {
    throw new TypeError(`A secret box needs a 32-byte key, got ${key.length} bytes.`);
  }

  return {
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(context, "utf8"));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const parts = [iv, cipher.getAuthTag(), body].map((part) => part.toString("base64url"));

      return [VERSION, ...parts].join(".");
    },

    open(sealed, context) {
      const [version, iv, tag, body, extra] = sealed.split(".");
      if (version !== VERSION || !iv || !tag || body === undefined || extra !== undefined) {
        throw new SecretTamperedError("The sealed value is not in a known format.");
      }
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
        const authTag = Buffer.from(tag, "base64url");
        if (authTag.length !== TAG_BYTES) throw new Error("short authentication tag");
        decipher.setAuthTag(authTag);
        decipher.setAAD(Buffer.from(context, "utf8"));
        const plain = Buffer.concat([
          decipher.update(Buffer.from(body, "base64url")),
          decipher.final(),
        ]);

        return plain.toString("utf8");
      } catch (error) {
        throw new SecretTamperedError(
          "The sealed value failed authentication: it was altered, belongs elsewhere, or was sealed with another key.",
          { cause: error },
        );
      }
    },
  };
}
