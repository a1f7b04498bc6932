import type pg from "pg";

/**
 * Counts SQL statements sent to PostgreSQL, transaction control included.
 * Tests and the benchmark read it before and after a request; it is the
 * honest figure for "how many statements did this query cost".
 */
export class StatementCounter {
  #count = 0;

  get count(): number {
    return this.#count;
  }

  increment(): void {
    this.#count += 1;
  }

  /**
   * Wraps every pooled connection's `query` so each statement is counted.
   * The Prisma pg adapter sends single statements and transaction control
   * through `query`, so this sees all of them.
   */
  attach(pool: pg.Pool): void {
    pool.on("connect", (client) => {
      const original = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        this.increment();
        return original(...args);
      };
    });
  }
}
