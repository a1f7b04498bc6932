import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { constants, deflateRawSync, gunzipSync } from "node:zlib";
import tar from "tar-stream";
import { createRowDigest } from "../../src/data/placement/table-copy.js";
import { writeArchive } from "../../src/lifecycle/archive-writer.js";
import type { ArchiveManifest } from "../../src/lifecycle/tenant-archive.js";

/** An archive's files by name, in archive order. */
export type ArchiveFiles = Map<string, Buffer>;

/** Reads every file of a .tar.gz into memory (test archives are small). */
export async function readArchiveFiles(path: string): Promise<ArchiveFiles> {
  const extract = tar.extract();
  const files: ArchiveFiles = new Map();
  const reading = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      files.set(entry.header.name, Buffer.concat(chunks));
    }
  })();
  extract.end(gunzipSync(await readFile(path)));
  await reading;

  return files;
}

/** Writes files as an archive, in the map's order. */
export async function writeArchiveFiles(path: string, files: ArchiveFiles): Promise<void> {
  const sources = [...files].map(([name, bytes]) => ({ name, bytes }));
  await writeArchive(path, sources, new Date(0));
}

export function manifestOf(files: ArchiveFiles): ArchiveManifest {
  return JSON.parse(files.get("manifest.json")?.toString("utf8") ?? "null") as ArchiveManifest;
}

/**
 * Rewrites the manifest so that it vouches for the files as they are now:
 * what a forger who knows the format would do.
 */
export function withVouchingManifest(files: ArchiveFiles): ArchiveFiles {
  const manifest = manifestOf(files);
  const facts = (file: string) => {
    const bytes = files.get(file) ?? Buffer.alloc(0);
    return { bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
  };
  const rowFacts = (name: string, file: string) => {
    const digest = createRowDigest(name);
    const text = files.get(file)?.toString("utf8") ?? "";
    for (const line of text.split("\n").filter((l) => l !== "")) digest.add(line);
    const { rows, checksum } = digest.digest();
    return { rows, checksum };
  };
  const fixed: ArchiveManifest = {
    ...manifest,
    documents: manifest.documents.map((d) => ({ ...d, ...facts(d.file) })),
    tables: manifest.tables.map((t) => ({ ...t, ...facts(t.file), ...rowFacts(t.name, t.file) })),
  };
  const copy = new Map(files);
  copy.set("manifest.json", Buffer.from(`${JSON.stringify(fixed, null, 2)}\n`));

  return copy;
}

/** Files as an uncompressed tar, its two zero end blocks included. */
export async function tarOf(files: ArchiveFiles): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const reading = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const [name, bytes] of files) pack.entry({ name, mtime: new Date(0) }, bytes);
  pack.finalize();
  await reading;

  return Buffer.concat(chunks);
}

/** The 512-byte ustar header of a plain file said to hold `size` bytes. */
export function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  const octal = (value: number, width: number) => `${value.toString(8).padStart(width - 1, "0")}\0`;
  header.write(name, 0);
  header.write(octal(0o600, 8), 100);
  header.write(octal(0, 8), 108);
  header.write(octal(0, 8), 116);
  header.write(octal(size, 12), 124);
  header.write(octal(0, 12), 136);
  header.write("0", 156);
  header.write("ustar\u000000", 257);
  // The checksum counts its own field as spaces.
  header.fill(" ", 148, 156);
  header.write(
    octal(
      header.reduce((sum, byte) => sum + byte, 0),
      7,
    ),
    148,
  );

  return header;
}

/**
 * A gzip bomb: `head`, then `zeroMiB` MiB of zeros, compressed about a
 * thousandfold without ever being held: one MiB of zeros is deflated and
 * flushed so that it stands alone, then repeated. The final block and the
 * gzip trailer are left out, so a reader that inflated everything would
 * fail on the missing end rather than on a limit.
 */
export function gzipBomb(head: Buffer, zeroMiB: number): Buffer {
  const flushed = (bytes: Buffer) =>
    deflateRawSync(bytes, { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  const zeros = flushed(Buffer.alloc(1024 * 1024));
  // Magic, deflate, no flags, no time, no extra flags, OS unknown.
  const gzipHeader = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

  return Buffer.concat([gzipHeader, flushed(head), ...Array<Buffer>(zeroMiB).fill(zeros)]);
}
