import type { Prisma } from "../generated/prisma/client.js";
import { readStoredDocument, type TenantConfigDocuments } from "./document-schemas.js";
import { DEFAULT_PLAN, PLANS } from "./plans.js";

/** The configuration a freshly provisioned tenant receives: its plan's defaults. */
export function defaultConfig(name: string, tier: string): TenantConfigDocuments {
  const plan = tier === "enterprise" && PLANS.enterprise ? "enterprise" : DEFAULT_PLAN;

  return {
    settings: {},
    branding: { displayName: name, primaryColor: "#3b5bdb" },
    limits: {},
    billing: { plan, status: "active" },
  };
}

/** The documents as Prisma JSON columns. */
export function configColumns(config: TenantConfigDocuments) {
  return {
    settings: config.settings as Prisma.InputJsonObject,
    branding: config.branding as Prisma.InputJsonObject,
    limits: config.limits as Prisma.InputJsonObject,
    billing: config.billing as Prisma.InputJsonObject,
  };
}

/** Reads a stored TenantConfig row; what no longer fits its schema reads as absent. */
export function readConfig(
  row: { settings: unknown; branding: unknown; limits: unknown; billing: unknown } | null,
): TenantConfigDocuments {
  return {
    settings: readStoredDocument("settings", row?.settings),
    branding: readStoredDocument("branding", row?.branding),
    limits: readStoredDocument("limits", row?.limits),
    billing: readStoredDocument("billing", row?.billing),
  };
}
