import type { Database } from "../data/index.js";
import { TenantStatus } from "../generated/prisma/enums.js";
import type { Logger } from "../logging/index.js";
import { forEachLimited } from "../async/for-each-limited.js";

/** Longest wait for one tenant's answer before the probe counts as failed (ms). */
export const PROBE_TIMEOUT_MS = 5_000;

/** Tenants probed at the same time: a round must not take every pooled connection. */
const PROBES_AT_ONCE = 4;

export interface HealthProbesOptions {
  readonly database: Database;
  /** Between two rounds (ms); the first round runs one interval after start. */
  readonly intervalMs: number;
  /** Counts one probe's outcome. */
  readonly record: (tenantId: string, at: Date, ok: boolean) => void;
  /** Runs after each round (retention pruning); its failure is logged, not fatal. */
  readonly afterRound?: () => Promise<void>;
  readonly logger: Logger;
  readonly timeoutMs?: number;
}

/** A running probe loop; `stop` resolves when a round under way has ended. */
export interface HealthProbes {
  /** Runs one round now (or waits for the one under way). */
  runRound(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Whether the tenant's data location answers a trivial statement through
 * the tenant's own handle (its tier, its login, its fence) within `timeoutMs`.
 */
export async function probeTenant(
  database: Database,
  tenantId: string,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const answered = database.forTenant(tenantId).$queryRaw`SELECT 1`
    .then(() => true)
    .catch(() => false);
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Probes every ACTIVE tenant's data location every `intervalMs`, in each
 * gateway process: uptime is the share of all processes' probes that
 * answered. Rounds never overlap; a slow round delays the next.
 */
export function startHealthProbes(options: HealthProbesOptions): HealthProbes {
  const { database, record, logger } = options;
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  let current: Promise<void> | null = null;
  let stopped = false;

  const round = async () => {
    const tenants = await database.control.tenant.findMany({
      where: { status: TenantStatus.ACTIVE },
      select: { id: true },
    });
    await forEachLimited(tenants, PROBES_AT_ONCE, async ({ id }) => {
      if (stopped) return;
      const ok = await probeTenant(database, id, timeoutMs);
      record(id, new Date(), ok);
    });
    await options.afterRound?.();
  };
  const runRound = () => {
    current ??= round()
      .catch((err: unknown) => logger.warn({ err }, "health probe round failed"))
      .finally(() => {
        current = null;
      });

    return current;
  };
  const timer = setInterval(() => void runRound(), options.intervalMs);
  // Probes alone must not keep the process alive.
  timer.unref();

  return {
    runRound,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}
