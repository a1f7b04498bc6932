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
