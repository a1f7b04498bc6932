import type { PrismaClient } from "../generated/prisma/client.js";
import { unwrapDataKey, wrapDataKey } from "./data-keys.js";
import { DATABASE_SECRET_FIELD, isLegacySealed, openLegacySealed } from "./legacy-secrets.js";
import type { MasterKeys } from "./master-keys.js";
import { MASTER_SEALED_VERSION } from "./secret-box.js";
import { createTenantKeyring, type TenantKeyring } from "./tenant-keyring.js";
import { TenantKeyStore, type StoredTenantKey } from "./tenant-key-store.js";
import { forEachLimited } from "../async/for-each-limited.js";

/**
 * Master-key rotation: rewraps every tenant data key that the current
 * master key did not wrap, and reseals master-sealed (`v1.`) connection
 * strings with their tenant's data key. The data keys themselves do not
 * change, so every sealed value keeps opening, before, during and after.
 *
 * Safe beside serving gateways and beside another run: each row is one
 * compare-and-swap statement on the value that was read, so a writer that
 * changed the row meanwhile is never overwritten (the row is read again and
 * retried), and nothing is locked past that statement.
 */

export interface RotationOptions {
  /** Check that every key unwraps and every old value opens, and write nothing. */
  dryRun?: boolean;
  /** Rows read per query (default 200). */
  batchSize?: number;
  /** Rows worked on at once (default 4). */
  concurrency?: number;
}

export interface RotationFailure {
  tenantId: string;
  error: string;
}

export interface RotationReport {
  /** Fingerprint of the current master key, which wraps every key after a clean run. */
  masterKeyId: string;
  dryRun: boolean;
  keys: {
    /** Rewrapped with the current master key (in a dry run: would be). */
    rewrapped: number;
    /** Wrapped by the current master key already. */
    alreadyCurrent: number;
    failed: RotationFailure[];
  };
  /** Master-sealed connection strings resealed with the tenant's data key. */
  databaseSecrets: { converted: number; failed: RotationFailure[] };
  durationMs: number;
}

/** Tries per row when concurrent writers keep changing it. */
const ATTEMPTS = 3;

export async function rotateTenantKeys(
  control: PrismaClient,
  masterKeys: MasterKeys,
  options: RotationOptions = {},
): Promise<RotationReport> {
  const batchSize = options.batchSize ?? 200;
  const concurrency = options.concurrency ?? 4;
  for (const [name, value] of [
    ["batchSize", batchSize],
    ["concurrency", concurrency],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`${name} must be a whole number from 1 up, got ${value}.`);
    }
  }
  const dryRun = options.dryRun ?? false;
  const started = Date.now();
  const store = new TenantKeyStore(control);
  const report: RotationReport = {
    masterKeyId: masterKeys.current.id,
    dryRun,
    keys: {
      rewrapped: 0,
      alreadyCurrent: await store.countWrappedBy(masterKeys.current.id),
      failed: [],
    },
    databaseSecrets: { converted: 0, failed: [] },
    durationMs: 0,
  };

  await rewrapAll(store, masterKeys, report, { dryRun, batchSize, concurrency });
  await resealAll(control, masterKeys, report, { dryRun, batchSize, concurrency });

  report.keys.failed.sort(byTenant);
  report.databaseSecrets.failed.sort(byTenant);
  report.durationMs = Date.now() - started;

  return report;
}

type Batching = Required<RotationOptions>;

/**
 * Runs `work` on every row `page` lists, `concurrency` at a time, a page of
 * `batchSize` at a time, paging by tenant id so failed rows are stepped past.
 */
async function forEveryRow<R>(
  page: (after: string | null, take: number) => Promise<R[]>,
  idOf: (row: R) => string,
  { batchSize, concurrency }: Batching,
  work: (row: R) => Promise<void>,
): Promise<void> {
  let after: string | null = null;
  for (;;) {
    const batch = await page(after, batchSize);
    const last = batch.at(-1);
    if (!last) return;

    await forEachLimited(batch, concurrency, work);
    after = idOf(last);
  }
}

/** Every data key not wrapped by the current master key; rewrapped rows drop out of the list. */
async function rewrapAll(
  store: TenantKeyStore,
  masterKeys: MasterKeys,
  report: RotationReport,
  batching: Batching,
): Promise<void> {
  await forEveryRow(
    (after, take) => store.listWrappedByOthers(masterKeys.current.id, after, take),
    (row) => row.tenantId,
    batching,
    async (row) => {
      try {
        const outcome = await rewrap(store, masterKeys, row, batching.dryRun);
        if (outcome === "rewrapped") report.keys.rewrapped += 1;
        if (outcome === "current") report.keys.alreadyCurrent += 1;
      } catch (error) {
        report.keys.failed.push({ tenantId: row.tenantId, error: messageOf(error) });
      }
    },
  );
}

/** Every connection string still sealed with a master key. */
async function resealAll(
  control: PrismaClient,
  masterKeys: MasterKeys,
  report: RotationReport,
  batching: Batching,
): Promise<void> {
  const keyring = createTenantKeyring({ control, masterKeys, cacheSize: batching.batchSize });
  await forEveryRow(
    (after, take) =>
      control.tenant.findMany({
        where: {
          databaseSecret: { startsWith: `${MASTER_SEALED_VERSION}.` },
          ...(after === null ? {} : { id: { gt: after } }),
        },
        select: { id: true, databaseSecret: true },
        orderBy: { id: "asc" },
        take,
      }),
    (row) => row.id,
    batching,
    async (row) => {
      try {
        const { dryRun } = batching;
        if (await reseal(control, keyring, masterKeys, row.id, row.databaseSecret, dryRun)) {
          report.databaseSecrets.converted += 1;
        }
      } catch (error) {
        report.databaseSecrets.failed.push({ tenantId: row.id, error: messageOf(error) });
      }
    },
  );
}

/** Rewraps one data key; "gone" when its tenant was removed meanwhile. */
async function rewrap(
  store: TenantKeyStore,
  masterKeys: MasterKeys,
  row: StoredTenantKey,
  dryRun: boolean,
): Promise<"rewrapped" | "current" | "gone"> {
  let stored: StoredTenantKey | null = row;
  for (let attempt = 0; attempt < ATTEMPTS && stored; attempt += 1) {
    if (stored.masterKeyId === masterKeys.current.id) return "current";
    // The same data key, so what it sealed keeps opening.
    const dataKey = unwrapDataKey(masterKeys, row.tenantId, stored);
    if (dryRun) return "rewrapped";

    const next = wrapDataKey(masterKeys, row.tenantId, dataKey);
    if (await store.swap(row.tenantId, stored.wrappedKey, next)) return "rewrapped";
    stored = await store.read(row.tenantId);
  }
  if (!stored) return "gone";

  throw new Error("the key changed under every attempt; run the rotation again");
}

/** Reseals one master-sealed connection string; false when another writer replaced it first. */
async function reseal(
  control: PrismaClient,
  keyring: TenantKeyring,
  masterKeys: MasterKeys,
  tenantId: string,
  first: string | null,
  dryRun: boolean,
): Promise<boolean> {
  let sealed = first;
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    if (sealed === null || !isLegacySealed(sealed)) return false;
    const url = openLegacySealed(masterKeys, tenantId, DATABASE_SECRET_FIELD, sealed);
    if (dryRun) return true;

    const resealed = await keyring.seal(tenantId, DATABASE_SECRET_FIELD, url);
    const { count } = await control.tenant.updateMany({
      where: { id: tenantId, databaseSecret: sealed },
      data: { databaseSecret: resealed },
    });
    if (count === 1) return true;
    const now = await control.tenant.findUnique({
      where: { id: tenantId },
      select: { databaseSecret: true },
    });
    sealed = now?.databaseSecret ?? null;
  }

  throw new Error("the connection string changed under every attempt; run the rotation again");
}

function byTenant(a: RotationFailure, b: RotationFailure): number {
  return a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
