/**
 * The four JSON documents of a tenant's configuration. Issue-level schemas
 * and versioning grow here; today the gateway reads the fields below.
 */
export interface TenantConfigDocuments {
  readonly settings: TenantSettings;
  readonly branding: Readonly<Record<string, unknown>>;
  readonly limits: Readonly<Record<string, unknown>>;
  readonly billing: TenantBilling;
}

export interface TenantSettings {
  /** Feature flags switched on for the tenant. */
  readonly features?: readonly string[];
  /** Dashboard modules the tenant may place on dashboards. */
  readonly modules?: readonly string[];
  readonly [key: string]: unknown;
}

export interface TenantBilling {
  readonly plan?: string;
  readonly [key: string]: unknown;
}

/** Dashboard modules every new tenant starts with. */
export const DEFAULT_MODULES = ["overview", "leaderboard", "activity", "submissions"] as const;

export const DEFAULT_FEATURES = ["dashboards", "challenges"] as const;

/** The configuration a freshly provisioned tenant receives. */
export function defaultConfig(name: string, tier: string): TenantConfigDocuments {
  return {
    settings: { features: [...DEFAULT_FEATURES], modules: [...DEFAULT_MODULES] },
    branding: { displayName: name, primaryColor: "#3b5bdb" },
    limits: { requestsPerMinute: 600 },
    billing: { plan: tier === "enterprise" ? "enterprise" : "starter" },
  };
}

function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function asStrings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : undefined;
}

/** Reads stored JSON defensively: a malformed document reads as empty. */
export function readConfig(
  row: {
    settings: unknown;
    branding: unknown;
    limits: unknown;
    billing: unknown;
  } | null,
): TenantConfigDocuments {
  const settings = asObject(row?.settings);
  const billing = asObject(row?.billing);

  return {
    settings: {
      ...settings,
      features: asStrings(settings.features) ?? [],
      modules: asStrings(settings.modules) ?? [],
    },
    branding: asObject(row?.branding),
    limits: asObject(row?.limits),
    billing: { ...billing, plan: typeof billing.plan === "string" ? billing.plan : undefined },
  };
}
