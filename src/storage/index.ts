export {
  DEFAULT_BUCKET,
  STORAGE_AREAS,
  StorageLayout,
  type StorageArea,
} from "./storage-layout.js";
