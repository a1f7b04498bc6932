import "reflect-metadata";
import { issueDevelopmentToken } from "./auth/index.js";
import { ConfigError, loadConfig, type GatewayConfig } from "./config/index.js";
import { createLogger, type Logger } from "./logging/index.js";
import { startUpkeep } from "./lifecycle/upkeep.js";
import { seedDemoTenants, type SeededUser } from "./seed/demo-seed.js";
import { createGateway } from "./server/gateway.js";
import { TENANT_ADMIN_ROLE } from "./rbac/permissions.js";

/** Prints what a developer needs to start exploring: URLs and tokens. */
async function printWelcome(
  config: GatewayConfig,
  url: string,
  users: SeededUser[],
): Promise<void> {
  const sign = (claims: { sub: string; tid?: string; roles?: string[] }) =>
    issueDevelopmentToken(
      config.jwt.secret,
      { ...claims, expiresIn: "12h" },
      {
        issuer: config.jwt.issuer,
        audience: config.jwt.audience,
      },
    );
  const pick = (tenantId: string, test: (u: SeededUser) => boolean) =>
    users.find((u) => u.tenantId === tenantId && test(u));

  const admin = pick("acme", (u) => u.roles.includes(TENANT_ADMIN_ROLE));
  const member = pick("acme", (u) => u.roles.length === 1 && u.roles[0] === "member");
  const lines = [
    "",
    `NewFinity Gateway is ready: ${url}/graphql (open it in a browser for Apollo Sandbox)`,
    `Health: ${url}/healthz  Ready: ${url}/readyz  Metrics: ${url}/metrics`,
    `Admin console: ${url}/admin (sign in with the global admin token below)`,
    "",
    "Development tokens (send as 'Authorization: Bearer <token>' with 'X-Tenant-ID: acme'):",
  ];
  if (admin)
    lines.push(
      `  acme tenant admin (${admin.email}):`,
      `    ${await sign({ sub: admin.userId, tid: "acme" })}`,
    );
  if (member)
    lines.push(
      `  acme member (${member.email}):`,
      `    ${await sign({ sub: member.userId, tid: "acme" })}`,
    );
  lines.push(
    "  global admin (no tenant; name one with X-Tenant-ID):",
    `    ${await sign({ sub: "platform-admin", roles: ["global_admin"] })}`,
  );
  lines.push("", "More: npm run token -- --tenant acme --user <user id>", "");
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** Longest a stop may take before the process exits regardless. */
const STOP_DEADLINE_MS = 30_000;

async function main(logger: Logger, config: GatewayConfig): Promise<void> {
  if (config.jwt.usingDevelopmentSecret) {
    logger.warn("JWT_SECRET is not set: using the development key. Never do this in production.");
  }
  if (config.usingDevelopmentEncryptionKey) {
    logger.warn("ENCRYPTION_KEY is not set: using the development key.");
  }
  if (!config.databaseUrl)
    logger.info({ dataDir: config.dataDir }, "no DATABASE_URL: using embedded PGlite");
  if (!config.redisUrl) logger.info("no REDIS_URL: using an in-memory cache");

  const gateway = await createGateway({ config, logger });
  const seeded = config.seedDemo ? await seedDemoTenants(gateway.lifecycle) : [];
  const url = await gateway.listen();
  logger.info({ url }, "gateway listening");
  // What crashed processes left (half-done moves, old copies) is repaired in
  // the background: start-up never waits on tenant work.
  const upkeep = startUpkeep(gateway.lifecycle);
  if (!config.production) await printWelcome(config, url, seeded);

  const shutdown = async (signal: string) => {
    logger.info({ signal }, "shutting down");
    // A stop waits for requests (10 s at most) and jobs (10 s) to end; if
    // anything else holds it (a server that does not answer), it ends here.
    setTimeout(() => {
      logger.error(`the gateway did not stop within ${STOP_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    try {
      await upkeep.stop();
      await gateway.stop();
    } catch (error) {
      logger.error({ err: error }, "the gateway did not stop cleanly");
      process.exit(1);
    }
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
}

const logger = createLogger({ level: process.env.LOG_LEVEL });
try {
  await main(logger, loadConfig());
} catch (error) {
  if (error instanceof ConfigError) {
    logger.fatal(error.message);
  } else {
    logger.fatal({ err: error }, "the gateway could not start");
  }
  process.exit(1);
}
