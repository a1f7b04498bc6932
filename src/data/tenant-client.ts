import type { PrismaClient } from "../generated/prisma/client.js";
import type { Prisma } from "../generated/prisma/client.js";

/** The database role tenant queries run as; it cannot bypass row-level security. */
export const TENANT_DB_ROLE = "ogc_tenant";

/**
 * Builds the statement that binds a transaction to a tenant: the tenant id
 * that the row-level security policies compare with, and the role that is
 * subject to them. Both are transaction-local, so a pooled connection goes
 * back to the pool unbound.
 */
function bindStatement(executor: Pick<Prisma.TransactionClient, "$executeRaw">, tenantId: string) {
  return executor.$executeRaw`SELECT set_config('role', ${TENANT_DB_ROLE}, true), set_config('app.tenant_id', ${tenantId}, true)`;
}

/**
 * A Prisma client bound to one tenant. Every model query and every raw query
 * runs in a transaction that first binds the tenant, so PostgreSQL's
 * row-level security filters rows even where application code forgot to.
 * Repositories still filter by `tenantId` themselves: the database policy is
 * the second wall, not the first.
 *
 * Do not call `$transaction` on the returned client: use `transaction(fn)`,
 * which binds the tenant once for the whole unit of work.
 */
export function createTenantClient(base: PrismaClient, tenantId: string) {
  return base.$extends({
    name: "tenant-bound",
    query: {
      async $allOperations({ args, query }) {
        const [, result] = await base.$transaction([bindStatement(base, tenantId), query(args)]);
        return result;
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
      /** Runs `work` in one transaction bound to the tenant. */
      transaction<T>(work: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
        return base.$transaction(async (tx) => {
          await bindStatement(tx, tenantId);
          return work(tx);
        });
      },
    },
  });
}

/** The data handle a request receives: every read and write is the tenant's. */
export type TenantClient = ReturnType<typeof createTenantClient>;

/** What a unit of work inside `TenantClient.transaction` receives. */
export type TenantTransaction = Prisma.TransactionClient;
