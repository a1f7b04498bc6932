import type { Database } from "../../data/index.js";
import type { Prisma } from "../../generated/prisma/client.js";

/**
 * Where provisioning writes the control plane: the transaction that holds
 * the lock on PostgreSQL, the control client itself on PGlite.
 */
export type ControlWriter = Prisma.TransactionClient;

/** The tail of the provisioning queue of each open database. */
const queues = new WeakMap<Database, Promise<unknown>>();

/**
 * Runs `work` while no other provisioning of `tenantId` runs, so concurrent
 * calls for a new tenant cannot both create it or give it two first admins.
 *
 * Two layers. In this process, provisionings of one database run one after
 * the other: it is a rare staff action, and one at a time it holds a single
 * pooled control connection, so a burst of them cannot starve the pool
 * (when tenant statements fall back to the control pool, each would need
 * two). Across processes sharing a PostgreSQL, the transaction that `work`
 * writes the control plane in first takes an advisory lock on the tenant
 * id, held until it commits; its writes become visible together, with the
 * tenant already ACTIVE.
 *
 * PGlite is one process and one connection: the queue alone serialises, and
 * there is no outer transaction, because the tenant transaction `work` opens
 * would wait forever for PGlite's one connection.
 */
export function withProvisioningLock<T>(
  database: Database,
  tenantId: string,
  work: (control: ControlWriter) => Promise<T>,
): Promise<T> {
  const previous = queues.get(database) ?? Promise.resolve();
  const run = previous.then(() => lockAndRun(database, tenantId, work));
  queues.set(
    database,
    run.then(
      () => undefined,
      () => undefined,
    ),
  );

  return run;
}

async function lockAndRun<T>(
  database: Database,
  tenantId: string,
  work: (control: ControlWriter) => Promise<T>,
): Promise<T> {
  switch (database.kind) {
    case "postgres":
      return database.control.$transaction(async (tx) => {
        // Prefixed so the key cannot meet another feature's advisory lock;
        // two ids that share a hash only wait for each other.
        const key = `provision:${tenantId}`;
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${key}))`;
        return work(tx);
      });
    case "pglite":
      return work(database.control);
    default: {
      const unknown: never = database.kind;
      throw new Error(`no provisioning lock for database kind ${String(unknown)}`);
    }
  }
}
