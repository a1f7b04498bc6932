-- Server-side failures per tenant and five-minute window: requests whose
-- answer held an error that is the platform's fault (INTERNAL_SERVER_ERROR),
-- not the client's. The health view's error rate and its `degraded` status
-- read this column; "errors" keeps counting requests with any error, for
-- the traffic chart.
--
-- Unqualified, like the migration that made the table: it runs in the
-- control plane's schema, in every tenant schema and in every tenant
-- database (where the table stays empty).

-- AlterTable
ALTER TABLE "TenantTraffic" ADD COLUMN "failures" INTEGER NOT NULL DEFAULT 0;
