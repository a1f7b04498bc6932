import { realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { badInput } from "../errors/index.js";

/** Whether `path` lies below `root` (both absolute and normalised). */
function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);

  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * The real path of an archive named by a client, which must be a file
 * inside `exportDir`: a name relative to it (as `exportTenant` returns) or
 * an absolute path below it. Names with a `..` segment or a NUL, paths
 * elsewhere, and symbolic links that lead out of the directory are all
 * refused with BAD_USER_INPUT; the message repeats only the name given.
 */
export async function resolveArchivePath(exportDir: string, name: string): Promise<string> {
  const shown = JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
  const refuse = (why: string) => badInput("file", `The archive ${shown} ${why}`);

  if (name.trim() === "") throw refuse("is empty: name a file of the export directory.");
  if (name.includes("\0")) throw refuse("contains a NUL character.");
  if (name.split(/[\\/]/).includes("..")) throw refuse("must not contain '..'.");

  // Lexically first, so a path elsewhere is refused without touching it.
  const base = resolve(exportDir);
  const root = await realpath(base).catch(() => null);
  if (!root) throw refuse("cannot be read: the export directory does not exist yet.");
  const lexical = resolve(base, name);
  if (!isInside(base, lexical) && !isInside(root, lexical)) {
    throw refuse("is outside the export directory.");
  }

  // Then for real: a symbolic link inside may point anywhere.
  const real = await realpath(lexical).catch(() => null);
  if (!real) throw refuse("was not found in the export directory.");
  if (!isInside(root, real)) throw refuse("leads outside the export directory.");
  if (!(await stat(real)).isFile()) throw refuse("is not a file.");

  return real;
}
