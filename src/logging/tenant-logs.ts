import type { Logger } from "./logger.js";
import { routeTenantLines } from "./logger.js";
import { TenantLogFiles, type TenantLogProblem } from "./tenant-log-files.js";
import { TenantLogStore } from "./tenant-log-store.js";

export interface TenantLogsOptions {
  /** `file`: every tenant's lines also go to its own file; `off`: standard output only. */
  readonly mode: "file" | "off";
  /** Directory of the files (`TENANT_LOG_DIR`). */
  readonly directory: string;
  /** The gateway's root logger, whose family's tenant lines are routed. */
  readonly logger: Logger;
  /** Most files held open at once (default 64). */
  readonly maxOpenFiles?: number;
  /** Size past which a tenant's file is rotated to `<tenantId>.log.1` (`TENANT_LOG_MAX_BYTES`, default 256 MiB). */
  readonly maxFileBytes?: number;
  /** Most bytes waiting in memory across tenants (default 8 MiB). */
  readonly maxBufferedBytes?: number;
  /** Most bytes one tenant may have waiting in memory (default 1 MiB). */
  readonly maxBufferedBytesPerTenant?: number;
}

/** A gateway's per-tenant logs: the store admin views read, and the writer's stop. */
export interface TenantLogs {
  readonly store: TenantLogStore;
  /** Writes what is queued and stops routing; lines written later go to standard output only. */
  close(): Promise<void>;
}

/**
 * Starts routing the tenant lines of `logger` to a file per tenant (unless
 * the mode is `off`). Either way the answer's store reads, exports and
 * erases the files there are, so removing a tenant also removes the file
 * an earlier run left.
 */
export function openTenantLogs(options: TenantLogsOptions): TenantLogs {
  if (options.mode === "off") {
    return { store: new TenantLogStore({ directory: options.directory }), close: async () => {} };
  }

  const files = new TenantLogFiles({
    directory: options.directory,
    maxOpenFiles: options.maxOpenFiles,
    maxFileBytes: options.maxFileBytes,
    maxBufferedBytes: options.maxBufferedBytes,
    maxBufferedBytesPerTenant: options.maxBufferedBytesPerTenant,
    onProblem: (problem) => reportProblem(options.logger, problem),
  });
  const detach = routeTenantLines(options.logger, files);

  return {
    store: new TenantLogStore({ directory: options.directory, files }),
    close: async () => {
      detach();
      await files.close();
    },
  };
}

/**
 * A line about the files themselves names no request. A failed write goes
 * to standard output only; dropped lines are reported to the tenant they
 * belonged to, so its own file says where lines are missing.
 */
function reportProblem(logger: Logger, problem: TenantLogProblem): void {
  switch (problem.kind) {
    case "write-failed":
      logger.warn(
        { err: problem.error, tenantLogOf: problem.tenantId },
        "could not write a tenant's log file; its lines of this flush are lost",
      );
      return;
    case "lines-dropped":
      logger
        .child({ tenantId: problem.tenantId })
        .warn(
          { lines: problem.lines },
          "tenant log lines dropped: more were waiting than the buffer holds",
        );
      return;
    default: {
      const unknown: never = problem;
      throw new Error(`unhandled tenant log problem ${JSON.stringify(unknown)}`);
    }
  }
}
