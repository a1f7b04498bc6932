import { bytesInUse, findFile, withStorageLock } from "./file-ledger.js";
import type { TransferDependencies, UploadTarget } from "./file-transfer.js";
import { claimUploadLink } from "./link-claims.js";
import { checkQuota } from "./quota.js";
import { UsedUploadLinkError } from "./storage-errors.js";
import type { Reservation } from "./uploads-in-flight.js";

/**
 * Admits an upload before a byte of its body is read, under the tenant's
 * storage lock:
 *
 * 1. the link is claimed: it stores one file, and every later upload
 *    through it is refused ({@link UsedUploadLinkError});
 * 2. the tenant's recorded usage, the bytes of the uploads this process is
 *    receiving for it, and this upload's size (less the file it replaces)
 *    must fit the quota (QUOTA_EXCEEDED); the size then counts as in
 *    flight until the upload releases it.
 *
 * A refusal rolls the claim back: the link is spent only once its body
 * starts to arrive. An upload releases its bytes inside the lock of the
 * transaction that records it (see storeUpload), so no admission sees
 * them neither recorded nor in flight.
 */
export async function admitUpload(
  deps: TransferDependencies,
  target: UploadTarget,
  link: { readonly signature: string; readonly expires: number },
): Promise<Reservation> {
  const { tenantId, area, path } = target;
  // Kept outside: a commit that fails after the reservation must release it.
  const held: { reservation?: Reservation } = {};

  try {
    return await withStorageLock(deps.control, tenantId, async (tx) => {
      if (!(await claimUploadLink(tx, tenantId, link))) throw new UsedUploadLinkError();
      const inUse = await bytesInUse(tx, tenantId);
      const existing = await findFile(tx, tenantId, area, path.text);

      // No await from here on: the check and the reservation are one step.
      checkQuota(target.limits, {
        inUse,
        inFlight: deps.uploads.of(tenantId),
        replacing: existing?.bytes ?? 0,
        adding: target.size,
      });
      held.reservation = deps.uploads.reserve(tenantId, target.size);
      return held.reservation;
    });
  } catch (error) {
    held.reservation?.release();
    throw error;
  }
}
