-- The login role that tenant connections use.
--
-- Switching to "ogc_tenant" with SET LOCAL ROLE is not enough on its own: a
-- session that logged in as a superuser can RESET ROLE and read every
-- tenant. Tenant connections therefore log in as "ogc_app", which is no
-- superuser, cannot bypass row-level security, and holds the tenant role's
-- table grants through membership. RESET ROLE then lands on "ogc_app",
-- which the policies still filter. Operators give it a password with
-- ALTER ROLE ogc_app PASSWORD and pass it in TENANT_DATABASE_URL.
--
-- Roles belong to the whole cluster and several databases may run this at
-- once, hence the same guards as the tenant role's creation.

-- CreateRole
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ogc_app') THEN
        CREATE ROLE ogc_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE INHERIT;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

-- GrantRole
DO $$
BEGIN
    GRANT ogc_tenant TO ogc_app;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
