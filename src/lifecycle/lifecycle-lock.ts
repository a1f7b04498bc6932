import type { Database } from "../data/index.js";
import { SHARED_LOCATION } from "../data/placement/tenant-location.js";

/** The tail of the lifecycle queue of each open database. */
const queues = new WeakMap<Database, Promise<unknown>>();

/**
 * Runs `work` while no other provisioning, move, import or removal of
 * `tenantId` runs, so concurrent calls cannot create a tenant twice, give it
 * two first admins, or move it two ways at once.
 *
 * Two layers. In this process, lifecycle work on one database runs one job
 * after the other: it is rare staff work, and a burst of it must not starve
 * request traffic of connections. Across processes sharing a PostgreSQL, a
 * session-level advisory lock on the tenant id, taken on a connection of its
 * own, is held for the whole job. Every step inside commits as it goes, so a
 * job that dies part-way leaves a record (the tenant row, PROVISIONING, with
 * its planned location) that a retry completes or a removal cleans up.
 *
 * PGlite is one process and one connection: the queue alone serialises.
 */
export function withLifecycleLock<T>(
  database: Database,
  tenantId: string,
  work: () => Promise<T>,
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
  work: () => Promise<T>,
): Promise<T> {
  switch (database.kind) {
    case "postgres":
      return database.admin.atLocation(SHARED_LOCATION, async (session) => {
        // Prefixed so the key cannot meet another feature's advisory lock;
        // two ids that share a hash only wait for each other.
        const key = `lifecycle:${tenantId}`;
        await session.query("SELECT pg_advisory_lock(hashtext($1))", [key]);
        try {
          return await work();
        } finally {
          await session
            .query("SELECT pg_advisory_unlock(hashtext($1))", [key])
            .catch(() => undefined);
        }
      });
    case "pglite":
      return work();
    default: {
      const unknown: never = database.kind;
      throw new Error(`no lifecycle lock for database kind ${String(unknown)}`);
    }
  }
}
