import { createHash } from "node:crypto";
import type { Prisma } from "../generated/prisma/client.js";

/**
 * Upload links are single-use. The first upload through a link claims it
 * with a control-plane row (`UploadLinkClaim`), so a replay is refused in
 * any gateway process on the same database, before its body is read.
 */
type Claims = Pick<Prisma.TransactionClient, "uploadLinkClaim">;

/**
 * How long a claim outlives its link (1 h): a gateway whose clock runs
 * behind the one that removes claims still finds it while it would take
 * the link.
 */
export const CLAIM_GRACE_MS = 60 * 60 * 1_000;

/**
 * The row's key: a hash, so the database holds nothing that reads as a
 * signature of a live link.
 */
function keyOf(signature: string): string {
  return createHash("sha256").update(signature).digest("hex");
}

/**
 * Claims the link for the upload starting now; false when an upload
 * claimed it before. In a transaction that rolls back, the claim goes with
 * it and the link stays unused.
 */
export async function claimUploadLink(
  tx: Claims,
  tenantId: string,
  link: { readonly signature: string; readonly expires: number },
): Promise<boolean> {
  const { count } = await tx.uploadLinkClaim.createMany({
    data: [
      { signatureHash: keyOf(link.signature), tenantId, expiresAt: new Date(link.expires * 1000) },
    ],
    // ON CONFLICT DO NOTHING: a claim made first, here or elsewhere, wins.
    skipDuplicates: true,
  });

  return count === 1;
}

/** Removes claims of links expired over {@link CLAIM_GRACE_MS} ago; answers how many. */
export async function removeExpiredClaims(db: Claims, now = Date.now()): Promise<number> {
  const { count } = await db.uploadLinkClaim.deleteMany({
    where: { expiresAt: { lt: new Date(now - CLAIM_GRACE_MS) } },
  });

  return count;
}
