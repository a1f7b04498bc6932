/** The servers the tests run against (the contract's defaults). */
export const TEST_DATABASE_URL =
  process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

export const TEST_REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * A second PostgreSQL cluster, for DATABASE tenants in another "region";
 * test/support/global-setup.ts starts it when it does not answer.
 */
export const TEST_SECOND_DATABASE_URL =
  process.env.SECOND_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5433/postgres";
