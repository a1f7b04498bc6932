import { isTenantId } from "../tenancy/tenant-id.js";
import { STORAGE_AREAS, type StorageArea } from "./storage-layout.js";
import { parseStorageSegments, type StoragePath } from "./storage-path.js";
import type { LinkClaims } from "./url-signer.js";

/** Where the storage routes are mounted. */
export const STORAGE_ROUTE = "/storage";

/**
 * The URL of a signed link:
 * `{base}/storage/{tenantId}/{area}/{path}?expires=…&size=…[&sha256=…][&nonce=…][&type=…]&signature=…`.
 * Each path segment is percent-encoded alone. Without a base the link is
 * relative to the gateway (`/storage/…`).
 */
export function linkUrl(claims: LinkClaims, signature: string, base = ""): string {
  const segments = claims.path.split("/").map(encodeURIComponent).join("/");
  const query = new URLSearchParams({ expires: String(claims.expires), size: String(claims.size) });
  if (claims.sha256) query.set("sha256", claims.sha256);
  if (claims.nonce) query.set("nonce", claims.nonce);
  if (claims.contentType) query.set("type", claims.contentType);
  query.set("signature", signature);

  return `${base}${STORAGE_ROUTE}/${claims.tenantId}/${claims.area}/${segments}?${query}`;
}

/** What a request to a link names, before its signature is checked. */
export interface RequestedLink {
  readonly tenantId: string;
  readonly area: StorageArea;
  readonly path: StoragePath;
  readonly expires: number;
  readonly size: number;
  /** The content a download link was made for; empty for uploads. */
  readonly sha256: string;
  /** What makes an upload link unlike any other; empty for downloads. */
  readonly nonce: string;
  readonly contentType: string;
  readonly signature: string;
}

/** Why a request is not a link at all. */
export type LinkProblem = "not-a-link" | "bad-encoding";

const WHOLE_NUMBER = /^(0|[1-9][0-9]{0,15})$/;

const SHA256 = /^[0-9a-f]{64}$/;

/** 16 random bytes in base64url. */
const NONCE = /^[A-Za-z0-9_-]{22}$/;

function wholeNumber(value: string | null): number | null {
  if (value === null || !WHOLE_NUMBER.test(value)) return null;
  const parsed = Number(value);

  return Number.isSafeInteger(parsed) ? parsed : null;
}

function isArea(value: string | undefined): value is StorageArea {
  return (STORAGE_AREAS as readonly string[]).includes(value ?? "");
}

/**
 * Reads a link from the raw (still encoded) path below the mount point and
 * the query string. Segments are decoded one by one, so `%2F` stays a
 * character of its segment, where the path rules refuse it; those rules
 * throw BAD_USER_INPUT. Anything else amiss is a {@link LinkProblem}.
 */
export function readLink(rawPath: string, search: URLSearchParams): RequestedLink | LinkProblem {
  const [empty, tenantId, area, ...encoded] = rawPath.split("/");
  if (empty !== "" || !tenantId || !isTenantId(tenantId) || !isArea(area)) return "not-a-link";

  let segments: string[];
  try {
    segments = encoded.map((segment) => decodeURIComponent(segment));
  } catch {
    return "bad-encoding";
  }
  const path = parseStorageSegments(segments);

  const expires = wholeNumber(search.get("expires"));
  const size = wholeNumber(search.get("size"));
  const sha256 = search.get("sha256") ?? "";
  const nonce = search.get("nonce") ?? "";
  const signature = search.get("signature");
  if (expires === null || size === null || !signature) return "not-a-link";
  if (sha256 !== "" && !SHA256.test(sha256)) return "not-a-link";
  if (nonce !== "" && !NONCE.test(nonce)) return "not-a-link";

  return {
    tenantId,
    area,
    path,
    expires,
    size,
    sha256,
    nonce,
    contentType: search.get("type") ?? "",
    signature,
  };
}
