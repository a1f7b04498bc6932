import { TENANT_TABLES } from "../data/placement/tenant-tables.js";
import { LABEL_PATTERN } from "./request-checks.js";
import { badInput, type GatewayError } from "../errors/index.js";
import { Isolation, TenantStatus } from "../generated/prisma/enums.js";
import { isTenantId } from "../tenancy/index.js";

/**
 * The tenant archive: a gzip'd tar that carries one tenant from one gateway
 * or tier to another.
 *
 * - `manifest.json`: format, tenant id, when and at which migration it was
 *   taken, and for every other file its size and SHA-256; for every table
 *   also its row count and row checksum (the `digestTable` checksum, so the
 *   database that receives the rows can prove it holds the same content).
 * - `tenant.json`: the registry fields that travel (never where the tenant
 *   lived or its sealed secrets).
 * - `config.json`: the four config documents.
 * - `tables/<Table>.jsonl`: one `row_to_json` text per line, in primary-key
 *   byte order, tables in {@link TENANT_TABLES} order (parents first).
 *
 * The same data gives the same table files and the same manifest checksums;
 * only `exportedAt` tells two exports apart. Checksums detect damage, not
 * intent: the archive is not signed.
 */

/** What `manifest.json` names its format. */
export const ARCHIVE_FORMAT = "newfinity-tenant-archive";

/** Raised when the layout or the meaning of a file changes. */
export const ARCHIVE_FORMAT_VERSION = 1;

/** The names of the archive's documents; the manifest comes first. */
export const MANIFEST_FILE = "manifest.json";
export const TENANT_FILE = "tenant.json";
export const CONFIG_FILE = "config.json";

/** The file holding one table's rows. */
export const tableFile = (table: string) => `tables/${table}.jsonl`;

/** JSON documents larger than this are refused before they are parsed. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

/*
 * Bounds on what reading one archive may cost, checked as it is read and
 * before anything is written, so a small archive cannot make the gateway do
 * unbounded work. An export refuses to write past them rather than leave an
 * archive no gateway would import.
 */

/**
 * The longest line of a table file, newline excluded: 1 MiB. A row arrives
 * through requests, whose bodies are capped at 1 MB; real rows are a few kB.
 */
export const MAX_ROW_BYTES = 1024 * 1024;

/**
 * What an archive's files may hold together, uncompressed: 2 GiB. It is
 * also the largest one table file may be, and with {@link TAR_ALLOWANCE}
 * the most the gzip stream may inflate to. An import reads the archive
 * twice, checking every row (about 65 MB/s of short rows), and writes all
 * rows in one transaction: 2 GiB bounds that to about half a minute of
 * CPU a pass, whatever the archive's compressed size.
 */
export const MAX_ARCHIVE_BYTES = 2 * 1024 ** 3;

/**
 * How much of the inflated tar may belong to no file: end blocks, record
 * padding and the pax records other tar tools add take a few kB. Anything
 * past it (zeros before or after the files, say) is a gzip bomb or damage.
 */
export const TAR_ALLOWANCE = 1024 * 1024;

/** The most files an archive holds: the format's own, one per table plus three. */
export const MAX_ENTRIES = 3 + TENANT_TABLES.length;

/** `1 MiB`, `2 GiB`: how messages state a limit. */
export function describeLimit(bytes: number): string {
  const gib = 1024 ** 3;
  if (bytes >= gib && bytes % gib === 0) return `${bytes / gib} GiB`;
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;

  return `${bytes} bytes`;
}

/** A file of the archive as the manifest records it. */
export interface ArchiveFile {
  readonly file: string;
  readonly bytes: number;
  /** Lower-case hex SHA-256 of the file's bytes. */
  readonly sha256: string;
}

/** A table file, with the content checksum of its rows. */
export interface ArchiveTable extends ArchiveFile {
  readonly name: string;
  readonly rows: number;
  /** md5 over the md5 of each row text, in file order (see `createRowDigest`). */
  readonly checksum: string;
}

/** What `manifest.json` holds. */
export interface ArchiveManifest {
  readonly format: typeof ARCHIVE_FORMAT;
  readonly formatVersion: typeof ARCHIVE_FORMAT_VERSION;
  readonly tenantId: string;
  /** ISO 8601; the only field that differs between two exports of the same data. */
  readonly exportedAt: string;
  /** The latest migration applied where the rows were read: their columns. */
  readonly schemaVersion: string;
  /** The tier the tenant was exported from. */
  readonly isolation: Isolation;
  /** `tenant.json` and `config.json`. */
  readonly documents: readonly ArchiveFile[];
  readonly tables: readonly ArchiveTable[];
}

/** The registry fields of `tenant.json`. */
export interface ArchiveTenant {
  readonly id: string;
  readonly name: string;
  readonly region: string;
  readonly tier: string;
  readonly releaseChannel: string;
  readonly status: TenantStatus;
}

/** The config documents of `config.json`, as stored. */
export interface ArchiveConfig {
  readonly settings: Record<string, unknown>;
  readonly branding: Record<string, unknown>;
  readonly limits: Record<string, unknown>;
  readonly billing: Record<string, unknown>;
}

/** How every JSON document of the archive is written: stable and readable. */
export function documentBytes(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, "utf8");
}

/** A refusal of the archive, naming the file at fault. */
export function archiveError(file: string, problem: string): GatewayError {
  return badInput("file", `The archive is not usable: ${file} ${problem}`);
}

type Json = Record<string, unknown>;

const SHA256 = /^[0-9a-f]{64}$/;
const MD5 = /^[0-9a-f]{32}$/;

function parseJson(file: string, bytes: Buffer): Json {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw archiveError(file, "is not valid JSON.");
  }

  return object(file, "the document", value);
}

function object(file: string, what: string, value: unknown): Json {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw archiveError(file, `must hold a JSON object as ${what}.`);
  }

  return value as Json;
}

function text(file: string, doc: Json, key: string, test: (v: string) => boolean): string {
  const value = doc[key];
  if (typeof value !== "string" || !test(value)) {
    throw archiveError(file, `has a missing or malformed "${key}".`);
  }

  return value;
}

function count(file: string, doc: Json, key: string): number {
  const value = doc[key];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw archiveError(file, `has a missing or malformed "${key}".`);
  }

  return value;
}

function oneOf<T extends string>(values: readonly T[]) {
  return (v: string): boolean => (values as readonly string[]).includes(v);
}

function parseFile(file: string, value: unknown, expected: string): ArchiveFile {
  const doc = object(file, `the entry for ${expected}`, value);
  if (doc.file !== expected) throw archiveError(file, `should list ${expected} here.`);

  return {
    file: expected,
    bytes: count(file, doc, "bytes"),
    sha256: text(file, doc, "sha256", (v) => SHA256.test(v)),
  };
}

/**
 * Checks `manifest.json`: its format, its tenant, one entry for each
 * document and each table this gateway knows, in order, and that the files
 * it lists fit {@link MAX_ARCHIVE_BYTES}.
 */
export function parseManifest(bytes: Buffer): ArchiveManifest {
  const file = MANIFEST_FILE;
  const doc = parseJson(file, bytes);
  if (doc.format !== ARCHIVE_FORMAT) {
    throw archiveError(file, `does not name the format "${ARCHIVE_FORMAT}".`);
  }
  if (doc.formatVersion !== ARCHIVE_FORMAT_VERSION) {
    throw archiveError(
      file,
      `has format version ${JSON.stringify(doc.formatVersion)}; this gateway reads version ${ARCHIVE_FORMAT_VERSION}.`,
    );
  }

  const documents = Array.isArray(doc.documents) ? doc.documents : [];
  const tables = Array.isArray(doc.tables) ? doc.tables : [];
  const names = TENANT_TABLES.map((t) => t.name);
  const listed = tables.map((t: unknown) => (t as Json | null)?.name);
  if (documents.length !== 2 || JSON.stringify(listed) !== JSON.stringify(names)) {
    throw archiveError(
      file,
      `must list ${TENANT_FILE}, ${CONFIG_FILE} and the tables ${names.join(", ")}.`,
    );
  }

  const manifest: ArchiveManifest = {
    format: ARCHIVE_FORMAT,
    formatVersion: ARCHIVE_FORMAT_VERSION,
    tenantId: text(file, doc, "tenantId", isTenantId),
    exportedAt: text(file, doc, "exportedAt", (v) => !Number.isNaN(Date.parse(v))),
    schemaVersion: text(file, doc, "schemaVersion", (v) => v.length > 0 && v.length <= 255),
    isolation: text(file, doc, "isolation", oneOf(Object.values(Isolation))) as Isolation,
    documents: [
      parseFile(file, documents[0], TENANT_FILE),
      parseFile(file, documents[1], CONFIG_FILE),
    ],
    tables: names.map((name, n) => {
      const entry = object(file, `the entry for table ${name}`, tables[n]);
      return {
        name,
        ...parseFile(file, entry, tableFile(name)),
        rows: count(file, entry, "rows"),
        checksum: text(file, entry, "checksum", (v) => MD5.test(v)),
      };
    }),
  };
  const total = [...manifest.documents, ...manifest.tables].reduce((n, f) => n + f.bytes, 0);
  if (total > MAX_ARCHIVE_BYTES) {
    throw archiveError(
      file,
      `lists ${total} bytes of files, past the limit of ${describeLimit(MAX_ARCHIVE_BYTES)} for an archive.`,
    );
  }

  return manifest;
}

/** Checks `tenant.json`. */
export function parseTenant(bytes: Buffer): ArchiveTenant {
  const file = TENANT_FILE;
  const doc = parseJson(file, bytes);
  const label = (v: string) => LABEL_PATTERN.test(v);

  return {
    id: text(file, doc, "id", isTenantId),
    name: text(file, doc, "name", (v) => v.trim().length > 0 && v.length <= 120),
    region: text(file, doc, "region", label),
    tier: text(file, doc, "tier", label),
    releaseChannel: text(file, doc, "releaseChannel", label),
    status: text(file, doc, "status", oneOf(Object.values(TenantStatus))) as TenantStatus,
  };
}

/** Checks `config.json`: four JSON objects. */
export function parseConfig(bytes: Buffer): ArchiveConfig {
  const file = CONFIG_FILE;
  const doc = parseJson(file, bytes);
  const part = (key: string) => object(file, `"${key}"`, doc[key]);

  return {
    settings: part("settings"),
    branding: part("branding"),
    limits: part("limits"),
    billing: part("billing"),
  };
}
