import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { issueDevelopmentToken } from "../auth/index.js";
import { loadConfig } from "../config/index.js";
import type { Isolation } from "../generated/prisma/enums.js";
import { provisionTenant } from "../lifecycle/provision.js";
import { createLogger } from "../logging/index.js";
import { newId } from "../modules/common/ids.js";
import { MEMBER_ROLE } from "../rbac/permissions.js";
import { createGateway, type Gateway } from "../server/gateway.js";
import { FLEET_TIERS, type FleetTenant } from "./tenant-fleet.js";

/** A provisioned tenant: what it must answer, and the token to ask with. */
export interface SeededTenant extends FleetTenant {
  readonly name: string;
  /** A plain member, the caller of every benchmark request to this tenant. */
  readonly callerId: string;
  readonly callerEmail: string;
  readonly challengeTitle: string;
  readonly score: number;
  readonly token: string;
}

/** What provisioning one tier cost. */
export interface TierProvisioning {
  readonly isolation: Isolation;
  readonly tenants: number;
  /** Wall time of the whole tier (ms). */
  readonly wallMs: number;
  /** Mean time of one `provisionTenant` call (ms). */
  readonly provisionMs: number;
  /** Mean time of writing one tenant's rows (ms). */
  readonly seedMs: number;
}

export interface ProvisioningSettings {
  /** The gateway environment (control database, servers, secrets, storage). */
  readonly env: Readonly<Record<string, string>>;
  /** Tenants provisioned at once. */
  readonly workers: number;
  readonly jwtSecret: string;
  readonly logLevel: string;
  /** Once aborted, no new tenant starts; those under way finish. */
  readonly signal: AbortSignal;
  readonly progress: (message: string) => void;
}

/** Connections of one provisioning gateway: few, since each runs one job at a time. */
const PROVISIONER_POOL_MAX = "2";

/**
 * A gateway that is never listened on, only used for its lifecycle services. Each one runs
 * its lifecycle jobs one after the other (see withLifecycleLock), so `workers` of them
 * provision `workers` tenants at once.
 */
function openProvisioner(settings: ProvisioningSettings): Promise<Gateway> {
  const config = loadConfig({ ...settings.env, DATABASE_POOL_MAX: PROVISIONER_POOL_MAX });

  return createGateway({
    config,
    logger: createLogger({ level: settings.logLevel, destination: pino.destination(2) }),
  });
}

/** One tenant: provisioned, then given a reader, a challenge and a submission. */
async function provisionOne(gateway: Gateway, tenant: FleetTenant, jwtSecret: string) {
  const name = `Bench tenant ${tenant.id}`;
  const started = performance.now();
  await provisionTenant(
    gateway.lifecycle,
    {
      id: tenant.id,
      name,
      isolation: tenant.isolation,
      region: tenant.region,
      adminEmail: `admin@${tenant.id}.test`,
    },
    "bench:tenants",
  );
  const provisioned = performance.now();

  const tenantId = tenant.id;
  const callerId = newId();
  const challengeId = newId();
  const seeded: Omit<SeededTenant, keyof FleetTenant | "token"> = {
    name,
    callerId,
    callerEmail: `reader@${tenantId}.test`,
    challengeTitle: `Challenge of ${tenantId}`,
    score: tenant.ordinal + 0.5,
  };
  await gateway.database.forTenant(tenantId).transaction(async (tx) => {
    await tx.user.create({
      data: { tenantId, id: callerId, email: seeded.callerEmail, name: `Reader ${tenantId}` },
    });
    await tx.roleAssignment.create({ data: { tenantId, userId: callerId, roleName: MEMBER_ROLE } });
    await tx.challenge.create({
      data: { tenantId, id: challengeId, title: seeded.challengeTitle },
    });
    await tx.submission.create({
      data: { tenantId, id: newId(), challengeId, authorId: callerId, score: seeded.score },
    });
  });
  const token = await issueDevelopmentToken(jwtSecret, {
    sub: callerId,
    tid: tenantId,
    expiresIn: "4h",
  });

  return {
    tenant: { ...tenant, ...seeded, token },
    provisionMs: provisioned - started,
    seedMs: performance.now() - provisioned,
  };
}

/** Runs `tenants` through the provisioners; the first failure stops the tier and is thrown. */
async function provisionTier(
  provisioners: Gateway[],
  tenants: FleetTenant[],
  settings: ProvisioningSettings,
  done: SeededTenant[],
) {
  let next = 0;
  let failure: unknown = null;
  let provisionMs = 0;
  let seedMs = 0;
  const started = performance.now();

  const worker = async (gateway: Gateway) => {
    while (next < tenants.length && failure === null && !settings.signal.aborted) {
      const tenant = tenants[next++] as FleetTenant;
      try {
        const result = await provisionOne(gateway, tenant, settings.jwtSecret);
        done.push(result.tenant);
        provisionMs += result.provisionMs;
        seedMs += result.seedMs;
      } catch (error) {
        failure ??= new Error(`Provisioning tenant ${tenant.id} failed.`, { cause: error });
      }
    }
  };
  await Promise.all(provisioners.map(worker));
  if (failure !== null) throw failure;

  const count = Math.max(1, tenants.length);
  return {
    wallMs: performance.now() - started,
    provisionMs: provisionMs / count,
    seedMs: seedMs / count,
  };
}

/**
 * Provisions and seeds the fleet tier by tier (so each tier's figures are its own), through
 * `settings.workers` gateways in this process. Answers the tenants in plan order. After a
 * failure or an abort it throws once the tenants under way are done; what was made is
 * found by its names (see tenantPrefixes) and removed by the caller's cleanup.
 */
export async function provisionFleet(
  plan: readonly FleetTenant[],
  settings: ProvisioningSettings,
): Promise<{ tenants: SeededTenant[]; tiers: TierProvisioning[] }> {
  const provisioners: Gateway[] = [];
  const done: SeededTenant[] = [];
  try {
    // One at a time: the first migrates the control database, the others find it done.
    for (let n = 0; n < Math.min(settings.workers, plan.length); n += 1) {
      provisioners.push(await openProvisioner(settings));
    }

    const tiers: TierProvisioning[] = [];
    for (const isolation of FLEET_TIERS) {
      const tenants = plan.filter((tenant) => tenant.isolation === isolation);
      if (tenants.length === 0) continue;
      settings.progress(`provisioning ${tenants.length} ${isolation} tenants`);
      const cost = await provisionTier(provisioners, tenants, settings, done);
      if (settings.signal.aborted) throw new Error("Provisioning was interrupted.");
      tiers.push({ isolation, tenants: tenants.length, ...cost });
    }

    return { tenants: done.sort((a, b) => a.ordinal - b.ordinal), tiers };
  } finally {
    await Promise.allSettled(provisioners.map((gateway) => gateway.stop()));
  }
}
