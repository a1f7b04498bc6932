import type { TenantKeyring } from "../crypto/index.js";
import type { Prisma } from "../generated/prisma/client.js";
import type { PrismaClient as ControlClient } from "../generated/prisma/client.js";
import type {
  SealedConfigParts,
  TenantBillingDetails,
  TenantConfigDocuments,
  TenantSecrets,
} from "./document-schemas.js";
import { configColumns, readConfig } from "./stored-config.js";

/** What the store needs of the keyring: sealing and opening with a tenant's data key. */
export type ConfigSealer = Pick<TenantKeyring, "seal" | "open">;

/** The field the sealed parts are bound to: a value moved elsewhere fails to open. */
const SEALED_FIELD = "config.sealed";

/** How often a write whose base version moved is tried again before giving up. */
const WRITE_ATTEMPTS = 10;

/**
 * The last write queued per tenant in this process. Writes of one tenant
 * run one after another here, so only writes from other processes can
 * make the optimistic check fail, and retries stay rare.
 */
const writesInFlight = new Map<string, Promise<unknown>>();

function oneAtATime<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
  const previous = writesInFlight.get(tenantId) ?? Promise.resolve();
  const next = previous.then(work, work);
  const settled = next.catch(() => undefined);
  writesInFlight.set(tenantId, settled);
  void settled.then(() => {
    if (writesInFlight.get(tenantId) === settled) writesInFlight.delete(tenantId);
  });

  return next;
}

/** A short random pause, so two processes that collided do not collide again. */
function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * 10 * attempt;

  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface ConfigStoreDependencies {
  readonly control: ControlClient;
  readonly sealer: ConfigSealer;
}

/** The configuration as stored: clear documents, sealed parts, version. */
export interface StoredConfig {
  readonly documents: TenantConfigDocuments;
  readonly sealed: string | null;
  readonly version: number;
  readonly updatedAt: Date;
  readonly updatedBy: string;
}

/** A new configuration computed from the stored one; null: nothing to change. */
export type ConfigEdit = (current: {
  documents: TenantConfigDocuments;
  parts: SealedConfigParts;
}) => { documents: TenantConfigDocuments; parts: SealedConfigParts };

export interface ConfigWrite {
  readonly actorId: string;
  /** What the history says happened: `update` or `restore`. */
  readonly action: "update" | "restore";
  readonly restoredFrom?: number;
  /** A new tenant name, written in the same transaction as the documents. */
  readonly name?: string;
}

export class ConfigConflictError extends Error {
  override name = "ConfigConflictError";
}

const NO_PARTS: SealedConfigParts = { secrets: {}, billingDetails: null };

/** Reads the tenant's stored configuration; null when the tenant has none. */
export async function readStoredConfig(
  control: ControlClient,
  tenantId: string,
): Promise<StoredConfig | null> {
  const row = await control.tenantConfig.findUnique({ where: { tenantId } });
  if (!row) return null;

  return {
    documents: readConfig(row),
    sealed: row.sealed,
    version: row.version,
    updatedAt: row.updatedAt,
    updatedBy: row.updatedBy,
  };
}

/** Opens sealed parts; a missing value is no secrets and no billing details. */
export async function openParts(
  sealer: ConfigSealer,
  tenantId: string,
  sealed: string | null,
): Promise<SealedConfigParts> {
  if (!sealed) return NO_PARTS;
  const parts = JSON.parse(await sealer.open(tenantId, SEALED_FIELD, sealed)) as {
    secrets?: TenantSecrets;
    billingDetails?: TenantBillingDetails | null;
  };

  return { secrets: parts.secrets ?? {}, billingDetails: parts.billingDetails ?? null };
}

async function sealParts(
  sealer: ConfigSealer,
  tenantId: string,
  parts: SealedConfigParts,
): Promise<string | null> {
  const empty = Object.keys(parts.secrets).length === 0 && parts.billingDetails === null;

  return empty ? null : sealer.seal(tenantId, SEALED_FIELD, JSON.stringify(parts));
}

/**
 * Applies `edit` to the tenant's configuration and records the result as a
 * new version, with who made it. The write is optimistic: it commits only
 * if nobody changed the configuration since it was read, and is computed
 * again from the newer one otherwise. Sealing happens outside the
 * transaction, which therefore does nothing but two short writes.
 * Returns the new version number.
 */
export function writeConfig(
  deps: ConfigStoreDependencies,
  tenantId: string,
  edit: ConfigEdit,
  write: ConfigWrite,
): Promise<number> {
  return oneAtATime(tenantId, () => writeOptimistically(deps, tenantId, edit, write));
}

async function writeOptimistically(
  deps: ConfigStoreDependencies,
  tenantId: string,
  edit: ConfigEdit,
  write: ConfigWrite,
): Promise<number> {
  for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt += 1) {
    if (attempt > 1) await backoff(attempt);
    const current = await readStoredConfig(deps.control, tenantId);
    if (!current) throw new Error(`tenant ${tenantId} has no configuration row`);

    const parts = await openParts(deps.sealer, tenantId, current.sealed);
    const next = edit({ documents: current.documents, parts });
    const sealed = await sealParts(deps.sealer, tenantId, next.parts);
    const columns = configColumns(next.documents);
    const version = current.version + 1;

    const committed = await deps.control.$transaction(async (tx) => {
      const moved = await tx.tenantConfig.updateMany({
        where: { tenantId, version: current.version },
        data: { ...columns, sealed, version, updatedBy: write.actorId },
      });
      if (moved.count !== 1) return false;
      if (write.name !== undefined) {
        await tx.tenant.update({ where: { id: tenantId }, data: { name: write.name } });
      }
      await tx.tenantConfigVersion.create({
        data: {
          tenantId,
          version,
          ...columns,
          sealed,
          actorId: write.actorId,
          action: write.action,
          restoredFrom: write.restoredFrom ?? null,
        },
      });
      return true;
    });
    if (committed) return version;
  }

  throw new ConfigConflictError(
    `The configuration of ${tenantId} kept changing while it was being saved.`,
  );
}

/** One entry of a tenant's configuration history. */
export interface ConfigVersion {
  readonly version: number;
  readonly documents: TenantConfigDocuments;
  readonly sealed: string | null;
  readonly actorId: string;
  readonly action: string;
  readonly restoredFrom: number | null;
  readonly createdAt: Date;
}

function toVersion(row: {
  version: number;
  settings: Prisma.JsonValue;
  branding: Prisma.JsonValue;
  limits: Prisma.JsonValue;
  billing: Prisma.JsonValue;
  sealed: string | null;
  actorId: string;
  action: string;
  restoredFrom: number | null;
  createdAt: Date;
}): ConfigVersion {
  return {
    version: row.version,
    documents: readConfig(row),
    sealed: row.sealed,
    actorId: row.actorId,
    action: row.action,
    restoredFrom: row.restoredFrom,
    createdAt: row.createdAt,
  };
}

/** One version of the tenant's configuration, or null. */
export async function readVersion(
  control: ControlClient,
  tenantId: string,
  version: number,
): Promise<ConfigVersion | null> {
  const row = await control.tenantConfigVersion.findUnique({
    where: { tenantId_version: { tenantId, version } },
  });

  return row ? toVersion(row) : null;
}

/** The newest versions first, `first` of them, older than `before` when given. */
export async function listVersions(
  control: ControlClient,
  tenantId: string,
  page: { first: number; before?: number },
): Promise<ConfigVersion[]> {
  const rows = await control.tenantConfigVersion.findMany({
    where: { tenantId, ...(page.before !== undefined && { version: { lt: page.before } }) },
    orderBy: { version: "desc" },
    take: page.first,
  });

  return rows.map(toVersion);
}
