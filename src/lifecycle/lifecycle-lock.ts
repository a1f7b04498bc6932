import type { Database } from "../data/index.js";
import { SHARED_LOCATION } from "../data/placement/tenant-location.js";

/** Lifecycle jobs one process runs at once on one database. */
const CONCURRENT_JOBS = 4;

interface JobQueues {
  /** The tail of each tenant's queue. */
  readonly tails: Map<string, Promise<unknown>>;
  running: number;
  readonly waiting: (() => void)[];
}

const queuesOf = new WeakMap<Database, JobQueues>();

function queues(database: Database): JobQueues {
  let found = queuesOf.get(database);
  if (!found) {
    found = { tails: new Map(), running: 0, waiting: [] };
    queuesOf.set(database, found);
  }

  return found;
}

/** Runs `job` once fewer than {@link CONCURRENT_JOBS} jobs run on the database. */
async function withSlot<T>(q: JobQueues, job: () => Promise<T>): Promise<T> {
  while (q.running >= CONCURRENT_JOBS) {
    await new Promise<void>((resolve) => q.waiting.push(resolve));
  }
  q.running += 1;
  try {
    return await job();
  } finally {
    q.running -= 1;
    q.waiting.shift()?.();
  }
}

/**
 * Runs `work` while no other provisioning, move, import or removal of
 * `tenantId` runs, so concurrent calls cannot create a tenant twice, give it
 * two first admins, or move it two ways at once.
 *
 * Two layers. In this process, jobs for one tenant run one after the other,
 * and at most four jobs run at once, each on admin connections of its own,
 * so a burst of staff work cannot starve request traffic. Across processes
 * sharing a PostgreSQL, a session-level advisory lock on the tenant id, taken
 * on a connection of its own, is held for the whole job. Every step inside commits as it goes, so a
 * job that dies part-way leaves a record (the tenant row, PROVISIONING, with
 * its planned location) that a retry completes or a removal cleans up.
 *
 * PGlite is one process and one connection: the queue alone serialises.
 */
export async function withLifecycleLock<T>(
  database: Database,
  tenantId: string,
  work: () => Promise<T>,
): Promise<T> {
  const outcome = await enqueue(database, tenantId, work, false);
  // Waiting for the lock always ends in running the work.
  if (!outcome.ran) throw new Error("lifecycle work was skipped while waiting for its lock");

  return outcome.value;
}

/**
 * Runs `work` only if no lifecycle job of the tenant runs now, here or in
 * another process; answers `undefined` without running it otherwise. For
 * background upkeep, which must never queue behind a live move.
 */
export async function withLifecycleLockIfFree<T>(
  database: Database,
  tenantId: string,
  work: () => Promise<T>,
): Promise<T | undefined> {
  if (queues(database).tails.has(tenantId)) return undefined;
  const outcome = await enqueue(database, tenantId, work, true);

  return outcome.ran ? outcome.value : undefined;
}

type Outcome<T> = { ran: true; value: T } | { ran: false };

/** Queues `work` behind the tenant's other jobs in this process, then takes the lock. */
function enqueue<T>(
  database: Database,
  tenantId: string,
  work: () => Promise<T>,
  ifFree: boolean,
): Promise<Outcome<T>> {
  const q = queues(database);
  const previous = q.tails.get(tenantId) ?? Promise.resolve();
  const run = previous.then(() => withSlot(q, () => lockAndRun(database, tenantId, work, ifFree)));
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  q.tails.set(tenantId, tail);
  // The map keeps only queues with work in them.
  void tail.then(() => {
    if (q.tails.get(tenantId) === tail) q.tails.delete(tenantId);
  });

  return run;
}

async function lockAndRun<T>(
  database: Database,
  tenantId: string,
  work: () => Promise<T>,
  ifFree: boolean,
): Promise<Outcome<T>> {
  switch (database.kind) {
    case "postgres":
      return database.admin.atLocation(SHARED_LOCATION, async (session) => {
        // Prefixed so the key cannot meet another feature's advisory lock;
        // two ids that share a hash only wait for each other.
        const key = `lifecycle:${tenantId}`;
        if (ifFree) {
          const [got] = await session.query<{ locked: boolean }>(
            "SELECT pg_try_advisory_lock(hashtext($1)) AS locked",
            [key],
          );
          if (!got?.locked) return { ran: false };
        } else {
          await session.query("SELECT pg_advisory_lock(hashtext($1))", [key]);
        }
        try {
          return { ran: true, value: await work() };
        } finally {
          await session
            .query("SELECT pg_advisory_unlock(hashtext($1))", [key])
            .catch(() => undefined);
        }
      });
    case "pglite":
      return { ran: true, value: await work() };
    default: {
      const unknown: never = database.kind;
      throw new Error(`no lifecycle lock for database kind ${String(unknown)}`);
    }
  }
}
