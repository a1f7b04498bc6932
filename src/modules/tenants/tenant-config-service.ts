import { actorOf, recordPlatformAudit } from "../../audit/index.js";
import type { GatewayContext, TenantScope } from "../../context/gateway-context.js";
import { badInput, forbidden, GatewayError } from "../../errors/index.js";
import {
  openParts,
  readVersion,
  writeConfig,
  type ConfigEdit,
} from "../../tenant-config/config-store.js";
import {
  billingDetailsSchema,
  billingSchema,
  brandingSchema,
  limitsSchema,
  secretsSchema,
  settingsSchema,
  type DocumentName,
  type TenantBilling,
  type TenantBillingDetails,
  type TenantBranding,
  type TenantLimitsDocument,
  type TenantSecrets,
  type TenantSettings,
} from "../../tenant-config/document-schemas.js";
import type { TenantRecord } from "../../tenancy/tenant-registry.js";
import { parseInput } from "../common/parse-input.js";
import { requireText } from "../common/validate.js";
import { requireDocument } from "./json-document.js";
import type { UpdateTenantConfigInput } from "./tenant-types.js";

/** Documents a tenant admin edits; the rest (limits, billing) are for platform staff. */
const TENANT_EDITABLE: readonly DocumentName[] = ["settings", "branding"];
const ALL_DOCUMENTS: readonly DocumentName[] = ["settings", "branding", "limits", "billing"];

/** The documents the caller may change in this tenant. */
function editableDocuments(ctx: GatewayContext): readonly DocumentName[] {
  return ctx.access.isGlobalAdmin ? ALL_DOCUMENTS : TENANT_EDITABLE;
}

/** Splits a field off a document given as JSON: `{secrets, ...rest}`. */
function splitOff(document: Record<string, unknown>, key: string) {
  const { [key]: part, ...rest } = document;

  return { part, rest };
}

/** Secrets after a change: a name set to null is removed, others are set. */
function applySecrets(
  current: TenantSecrets,
  change: Record<string, string | null>,
): TenantSecrets {
  const next: Record<string, string> = { ...current };
  for (const [name, value] of Object.entries(change)) {
    if (value === null) delete next[name];
    else next[name] = value;
  }
  if (Object.keys(next).length > 32) {
    throw badInput("settings.secrets", "settings.secrets may hold at most 32 secrets.");
  }

  return next;
}

/** The checked contents of an update, before anything is read or written. */
interface CheckedUpdate {
  name?: string;
  settings?: TenantSettings;
  secrets?: Record<string, string | null>;
  branding?: TenantBranding;
  limits?: TenantLimitsDocument;
  billing?: TenantBilling;
  /** undefined: keep; null: remove. */
  billingDetails?: TenantBillingDetails | null;
}

/**
 * Checks every field of `input` against its schema, so a bad field saves
 * nothing. `settings.secrets` and `billing.details` are taken apart here:
 * they are stored sealed, and leaving them out keeps what is stored.
 */
function checkUpdate(input: UpdateTenantConfigInput): CheckedUpdate {
  const checked: CheckedUpdate = {};
  if (input.name != null) checked.name = requireText("name", input.name, 120);
  if (input.settings != null) {
    const { part, rest } = splitOff(requireDocument("settings", input.settings), "secrets");
    checked.settings = parseInput("settings", settingsSchema, rest);
    if (part !== undefined) checked.secrets = parseInput("settings.secrets", secretsSchema, part);
  }
  if (input.branding != null) {
    checked.branding = parseInput(
      "branding",
      brandingSchema,
      requireDocument("branding", input.branding),
    );
  }
  if (input.limits != null) {
    checked.limits = parseInput("limits", limitsSchema, requireDocument("limits", input.limits));
  }
  if (input.billing != null) {
    const { part, rest } = splitOff(requireDocument("billing", input.billing), "details");
    checked.billing = parseInput("billing", billingSchema, rest);
    if (part !== undefined) {
      checked.billingDetails =
        part === null ? null : parseInput("billing.details", billingDetailsSchema, part);
    }
  }

  return checked;
}

function documentsIn(input: UpdateTenantConfigInput): string[] {
  return (["name", ...ALL_DOCUMENTS] as const).filter((key) => input[key] != null);
}

/**
 * Replaces the documents named in `input` and records the result as a new
 * version. Tenant admins change name, settings and branding; limits and
 * billing are for platform staff. Every process forgets the old
 * configuration at once.
 */
export async function updateTenantConfig(
  ctx: GatewayContext,
  scope: TenantScope,
  input: UpdateTenantConfigInput,
): Promise<void> {
  const editable = editableDocuments(ctx);
  if (ALL_DOCUMENTS.some((name) => input[name] != null && !editable.includes(name))) {
    throw forbidden("Only platform administrators change limits and billing.");
  }
  const update = checkUpdate(input);

  const tenantId = scope.tenant.id;
  const actorId = actorOf(ctx.principal) ?? "unknown";
  const control = ctx.platform.database.control;
  const changesDocuments = documentsIn(input).some((key) => key !== "name");
  const edit: ConfigEdit = ({ documents, parts }) => ({
    documents: {
      settings: update.settings ?? documents.settings,
      branding: update.branding ?? documents.branding,
      limits: update.limits ?? documents.limits,
      billing: update.billing ?? documents.billing,
    },
    parts: {
      secrets: update.secrets ? applySecrets(parts.secrets, update.secrets) : parts.secrets,
      billingDetails:
        update.billingDetails === undefined ? parts.billingDetails : update.billingDetails,
    },
  });
  // The name goes with the documents, in their transaction: a refused
  // document leaves the name as it was.
  const version = changesDocuments
    ? await writeConfig(configStore(ctx), tenantId, edit, {
        actorId,
        action: "update",
        name: update.name,
      })
    : undefined;
  if (!changesDocuments && update.name) {
    await control.tenant.update({ where: { id: tenantId }, data: { name: update.name } });
  }

  await recordPlatformAudit(control, {
    actorId,
    action: "tenant.config.update",
    tenantId,
    detail: { documents: documentsIn(input), ...(version && { version }) },
  });
  await ctx.platform.events.publish({ kind: "tenant", tenantId });
}

/**
 * Brings back the documents of an earlier version, as a new version (the
 * history only grows). A tenant admin restores settings and branding; the
 * limits and billing of a restore by a tenant admin stay as they are.
 */
export async function restoreTenantConfig(
  ctx: GatewayContext,
  scope: TenantScope,
  version: number,
  requested: readonly DocumentName[] | null,
): Promise<number> {
  const editable = editableDocuments(ctx);
  const chosen = requested ?? editable;
  const refused = chosen.filter((name) => !editable.includes(name));
  if (refused.length > 0) {
    throw forbidden(`Only platform administrators restore ${refused.join(" and ")}.`);
  }
  if (chosen.length === 0) throw badInput("documents", "Name at least one document to restore.");

  const tenantId = scope.tenant.id;
  const control = ctx.platform.database.control;
  const past = await readVersion(control, tenantId, version);
  if (!past) {
    throw new GatewayError("NOT_FOUND", `The configuration has no version ${version}.`);
  }
  const store = configStore(ctx);
  const pastParts = await openParts(store.sealer, tenantId, past.sealed);
  const takes = (name: DocumentName) => chosen.includes(name);
  const actorId = actorOf(ctx.principal) ?? "unknown";
  const restored = await writeConfig(
    store,
    tenantId,
    ({ documents, parts }) => ({
      documents: {
        settings: takes("settings") ? past.documents.settings : documents.settings,
        branding: takes("branding") ? past.documents.branding : documents.branding,
        limits: takes("limits") ? past.documents.limits : documents.limits,
        billing: takes("billing") ? past.documents.billing : documents.billing,
      },
      parts: {
        secrets: takes("settings") ? pastParts.secrets : parts.secrets,
        billingDetails: takes("billing") ? pastParts.billingDetails : parts.billingDetails,
      },
    }),
    { actorId, action: "restore", restoredFrom: version },
  );

  await recordPlatformAudit(control, {
    actorId,
    action: "tenant.config.restore",
    tenantId,
    detail: { from: version, version: restored, documents: [...chosen] },
  });
  await ctx.platform.events.publish({ kind: "tenant", tenantId });

  return restored;
}

function configStore(ctx: GatewayContext) {
  return { control: ctx.platform.database.control, sealer: ctx.platform.keyring };
}

/** The tenant as it stands after an update. */
export async function reloadTenant(ctx: GatewayContext, tenantId: string): Promise<TenantRecord> {
  const tenant = await ctx.platform.registry.get(tenantId);
  if (!tenant) throw new Error(`tenant ${tenantId} vanished during an update`);

  return tenant;
}
