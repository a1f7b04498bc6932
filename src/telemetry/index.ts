export { createTelemetry, type Telemetry, type TelemetryOptions } from "./telemetry.js";
export { probeTenant } from "./health-probes.js";
export {
  LATENCY_BOUNDS_MS,
  LATENCY_BUCKETS,
  addHistogram,
  bucketOf,
  emptyHistogram,
  quantileOf,
} from "./latency-buckets.js";
export { fingerprintOf, normaliseMessage, type ErrorShape } from "./error-fingerprint.js";
export { isServerFailure, SERVER_FAILURE_CODES } from "./server-failures.js";
export { periodOf, TRAFFIC_WINDOW_MS, windowStart } from "./time-windows.js";
