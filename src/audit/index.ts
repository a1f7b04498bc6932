export { recordTenantAudit, recordPlatformAudit, actorOf } from "./audit-log.js";
export type { AuditEntry } from "./audit-log.js";
export { staffAuditPlugin } from "./staff-audit-plugin.js";
