-- Upload links are single-use: the first upload through a link claims it
-- with a row here, keyed by the SHA-256 of the link's signature, and every
-- later upload through it is refused, in any gateway process. A row outlives
-- its link by an hour and is then removed.
--
-- Every name is unqualified: this file runs in the control plane's schema,
-- in every tenant schema and in every tenant database (where the table stays
-- empty). It is not granted to ogc_tenant: tenant connections never read
-- control-plane rows.

-- CreateTable
CREATE TABLE "UploadLinkClaim" (
    "signatureHash" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UploadLinkClaim_pkey" PRIMARY KEY ("signatureHash")
);

-- CreateIndex
CREATE INDEX "UploadLinkClaim_expiresAt_idx" ON "UploadLinkClaim"("expiresAt");

-- CreateIndex
CREATE INDEX "UploadLinkClaim_tenantId_idx" ON "UploadLinkClaim"("tenantId");

-- AddForeignKey
ALTER TABLE "UploadLinkClaim" ADD CONSTRAINT "UploadLinkClaim_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;
