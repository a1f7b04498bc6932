export { createEntityLoader, isEntityKey } from "./entity-loader.js";
export type { EntityLoaderSpec, LoaderMode, LoaderSource } from "./entity-loader.js";
