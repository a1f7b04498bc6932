import { readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createCache } from "../cache/index.js";
import { quoteIdentifier } from "../data/placement/tenant-location.js";
import { createLogger } from "../logging/index.js";
import type { RunNames } from "./tenant-fleet.js";

/**
 * Removal of everything a scale benchmark run made, found by its names (see runNames), so
 * it also works for a run that crashed: the scratch databases, the tenant databases and
 * login roles on every server, the storage directory, the tenants' cache keys, and the
 * cluster roles a migration created on a server that lacked them.
 */

/** The roles every tenant location's migrations create when a cluster lacks them. */
const CLUSTER_ROLES = ["ogc_tenant", "ogc_app"];

/** A server as the cleanup reaches it: a database on it that the run did not make. */
export interface CleanupServer {
  readonly id: string;
  readonly url: string;
}

export interface CleanupTargets {
  readonly servers: readonly CleanupServer[];
  readonly names: RunNames;
  /**
   * Tenants whose cache keys are cleared. Keys of tenants not named here expire by
   * themselves within the gateway's CACHE_TTL_SECONDS.
   */
  readonly tenantIds: readonly string[];
  readonly redisUrl: string;
  /**
   * Per server id, the cluster roles that existed before the run (see clusterRoles). A
   * server missing here keeps its cluster roles.
   */
  readonly rolesBefore: ReadonlyMap<string, ReadonlySet<string>>;
}

async function onServer<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: "newfinity-bench" });
  client.on("error", () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Which of the cluster roles a server has now; read before the run, to know what it adds. */
export async function clusterRoles(url: string): Promise<Set<string>> {
  return onServer(url, async (client) => {
    const { rows } = await client.query<{ rolname: string }>(
      "SELECT rolname FROM pg_roles WHERE rolname = ANY($1)",
      [CLUSTER_ROLES],
    );
    return new Set(rows.map((row) => row.rolname));
  });
}

async function dropRunDatabases(server: CleanupServer, names: RunNames) {
  return onServer(server.url, async (client) => {
    const databases = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE starts_with(datname, $1) OR datname = $2",
      [names.database, names.scratch],
    );
    for (const { datname } of databases.rows) {
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(datname)} WITH (FORCE)`);
    }
    // After the databases: a login's CONNECT grant on one would keep it.
    const roles = await client.query<{ rolname: string }>(
      "SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)",
      [names.login],
    );
    for (const { rolname } of roles.rows) {
      await client.query(`DROP ROLE IF EXISTS ${quoteIdentifier(rolname)}`);
    }

    return `${databases.rowCount ?? 0} databases and ${roles.rowCount ?? 0} roles`;
  });
}

/**
 * Drops the cluster roles the run created. One that anything still depends on (another
 * run's tenant databases on the same server) stays, and the answer says so.
 */
async function dropAddedClusterRoles(server: CleanupServer, before: ReadonlySet<string>) {
  return onServer(server.url, async (client) => {
    const kept: string[] = [];
    for (const role of CLUSTER_ROLES.filter((name) => !before.has(name))) {
      try {
        await client.query(`DROP ROLE IF EXISTS ${quoteIdentifier(role)}`);
      } catch {
        kept.push(role);
      }
    }
    return kept;
  });
}

async function clearCache(targets: CleanupTargets): Promise<number> {
  const cache = await createCache({
    redisUrl: targets.redisUrl,
    timeoutMs: 5_000,
    ttlSeconds: 300,
    logger: createLogger({ level: "silent" }),
  });
  let removed = 0;
  try {
    const queue = [...targets.tenantIds];
    const worker = async () => {
      for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
        removed += await cache.clearTenant(id);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  } finally {
    await cache.close();
  }

  return removed;
}

async function removeStorage(names: RunNames): Promise<void> {
  const entries = await readdir(tmpdir());
  const mine = entries.filter((entry) => entry.startsWith(names.storage));
  await Promise.all(
    mine.map((entry) => rm(join(tmpdir(), entry), { recursive: true, force: true })),
  );
}

/**
 * Removes the run's leftovers, every step even when another fails, and answers what could
 * not be removed (empty when everything went).
 */
export async function removeRunLeftovers(
  targets: CleanupTargets,
  progress: (message: string) => void,
): Promise<string[]> {
  const problems: string[] = [];
  const step = async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (error) {
      problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  };

  if (targets.tenantIds.length > 0) {
    const keys = await step("clearing the tenants' cache keys", () => clearCache(targets));
    if (keys !== undefined) progress(`removed ${keys} cache keys`);
  }
  for (const server of targets.servers) {
    const dropped = await step(`dropping the run's databases on ${server.id}`, () =>
      dropRunDatabases(server, targets.names),
    );
    if (dropped) progress(`dropped ${dropped} on ${server.id}`);
  }
  for (const server of targets.servers) {
    const before = targets.rolesBefore.get(server.id);
    if (!before) continue;
    const kept = await step(`dropping cluster roles on ${server.id}`, () =>
      dropAddedClusterRoles(server, before),
    );
    if (kept?.length) problems.push(`${kept.join(", ")} on ${server.id}: still in use, kept`);
  }
  await step("removing the storage directory", () => removeStorage(targets.names));

  return problems;
}
