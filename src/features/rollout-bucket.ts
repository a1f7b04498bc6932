import { createHash } from "node:crypto";

/**
 * Where a tenant falls in a flag's rollout: a number from 0 to 99, the same
 * on every process and every day, from a hash of the flag and tenant ids.
 * A rollout of N% holds the tenants whose bucket is below N, so raising it
 * only adds tenants: the first 10% stay in when it becomes 20%. The flag's
 * key is part of the hash, so each flag picks a different first 10%.
 */
export function rolloutBucket(flagKey: string, tenantId: string): number {
  const digest = createHash("sha256").update(`${flagKey}\u0000${tenantId}`).digest();

  // A 32-bit number's remainder by 100 is uneven by less than one in 40 million.
  return digest.readUInt32BE(0) % 100;
}
