import { chooseServer } from "../data/placement/database-servers.js";
import { badInput } from "../errors/index.js";
import { Isolation } from "../generated/prisma/enums.js";
import type { LifecycleServices } from "./lifecycle-services.js";

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
