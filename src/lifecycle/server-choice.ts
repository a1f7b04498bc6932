import { chooseServer } from "../data/placement/database-servers.js";
import { badInput } from "../errors/index.js";
import { Isolation } from "../generated/prisma/enums.js";
import type { LifecycleServices } from "./lifecycle-services.js";
import { checkLabel } from "./request-checks.js";

export interface ServerWish {
  region: string;
  tier: string;
  /** A server named by id wins over the choice by region and tier. */
  server: string | null;
}

/**
 * The server a DATABASE tenant goes to: the one named, or the least loaded
 * one serving its region and tier. BAD_USER_INPUT when there is none.
 */
export async function pickServer(services: LifecycleServices, wish: ServerWish): Promise<string> {
  const { database } = services;
  if (database.servers.length === 0) {
    throw badInput(
      "isolation",
      "This gateway has no database servers for DATABASE tenants (the embedded database hosts none); use SHARED or SCHEMA.",
    );
  }
  if (wish.server) {
    if (!database.servers.some((s) => s.id === wish.server)) {
      const known = database.servers.map((s) => s.id).join(", ");
      throw badInput("server", `There is no database server "${wish.server}". Servers: ${known}.`);
    }
    return wish.server;
  }

  const counts = await database.control.tenant.groupBy({
    by: ["databaseServer"],
    where: { isolation: Isolation.DATABASE },
    _count: { _all: true },
  });
  const load = new Map(counts.map((c) => [c.databaseServer ?? "", c._count._all]));
  const server = chooseServer(database.servers, wish.region, wish.tier, load);
  if (!server) {
    const regions = [...new Set(database.servers.map((s) => s.region))].join(", ");
    throw badInput(
      "region",
      `No database server serves region "${wish.region}" for tier "${wish.tier}". Regions with servers: ${regions}.`,
    );
  }

  return server.id;
}

export interface PlacementWish {
  region?: string | null;
  server?: string | null;
  tier: string;
  /** The region when none is named, for DATABASE tenants (SHARED and SCHEMA live at home). */
  fallbackRegion: string;
}

/**
 * Where a tenant of `isolation` goes: its region and, for DATABASE, its
 * server. SHARED and SCHEMA tenants live in the control database, so their
 * region is the control plane's; a server names its own region. Anything
 * else asked for is refused, so the registry never records a region the
 * tenant's data is not in.
 */
export async function choosePlacement(
  services: LifecycleServices,
  isolation: Isolation,
  wish: PlacementWish,
): Promise<{ region: string; server: string | null }> {
  const home = services.region;
  const named = wish.region ? checkLabel("region", wish.region, home) : null;
  const serverId = wish.server ? checkLabel("server", wish.server, "primary") : null;

  if (isolation !== Isolation.DATABASE) {
    if (serverId) throw badInput("server", "server applies to DATABASE tenants only.");
    if (named && named !== home) {
      throw badInput(
        "region",
        `SHARED and SCHEMA tenants live in the control database's region "${home}"; use isolation DATABASE for region "${named}".`,
      );
    }
    return { region: home, server: null };
  }

  const server = await pickServer(services, {
    region: named ?? wish.fallbackRegion,
    tier: wish.tier,
    server: serverId,
  });
  const region = services.database.servers.find((s) => s.id === server)?.region ?? home;
  if (named && named !== region) {
    throw badInput("region", `Server "${server}" is in region "${region}", not "${named}".`);
  }

  return { region, server };
}
