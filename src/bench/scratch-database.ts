import { randomBytes } from "node:crypto";
import pg from "pg";

/** A database made for one benchmark run. */
export interface ScratchDatabase {
  readonly name: string;
  /** Its URL: the server URL with the database name swapped in. */
  readonly url: string;
  /** The server's version, for the report. */
  readonly serverVersion: string;
  /** Drops it, closing any connection still open on it. Safe to call twice. */
  drop(): Promise<void>;
}

async function onServer<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty database next to the one `serverUrl` names, so a run never touches rows
 * of tests or of another run. Its `name` is `ogc_bench_<random>` unless one is given.
 */
export async function createScratchDatabase(
  serverUrl: string,
  name = `ogc_bench_${randomBytes(4).toString("hex")}`,
): Promise<ScratchDatabase> {
  const serverVersion = await onServer(serverUrl, async (client) => {
    await client.query(`CREATE DATABASE "${name}"`);
    const result = await client.query<{ server_version: string }>("SHOW server_version");

    return result.rows[0]?.server_version ?? "unknown";
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;

  return {
    name,
    url: url.toString(),
    serverVersion,
    drop: () =>
      onServer(serverUrl, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }),
  };
}
