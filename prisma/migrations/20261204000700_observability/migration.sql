-- What operators see: background jobs, per-tenant traffic in five-minute
-- windows, monthly usage for billing, error clusters and health probes.
-- Every counter table is written by additive upserts, so several gateway
-- processes sum to exact totals.
--
-- Every name is unqualified: this file runs in the control plane's schema,
-- in every tenant schema and in every tenant database (where the tables stay
-- empty). None is granted to ogc_tenant: tenant connections never read
-- control-plane rows.

-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED');

-- CreateTable
CREATE TABLE "BackgroundJob" (
    "id" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'QUEUED',
    "input" JSONB NOT NULL DEFAULT '{}',
    "result" JSONB,
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "maxAttempts" INTEGER NOT NULL DEFAULT 1,
    "requestedBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BackgroundJob_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TenantTraffic" (
    "tenantId" TEXT NOT NULL,
    "windowStart" TIMESTAMP(3) NOT NULL,
    "requests" INTEGER NOT NULL DEFAULT 0,
    "errors" INTEGER NOT NULL DEFAULT 0,
    "durationMsSum" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "latencyCounts" INTEGER[],

    CONSTRAINT "TenantTraffic_pkey" PRIMARY KEY ("tenantId","windowStart")
);

-- CreateTable
CREATE TABLE "TenantUsagePeriod" (
    "tenantId" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "requests" BIGINT NOT NULL DEFAULT 0,
    "errors" BIGINT NOT NULL DEFAULT 0,
    "queryCost" BIGINT NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TenantUsagePeriod_pkey" PRIMARY KEY ("tenantId","period")
);

-- CreateTable
CREATE TABLE "ErrorCluster" (
    "fingerprint" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "count" BIGINT NOT NULL DEFAULT 0,
    "firstSeen" TIMESTAMP(3) NOT NULL,
    "lastSeen" TIMESTAMP(3) NOT NULL,
    "sampleRequestIds" TEXT[],

    CONSTRAINT "ErrorCluster_pkey" PRIMARY KEY ("fingerprint")
);

-- CreateTable
CREATE TABLE "ErrorClusterTenant" (
    "fingerprint" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "count" BIGINT NOT NULL DEFAULT 0,
    "firstSeen" TIMESTAMP(3) NOT NULL,
    "lastSeen" TIMESTAMP(3) NOT NULL,
    "lastRequestId" TEXT NOT NULL,

    CONSTRAINT "ErrorClusterTenant_pkey" PRIMARY KEY ("fingerprint","tenantId")
);

-- CreateTable
CREATE TABLE "TenantHealthSample" (
    "tenantId" TEXT NOT NULL,
    "minute" TIMESTAMP(3) NOT NULL,
    "probes" INTEGER NOT NULL DEFAULT 0,
    "failures" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "TenantHealthSample_pkey" PRIMARY KEY ("tenantId","minute")
);

-- CreateIndex
CREATE INDEX "BackgroundJob_tenantId_createdAt_idx" ON "BackgroundJob"("tenantId", "createdAt");

-- CreateIndex
CREATE INDEX "BackgroundJob_status_createdAt_idx" ON "BackgroundJob"("status", "createdAt");

-- CreateIndex
CREATE INDEX "TenantTraffic_windowStart_idx" ON "TenantTraffic"("windowStart");

-- CreateIndex
CREATE INDEX "ErrorCluster_lastSeen_idx" ON "ErrorCluster"("lastSeen");

-- CreateIndex
CREATE INDEX "ErrorClusterTenant_tenantId_lastSeen_idx" ON "ErrorClusterTenant"("tenantId", "lastSeen");

-- CreateIndex
CREATE INDEX "TenantHealthSample_minute_idx" ON "TenantHealthSample"("minute");

-- AddForeignKey
ALTER TABLE "TenantTraffic" ADD CONSTRAINT "TenantTraffic_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TenantUsagePeriod" ADD CONSTRAINT "TenantUsagePeriod_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ErrorClusterTenant" ADD CONSTRAINT "ErrorClusterTenant_fingerprint_fkey" FOREIGN KEY ("fingerprint") REFERENCES "ErrorCluster"("fingerprint") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ErrorClusterTenant" ADD CONSTRAINT "ErrorClusterTenant_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TenantHealthSample" ADD CONSTRAINT "TenantHealthSample_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;
