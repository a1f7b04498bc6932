export {
  DEFAULT_BUCKET,
  STORAGE_AREAS,
  StorageLayout,
  type StorageArea,
} from "./storage-layout.js";
export {
  MAX_PATH_BYTES,
  parseStoragePath,
  parseStorageSegments,
  type StoragePath,
} from "./storage-path.js";
export { UrlSigner, type LinkClaims } from "./url-signer.js";
export { linkUrl, readLink, STORAGE_ROUTE, type RequestedLink } from "./storage-links.js";
export {
  StorageService,
  type LinkVerdict,
  type SignedLink,
  type StorageServiceOptions,
  type StorageTenant,
  type StorageUsage,
  type UploadRequest,
} from "./storage-service.js";
export type { AreaUsage, FileRecord } from "./file-ledger.js";
export {
  StoragePathConflictError,
  UnsafeStoragePathError,
  UploadSizeError,
  UsedUploadLinkError,
} from "./storage-errors.js";
export { checkContent } from "./content-check.js";
export { CLAIM_GRACE_MS, removeExpiredClaims } from "./link-claims.js";
export { INCOMING_MAX_AGE_MS, sweepIncoming } from "./incoming-sweep.js";
