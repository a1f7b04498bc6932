import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { badInput, GatewayError } from "../errors/index.js";
import { archiveError, MAX_DOCUMENT_BYTES } from "./tenant-archive.js";

/** One file of an archive, read in order; its body must be read before the next. */
export interface ArchiveEntry {
  readonly name: string;
  /** The size its tar header states. */
  readonly size: number;
  readonly body: AsyncIterable<Buffer>;
}

/** A failure of the archive's bytes (gzip or tar), as opposed to the visitor's own. */
class UnreadableArchive extends Error {}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Marks errors raised while reading an entry's bytes as the archive's fault. */
async function* guarded<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    for await (const item of source) yield item;
  } catch (error) {
    throw new UnreadableArchive(messageOf(error), { cause: error });
  }
}

/** An entry's bytes: tar-stream yields Buffers, which streamx types as unknown. */
async function* bytesOf(source: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
  }
}

/**
 * Streams the gzip'd tar at `path` and hands each entry to `visit`, in
 * archive order. An archive that is not gzip, not tar, truncated, or holds
 * anything but plain files is refused with BAD_USER_INPUT naming `shown`;
 * errors the visitor raises (a database write, say) pass unchanged.
 */
export async function forEachEntry(
  path: string,
  shown: string,
  visit: (entry: ArchiveEntry) => Promise<void>,
): Promise<void> {
  const extract = tar.extract();
  // Settled at once, so a failure before the loop looks is never unhandled.
  const fed = pipeline(createReadStream(path), createGunzip(), extract).then(
    () => null,
    (error: unknown) => error,
  );
  const unreadable = (error: unknown) =>
    badInput(
      "file",
      `The archive ${shown} cannot be read as a gzip'd tar (${messageOf(error)}); it may be truncated or damaged.`,
    );

  try {
    for await (const entry of guarded(extract)) {
      const { name, type, size } = entry.header;
      if (type !== "file") throw archiveError(name, "is not a plain file.");
      await visit({ name, size: size ?? 0, body: guarded(bytesOf(entry)) });
      for await (const _chunk of guarded(bytesOf(entry))) {
        // Drains whatever the visitor left unread.
      }
    }
  } catch (error) {
    extract.destroy();
    await fed;
    if (error instanceof GatewayError) throw error;
    if (error instanceof UnreadableArchive) throw unreadable(error.cause ?? error);
    throw error;
  }
  const failed = await fed;
  if (failed) throw unreadable(failed);
}

/** Reads a small JSON document whole; refuses one past {@link MAX_DOCUMENT_BYTES}. */
export async function readDocument(entry: ArchiveEntry): Promise<Buffer> {
  if (entry.size > MAX_DOCUMENT_BYTES) {
    throw archiveError(entry.name, `is larger than ${MAX_DOCUMENT_BYTES} bytes.`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of entry.body) chunks.push(chunk);

  return Buffer.concat(chunks);
}

/** Size and SHA-256 of the bytes read so far. */
export function createFileHash() {
  const hash = createHash("sha256");
  let bytes = 0;

  return {
    update(chunk: Buffer) {
      hash.update(chunk);
      bytes += chunk.length;
    },
    digest: () => ({ bytes, sha256: hash.digest("hex") }),
  };
}

/**
 * The lines of a JSON Lines body, in batches of up to `batchSize`, feeding
 * every byte to `hash`. Every line must end with a newline and none may be
 * empty: a file cut short is refused even when its checksums were cut to
 * match. Newlines cannot occur inside a UTF-8 character, so bytes split safely.
 */
export async function* lineBatches(
  entry: ArchiveEntry,
  hash: { update(chunk: Buffer): void },
  batchSize: number,
): AsyncGenerator<string[]> {
  let pending: Buffer = Buffer.alloc(0);
  let batch: string[] = [];
  let line = 0;

  for await (const chunk of entry.body) {
    hash.update(chunk);
    let data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    for (let end = data.indexOf(0x0a); end !== -1; end = data.indexOf(0x0a)) {
      line += 1;
      if (end === 0) throw archiveError(entry.name, `has an empty line ${line}.`);
      batch.push(data.subarray(0, end).toString("utf8"));
      data = data.subarray(end + 1);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    pending = Buffer.from(data);
  }
  if (pending.length > 0) {
    throw archiveError(entry.name, "does not end with a newline: it was cut short.");
  }
  if (batch.length > 0) yield batch;
}
