export { openDatabase } from "./database.js";
export type { Database, DatabaseKind, DatabaseOptions } from "./database.js";
export { TENANT_DB_ROLE } from "./tenant-client.js";
export type { TenantClient, TenantTransaction } from "./tenant-client.js";
export { StatementCounter } from "./statement-counter.js";
export { isUniqueViolation } from "./prisma-errors.js";
