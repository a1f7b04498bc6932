import type { Prisma, PrismaClient } from "../generated/prisma/client.js";
import { GatewayError } from "../errors/index.js";
import type { LocationLease } from "./placement/location-clients.js";
import { describeLocation, quoteIdentifier, schemaOf } from "./placement/tenant-location.js";
import type { TenantLocation } from "./placement/tenant-location.js";

/** The database role tenant queries run as; it cannot bypass row-level security. */
export const TENANT_DB_ROLE = "ogc_tenant";

/** Finds a tenant's location and leases its client (see database.ts). */
export interface TenantRouter {
  lease(tenantId: string): Promise<LocationLease>;
  /** Whether the tenant is being moved (`fresh` reads the control plane now). */
  moving(tenantId: string, fresh: boolean): Promise<boolean>;
  /**
   * Reads the tenant's location again after `stale` refused a statement;
   * answers whether it changed (only then is the statement retried).
   */
  relocate(tenantId: string, stale: TenantLocation): Promise<boolean>;
  /** How long a write waits for a move of the tenant to finish (ms). */
  readonly writeWaitMs: number;
}

/** SQLSTATEs of the tenant fence (see the tenant_placement migration). */
const TENANT_MOVED = "OG001";
const TENANT_MOVING = "OG002";
/**
 * What a statement meets when its location was removed under it: the schema
 * (3F000), a table or the fence function (42P01, 42883), the database
 * (3D000) or its login (28000, 28P01). Only a retry at a new location turns
 * these into success.
 */
const LOCATION_GONE = new Set([
  "3F000",
  "42P01",
  "42883",
  "3D000",
  // A tenant database's login is dropped with it: connecting then fails.
  "28000",
  "28P01",
  TENANT_MOVED,
]);

/** How often a held write looks again whether the move has ended (ms). */
const MOVE_POLL_MS = 200;

/** How long a fenced statement waits for the registry switch that follows the fence (ms). */
const SWITCH_WAIT_MS = 3_000;

const READ_OPERATIONS = new Set([
  "findUnique",
  "findUniqueOrThrow",
  "findFirst",
  "findFirstOrThrow",
  "findMany",
  "count",
  "aggregate",
  "groupBy",
]);

/**
 * The statement that binds a transaction to a tenant: the search path (its
 * own schema only, so unqualified raw SQL cannot reach another), the role
 * subject to row-level security, the tenant id the policies compare with,
 * and the location's fence, which stops statements at a place the tenant
 * has left and makes writes wait while it is being moved. All settings are
 * transaction-local, so a pooled connection goes back unbound.
 */
function bindSql(location: TenantLocation): string {
  const schema = quoteIdentifier(schemaOf(location));

  return (
    `SELECT set_config('search_path', '${schema}', true), ` +
    `set_config('role', '${TENANT_DB_ROLE}', true), ` +
    `set_config('app.tenant_id', $1, true), ` +
    `${schema}.ogc_tenant_fence($1, $2, $3::int)`
  );
}

type Executor = Pick<Prisma.TransactionClient, "$executeRawUnsafe">;

function bind(
  executor: Executor,
  location: TenantLocation,
  tenantId: string,
  writing: boolean,
  waitMs: number,
) {
  return executor.$executeRawUnsafe(bindSql(location), tenantId, writing, waitMs);
}

/** The SQLSTATE under a Prisma or driver error, wherever Prisma put it. */
export function sqlStateOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth += 1) {
    const candidate = e as {
      code?: unknown;
      meta?: { code?: unknown; driverAdapterError?: { cause?: { originalCode?: unknown } } };
      cause?: unknown;
      originalCode?: unknown;
    };
    for (const code of [
      candidate.originalCode,
      candidate.meta?.code,
      candidate.meta?.driverAdapterError?.cause?.originalCode,
      candidate.code,
    ]) {
      if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    }
    e = candidate.cause ?? candidate.meta?.driverAdapterError;
  }

  return undefined;
}

function movingError(): GatewayError {
  return new GatewayError(
    "RATE_LIMITED",
    "This organization's data is being moved; changes are paused for a moment. Try again in a few seconds.",
    { reason: "TENANT_MOVING", retryAfterSeconds: 5 },
  );
}

type Delegate = Record<string, (args: unknown) => Prisma.PrismaPromise<unknown>>;

/** Runs one Prisma operation, as the extension received it, on another client. */
function forward(
  client: PrismaClient,
  model: string | undefined,
  operation: string,
  args: unknown,
): Prisma.PrismaPromise<unknown> {
  if (model) {
    const key = model.charAt(0).toLowerCase() + model.slice(1);
    const delegate = (client as unknown as Record<string, Delegate>)[key];
    const method = delegate?.[operation];
    if (!method) throw new Error(`unknown operation ${model}.${operation}`);

    return method.call(delegate, args);
  }
  const raw = client as unknown as Record<
    string,
    (...a: unknown[]) => Prisma.PrismaPromise<unknown>
  >;
  const method = raw[operation];
  if (!method) throw new Error(`unknown operation ${operation}`);

  // Tagged raw queries arrive as one Sql object, the Unsafe ones as a list.
  return Array.isArray(args) ? method.apply(client, args) : method.call(client, args);
}

/**
 * A Prisma client bound to one tenant, the same for every isolation tier.
 * Each model or raw query leases the client of the tenant's current location
 * and runs in a transaction that first binds the tenant (see `bindSql`), so
 * row-level security filters rows even where code forgot to, and a tenant
 * that moved is followed rather than read where it was. Repositories still
 * filter by `tenantId` themselves: the database policy is the second wall.
 *
 * `template` only lends the client its model types; no query runs on it.
 * Do not call `$transaction` on the result: use `transaction(fn)`, which
 * binds the tenant once for the whole unit of work.
 */
export function createTenantClient(template: PrismaClient, tenantId: string, router: TenantRouter) {
  /**
   * A write waits here, holding no connection, while this process knows the
   * tenant is being moved; connections stay free for reads meanwhile.
   */
  async function holdWhileMoving(): Promise<void> {
    const deadline = Date.now() + router.writeWaitMs;
    for (let fresh = false; await router.moving(tenantId, fresh); fresh = true) {
      if (Date.now() >= deadline) throw movingError();
      await new Promise((resolve) => setTimeout(resolve, MOVE_POLL_MS));
    }
  }

  /**
   * After a statement met a fence or a vanished location: whether the
   * registry now places the tenant elsewhere. A move fences the source a
   * moment before it switches the registry, so a fence is given that moment.
   */
  async function movedOn(state: string, stale: TenantLocation): Promise<boolean> {
    const deadline = Date.now() + (state === TENANT_MOVED ? SWITCH_WAIT_MS : 0);
    for (;;) {
      if (await router.relocate(tenantId, stale)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, MOVE_POLL_MS / 2));
    }
  }

  /** Leases the location, runs, and follows the tenant once if it moved meanwhile. */
  async function routed<T>(
    writing: boolean,
    run: (client: PrismaClient, location: TenantLocation) => Promise<T>,
  ): Promise<T> {
    if (writing) await holdWhileMoving();
    for (let attempt = 0; ; attempt += 1) {
      const lease = await router.lease(tenantId);
      try {
        return await run(lease.client, lease.location);
      } catch (error) {
        const state = sqlStateOf(error);
        if (state === TENANT_MOVING) throw movingError();
        if (
          attempt === 0 &&
          state !== undefined &&
          LOCATION_GONE.has(state) &&
          (await movedOn(state, lease.location))
        ) {
          continue;
        }
        if (state === TENANT_MOVED) {
          throw new Error(
            `tenant ${tenantId} is fenced at ${describeLocation(lease.location)} but the registry still places it there`,
            { cause: error },
          );
        }
        throw error;
      } finally {
        lease.release();
      }
    }
  }

  return template.$extends({
    name: "tenant-bound",
    query: {
      async $allOperations({ model, operation, args }) {
        const writing = !READ_OPERATIONS.has(operation);

        return routed(writing, async (client, location) => {
          const [, result] = await client.$transaction([
            bind(client, location, tenantId, writing, router.writeWaitMs),
            forward(client, model, operation, args),
          ]);
          return result;
        });
      },
    },
    client: {
      /** The tenant every statement of this client is bound to. */
      tenantId,
      /**
       * Refused: each statement inside would run in a transaction of its
       * own, so the unit of work would not be atomic. Use `transaction`.
       */
      $transaction(): never {
        throw new Error("Call transaction(fn) on a tenant client, not $transaction.");
      },
      /** Runs `work` in one transaction bound to the tenant, as a writer. */
      transaction<T>(work: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
        return routed(true, (client, location) =>
          client.$transaction(async (tx) => {
            await bind(tx, location, tenantId, true, router.writeWaitMs);
            return work(tx);
          }),
        );
      },
    },
  });
}

/** The data handle a request receives: every read and write is the tenant's. */
export type TenantClient = ReturnType<typeof createTenantClient>;

/** What a unit of work inside `TenantClient.transaction` receives. */
export type TenantTransaction = Prisma.TransactionClient;
