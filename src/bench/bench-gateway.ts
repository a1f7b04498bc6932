import { randomBytes } from "node:crypto";
import { loadConfig, type GatewayConfig } from "../config/index.js";
import type { LoaderMode } from "../loaders/index.js";
import { pino } from "pino";
import { createLogger } from "../logging/index.js";
import { createGateway, type Gateway } from "../server/gateway.js";

function pick(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  return Object.fromEntries(
    names.flatMap((name) => (env[name] ? [[name, env[name] as string]] : [])),
  );
}

/** Secrets shared by every gateway of one run, so one token serves them all. */
export interface BenchSecrets {
  readonly jwtSecret: string;
  readonly encryptionKey: string;
  /** `METRICS_TOKEN`: production asks for one. */
  readonly metricsToken: string;
}

export function createBenchSecrets(): BenchSecrets {
  return {
    jwtSecret: randomBytes(32).toString("hex"),
    encryptionKey: randomBytes(32).toString("base64"),
    metricsToken: randomBytes(24).toString("hex"),
  };
}

export interface BenchGatewayOptions {
  databaseUrl: string;
  redisUrl: string;
  loaderMode: LoaderMode;
  secrets: BenchSecrets;
  /**
   * How long tenant records stay in process (ms). The benchmark keeps them for the whole
   * run, so a statement count shows the query's own work and not a registry refresh.
   */
  registryTtlMs: number;
  /** Level of the gateway's logs, which go to standard error; `silent` for a measurement. */
  logLevel: string;
}

/** A gateway listening on a free loopback port. */
export interface BenchGateway {
  readonly gateway: Gateway;
  readonly config: GatewayConfig;
  /** `http://127.0.0.1:<port>/graphql`. */
  readonly endpoint: string;
}

/**
 * Starts the gateway in this process as production would run it (no landing page, no stack
 * traces). Its logs go to standard error, so they never mix with the report.
 */
export async function startBenchGateway(options: BenchGatewayOptions): Promise<BenchGateway> {
  const config = loadConfig({
    NODE_ENV: "production",
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    JWT_SECRET: options.secrets.jwtSecret,
    ENCRYPTION_KEY: options.secrets.encryptionKey,
    METRICS_TOKEN: options.secrets.metricsToken,
    HOST: "127.0.0.1",
    PORT: "0",
    // Capacity is measured, not a plan: per-minute tenant budgets would refuse the load.
    RATE_LIMITS: "false",
    // The gateway's own cache settings may be tried from the environment.
    ...pick(process.env, ["CACHE_TIMEOUT_MS", "CACHE_TTL_SECONDS", "DATABASE_POOL_MAX"]),
  });
  const gateway = await createGateway({
    config,
    logger: createLogger({ level: options.logLevel, destination: pino.destination(2) }),
    loaderMode: options.loaderMode,
    registryTtlMs: options.registryTtlMs,
  });

  try {
    // listen() answers with "localhost"; the bench names the loopback address itself.
    const base = new URL(await gateway.listen(0));
    base.hostname = "127.0.0.1";
    base.pathname = "/graphql";

    return { gateway, config, endpoint: base.toString() };
  } catch (error) {
    await gateway.stop();
    throw error;
  }
}
