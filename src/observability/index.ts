export { createMetrics } from "./metrics.js";
export type { Metrics, MetricsOptions } from "./metrics.js";
export { BUILT_IN_OPERATIONS, MAX_EXTRA_OPERATIONS } from "./known-operations.js";
export { NO_TENANT, REFUSED_TENANT } from "./request-metrics.js";
