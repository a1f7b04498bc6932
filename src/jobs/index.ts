/**
 * Background jobs: provision, move, export and migrate tenants on a queue
 * (BullMQ on Redis, or in process), with their `BackgroundJob` records.
 * The only way into this folder.
 */
export { createJobService } from "./job-service.js";
export type { JobService, JobServiceOptions } from "./job-service.js";
export { JobKind, isJobKind } from "./job-kinds.js";
export type { JobRequest, JobResults, ProvisionJobResult } from "./job-kinds.js";
export type { MigrationSelection } from "./job-requests.js";
export { failedField, type JobFailure } from "./job-failure.js";
export { findJob, listJobs, tenantEpoch, type JobFilter, type JobRow } from "./job-store.js";
