-- Row-level security for tenant data.
--
-- Tenant queries run as the role "ogc_tenant" (SET LOCAL ROLE inside their
-- transaction) with the tenant in the setting app.tenant_id
-- (set_config('app.tenant_id', id, true)). Every tenant table then shows and
-- accepts only that tenant's rows, and with no tenant set it shows none.
-- Superusers and BYPASSRLS roles skip these policies, which is why the tenant
-- role is neither. The control-plane tables (Tenant, TenantConfig,
-- PlatformAuditLog, _prisma_migrations) get no grant at all.
--
-- Every name is unqualified so that the same file can be applied inside any
-- schema through search_path.

-- CreateRole
-- Roles belong to the whole cluster, and several databases may run this
-- migration at once: the existence check can miss a role another session is
-- creating, which then fails with unique_violation instead of duplicate_object.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ogc_tenant') THEN
        CREATE ROLE ogc_tenant NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

-- GrantRole
-- Membership lets a migrating owner that is not a superuser SET ROLE to it.
-- The same concurrent race applies to the membership row.
DO $$
BEGIN
    GRANT ogc_tenant TO CURRENT_USER;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

-- GrantSchemaUsage
DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO ogc_tenant', current_schema());
END
$$;

-- EnableRowLevelSecurity
ALTER TABLE "User" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "User" FORCE ROW LEVEL SECURITY;
ALTER TABLE "Role" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "Role" FORCE ROW LEVEL SECURITY;
ALTER TABLE "RoleAssignment" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "RoleAssignment" FORCE ROW LEVEL SECURITY;
ALTER TABLE "Organization" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "Organization" FORCE ROW LEVEL SECURITY;
ALTER TABLE "Membership" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "Membership" FORCE ROW LEVEL SECURITY;
ALTER TABLE "Dashboard" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "Dashboard" FORCE ROW LEVEL SECURITY;
ALTER TABLE "Challenge" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "Challenge" FORCE ROW LEVEL SECURITY;
ALTER TABLE "Submission" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "Submission" FORCE ROW LEVEL SECURITY;
ALTER TABLE "AuditLog" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "AuditLog" FORCE ROW LEVEL SECURITY;

-- CreatePolicy
-- current_setting(..., true) is NULL when the setting was never made and ''
-- after a transaction that set it locally has ended: neither equals a tenant.
CREATE POLICY "tenant_isolation" ON "User"
    USING ("tenantId" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenantId" = current_setting('app.tenant_id', true));
CREATE POLICY "tenant_isolation" ON "Role"
    USING ("tenantId" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenantId" = current_setting('app.tenant_id', true));
CREATE POLICY "tenant_isolation" ON "RoleAssignment"
    USING ("tenantId" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenantId" = current_setting('app.tenant_id', true));
CREATE POLICY "tenant_isolation" ON "Organization"
    USING ("tenantId" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenantId" = current_setting('app.tenant_id', true));
CREATE POLICY "tenant_isolation" ON "Membership"
    USING ("tenantId" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenantId" = current_setting('app.tenant_id', true));
CREATE POLICY "tenant_isolation" ON "Dashboard"
    USING ("tenantId" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenantId" = current_setting('app.tenant_id', true));
CREATE POLICY "tenant_isolation" ON "Challenge"
    USING ("tenantId" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenantId" = current_setting('app.tenant_id', true));
CREATE POLICY "tenant_isolation" ON "Submission"
    USING ("tenantId" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenantId" = current_setting('app.tenant_id', true));
CREATE POLICY "tenant_isolation" ON "AuditLog"
    USING ("tenantId" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenantId" = current_setting('app.tenant_id', true));

-- GrantTablePrivileges
GRANT SELECT, INSERT, UPDATE, DELETE ON "User", "Role", "RoleAssignment", "Organization",
    "Membership", "Dashboard", "Challenge", "Submission", "AuditLog" TO ogc_tenant;
