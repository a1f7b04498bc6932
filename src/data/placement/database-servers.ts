/**
 * The PostgreSQL servers that DATABASE tenants are placed on. Each has an id
 * (recorded on the tenant, so a server's address can change without touching
 * tenants), a region, optionally the hardware tiers it serves, and an
 * administrative URL (a role that may CREATE DATABASE and CREATE ROLE).
 */
export interface DatabaseServer {
  readonly id: string;
  readonly region: string;
  /** Tiers it serves; empty means every tier. */
  readonly tiers: readonly string[];
  readonly adminUrl: string;
}

export class DatabaseServerConfigError extends Error {
  override name = "DatabaseServerConfigError";
}

const LABEL = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Parses `DATABASE_SERVERS`: a JSON array of
 * `{"id": "eu-1", "region": "eu", "tiers": ["premium"], "url": "postgresql://…"}`.
 * Without it, a gateway on PostgreSQL places database tenants on the control
 * database's own server, as server `primary` in `homeRegion`.
 */
export function parseDatabaseServers(
  raw: string | undefined,
  controlUrl: string | undefined,
  homeRegion: string,
): DatabaseServer[] {
  if (raw === undefined || raw.trim() === "") {
    return controlUrl
      ? [{ id: "primary", region: homeRegion, tiers: [], adminUrl: controlUrl }]
      : [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new DatabaseServerConfigError(
      'DATABASE_SERVERS must be a JSON array like [{"id":"eu-1","region":"eu","url":"postgresql://…"}].',
    );
  }
  if (!Array.isArray(parsed)) {
    throw new DatabaseServerConfigError("DATABASE_SERVERS must be a JSON array of servers.");
  }
  const servers = parsed.map((entry: unknown, index) => parseServer(entry, index));
  const ids = new Set<string>();
  for (const server of servers) {
    if (ids.has(server.id)) {
      throw new DatabaseServerConfigError(`DATABASE_SERVERS names server "${server.id}" twice.`);
    }
    ids.add(server.id);
  }

  return servers;
}

function parseServer(entry: unknown, index: number): DatabaseServer {
  const where = `DATABASE_SERVERS[${index}]`;
  if (typeof entry !== "object" || entry === null) {
    throw new DatabaseServerConfigError(`${where} must be an object with id, region and url.`);
  }
  const { id, region, tiers = [], url } = entry as Record<string, unknown>;
  if (typeof id !== "string" || !LABEL.test(id)) {
    throw new DatabaseServerConfigError(`${where}.id must be a short lowercase label.`);
  }
  if (typeof region !== "string" || !LABEL.test(region)) {
    throw new DatabaseServerConfigError(`${where}.region must be a short lowercase label.`);
  }
  if (!Array.isArray(tiers) || !tiers.every((t) => typeof t === "string" && LABEL.test(t))) {
    throw new DatabaseServerConfigError(`${where}.tiers must be a list of lowercase labels.`);
  }
  if (typeof url !== "string" || !/^postgres(ql)?:\/\//.test(url)) {
    throw new DatabaseServerConfigError(`${where}.url must be a postgresql:// URL.`);
  }

  return { id, region, tiers: tiers as string[], adminUrl: url };
}

/**
 * The server a new DATABASE tenant goes to: one in its region, preferring
 * servers that name its tier over those serving every tier, then the one
 * holding the fewest tenants. Null when no server is in the region.
 */
export function chooseServer(
  servers: readonly DatabaseServer[],
  region: string,
  tier: string,
  tenantsPerServer: ReadonlyMap<string, number>,
): DatabaseServer | null {
  const inRegion = servers.filter(
    (s) => s.region === region && (s.tiers.length === 0 || s.tiers.includes(tier)),
  );
  const named = inRegion.filter((s) => s.tiers.includes(tier));
  const candidates = named.length > 0 ? named : inRegion;
  const load = (s: DatabaseServer) => tenantsPerServer.get(s.id) ?? 0;

  return [...candidates].sort((a, b) => load(a) - load(b) || (a.id < b.id ? -1 : 1))[0] ?? null;
}

/** A server's admin URL pointed at another database on it. */
export function urlForDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;

  return url.toString();
}
