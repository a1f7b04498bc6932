-- Who this control plane is.
--
-- Tenant databases and logins live on servers that several gateway
-- deployments may share. Each deployment marks what it creates there with
-- this id (a comment on the database and on the login), and refuses to take
-- over or drop a database another deployment marked.
--
-- The row is made once, in the control database; a tenant schema or database
-- that runs this file gets a row of its own, which nothing reads.

-- CreateTable
CREATE TABLE "ControlPlane" (
    "id" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ControlPlane_pkey" PRIMARY KEY ("id")
);

-- InsertIdentity
INSERT INTO "ControlPlane" ("id") VALUES (gen_random_uuid()::text);
