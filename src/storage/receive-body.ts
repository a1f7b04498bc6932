import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { UploadSizeError } from "./storage-errors.js";

/** What arrived: its length and SHA-256 (hex). */
export interface ReceivedBody {
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Streams `body` into a new file at `target`, counting and hashing on the
 * way. Stops with {@link UploadSizeError} as soon as the body passes
 * `expected` bytes, and at the end when it has fewer. The caller removes
 * `target` on any failure.
 */
export async function receiveBody(
  body: Readable,
  target: string,
  expected: number,
): Promise<ReceivedBody> {
  const hash = createHash("sha256");
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > expected) {
        done(new UploadSizeError("larger", expected));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });

  // `wx`: a name that somehow exists already is an error, never overwritten.
  await pipeline(body, counter, createWriteStream(target, { flags: "wx", mode: 0o640 }));
  if (bytes < expected) throw new UploadSizeError("smaller", expected);

  return { bytes, sha256: hash.digest("hex") };
}
