/**
 * A sealed value (or a wrapped data key) that failed to open: altered,
 * moved to another tenant or field, in an unknown format, or sealed under a
 * key this process does not have. Nothing is ever decrypted into garbage.
 */
export class SecretTamperedError extends Error {
  override name = "SecretTamperedError";
}
