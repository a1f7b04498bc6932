import { z } from "zod";
import { actorOf, recordPlatformAudit } from "../../audit/index.js";
import type { GatewayContext } from "../../context/gateway-context.js";
import { GatewayError } from "../../errors/index.js";
import type { FeatureFlag } from "../../features/feature-flag.js";
import { PLAN_NAMES } from "../../tenant-config/plans.js";
import { isTenantId } from "../../tenancy/index.js";
import { parseInput } from "../common/parse-input.js";
import { isPlainText } from "../common/validate.js";
import type { FeatureFlagInput, FeatureFlagType } from "./feature-types.js";

const FLAG_KEY = /^[a-z][a-z0-9-]{1,39}$/;
const CHANNEL = /^[a-z][a-z0-9-]{0,31}$/;

const flagInputSchema = z.strictObject({
  key: z
    .string()
    .regex(FLAG_KEY, "must be 2-40 lowercase letters, digits or '-', starting with a letter"),
  description: z
    .string()
    .trim()
    .max(200)
    .refine(isPlainText, "must not contain control or bidirectional control characters")
    .nullish(),
  enabledByDefault: z.boolean().nullish(),
  plans: z
    .array(z.enum(PLAN_NAMES as [string, ...string[]]))
    .max(PLAN_NAMES.length)
    .nullish(),
  releaseChannels: z
    .array(z.string().regex(CHANNEL, "must be a channel name like beta"))
    .max(10)
    .nullish(),
  rolloutPercent: z.int().min(0).max(100).nullish(),
});

/** A flag as the admin API shows it, with its overrides. */
export async function flagView(ctx: GatewayContext, flag: FeatureFlag): Promise<FeatureFlagType> {
  return {
    ...flag,
    plans: [...flag.plans],
    releaseChannels: [...flag.releaseChannels],
    overrides: await ctx.platform.features.overridesOfFlag(flag.key),
  };
}

/** The flag called `key`; NOT_FOUND when there is none. */
export async function flagNamed(ctx: GatewayContext, key: string): Promise<FeatureFlag> {
  const flag = (await ctx.platform.features.flags()).find((f) => f.key === key);
  if (!flag) throw new GatewayError("NOT_FOUND", `There is no feature flag "${key}".`);

  return flag;
}

/** Creates or changes a flag; every process hears of it at once. */
export async function setFeatureFlag(
  ctx: GatewayContext,
  input: FeatureFlagInput,
): Promise<FeatureFlag> {
  const given = parseInput("input", flagInputSchema, { ...input });
  const changes = {
    ...(given.description != null && { description: given.description }),
    ...(given.enabledByDefault != null && { enabledByDefault: given.enabledByDefault }),
    ...(given.plans != null && { plans: [...new Set(given.plans)] }),
    ...(given.releaseChannels != null && { releaseChannels: [...new Set(given.releaseChannels)] }),
    ...(given.rolloutPercent != null && { rolloutPercent: given.rolloutPercent }),
  };

  const control = ctx.platform.database.control;
  const flag = await control.featureFlag.upsert({
    where: { key: given.key },
    create: { key: given.key, plans: [], releaseChannels: [], ...changes },
    update: changes,
  });
  await recordPlatformAudit(control, {
    actorId: actorOf(ctx.principal),
    action: "feature.set",
    detail: { key: given.key, ...changes },
  });
  await ctx.platform.events.publish({ kind: "features" });

  return flag;
}

/**
 * Forces a flag on or off for one tenant, or (with `enabled` null) lets the
 * flag's rules decide again.
 */
export async function setTenantFeature(
  ctx: GatewayContext,
  tenantId: string,
  key: string,
  enabled: boolean | null,
): Promise<FeatureFlag> {
  if (!isTenantId(tenantId) || !(await ctx.platform.registry.get(tenantId))) {
    throw new GatewayError("TENANT_NOT_FOUND", `There is no tenant "${tenantId}".`);
  }
  const flag = await flagNamed(ctx, key);

  const control = ctx.platform.database.control;
  const where = { flagKey_tenantId: { flagKey: key, tenantId } };
  if (enabled === null) {
    await control.featureFlagOverride.deleteMany({ where: { flagKey: key, tenantId } });
  } else {
    await control.featureFlagOverride.upsert({
      where,
      create: { flagKey: key, tenantId, enabled },
      update: { enabled },
    });
  }
  await recordPlatformAudit(control, {
    actorId: actorOf(ctx.principal),
    action: "feature.override",
    tenantId,
    detail: { key, enabled },
  });
  await ctx.platform.events.publish({ kind: "features" });

  return flag;
}
