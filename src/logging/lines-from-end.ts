import { open, type FileHandle } from "node:fs/promises";

const NEWLINE = 0x0a;

export interface LinesFromEndOptions {
  /** Bytes read per step (default 64 KiB). */
  readonly chunkBytes?: number;
  /** Reads no further back than this many bytes from the end (default: the whole file). */
  readonly maxBytes?: number;
}

/**
 * The complete lines of a file, last first, read backwards in chunks, so
 * the newest lines of a large file cost only what they take. Lines are cut
 * at newline bytes, which never occur inside a UTF-8 character. A file that
 * does not exist has no lines. The size is taken once at the start: lines
 * appended meanwhile are not read. `file` is a path, or a handle the
 * caller opened (and closes).
 */
export async function* linesFromEnd(
  file: string | FileHandle,
  options: LinesFromEndOptions = {},
): AsyncGenerator<string> {
  const handle =
    typeof file === "string"
      ? await open(file, "r").catch((error: NodeJS.ErrnoException) => {
          if (error.code === "ENOENT") return null;
          throw error;
        })
      : file;
  if (!handle) return;

  try {
    const size = (await handle.stat()).size;
    const chunkBytes = options.chunkBytes ?? 64 * 1024;
    const floor = Math.max(0, size - (options.maxBytes ?? size));
    let position = size;
    // The start of a line whose beginning lies in a chunk not read yet.
    let carry = Buffer.alloc(0);

    while (position > floor) {
      const length = Math.min(chunkBytes, position - floor);
      position -= length;
      const chunk = Buffer.alloc(length);
      await handle.read(chunk, 0, length, position);
      const text = Buffer.concat([chunk, carry]);

      let end = text.length;
      for (let at = text.lastIndexOf(NEWLINE, end - 1); at >= 0;) {
        if (end - at > 1) yield text.subarray(at + 1, end).toString("utf8");
        end = at;
        at = at > 0 ? text.lastIndexOf(NEWLINE, at - 1) : -1;
      }
      carry = text.subarray(0, end);
    }
    // The first line of the file (a cut-off one when reading stopped early is dropped).
    if (floor === 0 && carry.length > 0) yield carry.toString("utf8");
  } finally {
    if (typeof file === "string") await handle.close();
  }
}
