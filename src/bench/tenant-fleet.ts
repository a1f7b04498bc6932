import { Isolation } from "../generated/prisma/enums.js";

/**
 * The tenants of one scale benchmark run: their ids, tiers and servers, decided before
 * anything is created, so an interrupted run still knows every name it may have made.
 */

/** Where a tenant's rows live: the run's control database, or one of the two servers. */
export type FleetServer = "control" | "primary" | "second";

/** One planned tenant. */
export interface FleetTenant {
  readonly id: string;
  /** Its place in the plan, from 1: makes its seeded score unique. */
  readonly ordinal: number;
  readonly isolation: Isolation;
  /** Region asked for: `eu` sends a DATABASE tenant to the second server. */
  readonly region: string;
  readonly server: FleetServer;
}

/** How many tenants of each tier. */
export interface FleetSize {
  readonly shared: number;
  readonly schema: number;
  readonly database: number;
}

/** The tiers in report order. */
export const FLEET_TIERS = [Isolation.SHARED, Isolation.SCHEMA, Isolation.DATABASE] as const;

/** A run's tag: `tb` and six hex digits. It starts every name the run gives. */
export const RUN_TAG = /^tb[0-9a-f]{6}$/;

/** What a run tagged `tag` names, so its leftovers can be found even after a crash. */
export interface RunNames {
  /** The scratch database on each server. */
  readonly scratch: string;
  /** Prefix of its tenant databases (`ogc_tenant_<tag>_…`). */
  readonly database: string;
  /** Prefix of their login roles (`ogc_login_<tag>_…`). */
  readonly login: string;
  /** Prefix of its storage directory in the temporary directory. */
  readonly storage: string;
}

/** The names of a run; the tag starts every tenant id, so the tenants' names follow. */
export function runNames(tag: string): RunNames {
  return {
    scratch: `ogc_bench_${tag}`,
    database: `ogc_tenant_${tag}_`,
    login: `ogc_login_${tag}_`,
    storage: `ogc-tenant-bench-${tag}-`,
  };
}

function tierTenants(tag: string, isolation: Isolation, count: number) {
  const word = { SHARED: "shared", SCHEMA: "schema", DATABASE: "db" }[isolation];

  return Array.from({ length: count }, (_, n) => {
    const id = `${tag}-${word}-${String(n + 1).padStart(4, "0")}`;
    // DATABASE tenants alternate between the servers: half in `local`, half in `eu`.
    const eu = isolation === Isolation.DATABASE && n % 2 === 1;
    const server: FleetServer =
      isolation !== Isolation.DATABASE ? "control" : eu ? "second" : "primary";

    // Spread each tier evenly over the plan, so round-robin mixes the tiers.
    return { id, isolation, region: eu ? "eu" : "local", server, position: (n + 0.5) / count };
  });
}

/** Every tenant of a run tagged `tag`, the tiers interleaved evenly. */
export function planFleet(tag: string, size: FleetSize): FleetTenant[] {
  const all = [
    ...tierTenants(tag, Isolation.SHARED, size.shared),
    ...tierTenants(tag, Isolation.SCHEMA, size.schema),
    ...tierTenants(tag, Isolation.DATABASE, size.database),
  ];
  // A stable sort keeps SHARED before SCHEMA before DATABASE at equal positions.
  all.sort((a, b) => a.position - b.position);

  return all.map(({ position: _position, ...tenant }, index) => ({
    ...tenant,
    ordinal: index + 1,
  }));
}
