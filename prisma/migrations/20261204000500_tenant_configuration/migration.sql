-- Tenant configuration the gateway acts on: versioned documents with their
-- sensitive parts sealed, per-tenant data keys, feature flags, and the file
-- records that storage usage and quotas count.
--
-- Every name is unqualified: this file runs in the control plane's schema,
-- in every tenant schema and in every tenant database (where these tables
-- stay empty). None of them is granted to ogc_tenant: tenant connections
-- never read control-plane rows.

-- AlterTable
-- "sealed" holds settings.secrets and billing.details, encrypted with the
-- tenant's data key: a dump shows neither in clear.
ALTER TABLE "TenantConfig" ADD COLUMN "sealed" TEXT,
ADD COLUMN "version" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN "updatedBy" TEXT NOT NULL DEFAULT 'system';

-- CreateTable
CREATE TABLE "TenantConfigVersion" (
    "tenantId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "settings" JSONB NOT NULL,
    "branding" JSONB NOT NULL,
    "limits" JSONB NOT NULL,
    "billing" JSONB NOT NULL,
    "sealed" TEXT,
    "actorId" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "restoredFrom" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TenantConfigVersion_pkey" PRIMARY KEY ("tenantId","version")
);

-- CreateTable
CREATE TABLE "TenantKey" (
    "tenantId" TEXT NOT NULL,
    "wrappedKey" TEXT NOT NULL,
    "masterKeyId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "rotatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TenantKey_pkey" PRIMARY KEY ("tenantId")
);

-- CreateTable
CREATE TABLE "FeatureFlag" (
    "key" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "enabledByDefault" BOOLEAN NOT NULL DEFAULT false,
    "plans" TEXT[],
    "releaseChannels" TEXT[],
    "rolloutPercent" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FeatureFlag_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "FeatureFlagOverride" (
    "flagKey" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FeatureFlagOverride_pkey" PRIMARY KEY ("flagKey","tenantId")
);

-- CreateTable
CREATE TABLE "StoredFile" (
    "tenantId" TEXT NOT NULL,
    "area" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "contentType" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StoredFile_pkey" PRIMARY KEY ("tenantId","area","path")
);

-- CreateIndex
CREATE INDEX "TenantKey_masterKeyId_idx" ON "TenantKey"("masterKeyId");

-- CreateIndex
CREATE INDEX "FeatureFlagOverride_tenantId_idx" ON "FeatureFlagOverride"("tenantId");

-- AddForeignKey
ALTER TABLE "TenantConfigVersion" ADD CONSTRAINT "TenantConfigVersion_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TenantKey" ADD CONSTRAINT "TenantKey_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FeatureFlagOverride" ADD CONSTRAINT "FeatureFlagOverride_flagKey_fkey" FOREIGN KEY ("flagKey") REFERENCES "FeatureFlag"("key") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FeatureFlagOverride" ADD CONSTRAINT "FeatureFlagOverride_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StoredFile" ADD CONSTRAINT "StoredFile_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- MoveToFlags
-- Features and modules used to be lists in settings. Features are flags now,
-- and modules follow from the plan (src/config-documents/plans.ts).
UPDATE "TenantConfig" SET "settings" = "settings" - 'features' - 'modules';

-- RecordFirstVersion
INSERT INTO "TenantConfigVersion"
    ("tenantId", "version", "settings", "branding", "limits", "billing", "actorId", "action")
SELECT "tenantId", 1, "settings", "branding", "limits", "billing", 'system', 'provision'
FROM "TenantConfig";

-- SeedFlags
-- The features the gateway gates, on for everyone, and two that show how
-- plans and release channels switch a feature on.
INSERT INTO "FeatureFlag"
    ("key", "description", "enabledByDefault", "plans", "releaseChannels", "rolloutPercent")
VALUES
    ('dashboards', 'Dashboards and their modules.', true, '{}', '{}', 0),
    ('challenges', 'Challenges and submissions.', true, '{}', '{}', 0),
    ('storage', 'File storage through signed URLs.', true, '{}', '{}', 0),
    ('ai-insights', 'AI insights on dashboards.', false, '{enterprise}', '{}', 0),
    ('live-leaderboard', 'Leaderboards that update live.', false, '{}', '{beta}', 0);
