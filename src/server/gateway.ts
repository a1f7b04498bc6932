import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { expressMiddleware } from "@as-integrations/express5";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import express from "express";
import { loadConsoleAssets, mountAdminConsole } from "../admin-console/index.js";
import { staffAuditPlugin } from "../audit/index.js";
import { createTokenVerifier } from "../auth/index.js";
import { CacheOwnership, createCache, type GatewayCache } from "../cache/index.js";
import type { LifecycleServices } from "../lifecycle/lifecycle-services.js";
import type { GatewayConfig } from "../config/index.js";
import { createContextFactory } from "../context/create-context.js";
import type { GatewayContext, PlatformServices } from "../context/gateway-context.js";
import { openDatabase, type Database } from "../data/index.js";
import {
  cacheOptionsFrom,
  databaseOptionsFrom,
  lifecycleServicesFrom,
} from "../lifecycle/open-lifecycle.js";
import { createErrorFormatter, markLogged, unwrap } from "../errors/index.js";
import { openInvalidationBus, type Invalidation } from "../events/invalidation-bus.js";
import { FeatureDirectory } from "../features/feature-directory.js";
import { createJobService, type JobService } from "../jobs/index.js";
import type { LoaderMode } from "../loaders/index.js";
import {
  errorSubjectOf,
  logContextMiddleware,
  loggedMessage,
  openTenantLogs,
  RequestErrorLines,
  type Logger,
} from "../logging/index.js";
import { createMetrics, type Metrics } from "../observability/index.js";
import { createRateLimits } from "../rate-limits/index.js";
import { StorageService, UrlSigner } from "../storage/index.js";
import { createTelemetry, type Telemetry } from "../telemetry/index.js";
import { TenantRegistry } from "../tenancy/tenant-registry.js";
import { createBodyErrorHandler } from "./body-errors.js";
import { createDepthLimitRule } from "./depth-limit.js";
import { noSubscriptionsRule } from "./no-subscriptions.js";
import { createQueryCostPlugin } from "./query-cost.js";
import { mountHealthRoutes } from "./health-routes.js";
import { mountStorageRoutes } from "./storage-routes.js";
import { buildGatewaySchema } from "./schema.js";

export interface GatewayOptions {
  config: GatewayConfig;
  logger: Logger;
  /** Default `batched`; `naive` exists for the benchmark's baseline. */
  loaderMode?: LoaderMode;
  /** How long tenant records are reused in process (ms; default `config.configCacheTtlMs`). */
  registryTtlMs?: number;
  /** Migrations for new tenant locations (tests inject broken ones). */
  migrationsDir?: string;
}

/** A running gateway and the services it owns. */
export interface Gateway {
  readonly app: express.Express;
  readonly database: Database;
  readonly cache: GatewayCache;
  readonly registry: TenantRegistry;
  /** Provisioning, moves, upgrades, exports and removals. */
  readonly lifecycle: LifecycleServices;
  /** The queue those run on as background jobs. */
  readonly jobs: JobService;
  readonly metrics: Metrics;
  /** Usage, error clusters and health probes; `flush()` writes what was counted. */
  readonly telemetry: Telemetry;
  /** Starts listening; resolves with the base URL (port 0 picks a free port). */
  listen(port?: number): Promise<string>;
  /** Stops taking requests, lets running ones finish, closes connections. */
  stop(): Promise<void>;
}

const SANDBOX_DOCUMENT = `query Dashboard {
  tenant { id name plan features }
  me { name roles }
  challenges(first: 10) {
    edges { node { title submissions { score author { name } } } }
  }
}
`;

function landingPage(config: GatewayConfig): ApolloServerPlugin {
  if (config.production) return ApolloServerPluginLandingPageDisabled();

  return ApolloServerPluginLandingPageLocalDefault({
    footer: false,
    document: SANDBOX_DOCUMENT,
    embed: { runTelemetry: false, initialState: { sharedHeaders: { "X-Tenant-ID": "acme" } } },
  });
}

/**
 * The logger for one error: the request's own, unless the error came from
 * platform work on a tenant other than the one the request names (see
 * error-subject.ts); then one bound to no tenant, so that no tenant's log
 * gets another tenant's failure.
 */
function loggerForError(ctx: GatewayContext, original: unknown): Logger {
  const subject = errorSubjectOf(original);
  if (subject === undefined || subject === ctx.scope?.tenant.id) return ctx.logger;

  return ctx.platform.lifecycle.logger.child({ requestId: ctx.requestId });
}

/** Anything with a code was raised on purpose (ours, or a parse or validation error). */
function expectedCodeOf(error: { extensions?: Record<string, unknown> }): string | null {
  const code = error.extensions?.code;

  return typeof code === "string" && code !== "INTERNAL_SERVER_ERROR" ? code : null;
}

/**
 * Logs the errors a request produced with the request's own logger, so the
 * line carries the request and tenant ids; internal errors with their
 * original cause, which the client never sees. Internal errors also get the
 * request id, which the client can quote. One request writes at most 10
 * error lines (unexpected errors first) and one line counting the rest by
 * code, and a message keeps 2,000 characters: anyone may send a request
 * that fails 700 times (see request-error-lines.ts).
 */
const errorLogging: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    const lines = new RequestErrorLines();
    return {
      async didEncounterErrors({ contextValue, errors }) {
        // Unexpected errors first: those are the ones a bound must not hide.
        const ordered = [...errors].sort(
          (x, y) => Number(expectedCodeOf(x) !== null) - Number(expectedCodeOf(y) !== null),
        );
        for (const error of ordered) {
          const code = expectedCodeOf(error);
          const original = unwrap(error);
          // Counted here with or without a line: formatError must not log it again.
          if (code === null) markLogged(original);
          if (!lines.take(code ?? "INTERNAL_SERVER_ERROR")) continue;

          const logger = loggerForError(contextValue, original);
          if (code !== null) logger.info({ code, path: error.path }, loggedMessage(error.message));
          else logger.error({ err: original, path: error.path }, "unexpected error");
        }
        lines.summarize(contextValue.logger);
      },
      async willSendResponse({ contextValue, response }) {
        if (response.body.kind !== "single") return;
        // A result with `data` was executed: its errors belong to fields,
        // and a status other than 200 would make clients drop the partial
        // data. Only requests refused whole keep the error's status.
        if ("data" in response.body.singleResult) response.http.status = 200;
        for (const error of response.body.singleResult.errors ?? []) {
          if (error.extensions?.code === "INTERNAL_SERVER_ERROR") {
            Object.assign(error.extensions, { requestId: contextValue.requestId });
          }
        }
      },
    };
  },
};

/** What each process forgets when it hears that something changed. */
function forgetChanges(registry: TenantRegistry, features: FeatureDirectory) {
  return (event: Invalidation) => {
    switch (event.kind) {
      case "tenant":
        registry.invalidate(event.tenantId);
        return;
      case "features":
        features.invalidate();
        return;
      case "all":
        registry.invalidateAll();
        features.invalidate();
        return;
      default: {
        const unknown: never = event;
        throw new Error(`unhandled invalidation ${JSON.stringify(unknown)}`);
      }
    }
  };
}

/**
 * Opens the database (migrating it), the cache and the HTTP app. The one
 * owner of the gateway's start and stop.
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, logger } = options;

  // Read before anything is opened: a missing file stops the start cleanly.
  const consoleAssets = await loadConsoleAssets();
  const database = await openDatabase(databaseOptionsFrom(config, logger));
  const cache = await createCache(cacheOptionsFrom(config, database.deploymentId, logger));
  const registry = new TenantRegistry(database, {
    ttlMs: options.registryTtlMs ?? config.configCacheTtlMs,
  });
  // Each tenant's lines also go to a file of its own (TENANT_LOGS).
  const tenantLogs = openTenantLogs({
    mode: config.tenantLogs,
    directory: config.tenantLogDir,
    maxFileBytes: config.tenantLogMaxBytes,
    logger,
  });
  const lifecycle = lifecycleServicesFrom(config, {
    database,
    cache,
    logger,
    migrationsDir: options.migrationsDir,
    logs: tenantLogs.store,
  });
  const cacheOwnership = new CacheOwnership(cache, database.deploymentId, logger);
  const storage = new StorageService({
    layout: lifecycle.storage,
    control: database.control,
    signer: new UrlSigner(config.encryptionKey, database.deploymentId),
    urlTtlSeconds: config.storageUrlTtlSeconds,
    publicUrl: config.publicUrl,
    logger,
  });
  const features = new FeatureDirectory(database, { ttlMs: config.configCacheTtlMs });
  const events = openInvalidationBus({
    redisUrl: config.redisUrl,
    deploymentId: database.deploymentId,
    logger,
  });
  events.listen(forgetChanges(registry, features));
  const jobs = await createJobService({
    redisUrl: config.redisUrl,
    deploymentId: database.deploymentId,
    settings: config.jobs,
    deps: { lifecycle, events, logger },
  });
  const telemetry = createTelemetry({
    database,
    databaseUrl: config.databaseUrl,
    tenantDatabaseUrl: config.tenantDatabaseUrl,
    flushMs: config.telemetryFlushMs,
    healthProbeMs: config.healthProbeMs,
    maxCost: config.queryMaxCost,
    operations: config.metricsOperations,
    logger,
  });
  const platform: PlatformServices = {
    database,
    cache,
    registry,
    lifecycle,
    cacheOwnership,
    storage,
    keyring: database.keyring,
    features,
    events,
    jobs,
    logs: tenantLogs.store,
    telemetry,
  };
  const metrics = createMetrics({
    database,
    cache,
    operations: config.metricsOperations,
    readTimeoutMs: config.metricsReadTimeoutMs,
    logger,
  });
  const rateLimits = config.rateLimits
    ? createRateLimits({
        redisUrl: config.redisUrl,
        timeoutMs: config.rateLimitTimeoutMs,
        deploymentId: database.deploymentId,
        maxCost: config.queryMaxCost,
        logger,
      })
    : null;

  const app = express();
  app.disable("x-powered-by");
  const httpServer = http.createServer(app);

  const apollo = new ApolloServer<GatewayContext>({
    schema: await buildGatewaySchema(),
    introspection: !config.production,
    // "Did you mean …?" would give back what disabling introspection hides.
    hideSchemaDetailsFromClientErrors: config.production,
    validationRules: [createDepthLimitRule(config.queryMaxDepth), noSubscriptionsRule],
    // Validating a document costs time that grows faster than its length
    // (repeated fields are compared pairwise), so huge documents stop at
    // the parser, before validation starts.
    parseOptions: { maxTokens: config.queryMaxTokens },
    // Clients send whole documents; automatic persisted queries would add
    // a cache keyed by client input and error paths of their own.
    persistedQueries: false,
    includeStacktraceInErrorResponses: !config.production,
    formatError: createErrorFormatter({ production: config.production, logger }),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      landingPage(config),
      metrics.plugin,
      errorLogging,
      staffAuditPlugin,
      createQueryCostPlugin(config.queryMaxCost),
      ...(rateLimits ? [rateLimits.plugin] : []),
      telemetry.plugin,
    ],
    logger,
    // main.ts owns shutdown; Apollo's own signal handlers would race it.
    stopOnTerminationSignals: false,
  });
  await apollo.start();

  mountHealthRoutes(app, { database, cache, metrics, metricsToken: config.metricsToken });
  mountStorageRoutes(app, { storage, registry, features, logger });
  mountAdminConsole(app, consoleAssets);
  app.use(
    "/graphql",
    express.json({ limit: "1mb" }),
    // Lines written for the request by modules without its logger still name it.
    logContextMiddleware,
    expressMiddleware(apollo, {
      context: metrics.countRefusals(
        createContextFactory({
          platform,
          verifier: createTokenVerifier(config.jwt),
          logger,
          baseDomain: config.baseDomain,
          loaderMode: options.loaderMode ?? "batched",
        }),
      ),
    }),
  );
  app.use("/graphql", createBodyErrorHandler({ logger }));

  let stopped = false;
  return {
    app,
    database,
    cache,
    registry,
    lifecycle,
    jobs,
    metrics,
    telemetry,
    listen: (port = config.port) =>
      new Promise((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(port, config.host, () => {
          const { port: bound } = httpServer.address() as AddressInfo;
          resolve(`http://localhost:${bound}`);
        });
      }),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await apollo.stop();
      if (httpServer.listening) await new Promise((resolve) => httpServer.close(resolve));
      // Requests waiting on jobs have ended; running jobs get a while to end.
      await jobs.close();
      // Requests have ended: what they counted is written before the database closes.
      await telemetry.stop();
      await events.close();
      rateLimits?.close();
      await cache.close();
      await database.close();
      // Last: lines written while stopping still reach their tenants' files.
      await tenantLogs.close();
    },
  };
}
