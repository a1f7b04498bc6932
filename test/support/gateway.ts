import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { issueDevelopmentToken } from "../../src/auth/index.js";
import { loadConfig } from "../../src/config/index.js";
import { createLogger, type Logger } from "../../src/logging/index.js";
import type { LoaderMode } from "../../src/loaders/index.js";
import { createGateway, type Gateway } from "../../src/server/gateway.js";
import { GatewayError } from "../../src/errors/index.js";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { planLocation } from "../../src/data/placement/tenant-location.js";
import { dropLocation } from "../../src/lifecycle/locations.js";
import { createTestDatabase } from "./database.js";
import { TEST_REDIS_URL, TEST_SECOND_DATABASE_URL } from "./env.js";

export const TEST_JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-keys";

/** `METRICS_TOKEN` of production test gateways and processes (production requires one). */
export const TEST_METRICS_TOKEN = "test-metrics-token-for-production-gateways";

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  /** The HTTP headers (absent where a test builds a response of its own). */
  headers?: Headers;
  body: {
    data?: T | null;
    errors?: {
      message: string;
      path?: (string | number)[];
      extensions?: Record<string, unknown>;
    }[];
  };
}

export interface RequestOptions {
  /** Sent as X-Tenant-ID. */
  tenant?: string;
  token?: string;
  variables?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export interface TestGateway {
  readonly url: string;
  readonly gateway: Gateway;
  readonly databaseUrl: string;
  /** Sends one GraphQL operation over HTTP. */
  request<T = Record<string, unknown>>(
    query: string,
    options?: RequestOptions,
  ): Promise<GraphQLResponse<T>>;
  /** A signed token for a tenant user. */
  tokenFor(tenantId: string, userId: string): Promise<string>;
  /** A signed global admin token (no tenant). */
  globalAdminToken(): Promise<string>;
  stop(): Promise<void>;
}

export interface TestGatewayOptions {
  production?: boolean;
  loaderMode?: LoaderMode;
  /** Use Redis (default) or the in-memory cache. */
  redis?: boolean;
  redisUrl?: string;
  logger?: Logger;
  env?: Record<string, string>;
  /** Migrations for new tenant locations (to make one fail). */
  migrationsDir?: string;
  /** How long tenant records are reused (ms, default 0: read on every request). */
  registryTtlMs?: number;
  /** Database servers besides `primary` (local) and `second` (eu). */
  extraServers?: { id: string; region: string; url: string }[];
}

/** A tenant id no other test file uses: Redis is shared between test files. */
export function uniqueTenantId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/**
 * Starts a whole gateway on a fresh database of the test PostgreSQL and on
 * the test Redis, listening on a free loopback port.
 */
export async function startTestGateway(
  label: string,
  options: TestGatewayOptions = {},
): Promise<TestGateway> {
  const database = await createTestDatabase(label);
  const files = await mkdtemp(join(tmpdir(), `ogc-${label}-`));
  const config = loadConfig({
    NODE_ENV: options.production ? "production" : "test",
    DATABASE_URL: database.url,
    // Database tenants go to the test server (region local) or to the second
    // cluster (region eu), another PostgreSQL on its own port.
    DATABASE_SERVERS: JSON.stringify([
      { id: "primary", region: "local", url: database.url },
      { id: "second", region: "eu", url: TEST_SECOND_DATABASE_URL },
      ...(options.extraServers ?? []),
    ]),
    STORAGE_DIR: join(files, "storage"),
    EXPORT_DIR: join(files, "exports"),
    TENANT_LOG_DIR: join(files, "tenant-logs"),
    ...(options.redis === false ? {} : { REDIS_URL: options.redisUrl ?? TEST_REDIS_URL }),
    JWT_SECRET: TEST_JWT_SECRET,
    ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
    HOST: "127.0.0.1",
    PORT: "0",
    ...(options.production || options.env?.NODE_ENV === "production"
      ? { METRICS_TOKEN: TEST_METRICS_TOKEN }
      : {}),
    ...options.env,
  });
  const logger = options.logger ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const gateway = await createGateway({
    config,
    logger,
    loaderMode: options.loaderMode,
    registryTtlMs: options.registryTtlMs ?? 0,
    migrationsDir: options.migrationsDir,
  });
  const url = await gateway.listen(0);

  return {
    url,
    gateway,
    databaseUrl: database.url,
    request: <T>(query: string, request: RequestOptions = {}) =>
      postGraphQL<T>(url, query, request),
    tokenFor: (tenantId, userId) =>
      issueDevelopmentToken(TEST_JWT_SECRET, { sub: userId, tid: tenantId }),
    globalAdminToken: () =>
      issueDevelopmentToken(TEST_JWT_SECRET, { sub: "staff-1", roles: ["global_admin"] }),
    stop: async () => {
      // Tenant databases and logins live outside the test database.
      await dropTenantDatabases(gateway);
      await gateway.stop();
      await database.drop();
      await rm(files, { recursive: true, force: true });
    },
  };
}

/** Removes every DATABASE tenant's database and login the gateway made. */
async function dropTenantDatabases(gateway: Gateway): Promise<void> {
  const tenants = await gateway.database.control.tenant.findMany({
    where: { databaseServer: { not: null } },
    select: { id: true, databaseServer: true },
  });
  for (const tenant of tenants) {
    const planned = planLocation(tenant.id, Isolation.DATABASE, tenant.databaseServer);
    // Another deployment's database (a test of shared servers) stays its own.
    await dropLocation(gateway.database, tenant.id, planned).catch((error: unknown) => {
      if (!(error instanceof GatewayError)) throw error;
    });
  }
}

/** Sends one GraphQL operation to `${url}/graphql` as JSON; the answer keeps its headers. */
export async function postGraphQL<T>(
  url: string,
  query: string,
  request: RequestOptions,
): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(request.tenant ? { "x-tenant-id": request.tenant } : {}),
      ...(request.token ? { authorization: `Bearer ${request.token}` } : {}),
      ...request.headers,
    },
    body: JSON.stringify({ query, variables: request.variables }),
  });

  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as GraphQLResponse<T>["body"],
  };
}

/** The error codes of a response, in order. */
export function codesOf(response: GraphQLResponse<unknown>): unknown[] {
  return (response.body.errors ?? []).map((error) => error.extensions?.code);
}

/**
 * Sends a typed document from `test/generated/graphql.ts` (`npm run codegen`):
 * the variables are checked and the result typed by the operation.
 */
export function execute<R, V>(
  gw: TestGateway,
  document: TypedDocumentNode<R, V>,
  options: RequestOptions & { variables?: V },
): Promise<GraphQLResponse<R>> {
  return gw.request<R>(print(document), options);
}
