import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { badInput, GatewayError } from "../errors/index.js";
import {
  archiveError,
  describeLimit,
  MAX_ARCHIVE_BYTES,
  MAX_DOCUMENT_BYTES,
  MAX_ENTRIES,
  MAX_ROW_BYTES,
  TAR_ALLOWANCE,
} from "./tenant-archive.js";

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
 * Counts the inflated tar on its way to the extractor and fails it once it
 * passes {@link MAX_ARCHIVE_BYTES} and {@link TAR_ALLOWANCE}, or once it
 * holds more than TAR_ALLOWANCE beyond what the headers seen so far account
 * for (zeros before, between or after the files, say). Gunzip inflates only
 * as fast as this is read, so a gzip bomb stops here.
 */
function createInflationCap(shown: string) {
  const ceiling = MAX_ARCHIVE_BYTES + TAR_ALLOWANCE;
  let accounted = TAR_ALLOWANCE;
  let seen = 0;
  const refusal = () =>
    badInput(
      "file",
      seen > ceiling
        ? `The archive ${shown} inflates to more than ${describeLimit(MAX_ARCHIVE_BYTES)}, the limit for an archive.`
        : `The archive ${shown} inflates to more than ${describeLimit(TAR_ALLOWANCE)} beyond what its files account for; it is damaged or a gzip bomb.`,
    );

  return {
    stream: new Transform({
      transform(chunk: Buffer, _encoding, done) {
        seen += chunk.length;
        if (seen > Math.min(accounted, ceiling)) done(refusal());
        else done(null, chunk);
      },
    }),
    /** Counts a file's header and its padded body, as the extractor meets it. */
    account(size: number) {
      accounted += 512 + Math.ceil(size / 512) * 512;
    },
  };
}

/**
 * Streams the gzip'd tar at `path` and hands each entry to `visit`, in
 * archive order. An archive that is not gzip, not tar, truncated, or holds
 * anything but plain files is refused with BAD_USER_INPUT naming `shown`,
 * and so is one past the bounds of tenant-archive.ts: more than
 * {@link MAX_ENTRIES} files, a file larger than {@link MAX_ARCHIVE_BYTES},
 * or a gzip stream that inflates past what its files account for. Errors
 * the visitor raises (a database write, say) pass unchanged.
 */
export async function forEachEntry(
  path: string,
  shown: string,
  visit: (entry: ArchiveEntry) => Promise<void>,
): Promise<void> {
  const limit = describeLimit(MAX_ARCHIVE_BYTES);
  const cap = createInflationCap(shown);
  const extract = tar.extract();
  // Heard as each header is parsed, before the loop below takes the entry.
  extract.on("entry", (header) => cap.account(header.size ?? 0));
  // Settled at once, so a failure before the loop looks is never unhandled.
  const fed = pipeline(createReadStream(path), createGunzip(), cap.stream, extract).then(
    () => null,
    (error: unknown) => error,
  );
  const unreadable = (error: unknown) =>
    badInput(
      "file",
      `The archive ${shown} cannot be read as a gzip'd tar (${messageOf(error)}); it may be truncated or damaged.`,
    );
  let entries = 0;

  try {
    for await (const entry of guarded(extract)) {
      const { name, type, size = 0 } = entry.header;
      entries += 1;
      if (entries > MAX_ENTRIES) {
        throw badInput(
          "file",
          `The archive ${shown} holds more than ${MAX_ENTRIES} files, the most the format has.`,
        );
      }
      if (type !== "file") throw archiveError(name, "is not a plain file.");
      if (size > MAX_ARCHIVE_BYTES) {
        throw archiveError(name, `is ${size} bytes, past the limit of ${limit} for an archive.`);
      }
      await visit({ name, size, body: guarded(bytesOf(entry)) });
      for await (const _chunk of guarded(bytesOf(entry))) {
        // Drains whatever the visitor left unread.
      }
    }
  } catch (error) {
    extract.destroy();
    // The cap's refusal, when it struck, is what broke the entry's stream.
    const failed = await fed;
    if (failed instanceof GatewayError) throw failed;
    if (error instanceof GatewayError) throw error;
    if (error instanceof UnreadableArchive) throw unreadable(error.cause ?? error);
    throw error;
  }
  const failed = await fed;
  if (failed instanceof GatewayError) throw failed;
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

/** A batch is handed on at this many bytes of rows even when short of its count. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

/**
 * The lines of a JSON Lines body, in batches of up to `batchSize` (and
 * about {@link MAX_BATCH_BYTES}), feeding every byte to `hash`. Every line
 * must end with a newline, none may be empty, and none may be longer than
 * {@link MAX_ROW_BYTES}: a file cut short is refused even when its
 * checksums were cut to match, and a newline-free file as soon as it passes
 * the limit. Each byte is looked at and copied once, so the work is linear
 * in the body's size. Newlines cannot occur inside a UTF-8 character, so
 * bytes split safely.
 */
export async function* lineBatches(
  entry: ArchiveEntry,
  hash: { update(chunk: Buffer): void },
  batchSize: number,
): AsyncGenerator<string[]> {
  // The start of a line that earlier chunks began, copied out of them.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let batch: string[] = [];
  let batchBytes = 0;
  let line = 0;
  const tooLong = () =>
    archiveError(
      entry.name,
      `line ${line + 1} is longer than ${describeLimit(MAX_ROW_BYTES)}, the limit for one row.`,
    );

  for await (const chunk of entry.body) {
    hash.update(chunk);
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
      const length = pendingBytes + end - start;
      if (length > MAX_ROW_BYTES) throw tooLong();
      line += 1;
      if (length === 0) throw archiveError(entry.name, `has an empty line ${line}.`);
      const tail = chunk.subarray(start, end);
      const bytes = pendingBytes > 0 ? Buffer.concat([...pending, tail]) : tail;
      batch.push(bytes.toString("utf8"));
      batchBytes += length;
      pending = [];
      pendingBytes = 0;
      start = end + 1;
      if (batch.length >= batchSize || batchBytes >= MAX_BATCH_BYTES) {
        yield batch;
        batch = [];
        batchBytes = 0;
      }
    }
    if (start < chunk.length) {
      pendingBytes += chunk.length - start;
      if (pendingBytes > MAX_ROW_BYTES) throw tooLong();
      pending.push(Buffer.from(chunk.subarray(start)));
    }
  }
  if (pendingBytes > 0) {
    throw archiveError(entry.name, "does not end with a newline: it was cut short.");
  }
  if (batch.length > 0) yield batch;
}
