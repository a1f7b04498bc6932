import { createRowDigest } from "../data/placement/table-copy.js";
import { TENANT_TABLES } from "../data/placement/tenant-tables.js";
import {
  createFileHash,
  forEachEntry,
  lineBatches,
  readDocument,
  type ArchiveEntry,
} from "./archive-reader.js";
import {
  archiveError,
  CONFIG_FILE,
  MANIFEST_FILE,
  parseConfig,
  parseManifest,
  parseTenant,
  tableFile,
  TENANT_FILE,
  type ArchiveConfig,
  type ArchiveManifest,
  type ArchiveTenant,
} from "./tenant-archive.js";

/** An archive whose every file matched its manifest when it was read. */
export interface VerifiedArchive {
  readonly manifest: ArchiveManifest;
  readonly tenant: ArchiveTenant;
  readonly config: ArchiveConfig;
}

/** What one file turned out to hold. */
interface FileFacts {
  bytes: number;
  sha256: string;
  rows?: number;
  checksum?: string;
}

const ROWS_PER_BATCH = 1_000;

/**
 * Reads the whole archive once and checks it, writing nothing: the manifest
 * comes first; every file it lists is there, once, with its size and
 * SHA-256; every table file's rows are JSON objects of the manifest's tenant
 * with the row count and checksum the manifest states; nothing else is in
 * it. Any difference, or a bound of tenant-archive.ts passed, is
 * BAD_USER_INPUT naming the file at fault; a file whose size differs from
 * the manifest's is refused before it is read.
 */
export async function verifyArchive(path: string, shown: string): Promise<VerifiedArchive> {
  // Not narrowed to null: the visitor below assigns it.
  let manifest = null as ArchiveManifest | null;
  const documents = new Map<string, Buffer>();
  const facts = new Map<string, FileFacts>();
  let nextTable = 0;

  await forEachEntry(path, shown, async (entry) => {
    if (facts.has(entry.name)) throw archiveError(entry.name, "appears twice.");
    if (!manifest) {
      if (entry.name !== MANIFEST_FILE) {
        throw archiveError(MANIFEST_FILE, `must come first, but ${entry.name} does.`);
      }
      manifest = parseManifest(await readDocument(entry));
      facts.set(entry.name, { bytes: 0, sha256: "" });
      return;
    }
    // A size other than the manifest's is refused before a byte of the file is read.
    const listed = [...manifest.documents, ...manifest.tables].find((f) => f.file === entry.name);
    if (listed && entry.size !== listed.bytes) {
      throw archiveError(entry.name, `is ${entry.size} bytes; the manifest says ${listed.bytes}.`);
    }
    if (entry.name === TENANT_FILE || entry.name === CONFIG_FILE) {
      const bytes = await readDocument(entry);
      const hash = createFileHash();
      hash.update(bytes);
      documents.set(entry.name, bytes);
      facts.set(entry.name, hash.digest());
      return;
    }

    // Tables, parents first, so an import can write them as they come.
    const table = TENANT_TABLES[nextTable];
    if (!table || entry.name !== tableFile(table.name)) {
      const known = TENANT_TABLES.some((t) => tableFile(t.name) === entry.name);
      throw archiveError(
        entry.name,
        known ? "is out of order: tables come in manifest order." : "is not part of the format.",
      );
    }
    nextTable += 1;
    facts.set(entry.name, await readTable(entry, table.name, manifest.tenantId));
  });

  const checked = manifest;
  if (!checked) throw archiveError(MANIFEST_FILE, "is missing.");
  for (const expected of [...checked.documents, ...checked.tables]) {
    const found = facts.get(expected.file);
    if (!found) throw archiveError(expected.file, "is missing.");
    if (found.bytes !== expected.bytes || found.sha256 !== expected.sha256) {
      throw archiveError(expected.file, "does not match the size and SHA-256 in the manifest.");
    }
    if ("rows" in expected && found.rows !== expected.rows) {
      throw archiveError(
        expected.file,
        `holds ${found.rows} rows; the manifest says ${expected.rows}.`,
      );
    }
    if ("checksum" in expected && found.checksum !== expected.checksum) {
      throw archiveError(expected.file, "does not match the row checksum in the manifest.");
    }
  }

  const tenant = parseTenant(documents.get(TENANT_FILE) ?? Buffer.alloc(0));
  if (tenant.id !== checked.tenantId) {
    throw archiveError(
      TENANT_FILE,
      `names tenant "${tenant.id}", the manifest "${checked.tenantId}".`,
    );
  }

  return {
    manifest: checked,
    tenant,
    config: parseConfig(documents.get(CONFIG_FILE) ?? Buffer.alloc(0)),
  };
}

/** Hashes a table file and checks each of its rows. */
async function readTable(entry: ArchiveEntry, table: string, tenantId: string): Promise<FileFacts> {
  const hash = createFileHash();
  const digest = createRowDigest(table);
  let line = 0;

  for await (const batch of lineBatches(entry, hash, ROWS_PER_BATCH)) {
    for (const text of batch) {
      line += 1;
      if (!isRowOf(text, tenantId)) {
        throw archiveError(entry.name, `line ${line} is not a row of tenant "${tenantId}".`);
      }
      digest.add(text);
    }
  }
  const { rows, checksum } = digest.digest();

  return { ...hash.digest(), rows, checksum };
}

function isRowOf(text: string, tenantId: string): boolean {
  try {
    const row: unknown = JSON.parse(text);
    return (
      !!row && typeof row === "object" && (row as { tenantId?: unknown }).tenantId === tenantId
    );
  } catch {
    return false;
  }
}
