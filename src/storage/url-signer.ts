import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import type { StorageArea } from "./storage-layout.js";

/**
 * HKDF `info` of the signing key, followed by the deployment's id: a new
 * version here voids every link out.
 */
const KEY_INFO = "newfinity storage url signing v2";

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
  /**
   * SHA-256 (hex) of the file a download link was made for: a file
   * replaced since, even by one of the same size, is not the linked one.
   * Empty for uploads.
   */
  readonly sha256: string;
  /**
   * Random for each upload link, so no two are alike: each is used once,
   * and two asked for in the same second must both work. Empty for
   * downloads.
   */
  readonly nonce: string;
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
 * leaked link key opens no sealed secret. The key also depends on the
 * deployment (the control plane's id), so two deployments that share an
 * `ENCRYPTION_KEY` still refuse each other's links, even for a tenant of
 * the same id.
 */
export class UrlSigner {
  readonly #key: Buffer;

  constructor(masterKey: Buffer, deploymentId: string) {
    if (deploymentId === "") throw new Error("storage links need the deployment's id");
    const info = `${KEY_INFO} ${deploymentId}`;
    this.#key = Buffer.from(hkdfSync("sha256", masterKey, KEY_SALT, info, 32));
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
    "v2",
    claims.method,
    claims.tenantId,
    claims.bucket,
    claims.area,
    claims.path,
    claims.size,
    claims.sha256,
    claims.nonce,
    claims.contentType,
    claims.expires,
  ]);
}
