import { isIP } from "node:net";
import { z } from "zod";
import { isPlainText } from "../modules/common/validate.js";
import { KNOWN_MODULES, PLAN_NAMES } from "./plans.js";

/**
 * The four documents of a tenant's configuration, as zod schemas. Writes
 * are checked against the strict schemas (an unknown key is a typo and is
 * refused); stored rows are read back leniently, keeping what is valid.
 *
 * Two parts are sensitive and never stored in clear: `settings.secrets`
 * and `billing.details`. They travel in a sealed column of their own
 * (see config-store.ts); the clear documents here never hold them.
 */

const HEX_COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const LOCALE = /^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|\d{3}))?$/;

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const httpsUrl = z.url({ protocol: /^https$/, error: "must be an https:// URL" }).max(2_048);
/**
 * A webhook must go to a host on the public internet, named by DNS: an IP
 * literal, localhost or a private suffix could aim the gateway's own
 * requests at its network (169.254.169.254, 10.0.0.1). Names that resolve
 * to private addresses must still be refused when webhooks are delivered.
 */
function isPublicHostName(value: string): boolean {
  const host = new URL(value).hostname.toLowerCase();
  if (isIP(host.replace(/^\[|\]$/g, "")) !== 0) return false;
  if (!host.includes(".")) return false;

  return !/(^|\.)(localhost|local|internal|intranet|home|lan|corp)$/.test(host);
}

/** Text a person reads: trimmed, not empty, no control or bidi characters. */
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine(isPlainText, "must not contain control or bidirectional control characters");
const wholeNumber = (min: number, max: number) => z.int().min(min).max(max);

// ------------------------------------------------------------------ settings

export const settingsSchema = z.strictObject({
  locale: z.string().regex(LOCALE, "must be a locale like en or pt-BR").optional(),
  timezone: z
    .string()
    .max(64)
    .refine(isTimeZone, "must be an IANA time zone like Europe/Paris")
    .optional(),
  defaultDashboard: text(64).optional(),
  notifications: z
    .strictObject({
      email: z.boolean().optional(),
      digest: z.enum(["off", "daily", "weekly"]).optional(),
    })
    .optional(),
  webhooks: z
    .array(
      z.strictObject({
        url: httpsUrl.refine(isPublicHostName, "must name a public host, not an IP address"),
        events: z.array(text(64)).max(20),
      }),
    )
    .max(10)
    .optional(),
  /** Free-form values of the tenant's own (bounded in size and depth elsewhere). */
  custom: z.record(z.string().max(64), z.unknown()).optional(),
});

/** Named secrets (API keys, webhook signing keys): write-only, stored sealed. */
export const secretsSchema = z
  .record(
    z.string().regex(SECRET_NAME, "secret names are letters, digits, _ and -"),
    z.string().min(1).max(4_096).nullable(),
  )
  .refine((secrets) => Object.keys(secrets).length <= 32, "at most 32 secrets");

// ------------------------------------------------------------------ branding

export const brandingSchema = z.strictObject({
  displayName: text(120).optional(),
  primaryColor: z.string().regex(HEX_COLOR, "must be a colour like #3b5bdb").optional(),
  accentColor: z.string().regex(HEX_COLOR, "must be a colour like #3b5bdb").optional(),
  backgroundColor: z.string().regex(HEX_COLOR, "must be a colour like #3b5bdb").optional(),
  logoUrl: httpsUrl.optional(),
  faviconUrl: httpsUrl.optional(),
  supportEmail: z.email({ error: "must be an email address" }).max(254).optional(),
  loginMessage: text(500).optional(),
  theme: z.enum(["light", "dark", "system"]).optional(),
});

// ------------------------------------------------------------------ limits

export const limitsSchema = z.strictObject({
  requestsPerMinute: wholeNumber(1, 1_000_000).optional(),
  queryCostPerMinute: wholeNumber(1, 1_000_000_000).optional(),
  userRequestsPerMinute: wholeNumber(1, 1_000_000).optional(),
  anonymousRequestsPerMinute: wholeNumber(1, 1_000_000).optional(),
  userQueryCostPerMinute: wholeNumber(1, 1_000_000_000).optional(),
  storageBytes: wholeNumber(0, 1024 ** 4 * 16).optional(),
  maxUploadBytes: wholeNumber(1, 1024 ** 3 * 5).optional(),
  requestsPerMonth: wholeNumber(1, 1_000_000_000_000).optional(),
});

// ------------------------------------------------------------------ billing

export const billingDetailsSchema = z.strictObject({
  companyName: text(200).optional(),
  contactEmail: z.email({ error: "must be an email address" }).max(254).optional(),
  taxId: text(64).optional(),
  paymentReference: text(200).optional(),
  address: z
    .strictObject({
      line1: text(200),
      line2: text(200).optional(),
      city: text(100),
      postalCode: text(20).optional(),
      country: z.string().regex(/^[A-Z]{2}$/, "must be a two-letter country code"),
    })
    .optional(),
});

export const billingSchema = z.strictObject({
  plan: z.enum(PLAN_NAMES as [string, ...string[]]).optional(),
  status: z.enum(["trialing", "active", "past_due", "canceled"]).optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, "must be a currency code like EUR")
    .optional(),
  cycle: z.enum(["monthly", "yearly"]).optional(),
  /** Dashboard modules sold on top of the plan. */
  extraModules: z
    .array(z.enum(KNOWN_MODULES as [string, ...string[]]))
    .max(32)
    .optional(),
});

export type TenantSettings = z.infer<typeof settingsSchema>;
export type TenantBranding = z.infer<typeof brandingSchema>;
export type TenantLimitsDocument = z.infer<typeof limitsSchema>;
export type TenantBilling = z.infer<typeof billingSchema>;
export type TenantSecrets = Record<string, string>;
export type TenantBillingDetails = z.infer<typeof billingDetailsSchema>;

/** The clear part of a tenant's configuration, as every request sees it. */
export interface TenantConfigDocuments {
  readonly settings: TenantSettings;
  readonly branding: TenantBranding;
  readonly limits: TenantLimitsDocument;
  readonly billing: TenantBilling;
}

/** The sealed part: read only by those who may see it, and never cached. */
export interface SealedConfigParts {
  readonly secrets: TenantSecrets;
  readonly billingDetails: TenantBillingDetails | null;
}

export const DOCUMENT_SCHEMAS = {
  settings: settingsSchema,
  branding: brandingSchema,
  limits: limitsSchema,
  billing: billingSchema,
} as const;

export type DocumentName = keyof typeof DOCUMENT_SCHEMAS;

/**
 * Reads a stored document, keeping each top-level field that is valid on
 * its own and dropping the rest: rows written before a schema tightened
 * still load, and a broken field never takes its neighbours with it.
 */
export function readStoredDocument<N extends DocumentName>(
  name: N,
  stored: unknown,
): z.infer<(typeof DOCUMENT_SCHEMAS)[N]> {
  const schema = DOCUMENT_SCHEMAS[name];
  type Document = z.infer<(typeof DOCUMENT_SCHEMAS)[N]>;
  if (!stored || typeof stored !== "object" || Array.isArray(stored)) return {} as Document;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(stored)) {
    const field = schema.shape[key as keyof typeof schema.shape] as z.ZodType | undefined;
    if (field?.safeParse(value).success) kept[key] = value;
  }

  return kept as Document;
}
