import { versionOf } from "./aead.js";
import { fieldContext } from "./contexts.js";
import type { MasterKeys } from "./master-keys.js";
import { createSecretBox, MASTER_SEALED_VERSION } from "./secret-box.js";
import { SecretTamperedError } from "./secret-tampered-error.js";

/**
 * Values sealed with the master key directly (`v1.`), as tenant connection
 * strings were before envelope encryption. They stay readable until
 * `npm run keys:rotate` reseals them with the tenant's data key.
 */

/** The registry column (and keyring field) of a DATABASE tenant's connection string. */
export const DATABASE_SECRET_FIELD = "databaseSecret";

/** The only fields that ever held master-sealed values; nothing else opens as one. */
export const LEGACY_SEALED_FIELDS: ReadonlySet<string> = new Set([DATABASE_SECRET_FIELD]);

export function isLegacySealed(sealed: string): boolean {
  return versionOf(sealed) === MASTER_SEALED_VERSION;
}

/**
 * Opens a master-sealed value with whichever known master key sealed it
 * (the format names none). {@link SecretTamperedError} when none does.
 */
export function openLegacySealed(
  masterKeys: MasterKeys,
  tenantId: string,
  field: string,
  sealed: string,
): string {
  const context = fieldContext(tenantId, field);
  let failure: unknown;
  for (const master of masterKeys.all) {
    try {
      return createSecretBox(master.key).open(sealed, context);
    } catch (error) {
      if (!(error instanceof SecretTamperedError)) throw error;
      failure = error;
    }
  }

  throw new SecretTamperedError(
    `The master-sealed ${field} of tenant "${tenantId}" opens with no master key this process has: it was altered, belongs elsewhere, or its key is not in ENCRYPTION_KEY / ENCRYPTION_KEY_PREVIOUS.`,
    { cause: failure },
  );
}
