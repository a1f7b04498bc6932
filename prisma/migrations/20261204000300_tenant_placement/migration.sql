-- Where each tenant lives, and the fence that keeps a moved tenant's old
-- copy from being read or written.
--
-- Every name is unqualified: this file runs in the control plane's schema,
-- in every tenant schema and in every tenant database.

-- AlterTable
-- databaseSecret holds the tenant database's connection string sealed with
-- AES-256-GCM (see src/crypto): a dump shows no credential in clear.
ALTER TABLE "Tenant" ADD COLUMN "releaseChannel" TEXT NOT NULL DEFAULT 'stable',
ADD COLUMN "schemaName" TEXT,
ADD COLUMN "databaseServer" TEXT,
ADD COLUMN "databaseName" TEXT,
ADD COLUMN "databaseSecret" TEXT,
ADD COLUMN "storageBucket" TEXT NOT NULL DEFAULT 'default',
ADD COLUMN "schemaVersion" TEXT,
ADD COLUMN "movingTo" TEXT;

-- CreateIndex
CREATE INDEX "Tenant_releaseChannel_idx" ON "Tenant"("releaseChannel");

-- CreateTable
-- One row per tenant whose data left this location. The bind statement of
-- every tenant transaction checks it (ogc_tenant_fence below), so a gateway
-- process that still routes the tenant here is stopped, never served stale
-- or partial rows, and never writes where nobody will read.
CREATE TABLE "TenantFence" (
    "tenantId" TEXT NOT NULL,
    "movedTo" TEXT NOT NULL,
    "movedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TenantFence_pkey" PRIMARY KEY ("tenantId")
);

-- EnableRowLevelSecurity
ALTER TABLE "TenantFence" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "TenantFence" FORCE ROW LEVEL SECURITY;

-- CreatePolicy
CREATE POLICY "tenant_isolation" ON "TenantFence"
    USING ("tenantId" = current_setting('app.tenant_id', true));

-- GrantTablePrivileges
GRANT SELECT ON "TenantFence" TO ogc_tenant;

-- CreateFunction
-- Called in the bind statement of every tenant transaction, after the role
-- and tenant are set. A writing transaction first takes the tenant's move
-- lock in shared mode: a move holds it exclusively while it copies, so
-- writes wait (up to lock_timeout) instead of landing in a copy that is
-- being left. The fence check runs after the lock, on a fresh snapshot
-- (plpgsql takes one per statement), so a write that waited for a move
-- sees that the tenant is gone. SQLSTATE OG001 tells the gateway to look
-- the tenant's location up again; OG002 means the move lock wait timed out.
CREATE FUNCTION ogc_tenant_fence(tenant TEXT, writing BOOLEAN, wait_ms INTEGER)
RETURNS BOOLEAN
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    IF writing THEN
        PERFORM set_config('lock_timeout', wait_ms::text, true);
        BEGIN
            PERFORM pg_advisory_xact_lock_shared(7270, hashtext(tenant));
        EXCEPTION
            WHEN lock_not_available THEN
                RAISE EXCEPTION 'tenant % is being moved', tenant USING ERRCODE = 'OG002';
        END;
        PERFORM set_config('lock_timeout', '0', true);
    END IF;
    IF EXISTS (SELECT 1 FROM "TenantFence" WHERE "tenantId" = tenant) THEN
        RAISE EXCEPTION 'tenant % has moved', tenant USING ERRCODE = 'OG001';
    END IF;
    RETURN true;
END
$$;
