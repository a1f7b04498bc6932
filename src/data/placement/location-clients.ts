import type pg from "pg";
import type { PrismaClient } from "../../generated/prisma/client.js";
import { Isolation } from "../../generated/prisma/enums.js";
import type { Logger } from "../../logging/index.js";
import { describeLocation, type PlannedLocation, type TenantLocation } from "./tenant-location.js";

/** A location's client, held for one operation or transaction. */
export interface LocationLease {
  readonly client: PrismaClient;
  readonly location: TenantLocation;
  /** Must be called exactly once, when the operation has settled. */
  release(): void;
}

/** A tenant database's own pool and the client over it. */
export interface DatabaseConnection {
  readonly client: PrismaClient;
  readonly pool: pg.Pool;
}

export interface LocationClientsOptions {
  /** The client of SHARED tenants: control database, `public`, tenant login. */
  readonly shared: PrismaClient;
  /**
   * The one client of every SCHEMA tenant, over the same pool: it sends each
   * statement to the schema its transaction was bound to (see schema-routing.ts).
   */
  readonly schemas: PrismaClient;
  /** Opens a pool of at most `max` connections to a tenant database; null where unsupported. */
  readonly forDatabase: ((url: string, max: number) => DatabaseConnection) | null;
  /** Connections all tenant databases may hold together (default 8). */
  readonly databaseConnections?: number;
  /** Connections one tenant database may hold (default 2). */
  readonly connectionsPerDatabase?: number;
  /** Longest wait for a tenant database pool when all are busy (ms, default 10 s). */
  readonly acquireTimeoutMs?: number;
  readonly logger: Logger;
}

interface Entry {
  readonly key: string;
  readonly location: TenantLocation;
  readonly client: PrismaClient;
  readonly pool: pg.Pool;
  inflight: number;
  /** Evicted: closed as soon as its last lease is released. */
  retired: boolean;
  closed: Promise<void> | null;
  /** Resolve pending {@link LocationClients.retire} calls once the entry is closed. */
  readonly onClosed: Array<() => void>;
}

/** What the clients hold right now, for metrics and the scale benchmark. */
export interface LocationClientStats {
  readonly databasePools: number;
  /** Connections open in tenant database pools (idle and busy). */
  readonly databaseConnections: number;
}

/**
 * Hands out the Prisma client of a tenant's location, one lease per
 * operation, and keeps what it holds bounded whatever the number of tenants:
 *
 * - SHARED tenants all use one client, and SCHEMA tenants all use another
 *   over the same pool, which routes each statement to the tenant's schema.
 * - DATABASE tenants need connections of their own (PostgreSQL binds a
 *   connection to one database), so each gets a small pool, and the pools
 *   together never exceed `databaseConnections`: a new one first closes the
 *   least recently used idle pool, and waits when every pool is busy.
 *
 * A lease pins its entry, so nothing is closed under a running statement.
 */
export class LocationClients {
  readonly #options: LocationClientsOptions;
  readonly #perDatabase: number;
  readonly #maxDatabasePools: number;
  readonly #acquireTimeoutMs: number;
  // Maps iterate in insertion order; touching an entry re-inserts it, so the
  // first entries are the least recently used.
  readonly #databases = new Map<string, Entry>();
  /** Database pools evicted but still closing: they count against the budget. */
  #closingDatabases = 0;
  readonly #waiters = new Set<() => void>();
  #closed = false;

  constructor(options: LocationClientsOptions) {
    this.#options = options;
    const budget = options.databaseConnections ?? 8;
    this.#perDatabase = Math.max(1, Math.min(options.connectionsPerDatabase ?? 2, budget));
    this.#maxDatabasePools = Math.max(1, Math.floor(budget / this.#perDatabase));
    this.#acquireTimeoutMs = options.acquireTimeoutMs ?? 10_000;
  }

  /** Leases the client of `location`; release it when the operation settles. */
  async acquire(location: TenantLocation): Promise<LocationLease> {
    if (this.#closed) throw new Error("The database is closed.");
    switch (location.isolation) {
      case Isolation.SHARED:
        return { client: this.#options.shared, location, release: () => {} };
      case Isolation.SCHEMA:
        return { client: this.#options.schemas, location, release: () => {} };
      case Isolation.DATABASE:
        // Leased inside: between finding a pool and pinning it, another
        // acquire must not see it idle and close it.
        return this.#databaseLease(location);
      default: {
        const unknown: never = location;
        throw new Error(`unhandled location ${JSON.stringify(unknown)}`);
      }
    }
  }

  /**
   * Drops the client of a location (a tenant moved away or was removed) and
   * resolves once its connections are closed. Running leases finish first.
   */
  async retire(location: PlannedLocation): Promise<void> {
    const key = describeLocation(location);
    const entry = this.#databases.get(key);
    if (!entry) return;
    await this.#retire(entry);
  }

  stats(): LocationClientStats {
    let connections = 0;
    for (const entry of this.#databases.values()) connections += entry.pool.totalCount;

    return {
      databasePools: this.#databases.size,
      databaseConnections: connections,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const entries = [...this.#databases.values()];
    await Promise.all(entries.map((entry) => this.#retire(entry)));
  }

  #lease(entry: Entry): LocationLease {
    entry.inflight += 1;
    let released = false;

    return {
      client: entry.client,
      location: entry.location,
      release: () => {
        if (released) return;
        released = true;
        entry.inflight -= 1;
        if (entry.inflight === 0) {
          if (entry.retired) {
            void this.#close(entry).then(() => entry.onClosed.forEach((done) => done()));
          }
          this.#wakeWaiters();
        }
      },
    };
  }

  async #databaseLease(
    location: TenantLocation & { isolation: "DATABASE" },
  ): Promise<LocationLease> {
    const open = this.#options.forDatabase;
    if (!open) throw new Error("This database backend cannot host DATABASE tenants.");
    const key = describeLocation(location);
    const deadline = Date.now() + this.#acquireTimeoutMs;

    for (;;) {
      const found = this.#touch(this.#databases, key);
      if (found) return this.#lease(found);
      if (this.#databases.size + this.#closingDatabases < this.#maxDatabasePools) {
        const { client, pool } = open(location.url, this.#perDatabase);
        const entry = this.#newEntry(key, location, client, pool);
        this.#databases.set(key, entry);
        return this.#lease(entry);
      }
      const coldest = [...this.#databases.values()].find((entry) => entry.inflight === 0);
      if (coldest) {
        await this.#retire(coldest);
        continue;
      }
      await this.#waitForRelease(deadline, key);
    }
  }

  #touch(map: Map<string, Entry>, key: string): Entry | undefined {
    const entry = map.get(key);
    if (entry) {
      map.delete(key);
      map.set(key, entry);
    }

    return entry;
  }

  #newEntry(key: string, location: TenantLocation, client: PrismaClient, pool: pg.Pool): Entry {
    return {
      key,
      location,
      client,
      pool,
      inflight: 0,
      retired: false,
      closed: null,
      onClosed: [],
    };
  }

  async #retire(entry: Entry): Promise<void> {
    if (this.#databases.get(entry.key) === entry) {
      this.#databases.delete(entry.key);
      this.#closingDatabases += 1;
    }
    entry.retired = true;
    if (entry.inflight === 0) return this.#close(entry);
    await new Promise<void>((resolve) => entry.onClosed.push(resolve));
  }

  #close(entry: Entry): Promise<void> {
    entry.closed ??= (async () => {
      try {
        await entry.client.$disconnect();
        await entry.pool.end();
      } catch (err) {
        this.#options.logger.warn({ err, location: entry.key }, "closing a tenant client failed");
      } finally {
        this.#closingDatabases -= 1;
        this.#wakeWaiters();
      }
    })();

    return entry.closed;
  }

  #waitForRelease(deadline: number, key: string): Promise<void> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      return Promise.reject(
        new Error(
          `No tenant database connection came free within ${this.#acquireTimeoutMs} ms for ${key}; raise TENANT_DATABASE_CONNECTIONS.`,
        ),
      );
    }

    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, remaining);
      this.#waiters.add(wake);
    });
  }

  #wakeWaiters(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }
}
