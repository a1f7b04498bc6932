import type { PlatformServices, TenantScope } from "../../context/gateway-context.js";
import { badInput } from "../../errors/index.js";
import {
  MAX_PATH_BYTES,
  parseStoragePath,
  type FileRecord,
  type SignedLink,
  type StorageArea,
} from "../../storage/index.js";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Connection } from "../common/pagination.js";
import type { SignedUrlType, StorageUsageType, StoredFileType } from "./storage-types.js";

/** Cursors are opaque to clients: the base64url of the last file's path. */
function encodeCursor(path: string): string {
  return Buffer.from(`v1:${path}`).toString("base64url");
}

function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, "base64url").toString("utf8");
  const path = decoded.startsWith("v1:") ? decoded.slice(3) : "";
  try {
    if (encodeCursor(parseStoragePath(path).text) === cursor) return path;
  } catch {
    // Reported as a bad cursor below, not as a bad path.
  }
  throw badInput("after", "The cursor is not one this API issued. Start again without `after`.");
}

/** A folder or name start to list under: the path characters, `/` included. */
function parsePrefix(prefix: string | null | undefined): string | undefined {
  if (!prefix) return undefined;
  if (Buffer.byteLength(prefix) > MAX_PATH_BYTES || !/^[A-Za-z0-9 ._()+/-]+$/.test(prefix)) {
    throw badInput("prefix", "prefix may use the characters of a path only.");
  }

  return prefix;
}

function toStoredFile(file: FileRecord): StoredFileType {
  return {
    area: file.area,
    path: file.path,
    bytes: file.bytes,
    contentType: file.contentType,
    sha256: file.sha256,
    createdAt: file.createdAt.toISOString(),
    updatedAt: file.updatedAt.toISOString(),
  };
}

export function toSignedUrl(link: SignedLink): SignedUrlType {
  return { ...link, headers: { ...link.headers }, expiresAt: link.expiresAt.toISOString() };
}

/** One page of an area's files, in path order. */
export async function listFiles(
  platform: PlatformServices,
  scope: TenantScope,
  area: StorageArea,
  request: { first?: number | null; after?: string | null; prefix?: string | null },
): Promise<Connection<StoredFileType>> {
  const take = request.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(take) || take < 0 || take > MAX_PAGE_SIZE) {
    throw badInput("first", `first must be a whole number from 0 to ${MAX_PAGE_SIZE}.`);
  }
  const afterPath = request.after ? decodeCursor(request.after) : undefined;
  const prefix = parsePrefix(request.prefix);

  // One row more than asked tells whether another page follows.
  const rows = await platform.storage.listFiles(scope.tenant, area, {
    take: take + 1,
    afterPath,
    prefix,
  });
  const page = rows.slice(0, take).map(toStoredFile);
  const last = page.at(-1);

  return {
    edges: page.map((node) => ({ cursor: encodeCursor(node.path), node })),
    pageInfo: {
      hasNextPage: rows.length > take,
      endCursor: last ? encodeCursor(last.path) : null,
    },
  };
}

/** The tenant's usage per area and in all, against its quota. */
export async function storageUsage(
  platform: PlatformServices,
  scope: TenantScope,
): Promise<StorageUsageType> {
  const usage = await platform.storage.usage(scope.tenant);

  return {
    ...usage,
    freeBytes: Math.max(0, usage.quotaBytes - usage.bytes),
    areas: usage.areas.map((area) => ({ ...area })),
  };
}
