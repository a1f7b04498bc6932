import { describe, expect, it } from "vitest";
import { decideFlag, type FeatureFlag } from "../../src/features/feature-flag.js";
import { rolloutBucket } from "../../src/features/rollout-bucket.js";

const tenants = Array.from({ length: 2_000 }, (_, i) => `tenant-${i.toString(36)}x`);

function flag(overrides: Partial<FeatureFlag> = {}): FeatureFlag {
  return {
    key: "new-editor",
    description: "",
    enabledByDefault: false,
    plans: [],
    releaseChannels: [],
    rolloutPercent: 0,
    ...overrides,
  };
}

const subject = (tenantId: string, plan = "starter", releaseChannel = "stable") => ({
  tenantId,
  plan,
  releaseChannel,
});

function enabledAt(percent: number, key = "new-editor"): Set<string> {
  const rollout = flag({ key, rolloutPercent: percent });

  return new Set(tenants.filter((id) => decideFlag(rollout, subject(id), undefined).enabled));
}

describe("percentage rollouts", () => {
  it("gives a tenant the same bucket every time", () => {
    expect(tenants.map((id) => rolloutBucket("new-editor", id))).toEqual(
      tenants.map((id) => rolloutBucket("new-editor", id)),
    );
  });

  it("keeps the first 10% when the rollout grows to 20%, 50% and 100%", () => {
    const at10 = enabledAt(10);
    const at20 = enabledAt(20);
    const at50 = enabledAt(50);

    expect([...at10].filter((id) => !at20.has(id))).toEqual([]);
    expect([...at20].filter((id) => !at50.has(id))).toEqual([]);
    expect(enabledAt(100).size).toBe(tenants.length);
    expect(enabledAt(0).size).toBe(0);
  });

  it("includes about the share asked for", () => {
    // 2,000 tenants at 10%: 200 expected; ±60 is more than four standard deviations.
    expect(enabledAt(10).size).toBeGreaterThan(140);
    expect(enabledAt(10).size).toBeLessThan(260);
    expect(enabledAt(50).size).toBeGreaterThan(880);
    expect(enabledAt(50).size).toBeLessThan(1_120);
  });

  it("picks a different first 10% for each flag", () => {
    const one = enabledAt(10, "flag-one");
    const other = enabledAt(10, "flag-two");
    const shared = [...one].filter((id) => other.has(id));

    // Independent picks share about 1% of tenants, not 10%.
    expect(shared.length).toBeLessThan(one.size / 2);
  });
});

describe("deciding a flag for a tenant", () => {
  it("switches it on for the plans named", () => {
    const byPlan = flag({ plans: ["enterprise"] });

    expect(decideFlag(byPlan, subject("t-one", "enterprise"), undefined)).toEqual({
      enabled: true,
      reason: "plan",
    });
    expect(decideFlag(byPlan, subject("t-one", "starter"), undefined).enabled).toBe(false);
  });

  it("switches it on for the release channels named", () => {
    const byChannel = flag({ releaseChannels: ["beta"] });

    expect(decideFlag(byChannel, subject("t-one", "starter", "beta"), undefined)).toEqual({
      enabled: true,
      reason: "channel",
    });
    expect(decideFlag(byChannel, subject("t-one", "starter", "stable"), undefined).enabled).toBe(
      false,
    );
  });

  it("lets a tenant override win either way", () => {
    const everyone = flag({ enabledByDefault: true });
    const nobody = flag();

    expect(decideFlag(everyone, subject("t-one"), false)).toEqual({
      enabled: false,
      reason: "override",
    });
    expect(decideFlag(nobody, subject("t-one"), true)).toEqual({
      enabled: true,
      reason: "override",
    });
  });
});
