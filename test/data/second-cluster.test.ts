import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_URL } from "../support/env.js";

/** The second PostgreSQL server, where database-per-tenant tenants live. */
const SECOND_DATABASE_URL =
  process.env.SECOND_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5433/postgres";

async function systemIdentifier(client: pg.Client): Promise<string | undefined> {
  const { rows } = await client.query<{ system_identifier: string }>(
    "SELECT system_identifier::text FROM pg_control_system()",
  );
  return rows[0]?.system_identifier;
}

describe("the second PostgreSQL cluster", () => {
  const first = new pg.Client({ connectionString: TEST_DATABASE_URL });
  const second = new pg.Client({ connectionString: SECOND_DATABASE_URL });

  beforeAll(async () => {
    await Promise.all([first.connect(), second.connect()]);
  });

  afterAll(async () => {
    await Promise.allSettled([first.end(), second.end()]);
  });

  it("answers on the port of its URL", async () => {
    const { rows } = await second.query<{ port: string }>("SHOW port");
    expect(rows[0]?.port).toBe(new URL(SECOND_DATABASE_URL).port || "5432");
  });

  it("is a different cluster from the first server", async () => {
    const [firstId, secondId] = await Promise.all([
      systemIdentifier(first),
      systemIdentifier(second),
    ]);
    expect(firstId).toMatch(/^\d+$/);
    expect(secondId).toMatch(/^\d+$/);
    expect(secondId).not.toBe(firstId);
  });
});
