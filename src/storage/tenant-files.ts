import { randomUUID } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, open, type FileHandle } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { StoragePathConflictError, UnsafeStoragePathError } from "./storage-errors.js";
import type { StorageArea, StorageLayout } from "./storage-layout.js";
import type { StoragePath } from "./storage-path.js";

/** Where one tenant file lives on disk, and the directories above it. */
export interface FileLocation {
  /** `{root}/{bucket}/{tenantId}`: nothing of the tenant lies above it. */
  readonly tenantDirectory: string;
  /** `{tenantDirectory}/{area}`. */
  readonly areaDirectory: string;
  /** Directories between the area and the file, outermost first. */
  readonly folders: readonly string[];
  readonly file: string;
}

/** Uploads land here first, beside the areas so a rename into place stays on one disk. */
const INCOMING = ".incoming";

/**
 * The location of `path` in a tenant's area. The path was checked segment
 * by segment already; resolving it again and proving it lies under the area
 * is the second, independent check.
 */
export function locateFile(
  layout: StorageLayout,
  bucket: string,
  tenantId: string,
  area: StorageArea,
  path: StoragePath,
): FileLocation {
  const tenantDirectory = layout.tenantDirectory(bucket, tenantId);
  const areaDirectory = join(tenantDirectory, area);
  const file = resolve(areaDirectory, ...path.segments);
  const inside = relative(areaDirectory, file);
  if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
    throw new UnsafeStoragePathError(`${path.text} resolves outside ${areaDirectory}`);
  }
  if (inside !== path.segments.join(sep)) {
    throw new UnsafeStoragePathError(`${path.text} does not resolve to itself`);
  }
  const folders = path.segments
    .slice(0, -1)
    .map((_, n) => join(areaDirectory, ...path.segments.slice(0, n + 1)));

  return { tenantDirectory, areaDirectory, folders, file };
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** Refuses anything but a real directory; a symbolic link, even to one, is refused. */
async function requireDirectory(path: string): Promise<void> {
  const found = await lstat(path);
  if (found.isSymbolicLink()) throw new UnsafeStoragePathError(`${path} is a symbolic link`);
  if (!found.isDirectory()) throw new StoragePathConflictError(`${path} is not a folder`);
}

/**
 * What is at the file's place: nothing or a regular file. Every directory
 * on the way must be a real one, so a planted link cannot lead elsewhere.
 */
export async function inspectFile(location: FileLocation): Promise<"absent" | "file"> {
  try {
    for (const directory of [
      location.tenantDirectory,
      location.areaDirectory,
      ...location.folders,
    ]) {
      await requireDirectory(directory);
    }
    const found = await lstat(location.file);
    if (found.isSymbolicLink()) {
      throw new UnsafeStoragePathError(`${location.file} is a symbolic link`);
    }
    if (!found.isFile()) throw new StoragePathConflictError(`${location.file} is a folder`);

    return "file";
  } catch (error) {
    if (isMissing(error)) return "absent";
    throw error;
  }
}

/** Makes one directory unless it is there; refuses anything but a real directory. */
async function ensureDirectory(path: string, mode = 0o750): Promise<void> {
  try {
    await mkdir(path, { mode });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  await requireDirectory(path);
}

/**
 * Makes the tenant's directory (with its bucket) when missing, then each
 * level below it one at a time, refusing links on the way: a recursive
 * mkdir would follow a planted link and build beyond it.
 */
async function ensureTenantDirectory(tenantDirectory: string): Promise<void> {
  await mkdir(dirname(tenantDirectory), { recursive: true });
  await ensureDirectory(tenantDirectory);
}

/** Makes the folders a file goes in. */
export async function makeFolders(location: FileLocation): Promise<void> {
  await ensureTenantDirectory(location.tenantDirectory);
  await ensureDirectory(location.areaDirectory);
  for (const folder of location.folders) await ensureDirectory(folder);
}

/** The tenant's directory of files not (or no longer) in place. */
export function incomingDirectory(tenantDirectory: string): string {
  return join(tenantDirectory, INCOMING);
}

/** A new, unique file name in the tenant's incoming directory (made when missing). */
export async function incomingFile(tenantDirectory: string, suffix: string): Promise<string> {
  const incoming = incomingDirectory(tenantDirectory);
  await ensureTenantDirectory(tenantDirectory);
  await ensureDirectory(incoming, 0o700);

  return join(incoming, `${randomUUID()}.${suffix}`);
}

/**
 * Opens the file for reading without following a link at its last step;
 * null when it is not there. The caller closes the handle.
 */
export async function openForReading(location: FileLocation): Promise<FileHandle | null> {
  if ((await inspectFile(location)) === "absent") return null;
  try {
    return await open(location.file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if (isMissing(error)) return null;
    if ((error as NodeJS.ErrnoException).code === "ELOOP") {
      throw new UnsafeStoragePathError(`${location.file} is a symbolic link`);
    }
    throw error;
  }
}
