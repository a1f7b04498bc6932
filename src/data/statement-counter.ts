import type pg from "pg";

/** Hears how many statements a tenant's transaction just sent. */
export type TenantStatementListener = (tenantId: string, statements: number) => void;

/**
 * The setting every tenant transaction binds first (see `bindSql` in
 * tenant-client.ts), with the tenant id as its first parameter.
 */
const TENANT_BINDING = "set_config('app.tenant_id', $1, true)";

/** Where one pooled connection's transaction stands. */
interface ConnectionState {
  /** The tenant its current transaction was bound to. */
  tenantId: string | undefined;
  /** Statements sent since BEGIN, before the binding said whose they are. */
  unbound: number;
}

/** The SQL text and parameters of whatever `pg` was asked to run. */
function statementOf(args: unknown[]): { text: string; values: unknown[] } {
  const [first, second] = args;
  if (typeof first === "string") {
    return { text: first, values: Array.isArray(second) ? second : [] };
  }
  const config = first as { text?: unknown; values?: unknown } | undefined;

  return {
    text: typeof config?.text === "string" ? config.text : "",
    values: Array.isArray(config?.values) ? config.values : [],
  };
}

/**
 * Counts SQL statements sent to PostgreSQL, transaction control included.
 * Tests and the benchmark read it before and after a request; it is the
 * honest figure for "how many statements did this query cost".
 *
 * It also tells listeners whose statements they were: a tenant transaction
 * is bound to its tenant by its first statement after BEGIN, so BEGIN, the
 * binding and everything up to the connection's release are that tenant's.
 */
export class StatementCounter {
  #count = 0;
  readonly #listeners: TenantStatementListener[] = [];

  get count(): number {
    return this.#count;
  }

  increment(): void {
    this.#count += 1;
  }

  /** Calls `listener` with each tenant's statements as they are sent. */
  onTenantStatements(listener: TenantStatementListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Wraps every pooled connection's `query` so each statement is counted.
   * The Prisma pg adapter sends single statements and transaction control
   * through `query`, so this sees all of them.
   */
  attach(pool: pg.Pool): void {
    const states = new WeakMap<pg.PoolClient, ConnectionState>();

    pool.on("connect", (client) => {
      const state: ConnectionState = { tenantId: undefined, unbound: 0 };
      states.set(client as pg.PoolClient, state);
      const original = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        this.increment();
        this.#attribute(state, args);
        return original(...args);
      };
    });
    // A released connection carries no tenant into its next transaction.
    pool.on("release", (_error: Error | undefined, client: pg.PoolClient) => {
      const state = states.get(client);
      if (state) Object.assign(state, { tenantId: undefined, unbound: 0 });
    });
  }

  #attribute(state: ConnectionState, args: unknown[]): void {
    if (this.#listeners.length === 0) return;
    if (state.tenantId !== undefined) {
      this.#tell(state.tenantId, 1);
      return;
    }

    const { text, values } = statementOf(args);
    if (text === "BEGIN") {
      state.unbound = 1;
      return;
    }
    const tenantId = values[0];
    if (text.includes(TENANT_BINDING) && typeof tenantId === "string") {
      state.tenantId = tenantId;
      this.#tell(tenantId, state.unbound + 1);
      state.unbound = 0;
    }
  }

  #tell(tenantId: string, statements: number): void {
    for (const listener of this.#listeners) listener(tenantId, statements);
  }
}
