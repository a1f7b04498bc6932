import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import { ChangedContentError } from "./storage-errors.js";

/**
 * Passes a download's bytes through, hashing them, and holds back the
 * last chunk until the hash is known: bytes that are not those of
 * `sha256` (a replacement of the same size renamed in between the record
 * was read and the file opened) fail the stream before the response is
 * whole, so the client never takes another file for the linked one.
 */
export function checkContent(sha256: string): Transform {
  const hash = createHash("sha256");
  let held: Buffer | null = null;

  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      if (held) this.push(held);
      held = chunk;
      done();
    },
    flush(done) {
      if (hash.digest("hex") !== sha256) {
        done(new ChangedContentError("the file changed while it was being sent"));
        return;
      }
      if (held) this.push(held);
      done();
    },
  });
}
