export { createLogger, routeTenantLines } from "./logger.js";
export type { Logger, LoggerOptions } from "./logger.js";
export { logContextMiddleware, runWithLogContext, setLogRequestId } from "./log-context.js";
export { isSecretName, REDACTED, redactSecrets } from "./redact-secrets.js";
export {
  loggedMessage,
  MAX_ERROR_LINES_PER_REQUEST,
  RequestErrorLines,
} from "./request-error-lines.js";
export type { TenantLineSink } from "./tenant-line-router.js";
export { TenantLogFiles } from "./tenant-log-files.js";
export type { TenantLogFilesOptions, TenantLogProblem } from "./tenant-log-files.js";
export { erasedMarkerPath, rotatedLogPath, tenantLogPath } from "./tenant-log-path.js";
export { readErasure } from "./tenant-log-erasure.js";
export { LOG_LEVELS, TenantLogStore } from "./tenant-log-store.js";
export type { TenantLogExport, TenantLogLine, TenantLogStoreOptions } from "./tenant-log-store.js";
export { openTenantLogs } from "./tenant-logs.js";
export type { TenantLogs, TenantLogsOptions } from "./tenant-logs.js";
export { errorSubjectOf, markErrorSubject } from "./error-subject.js";
