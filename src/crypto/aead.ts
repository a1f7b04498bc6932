import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { SecretTamperedError } from "./secret-tampered-error.js";

/**
 * AES-256-GCM over short values, written as `<version>.<iv>.<tag>.<body>`
 * with each part base64url. The associated data names where the value
 * belongs, so a value copied elsewhere fails authentication. Every format
 * in this folder (master-sealed `v1`, wrapped data keys, envelope values)
 * is this one with its own version prefix.
 */

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** Seals `plaintext` under `key`, bound to `aad`, marked with `version`. */
export function sealWith(
  key: Buffer,
  version: string,
  aad: string,
  plaintext: Buffer | string,
): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const input = typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : plaintext;
  const body = Buffer.concat([cipher.update(input), cipher.final()]);
  const parts = [iv, cipher.getAuthTag(), body].map((part) => part.toString("base64url"));

  return [version, ...parts].join(".");
}

/** The version prefix of a sealed value, or null when it has none. */
export function versionOf(sealed: string): string | null {
  const dot = sealed.indexOf(".");

  return dot > 0 ? sealed.slice(0, dot) : null;
}

/**
 * Opens a value {@link sealWith} made with the same key, version and
 * associated data. Throws {@link SecretTamperedError} for anything else,
 * including a part whose base64url is not exactly what sealing writes.
 */
export function openWith(key: Buffer, version: string, aad: string, sealed: string): Buffer {
  checkKey(key);
  const [prefix, iv, tag, body, ...extra] = sealed.split(".").map((part, i) => {
    return i === 0 ? part : decodeExact(part);
  });
  if (prefix !== version || extra.length > 0) {
    throw new SecretTamperedError(`The sealed value is not in the ${version} format.`);
  }
  if (!(iv instanceof Buffer) || !(tag instanceof Buffer) || !(body instanceof Buffer)) {
    throw new SecretTamperedError("The sealed value is malformed: a part is missing or altered.");
  }
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new SecretTamperedError("The sealed value is malformed: a part has the wrong length.");
  }

  try {
    const decipher = createDecipheriv("aes-256-gcm", key, iv);
    decipher.setAuthTag(tag);
    decipher.setAAD(Buffer.from(aad, "utf8"));

    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch (error) {
    throw new SecretTamperedError(
      "The sealed value failed authentication: it was altered, belongs elsewhere, or was sealed with another key.",
      { cause: error },
    );
  }
}

/**
 * base64url decoding that refuses anything sealing would not have written:
 * Node's decoder skips stray characters and ignores spare low bits, so a
 * changed character could otherwise decode to the same bytes.
 */
function decodeExact(part: string): Buffer | null {
  const bytes = Buffer.from(part, "base64url");

  return bytes.toString("base64url") === part ? bytes : null;
}

function checkKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) {
    throw new TypeError(`AES-256-GCM needs a 32-byte key, got ${key.length} bytes.`);
  }
}
