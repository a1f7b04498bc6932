import { sweepIncoming } from "../storage/index.js";
import { sweepLeftCopies } from "./left-copies.js";
import type { LifecycleServices } from "./lifecycle-services.js";
import { settleInterruptedMoves } from "./move-tenant.js";

/** Between two rounds of upkeep (ms). */
export const UPKEEP_INTERVAL_MS = 30_000;

/** A running upkeep; `stop` resolves when a round under way has ended. */
export interface Upkeep {
  stop(): Promise<void>;
}

/**
 * Background repair of what crashed processes leave, in every running
 * gateway: a round at start and then every {@link UPKEEP_INTERVAL_MS}
 * settles moves left half-done (a fenced tenant is otherwise down on every
 * process until someone acts), and removes old copies a move switched away
 * from but never dropped, and partial uploads a dead process left on disk.
 * Start-up never waits for it, and a tenant whose
 * lifecycle lock is held is left for the next round.
 */
export function startUpkeep(services: LifecycleServices, intervalMs = UPKEEP_INTERVAL_MS): Upkeep {
  let current: Promise<void> | null = null;
  const round = () => {
    current ??= (async () => {
      try {
        await settleInterruptedMoves(services);
        await sweepLeftCopies(services);
        await sweepStorage(services);
      } catch (err) {
        services.logger.error({ err }, "tenant upkeep round failed");
      } finally {
        current = null;
      }
    })();
  };
  round();
  const timer = setInterval(round, intervalMs);
  // Upkeep alone must not keep the process alive.
  timer.unref();

  return {
    stop: async () => {
      clearInterval(timer);
      await current;
    },
  };
}

async function sweepStorage(services: LifecycleServices): Promise<void> {
  const tenants = await services.database.control.tenant.findMany({
    select: { id: true, storageBucket: true },
  });
  // Tenant by tenant, so that each line names one tenant only.
  for (const tenant of tenants) {
    const removed = await sweepIncoming(services.storage, [tenant]);
    if (removed > 0) {
      services.logger
        .child({ tenantId: tenant.id })
        .info({ removed }, "removed partial uploads left on disk");
    }
  }
}
