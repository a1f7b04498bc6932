import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
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
