import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import tar from "tar-stream";
import { createFileHash } from "./archive-reader.js";

/** One file to put in an archive: bytes in memory, or a file on disk of known size. */
export type ArchiveSource =
  | { readonly name: string; readonly bytes: Buffer }
  | { readonly name: string; readonly path: string; readonly size: number };

/** Size and SHA-256 of a written archive. */
export interface WrittenArchive {
  readonly bytes: number;
  readonly sha256: string;
}

/** Archives hold a tenant's data: only the gateway's user may read them. */
const ARCHIVE_MODE = 0o600;

/**
 * Writes `sources` in order as a gzip'd tar at `target`, mode 0600. Every
 * header gets `mtime`, mode 0600 and no owner, so only content tells two
 * archives apart. The archive appears under its name only once complete:
 * it is written beside it first, already 0600, and renamed.
 */
export async function writeArchive(
  target: string,
  sources: readonly ArchiveSource[],
  mtime: Date,
): Promise<WrittenArchive> {
  const partial = `${target}.partial-${randomBytes(4).toString("hex")}`;
  const hash = createFileHash();
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const pack = tar.pack();

  try {
    const writing = pipeline(
      pack,
      createGzip(),
      tap,
      createWriteStream(partial, { flags: "wx", mode: ARCHIVE_MODE }),
    );
    const adding = (async () => {
      for (const source of sources) await addEntry(pack, source, mtime);
      pack.finalize();
    })();
    await Promise.all([writing, adding]);
    await rename(partial, target);
  } catch (error) {
    pack.destroy();
    await rm(partial, { force: true });
    throw error;
  }

  return hash.digest();
}

function addEntry(pack: tar.Pack, source: ArchiveSource, mtime: Date): Promise<void> {
  const header = { name: source.name, mode: ARCHIVE_MODE, mtime, uid: 0, gid: 0 };

  return new Promise((resolve, reject) => {
    const done = (error?: Error | null) => (error ? reject(error) : resolve());
    if ("bytes" in source) {
      pack.entry({ ...header, size: source.bytes.length }, source.bytes, done);
      return;
    }
    const sink = pack.entry({ ...header, size: source.size }, done);
    createReadStream(source.path)
      .on("error", (error) => {
        sink.destroy(error);
        reject(error);
      })
      .pipe(sink as unknown as NodeJS.WritableStream);
  });
}
