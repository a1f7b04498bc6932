import { rolloutBucket } from "./rollout-bucket.js";

/** A flag's rules, as stored in the control plane's FeatureFlag table. */
export interface FeatureFlag {
  readonly key: string;
  readonly description: string;
  readonly enabledByDefault: boolean;
  /** Plans whose tenants have the flag. */
  readonly plans: readonly string[];
  /** Release channels whose tenants have the flag. */
  readonly releaseChannels: readonly string[];
  /** 0–100: the share of tenants, by stable hash, that have the flag. */
  readonly rolloutPercent: number;
}

/** What a flag is judged on for one tenant. */
export interface FlagSubject {
  readonly tenantId: string;
  readonly plan: string;
  readonly releaseChannel: string;
}

/** Why a flag is on or off for a tenant; shown to staff next to the answer. */
export type FlagReason = "override" | "default" | "plan" | "channel" | "rollout" | "none";

export interface FlagDecision {
  readonly enabled: boolean;
  readonly reason: FlagReason;
}

/**
 * Decides a flag for one tenant. A per-tenant override wins either way;
 * otherwise any rule that includes the tenant switches the flag on.
 */
export function decideFlag(
  flag: FeatureFlag,
  subject: FlagSubject,
  override: boolean | undefined,
): FlagDecision {
  if (override !== undefined) return { enabled: override, reason: "override" };
  if (flag.enabledByDefault) return { enabled: true, reason: "default" };
  if (flag.plans.includes(subject.plan)) return { enabled: true, reason: "plan" };
  if (flag.releaseChannels.includes(subject.releaseChannel)) {
    return { enabled: true, reason: "channel" };
  }
  if (rolloutBucket(flag.key, subject.tenantId) < flag.rolloutPercent) {
    return { enabled: true, reason: "rollout" };
  }

  return { enabled: false, reason: "none" };
}

/** What a caller is told when a feature it uses is off for its tenant. */
export function featureDisabledMessage(key: string): string {
  return `The ${key} feature is not enabled for this organization.`;
}
