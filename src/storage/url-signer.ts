import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import type { StorageArea } from "./storage-layout.js";

/** HKDF `info` of the signing key: a new version here voids every link out. */
const KEY_INFO = "newfinity storage url signing v1";

/** Distinguishes this key from others derived from the same master key. */
const KEY_SALT = "newfinity-storage";

/** What one signed link allows: one method on one file of one tenant, until `expires`. */
export interface LinkClaims {
  readonly method: "GET" | "PUT";
  readonly tenantId: string;
  /** The tenant's bucket when the link was made: a link does not follow a changed bucket. */
  readonly bucket: string;
  readonly area: StorageArea;
  readonly path: string;
  /** Bytes the upload must have, or the file had when its download link was made. */
  readonly size: number;
  /** The type an upload is stored with; empty for downloads. */
  readonly contentType: string;
  /** Unix time in seconds after which the link is refused. */
  readonly expires: number;
}

/** HMAC-SHA256 output in base64url: 43 characters. */
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Signs and checks storage links with a key of their own, derived from the
 * master key with HKDF: the master key itself never signs anything, and a
 * leaked link key opens no sealed secret.
 */
export class UrlSigner {
  readonly #key: Buffer;

  constructor(masterKey: Buffer) {
    this.#key = Buffer.from(hkdfSync("sha256", masterKey, KEY_SALT, KEY_INFO, 32));
  }

  /** The base64url signature over every claim. */
  sign(claims: LinkClaims): string {
    return createHmac("sha256", this.#key).update(canonical(claims)).digest("base64url");
  }

  /**
   * True when `signature` was made by {@link sign} for exactly these claims.
   * Compared in constant time; expiry is the caller's check.
   */
  verify(claims: LinkClaims, signature: string): boolean {
    if (!SIGNATURE.test(signature)) return false;
    // Compared as text: base64url leaves spare bits in the last character,
    // so four spellings decode to the same bytes; only ours is accepted.
    const expected = Buffer.from(this.sign(claims));
    const given = Buffer.from(signature);

    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/**
 * One unambiguous string per set of claims: a JSON array, so no value can
 * borrow a separator from its neighbour (`a/b` + `c` against `a` + `b/c`).
 */
function canonical(claims: LinkClaims): string {
  return JSON.stringify([
    "v1",
    claims.method,
    claims.tenantId,
    claims.bucket,
    claims.area,
    claims.path,
    claims.size,
    claims.contentType,
    claims.expires,
  ]);
}
