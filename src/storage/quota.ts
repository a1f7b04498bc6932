import { badInput, GatewayError } from "../errors/index.js";
import type { TenantLimits } from "../tenant-config/plans.js";

/** What a file would add: its size, less the file of the same path it replaces. */
export interface QuotaClaim {
  /** Bytes the tenant's files take now. */
  readonly inUse: number;
  /**
   * Bytes of other uploads being received, counted whole even when they
   * replace a file (their bodies take that much disk until they end);
   * 0 by default.
   */
  readonly inFlight?: number;
  /** Bytes of the file the new one replaces (0 for a new path). */
  readonly replacing: number;
  readonly adding: number;
}

/** BAD_USER_INPUT naming `size` for a size the tenant may not upload in one file. */
export function checkUploadSize(limits: TenantLimits, size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw badInput("size", "size must be a whole number of bytes, 0 or more.");
  }
  if (size > limits.maxUploadBytes) {
    throw badInput(
      "size",
      `A single upload may be at most ${limits.maxUploadBytes} bytes; this one is ${size}.`,
    );
  }
}

/** QUOTA_EXCEEDED when the claim would take the tenant past its storage quota. */
export function checkQuota(limits: TenantLimits, claim: QuotaClaim): void {
  const taken = claim.inUse + (claim.inFlight ?? 0) - claim.replacing;
  if (taken + claim.adding <= limits.storageBytes) return;

  const free = Math.max(0, limits.storageBytes - taken);
  const { adding, inFlight } = claim;
  const quota = limits.storageBytes;
  const message = inFlight
    ? `This file needs ${adding} bytes; with ${inFlight} bytes of other uploads under way, only ${free} of your ${quota} bytes of storage are free. Wait for them to end, delete files, or ask for a larger plan.`
    : `This file needs ${adding} bytes, but only ${free} of your ${quota} bytes of storage are free. Delete files or ask for a larger plan.`;
  throw new GatewayError("QUOTA_EXCEEDED", message, { quotaBytes: quota, usedBytes: claim.inUse });
}
