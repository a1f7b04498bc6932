export { createSecretBox, MASTER_SEALED_VERSION, type SecretBox } from "./secret-box.js";
export { SecretTamperedError } from "./secret-tampered-error.js";
export { createMasterKeys, masterKeyIdOf, type MasterKey, type MasterKeys } from "./master-keys.js";
export {
  createTenantKeyring,
  ENVELOPE_VERSION,
  type TenantKeyring,
  type TenantKeyringOptions,
} from "./tenant-keyring.js";
export { DATABASE_SECRET_FIELD } from "./legacy-secrets.js";
export {
  rotateTenantKeys,
  type RotationFailure,
  type RotationOptions,
  type RotationReport,
} from "./key-rotation.js";
