import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { GATEWAY_APPLICATION_NAME } from "../data/database.js";

/** `application_name` of the gateway's admin sessions (see placement/admin-sessions.ts). */
const ADMIN_APPLICATION_NAME = "newfinity-gateway-admin";

/** Its own name, so the monitor never counts itself. */
const MONITOR_APPLICATION_NAME = "newfinity-bench-monitor";

/** A server to watch, and how the run's connections on it are told from others'. */
export interface WatchedServer {
  readonly id: string;
  /** Any database on the server; the monitor reads `pg_stat_activity` from it. */
  readonly url: string;
  /** The run's own databases there, by exact name. */
  readonly databases: readonly string[];
  /** Prefix of the run's tenant databases there. */
  readonly databasePrefix: string;
}

/** Highest counts seen; each is the peak of a sum taken at one instant. */
export interface ConnectionPeaks {
  /** Pool connections of the run's gateways (`newfinity-gateway`), all servers together. */
  readonly gateway: number;
  /** The same with admin sessions (`newfinity-gateway-admin`). */
  readonly withAdmin: number;
  /** Per server: pool connections, and with admin sessions. */
  readonly byServer: Readonly<Record<string, { gateway: number; withAdmin: number }>>;
  /**
   * Every `newfinity-gateway` connection on the servers, this run's or not: other test
   * runs on the same servers show here and only here.
   */
  readonly everyGateway: number;
  readonly samples: number;
  /** Samples that failed and were skipped. */
  readonly failed: number;
}

/** A running monitor; `stop` ends it and answers the peaks. */
export interface ConnectionMonitor {
  stop(): Promise<ConnectionPeaks>;
}

const COUNT_SQL = `
  SELECT
    count(*) FILTER (WHERE application_name = $3 AND mine)::int AS gateway,
    count(*) FILTER (WHERE application_name = $4 AND mine)::int AS admin,
    count(*) FILTER (WHERE application_name = $3)::int AS every
  FROM (
    SELECT application_name, (datname = ANY($1) OR starts_with(datname, $2)) AS mine
    FROM pg_stat_activity
  ) AS sessions`;

interface Counts {
  gateway: number;
  admin: number;
  every: number;
}

async function count(client: pg.Client, server: WatchedServer): Promise<Counts> {
  const { rows } = await client.query<Counts>(COUNT_SQL, [
    server.databases,
    server.databasePrefix,
    GATEWAY_APPLICATION_NAME,
    ADMIN_APPLICATION_NAME,
  ]);

  return rows[0] ?? { gateway: 0, admin: 0, every: 0 };
}

/**
 * Counts the run's gateway connections on every server each `intervalMs` (default 100)
 * until stopped. A connection belongs to the run when it is on one of the run's databases,
 * so other gateways on the same servers (tests, other runs) are left out of the peaks.
 */
export async function startConnectionMonitor(
  servers: readonly WatchedServer[],
  intervalMs = 100,
): Promise<ConnectionMonitor> {
  const watched = servers.map((server) => ({
    server,
    client: new pg.Client({
      connectionString: server.url,
      application_name: MONITOR_APPLICATION_NAME,
    }),
    peak: { gateway: 0, withAdmin: 0 },
  }));
  for (const { client } of watched) {
    // A dropped connection fails the samples after it; it must not end the run.
    client.on("error", () => {});
  }
  await Promise.all(watched.map(({ client }) => client.connect()));

  const peaks = { gateway: 0, withAdmin: 0, everyGateway: 0, samples: 0, failed: 0 };
  let stopped = false;

  const sample = async () => {
    const counts = await Promise.all(watched.map(({ client, server }) => count(client, server)));
    let gateway = 0;
    let withAdmin = 0;
    let every = 0;
    counts.forEach((c, n) => {
      const { peak } = watched[n] as (typeof watched)[number];
      peak.gateway = Math.max(peak.gateway, c.gateway);
      peak.withAdmin = Math.max(peak.withAdmin, c.gateway + c.admin);
      gateway += c.gateway;
      withAdmin += c.gateway + c.admin;
      every += c.every;
    });
    peaks.gateway = Math.max(peaks.gateway, gateway);
    peaks.withAdmin = Math.max(peaks.withAdmin, withAdmin);
    peaks.everyGateway = Math.max(peaks.everyGateway, every);
    peaks.samples += 1;
  };
  const loop = (async () => {
    while (!stopped) {
      // A sample that fails is counted and skipped: the run goes on without it.
      await sample().catch(() => (peaks.failed += 1));
      await sleep(intervalMs);
    }
  })();

  return {
    stop: async () => {
      stopped = true;
      await loop;
      await Promise.allSettled(watched.map(({ client }) => client.end()));
      const byServer = Object.fromEntries(watched.map(({ server, peak }) => [server.id, peak]));

      return { ...peaks, byServer };
    },
  };
}
